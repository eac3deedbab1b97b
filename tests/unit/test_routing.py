"""Routing: a new tweet becomes a routed complaint (reference, deadlines, audit event), noise, or a follow-up that
updates the citizen's complaint — each a lifecycle transition written with its audit event, once."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from seva.districts import load_districts
from seva.errors import BadRecord
from seva.lifecycle import Action, Priority, Status
from seva.routing import Numbering, Router
from seva.sla import DEFAULT_POLICY
from seva.triage import default_triager

from tests.unit.fakes import NOW, Clock, Complaints, complaint


class Counter:
    def __init__(self):
        self.numbers = count(1)

    def next(self, scope):
        return next(self.numbers)


def received(tweet_id, text, author="111", conversation=None, replied_to=None):
    extra = {"referenced_tweets": [{"type": "replied_to", "id": replied_to}]} if replied_to else {}
    return complaint(
        tweet_id=tweet_id, status=Status.RECEIVED, text=text, author=author, conversation=conversation, tweet=extra
    )


@pytest.fixture
def setup():
    store = Complaints()
    clock = Clock()
    router = Router(
        repo=store,
        number=Numbering(Counter(), load_districts()),
        classify=default_triager().classify,
        districts=load_districts(),
        sla=DEFAULT_POLICY,
        now=clock,
    )
    return store, router, clock


def test_a_complaint_is_routed_with_reference_deadlines_and_one_audit_event(setup):
    store, router, _ = setup
    store.put(received("101", "@lucknowpolice bachao! firing in Hazratganj right now"))
    outcome = router.route("101")
    c = store.get("101")
    assert outcome.status == "ROUTED" and c.status == Status.ROUTED
    assert c.reference == "UP-LKO-2026-000001" and c.priority == Priority.P1 and c.district_code == 162
    assert c.ack_due_at == NOW + timedelta(minutes=15) and c.resolve_due_at == NOW + timedelta(hours=4)
    assert c.locality == "Hazratganj"
    (event,) = store.trail("101")
    assert (event.action, event.from_status, event.to_status, event.priority) == (
        Action.ROUTE,
        Status.RECEIVED,
        Status.ROUTED,
        Priority.P1,
    )
    assert event.actor.id == "route" and store.outbox  # and the reply outbox, written with it


def test_redelivery_changes_nothing_and_wastes_no_number(setup):
    store, router, _ = setup
    store.put(received("101", "@lucknowpolice my bike was stolen in Aliganj"))
    router.route("101")
    assert router.route("101").status == "SKIPPED"
    assert len(store.trail("101")) == 1 and router.number.counter.next("x") == 2


def test_noise_is_kept_but_not_numbered(setup):
    store, router, _ = setup
    store.put(received("102", "@Uppolice great work, proud of our police! Jai Hind"))
    assert router.route("102").status == "NOISE"
    assert store.get("102").status == Status.NOISE and store.get("102").reference is None


def test_a_record_without_a_tweet_id_is_a_bad_record(setup):
    _, router, _ = setup
    with pytest.raises(BadRecord):
        router.route(None)


def test_a_concurrent_route_wins_and_this_one_is_skipped(setup):
    store, router, _ = setup
    store.put(received("103", "@lucknowpolice chain snatching in Aliganj"))
    original_write = store.write

    def racing_write(changes, **kw):
        store.items["103"] = store.items["103"].__class__(**{**store.items["103"].__dict__, "version": 7})
        return original_write(changes, **kw)

    store.write = racing_write
    assert router.route("103").status == "SKIPPED"


def test_a_follow_up_that_raises_the_priority_updates_the_complaint_and_its_deadlines(setup):
    # Given the citizen's routed P3 complaint
    store, router, clock = setup
    store.put(received("201", "@lucknowpolice neighbours play loud music every night in Aliganj", author="7"))
    router.route("201")
    assert store.get("201").priority == Priority.P3
    # When, ten minutes later, they reply in the thread that he is back with a knife
    clock.advance(minutes=10)
    store.put(received("202", "@lucknowpolice he has come back with a knife, bachao", "7", "201", replied_to="201"))
    outcome = router.route("202")
    # Then the follow-up is attached, the complaint is now P1 with P1's deadlines, and both are recorded
    parent = store.get("201")
    assert outcome.status == "ATTACHED" and outcome.changed == ("priority",)
    assert store.get("202").status == Status.ATTACHED and store.get("202").parent_tweet_id == "201"
    assert parent.priority == Priority.P1 and parent.ack_due_at == clock.now + timedelta(minutes=15)
    follow_up = next(e for e in store.trail("201") if e.action == Action.FOLLOW_UP)
    assert follow_up.details["changed"] == ["priority"] and follow_up.priority == Priority.P1
    assert follow_up.details["from"] == {"priority": "P3"}


def test_a_follow_up_names_the_district_of_a_complaint_no_one_could_place(setup):
    store, router, _ = setup
    store.put(received("301", "@Uppolice my scooty was stolen last night, please help", author="8"))
    router.route("301")
    assert store.get("301").district_code is None
    store.put(
        received("302", "@Uppolice we live in Sitapur near the roadways bus stand, call 9876543210", "8", "301", "301")
    )
    outcome = router.route("302")
    parent = store.get("301")
    assert parent.district_code == 183 and parent.district == "Sitapur"
    assert set(outcome.changed) >= {"district", "phone"}
    assert parent.reference.startswith("UP-HQ-")  # the citizen keeps the number they were given


def test_a_follow_up_that_changes_nothing_is_still_recorded(setup):
    store, router, _ = setup
    store.put(received("401", "@lucknowpolice my phone was stolen in Aliganj market", author="9"))
    router.route("401")
    store.put(received("402", "@lucknowpolice thank you sir", "9", "401", "401"))
    assert router.route("402").changed == ()
    assert [e.action for e in store.trail("401")] == [Action.ROUTE, Action.FOLLOW_UP]


def test_someone_elses_reply_in_the_thread_is_triaged_on_its_own(setup):
    store, router, _ = setup
    store.put(received("501", "@lucknowpolice my phone was stolen in Aliganj market", author="10"))
    router.route("501")
    store.put(
        received("502", "@lucknowpolice same thing happened to me in Aliganj, my bike stolen", "11", "501", "501")
    )
    assert router.route("502").status == "ROUTED"


# -- the police answering by hand on X -------------------------------------------------------------------------
POLICE = {"lucknowpolice", "uppolice"}


def police_router(store, clock, ours=lambda complaint, post: False):
    return Router(
        repo=store,
        number=Numbering(Counter(), load_districts()),
        classify=default_triager().classify,
        districts=load_districts(),
        sla=DEFAULT_POLICY,
        now=clock,
        is_police=lambda username: username.lower() in POLICE,
        ours=ours,
    )


def police_post(tweet_id, replied_to, conversation, minutes_after=3):
    post = received(
        tweet_id,
        "@citizen we have sent a team, please share your number by DM",
        author="lucknowpolice",
        conversation=conversation,
        replied_to=replied_to,
    )
    from dataclasses import replace

    return replace(post, tweet_created_at=NOW + timedelta(minutes=minutes_after))


def test_a_police_handles_reply_is_the_complaints_first_response_time_stamped_when_posted():
    # Given a routed complaint, and the district handle answering it in the X app three minutes later
    store, clock = Complaints(), Clock(NOW + timedelta(minutes=5))
    store.put(received("101", "@lucknowpolice my bike was stolen in Aliganj"))
    router = police_router(store, clock)
    router.route("101")
    store.put(police_post("201", replied_to="101", conversation="101"))
    # When it is routed
    outcome = router.route("201")
    # Then the complaint records its first response, by the handle, at the post's time; nothing else changes
    c = store.get("101")
    assert outcome.status == "ATTACHED" and c.status == Status.ROUTED
    assert (c.first_response_at, c.first_response_by) == (NOW + timedelta(minutes=3), "lucknowpolice")
    first = [e for e in store.trail("101") if e.action == Action.FIRST_RESPONSE]
    assert len(first) == 1 and first[0].actor.id == "lucknowpolice" and first[0].via == "x"
    assert store.get("201").status == Status.ATTACHED and store.get("201").priority is None
    # And a second reply later is kept with the complaint but is not a first response again
    store.put(police_post("202", replied_to="101", conversation="101", minutes_after=30))
    router.route("202")
    assert store.get("101").first_response_at == NOW + timedelta(minutes=3)
    assert len([e for e in store.trail("101") if e.action == Action.FIRST_RESPONSE]) == 1


def test_a_reply_to_a_follow_up_or_to_sevas_answer_finds_the_complaint_through_the_thread():
    store, clock = Complaints(), Clock(NOW + timedelta(minutes=5))
    store.put(received("101", "@lucknowpolice my bike was stolen in Aliganj"))
    router = police_router(store, clock)
    router.route("101")
    store.put(received("102", "@lucknowpolice it was a red Splendor", conversation="101", replied_to="101"))
    router.route("102")
    store.put(police_post("201", replied_to="102", conversation="101"))  # answers the follow-up
    router.route("201")
    assert store.get("101").first_response_by == "lucknowpolice"
    store2 = Complaints()
    store2.put(received("101", "@lucknowpolice my bike was stolen in Aliganj"))
    router2 = police_router(store2, clock)
    router2.route("101")
    store2.put(police_post("201", replied_to="999", conversation="101"))  # answers Seva's reply (not stored)
    router2.route("201")
    assert store2.get("101").first_response_by == "lucknowpolice"


def test_sevas_own_reply_is_not_a_first_response():
    store, clock = Complaints(), Clock(NOW + timedelta(minutes=5))
    store.put(received("101", "@lucknowpolice my bike was stolen in Aliganj"))
    router = police_router(store, clock, ours=lambda complaint, post: post.tweet_id == "201")
    router.route("101")
    store.put(police_post("201", replied_to="101", conversation="101"))
    router.route("201")
    c = store.get("101")
    assert c.first_response_at is None and store.get("201").status == Status.ATTACHED
    assert not [e for e in store.trail("101") if e.action == Action.FIRST_RESPONSE]


def test_a_police_post_outside_any_complaint_is_kept_as_noise_without_review():
    store, clock = Complaints(), Clock()
    router = police_router(store, clock)
    store.put(police_post("201", replied_to="555", conversation="555"))
    assert router.route("201").status == "NOISE"
    assert store.get("201").status == Status.NOISE and not store.get("201").needs_review

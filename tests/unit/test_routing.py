"""Routing: a new tweet becomes a routed complaint (reference, deadlines, audit event), noise, or a follow-up that
updates the citizen's complaint — each a lifecycle transition written with its audit event, once."""

from __future__ import annotations

from dataclasses import replace
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


def received(tweet_id, text, author="111", conversation=None, replied_to=None, tweeted=None):
    extra = {"referenced_tweets": [{"type": "replied_to", "id": replied_to}]} if replied_to else {}
    return complaint(
        tweet_id=tweet_id,
        status=Status.RECEIVED,
        text=text,
        author=author,
        conversation=conversation,
        tweet=extra,
        **({"tweeted": tweeted} if tweeted else {}),
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
        # another delivery of the same record routed it in the meantime
        won = {**store.items["103"].__dict__, "version": 7, "status": Status.ROUTED}
        store.items["103"] = store.items["103"].__class__(**won)
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


@pytest.mark.parametrize("district, code", [("Agra", 118), ("Meerut", 169), ("Bareilly", 130)])
def test_a_follow_up_naming_an_ambiguous_locality_with_its_district_moves_the_complaint_there(setup, district, code):
    # Given a complaint no one could place ("Sadar Bazar" is a locality of several districts)
    store, router, _ = setup
    store.put(received("311", "@Uppolice a man keeps following my sister from her coaching centre", author="8"))
    router.route("311")
    assert store.get("311").district_code is None
    # When the citizen's SOS in the thread names the locality and its district
    text = f"@Uppolice he has pulled her into a car right now near Sadar Bazar {district}, please help fast"
    store.put(received("312", text, "8", "311", "311"))
    outcome = router.route("312")
    # Then the complaint moves to that district (its officers are told), not left with the state cell
    assert store.get("311").district_code == code and "district" in outcome.changed


def test_a_follow_ups_district_never_comes_from_the_authors_profile():
    # Given triage's evidence for follow-ups whose words name only an ambiguous locality
    sadar = {"source": "text", "match": "Sadar Bazar", "district_codes": [118, 169, 177, 180], "ambiguous": True}
    profile = {"source": "profile", "match": "Cantt", "district_codes": [118, 130], "ambiguous": True}
    # Then a decision the profile made or narrowed to a place the words do not name moves nothing
    assert (
        Router._named_district([sadar, profile, {"decision": "agreeing ambiguous names", "district_code": 118}]) is None
    )
    assert Router._named_district([sadar, {"decision": "profile", "district_code": 130}]) is None
    assert Router._named_district([sadar, {"decision": "text", "district_code": 130}]) is None
    # And one the words made among the places they name does
    agra = {"source": "text", "match": "Agra", "district_codes": [118]}
    assert Router._named_district([sadar, agra, {"decision": "text", "district_code": 118}]) == 118


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


# -- edits and long posts (X API v2: edit_history_tweet_ids, note_tweet) ----------------------------------------
def edit_of(original_id, new_id, text, author="111", **tweet):
    """A new version of a post, as X returns it: a new id whose edit history starts with the original's."""
    return complaint(
        tweet_id=new_id,
        status=Status.RECEIVED,
        text=text,
        author=author,
        tweet={"edit_history_tweet_ids": [original_id, new_id], **tweet},
    )


def test_an_edit_that_makes_a_noise_a_complaint_routes_the_original_never_a_second_complaint(setup):
    # Given a greeting the citizen posted, routed as noise
    store, router, _ = setup
    store.put(received("601", "@lucknowpolice good morning sir", author="12"))
    assert router.route("601").status == "NOISE"
    # When they edit it on X into a theft report (a new id whose edit history starts with 601)
    store.put(edit_of("601", "602", "@lucknowpolice my bike was stolen from Aliganj market, please help", "12"))
    outcome = router.route("602")
    # Then the original is the complaint, with the new text and one reference; the new version is attached to it
    original, version = store.get("601"), store.get("602")
    assert original.status == Status.ROUTED and original.reference == outcome.reference
    assert original.text.startswith("@lucknowpolice my bike was stolen") and original.tweet["id"] == "602"
    assert version.status == Status.ATTACHED and version.parent_tweet_id == "601" and version.reference is None
    assert [c.tweet_id for c in store.items.values() if c.reference] == ["601"]
    assert [e.action for e in store.trail("601")] == [Action.MARK_NOISE, Action.TO_COMPLAINT]
    assert store.trail("601")[-1].details["version"] == "602"
    assert len(store.outbox) == 1  # the citizen is answered once, for the one complaint


def test_an_edit_of_an_open_complaint_is_retriaged_like_a_follow_up(setup):
    # Given the citizen's routed P3 complaint
    store, router, clock = setup
    store.put(received("701", "@lucknowpolice neighbours play loud music every night in Aliganj", author="13"))
    router.route("701")
    reference = store.get("701").reference
    # When they edit it: he is back with a knife
    clock.advance(minutes=5)
    store.put(edit_of("701", "702", "@lucknowpolice neighbour came back with a knife, bachao, Aliganj", "13"))
    outcome = router.route("702")
    # Then the same complaint (same reference) has the new text and P1's priority and deadlines
    c = store.get("701")
    assert outcome.status == "ATTACHED" and outcome.reference == reference and "priority" in outcome.changed
    assert c.reference == reference and c.priority == Priority.P1 and "knife" in c.text
    assert c.ack_due_at == clock.now + timedelta(minutes=15)
    event = store.trail("701")[-1]
    assert event.action == Action.FOLLOW_UP and event.details["edit"] is True and event.details["version"] == "702"
    # and a redelivered record of the version changes nothing
    assert router.route("702").status == "SKIPPED"
    assert len(store.trail("701")) == 2


def test_an_edit_of_a_post_seva_never_stored_is_triaged_on_its_own(setup):
    # Given an edit whose first version did not mention a registered handle (so it was never stored)
    store, router, _ = setup
    store.put(edit_of("801", "802", "@lucknowpolice my phone was stolen in Aliganj market", "14"))
    # When it is routed / Then it is a complaint of its own
    assert router.route("802").status == "ROUTED"


def test_a_closed_complaints_edit_changes_its_text_and_nothing_else(setup):
    store, router, _ = setup
    store.put(complaint("901", status=Status.CLOSED, text="@lucknowpolice my phone was stolen"))
    store.put(edit_of("901", "902", "@lucknowpolice my phone was stolen (found it, thanks)", "citizen"))
    router.route("902")
    c = store.get("901")
    assert c.status == Status.CLOSED and "found it" in c.text and store.trail("901")[-1].action == Action.EDIT


def test_a_long_posts_whole_text_is_triaged_not_its_truncated_text(setup):
    # Given a long post whose first 280 characters are a story and whose end is the SOS (X cuts `text`)
    store, router, _ = setup
    story = "@lucknowpolice " + "we moved to this colony last year and the street has been quiet until now. " * 3
    whole = story + "Right now a man is firing at our house in Hazratganj, bachao!"
    store.put(
        complaint(
            "1001", status=Status.RECEIVED, text=whole, tweet={"text": story[:277] + "…", "note_tweet": {"text": whole}}
        )
    )
    # When routed / Then the whole text decides: P1 in Lucknow
    router.route("1001")
    c = store.get("1001")
    assert c.status == Status.ROUTED and c.priority == Priority.P1 and c.district_code == 162


def test_an_edit_never_overrides_a_person_who_called_it_noise_but_sends_it_to_review(setup):
    # Given a complaint the state cell turned into noise (it was numbered once)
    store, router, _ = setup
    silenced = complaint("1101", status=Status.NOISE, text="@lucknowpolice lol")
    store.put(replace(silenced, reference="UP-LKO-2026-000009"))
    # When the citizen edits it into a theft report
    store.put(edit_of("1101", "1102", "@lucknowpolice my bike was stolen from Aliganj market", "citizen"))
    router.route("1102")
    # Then it stays noise with the new text, and a person is asked to look again
    c = store.get("1101")
    assert c.status == Status.NOISE and "bike" in c.text and c.needs_review
    assert store.trail("1101")[-1].action == Action.EDIT and not store.outbox


def _resolved(store, router, clock, tweet_id="701", author="9"):
    store.put(received(tweet_id, "@lucknowpolice my bike was stolen in Aliganj", author=author))
    router.route(tweet_id)
    c = store.get(tweet_id)
    store.put(c.__class__(**{**c.__dict__, "status": Status.RESOLVED, "resolved_at": clock.now}))
    clock.advance(hours=2)
    return store.get(tweet_id)


@pytest.mark.parametrize("answer", ["not resolved", "abhi tak kuch nahi hua", "समाधान नहीं हुआ", "حل نہیں ہوا"])
def test_the_citizens_not_resolved_reopens_the_complaint_and_restarts_the_resolve_clock(setup, answer):
    store, router, clock = setup
    _resolved(store, router, clock)
    # When the citizen answers in the thread
    store.put(received("702", f"@lucknowpolice {answer}", "9", "701", replied_to="701"))
    outcome = router.route("702")
    # Then the complaint is reopened by the citizen via X, with a new time to resolve; the answer is attached
    c = store.get("701")
    assert outcome.status == "ATTACHED" and c.status == Status.REOPENED and c.reopened_at == clock.now
    assert c.resolve_due_at == clock.now + DEFAULT_POLICY.resolve[c.priority]
    (reopen,) = [e for e in store.trail("701") if e.action == Action.REOPEN]
    assert reopen.actor.kind == "citizen" and reopen.via == "x" and reopen.details["post"] == "702"


@pytest.mark.parametrize(("answer", "rating"), [("thank you sir 5", 5), ("4", 4), ("धन्यवाद", None)])
def test_thanks_or_a_rating_closes_it_with_the_satisfaction(setup, answer, rating):
    store, router, clock = setup
    _resolved(store, router, clock)
    store.put(received("703", f"@lucknowpolice {answer}", "9", "701", replied_to="701"))
    router.route("703")
    c = store.get("701")
    assert c.status == Status.CLOSED and c.satisfaction == rating
    (close,) = [e for e in store.trail("701") if e.action == Action.CLOSE]
    assert close.details == {"by": "citizen", "post": "703", "rating": rating}


def test_a_closed_complaint_reopens_on_not_resolved_and_anything_else_is_a_new_tweet(setup):
    store, router, clock = setup
    c = _resolved(store, router, clock)
    store.put(c.__class__(**{**c.__dict__, "status": Status.CLOSED}))
    store.put(received("704", "@lucknowpolice my phone was snatched near Aliganj market", "9", "701", replied_to="701"))
    assert router.route("704").status == "ROUTED"  # a new complaint, not a follow-up of a closed one
    store.put(received("705", "@lucknowpolice still not resolved, nothing happened", "9", "701", replied_to="701"))
    router.route("705")
    assert store.get("701").status == Status.REOPENED


@pytest.mark.parametrize("closed", [False, True])
def test_a_post_written_before_the_resolution_and_read_after_it_does_not_reopen(setup, closed):
    # Given a complaint resolved (and, in one case, closed since), and the citizen's "no action yet" in its
    # thread, posted an hour before the resolution but read only now (X indexed it late, the poller caught up)
    store, router, clock = setup
    c = _resolved(store, router, clock)
    resolved_at = c.tweet_created_at + timedelta(hours=1)
    store.put(
        c.__class__(**{**c.__dict__, "resolved_at": resolved_at, **({"status": Status.CLOSED} if closed else {})})
    )
    early = resolved_at - timedelta(minutes=30)
    store.put(received("706", "@lucknowpolice अभी तक कोई कार्रवाई नहीं हुई", "9", "701", replied_to="701", tweeted=early))
    # When it is routed
    router.route("706")
    # Then it is not the citizen's answer to "resolved": nothing reopens
    assert store.get("701").status == (Status.CLOSED if closed else Status.RESOLVED)
    assert not [e for e in store.trail("701") if e.action == Action.REOPEN]
    # And the same words written after the resolution still reopen it
    store.put(
        received("707", "@lucknowpolice अभी तक कोई कार्रवाई नहीं हुई", "9", "701", replied_to="701", tweeted=clock.now)
    )
    router.route("707")
    assert store.get("701").status == Status.REOPENED


def test_an_answer_to_the_resolution_reply_closes_the_complaint_that_reply_was_about(setup):
    # Given a citizen with two complaints in one conversation (the first was closed when the second came), the
    # second resolved, and Seva's reply to it kept with it
    store, router, clock = setup
    first = complaint("801", status=Status.ROUTED, author="9", conversation="801")
    second = complaint("802", status=Status.RESOLVED, author="9", conversation="801", resolved_at=clock.now)
    seva_reply = complaint("803", status=Status.ATTACHED, author="lucknowpolice", conversation="801")
    store.put(first, second, seva_reply.__class__(**{**seva_reply.__dict__, "parent_tweet_id": "802"}))
    # When the citizen answers that reply "thank you 5"
    store.put(received("804", "@lucknowpolice thank you 5", "9", "801", replied_to="803"))
    router.route("804")
    # Then the complaint the reply was about is closed; the other is untouched
    assert store.get("802").status == Status.CLOSED and store.get("802").satisfaction == 5
    assert store.get("801").status == Status.ROUTED


def test_an_answer_to_a_resolution_reply_read_before_that_reply_was_routed_goes_to_its_complaint():
    # Given a citizen with two complaints in one conversation, the first closed, the second resolved, and Seva's
    # "resolved" reply to the second read in the same poll as the citizen's answer to it (not routed yet)
    store, clock = Complaints(), Clock(NOW + timedelta(hours=3))
    first = complaint("811", status=Status.CLOSED, author="9", conversation="811", resolved_at=NOW)
    second = complaint(
        "812", status=Status.RESOLVED, author="9", conversation="811", resolved_at=NOW + timedelta(hours=1)
    )
    store.put(first, second, received("813", "Your complaint is resolved", "lucknowpolice", "811", replied_to="812"))
    store.put(
        received(
            "814", "@lucknowpolice not resolved, nothing has happened", "9", "811", replied_to="813", tweeted=clock.now
        )
    )
    # When the citizen's answer is routed first
    police_router(store, clock).route("814")
    # Then the complaint the reply was about is reopened; the other one is untouched
    assert store.get("812").status == Status.REOPENED
    assert store.get("811").status == Status.CLOSED and store.get("814").parent_tweet_id == "812"


def test_an_answer_read_before_sevas_reply_itself_goes_to_the_complaint_seva_posted_that_reply_to():
    # Given a citizen with two complaints in one conversation, the first closed, the second resolved, and the
    # citizen's thanks to Seva's "resolved" reply read before that reply (X returned it by another query)
    store, clock = Complaints(), Clock(NOW + timedelta(hours=3))
    first = complaint("821", status=Status.CLOSED, author="9", conversation="821", resolved_at=NOW)
    second = complaint(
        "822", status=Status.RESOLVED, author="9", conversation="821", resolved_at=NOW + timedelta(hours=1)
    )
    store.put(first, second)
    store.put(received("824", "@lucknowpolice thank you 5", "9", "821", replied_to="823", tweeted=clock.now))
    router = police_router(store, clock)
    router.replied_with = lambda c: {"823"} if c.tweet_id == "822" else set()
    # When the thanks are routed
    outcome = router.route("824")
    # Then the complaint Seva's reply was about is closed with the rating; the answer is not a new tweet
    assert outcome.status == "ATTACHED" and store.get("824").parent_tweet_id == "822"
    assert store.get("822").status == Status.CLOSED and store.get("822").satisfaction == 5
    assert store.get("821").status == Status.CLOSED and store.get("821").satisfaction is None


def test_a_follow_up_whose_complaint_changes_meanwhile_is_routed_on_a_second_look(setup):
    # Given a citizen's routed complaint, and a follow-up whose first write loses to an officer's change of it
    store, router, _ = setup
    store.put(received("901", "@lucknowpolice my bike was stolen in Aliganj", author="5"))
    router.route("901")
    store.put(received("902", "@lucknowpolice it was a red Splendor, please hurry", "5", "901", replied_to="901"))
    real_write, calls = store.write, []

    def officer_first(changes, **kw):
        if not calls:
            calls.append(1)
            parent = store.get("901")
            store.put(parent.__class__(**{**parent.__dict__, "version": parent.version + 1}))  # the officer's change
        return real_write(changes, **kw)

    store.write = officer_first  # type: ignore[method-assign]
    # When the follow-up is routed
    outcome = router.route("902")
    # Then it is attached on the second look, never left RECEIVED
    assert outcome.status == "ATTACHED" and store.get("902").status == Status.ATTACHED


def test_a_follow_up_routed_while_its_complaint_is_being_routed_comes_after_it_in_the_trail(setup):
    # Given a complaint and the citizen's follow-up in its thread, both just received
    store, router, clock = setup
    store.put(received("101", "@lucknowpolice my bike was stolen in Aliganj"))
    store.put(received("102", "@lucknowpolice it was a red Pulsar", conversation="101", replied_to="101"))
    read_thread = store.in_conversation

    def while_the_complaint_is_routed(conversation, author):
        # another invocation routes the complaint while this one is looking for the follow-up's thread
        clock.advance(seconds=1)
        router.route("101")
        clock.advance(seconds=1)
        return read_thread(conversation, author)

    store.in_conversation = while_the_complaint_is_routed
    # When the follow-up is routed
    assert router.route("102").status == "ATTACHED"
    # Then, in time order, the complaint's trail is its route and then the follow-up (each state from the last)
    trail = sorted(store.trail("101"), key=lambda e: e.at)
    assert [e.action for e in trail] == [Action.ROUTE, Action.FOLLOW_UP]
    assert trail[1].from_status == trail[0].to_status


def test_an_sos_reply_routed_before_the_complaint_it_follows_up_routes_that_complaint_first(setup):
    # Given the citizen's complaint still waiting in the stream, and their SOS reply to it sent ahead (express lane)
    store, router, clock = setup
    store.put(received("301", "@lucknowpolice neighbours play loud music every night in Aliganj", author="7"))
    clock.advance(minutes=1)
    store.put(received("302", "@lucknowpolice he has come back with a knife, bachao", "7", "301", replied_to="301"))
    # When the reply is routed first
    outcome = router.route("302")
    # Then the complaint was routed before it, and the reply follows it up (P1 now): one complaint, one number
    assert outcome.status == "ATTACHED" and store.get("302").parent_tweet_id == "301"
    parent = store.get("301")
    assert parent.status == Status.ROUTED and parent.priority == Priority.P1 and parent.reference
    assert store.get("302").reference is None
    assert [e.action for e in sorted(store.trail("301"), key=lambda e: e.at)] == [Action.ROUTE, Action.FOLLOW_UP]
    # And when the stream delivers the complaint afterwards, it is found done
    assert router.route("301").status == "SKIPPED"

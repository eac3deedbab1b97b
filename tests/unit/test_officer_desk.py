"""What officers and the state cell do: a link shows and a confirmation acts (once), each action is a lifecycle
transition with its audit event (who, when, through what), an officer acts on their own district only, and the
public lookup shows no personal data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from seva.actions import ActionDesk, ActionRefused
from seva.desk import Desk, Forbidden, Identity, NotFound
from seva.districts import load_districts
from seva.lifecycle import Action, Actor, ActorKind, Channel, Complaint, Event, Priority, Status, TransitionRefused
from seva.links import LinkKeys, make_token
from seva.sla import DEFAULT_POLICY

from tests.unit.fakes import NOW, Clock, Complaints, Directory, complaint

KEYS = LinkKeys({1: b"k" * 32}, current=1)
KANPUR = 157  # LGD code of Kanpur Nagar


@dataclass
class Repo:
    """The desk's view of the complaints table and audit trail."""

    store: Complaints

    def get(self, tweet_id: str) -> Complaint | None:
        return self.store.get(tweet_id)

    def by_reference(self, reference: str) -> Complaint | None:
        return self.store.by_reference(reference)

    def queue(self, district_key: str, limit: int = 200) -> list[Complaint]:
        return self.store.queue(district_key, limit)

    def events(self, tweet_id: str) -> list[Event]:
        return self.store.trail(tweet_id)

    def write(self, changes, *, actor, via, now, outbox):  # type: ignore[no-untyped-def]
        return self.store.write(changes, actor=actor, via=via, now=now, outbox=outbox)


def numbers():
    counter = iter(range(500, 10**6))
    return lambda code, now: f"UP-{'LKO' if code == 162 else 'HQ'}-{now.year}-{next(counter):06d}"


def setup(*complaints: Complaint, clock: Clock | None = None) -> tuple[Desk, Complaints, Clock]:
    store, clock = Complaints(), clock or Clock(NOW + timedelta(minutes=2))
    store.put(*complaints)
    repo = Repo(store)
    actions = ActionDesk(repo, load_districts(), DEFAULT_POLICY, clock, numbers())
    desk = Desk(repo, Directory(), actions, load_districts(), lambda: KEYS, clock)
    return desk, store, clock


def token(c: Complaint, officer: str = "lko-sp", days: float = 3) -> str:
    return make_token(KEYS, c.tweet_id, officer, NOW + timedelta(days=days))


OFFICER = Identity("sp.lucknow", ("officers",), "162", "lko-sp")
OTHER_DISTRICT = Identity("sp.kanpur", ("officers",), str(KANPUR), "knp-sp")
STATE_CELL = Identity("cell.duty", ("state_cell",), "HQ", None)


# -- links --------------------------------------------------------------------------------------------------------
def test_opening_a_link_shows_the_complaint_and_its_actions_and_changes_nothing():
    # Given a routed complaint and its officer's link
    c = complaint()
    desk, store, _ = setup(c)
    # When the link is opened (by the officer, an SMS app's preview or a mail scanner), even several times
    pages = [desk.link_page(token(c)) for _ in range(3)]
    # Then each shows the complaint and a confirm form, and nothing changed
    assert all(status == 200 for status, _ in pages)
    page = pages[0][1]
    assert c.reference in page and 'method="post"' in page.lower() and "acknowledge" in page
    assert store.get(c.tweet_id) == c and store.events == []


def test_confirming_acknowledges_once_in_the_officers_name_through_the_link():
    c = complaint()
    desk, store, clock = setup(c)
    status, page = desk.confirm(token(c), {"action": "acknowledge"})
    assert status == 200 and "acknowledged" in page
    after = store.get(c.tweet_id)
    assert (
        after.status == Status.ACKNOWLEDGED and after.acknowledged_at == clock() and after.acknowledged_by == "lko-sp"
    )
    (event,) = store.events
    assert (event.actor, event.via, event.at) == (Actor(ActorKind.OFFICER, "lko-sp"), Channel.LINK, clock())
    assert (event.from_status, event.to_status) == (Status.ROUTED, Status.ACKNOWLEDGED)
    # And a second confirmation (a double tap, a resubmitted form) changes nothing more
    again, page = desk.confirm(token(c), {"action": "acknowledge"})
    assert again == 409 and "already acknowledged" in page and len(store.events) == 1


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda c: token(c)[:-1] + ("A" if token(c)[-1] != "A" else "B"), "not valid"),
        (lambda c: token(c, days=-1), "expired"),
        (lambda c: token(c)[:20], "broken"),
    ],
    ids=["tampered", "expired", "cut short"],
)
def test_a_bad_link_is_refused_with_a_reason_and_changes_nothing(make, reason):
    c = complaint()
    desk, store, _ = setup(c)
    for status, page in (desk.link_page(make(c)), desk.confirm(make(c), {"action": "resolve"})):
        assert status == 403 and reason in page
    assert store.get(c.tweet_id) == c and store.events == []


def test_a_link_for_an_officer_of_another_district_does_not_act():
    # Given a complaint moved from Lucknow to Kanpur Nagar after the SMS went out
    c = complaint(district_code=KANPUR)
    desk, store, _ = setup(c)
    status, page = desk.confirm(token(c, "lko-sp"), {"action": "resolve"})
    assert status == 403 and "no longer acts" in page and store.events == []


def test_a_link_can_send_a_complaint_that_is_not_ours_to_another_district_whose_clock_starts_again():
    c = complaint(status=Status.ACKNOWLEDGED, acknowledged_at=NOW, acknowledged_by="lko-sp")
    desk, store, clock = setup(c)
    status, _ = desk.confirm(token(c), {"action": "reassign", "district": str(KANPUR)})
    after = store.get(c.tweet_id)
    assert status == 200 and after.status == Status.ROUTED and after.district_code == KANPUR
    assert after.acknowledged_at is None and after.ack_due_at == clock() + DEFAULT_POLICY.acknowledge[Priority.P2]
    assert store.events[-1].details == {"from": 162, "to": KANPUR}


def test_an_action_a_link_does_not_offer_is_refused():
    c = complaint()
    desk, store, _ = setup(c)
    status, _ = desk.confirm(token(c), {"action": "to_noise"})
    assert status == 400 and store.events == []


# -- the API --------------------------------------------------------------------------------------------------
def test_an_officer_sees_their_districts_open_complaints_p1_first_then_by_deadline():
    p2_late = complaint("1", priority=Priority.P2, tweeted=NOW + timedelta(minutes=5))
    p2_early = complaint("2", priority=Priority.P2)
    p1 = complaint("3", priority=Priority.P1)
    resolved = complaint("4", status=Status.RESOLVED)
    elsewhere = complaint("5", district_code=KANPUR)
    desk, _, _ = setup(p2_late, p2_early, p1, resolved, elsewhere)
    assert [v["id"] for v in desk.queue(OFFICER, None)] == ["3", "2", "1"]
    with pytest.raises(Forbidden):
        desk.queue(OFFICER, str(KANPUR))
    assert [v["id"] for v in desk.queue(STATE_CELL, str(KANPUR))] == ["5"]


def test_one_complaint_with_its_timeline_for_its_district_and_the_state_cell_only():
    c = complaint()
    desk, _, _ = setup(c)
    desk.act(OFFICER, c.tweet_id, {"action": "on_the_way"})
    view = desk.complaint(OFFICER, c.tweet_id)
    assert view["status"] == "ON_THE_WAY" and view["acknowledged_at"] == view["on_the_way_at"]
    assert [(e["action"], e["actor"]["id"], e["via"]) for e in view["timeline"]] == [("ON_THE_WAY", "lko-sp", "api")]
    assert desk.complaint(STATE_CELL, c.tweet_id)["id"] == c.tweet_id
    with pytest.raises(Forbidden):
        desk.complaint(OTHER_DISTRICT, c.tweet_id)
    with pytest.raises(NotFound):
        desk.complaint(STATE_CELL, "999")


def test_an_officer_cannot_act_on_another_districts_complaint():
    c = complaint()
    desk, store, _ = setup(c)
    with pytest.raises(ActionRefused, match="not your district"):
        desk.act(OTHER_DISTRICT, c.tweet_id, {"action": "resolve"})
    assert store.events == []


def test_only_the_state_cell_turns_a_complaint_into_noise_and_back_with_a_reference_kept():
    c = complaint()
    desk, store, _ = setup(c)
    with pytest.raises(ActionRefused, match="Only the state cell"):
        desk.act(OFFICER, c.tweet_id, {"action": "to_noise"})
    desk.act(STATE_CELL, c.tweet_id, {"action": "to_noise"})
    assert store.get(c.tweet_id).status == Status.NOISE
    view = desk.act(STATE_CELL, c.tweet_id, {"action": "to_complaint", "priority": "P1"})
    assert view["status"] == "ROUTED" and view["priority"] == "P1" and view["reference"] == c.reference
    assert [e.actor.kind for e in store.events] == [ActorKind.STATE_CELL, ActorKind.STATE_CELL]


def test_a_noise_that_never_had_a_reference_gets_one_when_it_becomes_a_complaint():
    noise = replace(complaint(status=Status.NOISE), district_code=162, district="Lucknow")
    desk, _, _ = setup(noise)
    view = desk.act(STATE_CELL, noise.tweet_id, {"action": "to_complaint"})
    assert view["reference"].startswith("UP-LKO-") and view["priority"] == "P3" and view["ack_due_at"]


def test_a_note_needs_text_and_changes_no_state():
    c = complaint()
    desk, store, _ = setup(c)
    with pytest.raises(ActionRefused, match="needs some text"):
        desk.act(OFFICER, c.tweet_id, {"action": "note"})
    desk.act(OFFICER, c.tweet_id, {"action": "note", "note": "  spoke to the complainant  "})
    assert store.get(c.tweet_id).status == Status.ROUTED
    assert store.events[-1].details == {"note": "spoke to the complainant"}


def test_an_unknown_action_is_refused_by_name():
    c = complaint()
    desk, _, _ = setup(c)
    with pytest.raises(ActionRefused, match="'fly' is not something"):
        desk.act(OFFICER, c.tweet_id, {"action": "fly"})


def test_a_concurrent_change_is_read_again_and_decided_again():
    # Given another invocation acknowledging the complaint between our read and our write
    c = complaint()
    desk, store, _ = setup(c)
    real_write = store.write

    def racing_write(changes, **kw):  # type: ignore[no-untyped-def]
        if not store.events:
            real_write([replace(changes[0], action=changes[0].action.__class__.ACKNOWLEDGE, changes={})], **kw)
            raise TransitionRefused(changes[0].action, Status.ACKNOWLEDGED, "changed since it was read")
        return real_write(changes, **kw)

    store.write = racing_write  # type: ignore[method-assign]
    # When the officer resolves it, the resolution is decided on the complaint as it now is
    view = desk.act(OFFICER, c.tweet_id, {"action": "resolve"})
    assert view["status"] == "RESOLVED"
    assert [e.to_status for e in store.events] == [Status.ACKNOWLEDGED, Status.RESOLVED]


def test_an_action_refused_by_the_lifecycle_says_why_in_words():
    c = complaint(status=Status.RESOLVED, resolved_at=NOW)
    desk, _, _ = setup(c)
    with pytest.raises(ActionRefused, match="already resolved"):
        desk.act(OFFICER, c.tweet_id, {"action": "acknowledge"})


# -- public -------------------------------------------------------------------------------------------------------
def test_the_public_lookup_shows_state_and_times_and_nothing_that_identifies_the_citizen():
    c = complaint()
    desk, _, _ = setup(c)
    view = desk.lookup(c.reference.lower() + " ")
    assert view["reference"] == c.reference and view["status"] == "ROUTED" and view["routed_at"]
    flat = str(view)
    assert c.text not in flat and c.author_username not in flat and "9876543210" not in flat
    with pytest.raises(NotFound):
        desk.lookup("UP-LKO-2026-999999")


def test_identity_from_api_gateway_claims_with_groups_as_a_string():
    who = Identity.from_claims(
        {"cognito:username": "cell.duty", "cognito:groups": "[state_cell officers]", "custom:district": "HQ"}
    )
    assert who.state_cell and who.actor == Actor(ActorKind.STATE_CELL, "cell.duty")
    officer = Identity.from_claims({"username": "sp", "custom:district": "162", "custom:officer_id": "lko-sp"})
    assert not officer.state_cell and officer.actor == Actor(ActorKind.OFFICER, "lko-sp")


def test_the_state_cell_reopens_and_closes_a_resolved_complaint_an_officer_may_not():
    c = replace(complaint(status=Status.RESOLVED), resolved_at=NOW)
    desk, store, _ = setup(c)
    with pytest.raises(ActionRefused, match="Only the state cell"):
        desk.act(OFFICER, c.tweet_id, {"action": "reopen"})
    assert desk.act(STATE_CELL, c.tweet_id, {"action": "reopen", "note": "citizen called 112"})["status"] == "REOPENED"
    desk.act(OFFICER, c.tweet_id, {"action": "resolve", "note": "returned the phone"})
    assert desk.act(STATE_CELL, c.tweet_id, {"action": "close"})["status"] == "CLOSED"
    assert store.get(c.tweet_id).resolution_note == "returned the phone"
    assert [e.details.get("by") for e in store.events if e.action in (Action.REOPEN, Action.CLOSE)] == [
        "state_cell",
        "state_cell",
    ]

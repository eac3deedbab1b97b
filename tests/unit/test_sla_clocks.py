"""SLA clocks: a stage's deadline passes without its action → the next level of the district's chain is told,
once per level, under redelivery and concurrent runs; acknowledging stops the clock, a reassignment or a reopening
restarts it; a resolved complaint nobody objects to closes by itself."""

from __future__ import annotations

from datetime import timedelta

from seva.clocks import ClockService
from seva.lifecycle import Action, Actor, ActorKind, Channel, Priority, Status
from seva.officers import Officer
from seva.sla import DEFAULT_POLICY, Stage

from tests.unit.fakes import NOW, Clock, Complaints, Directory, complaint, officers

OFFICER = Actor(ActorKind.OFFICER, "lko-sp")
P1_ACK = timedelta(minutes=15)
STEP = P1_ACK * DEFAULT_POLICY.step_fraction


def setup(*complaints, people=None):
    store, clock = Complaints(), Clock()
    store.put(*complaints)
    service = ClockService(store, Directory(people if people is not None else officers()), DEFAULT_POLICY, clock)
    return store, clock, service


def escalations(store, tweet_id="1001"):
    return [e for e in store.trail(tweet_id) if e.action == Action.ESCALATE]


def test_no_clock_fires_before_its_deadline():
    # Given a P1 routed at NOW, not acknowledged
    store, clock, service = setup(complaint(priority=Priority.P1))
    # When the clocks run a second before the deadline
    clock.advance(minutes=15, seconds=-1)
    # Then nothing happens
    assert service.run() == {} and escalations(store) == []


def test_an_overdue_p1_goes_up_the_chain_once_per_level_to_the_state_cell():
    # Given a P1 nobody acknowledges; Lucknow has no circle officer, an SP, and the state cell above
    store, clock, service = setup(complaint(priority=Priority.P1))
    # When the clocks run at the deadline, again in the same minute, and a step later, and later still
    clock.advance(minutes=15)
    first = service.run()
    again = service.run()
    clock.advance(seconds=STEP.total_seconds())
    early = service.run()
    clock.advance(seconds=STEP.total_seconds())
    second = service.run()
    clock.advance(hours=1)
    later = service.run()
    # Then the SP was told at the deadline (level 1 has nobody: passed over, the first level with someone is
    # told at once), the state cell at its own time (level 3: two steps after the deadline), each once, and
    # the clock stopped there
    assert first == {"escalated": 1} and again == {} and early == {} and second == {"escalated": 1}
    assert later == {}
    e1, e2 = escalations(store)
    assert (e1.details["level"], e1.details["to"], e1.details["stage"]) == (2, ["lko-sp"], "acknowledge")
    assert (e2.details["level"], e2.details["to"]) == (3, ["hq"])
    assert e1.actor.id == "sla" and e1.via == Channel.SYSTEM and e1.to_status == Status.ROUTED
    assert DEFAULT_POLICY.next_clock(store.get("1001")) is None


def test_a_p2_chain_ends_at_the_superintendent():
    store, clock, service = setup(complaint(priority=Priority.P2))
    clock.advance(days=30)
    for _ in range(5):
        service.run()
    assert [e.details["level"] for e in escalations(store)] == [2]


def test_redelivery_and_two_concurrent_runs_escalate_once():
    # Given two invocations that read the same overdue complaint before either wrote
    store, clock, service = setup(complaint(priority=Priority.P1))
    clock.advance(minutes=16)
    read_by_both = store.get("1001")
    # When both act on it
    outcomes = [service.tick(read_by_both, clock()), service.tick(read_by_both, clock())]
    # Then one escalates and the other is refused by the version check
    assert sorted(outcomes) == ["escalated", "raced"] and len(escalations(store)) == 1


def test_acknowledging_in_time_stops_the_clock_and_starts_the_resolve_clock():
    store, clock, service = setup(complaint(priority=Priority.P1))
    clock.advance(minutes=10)
    store.apply(store.get("1001"), Action.ACKNOWLEDGE, actor=OFFICER, via=Channel.LINK, now=clock())
    clock.advance(minutes=60)
    assert service.run() == {} and escalations(store) == []
    nxt = DEFAULT_POLICY.next_clock(store.get("1001"))
    assert nxt is not None and nxt.stage == Stage.RESOLVE and nxt.due_at == NOW + timedelta(hours=4)


def test_an_acknowledgement_after_an_escalation_resets_the_level_for_the_resolve_stage():
    store, clock, service = setup(complaint(priority=Priority.P1))
    clock.advance(minutes=16)
    service.run()
    store.apply(store.get("1001"), Action.ACKNOWLEDGE, actor=OFFICER, via=Channel.LINK, now=clock())
    assert store.get("1001").escalation_level == 0
    clock.advance(hours=4)
    service.run()
    last = escalations(store)[-1]
    assert (last.details["stage"], last.details["level"]) == ("resolve", 2)


def test_a_reassignment_restarts_the_clock_for_the_new_district_from_the_first_level():
    store, clock, service = setup(complaint(priority=Priority.P2))
    clock.advance(hours=5)
    service.run()
    assert store.get("1001").escalation_level == 2
    new_due = clock() + timedelta(hours=4)
    store.apply(
        store.get("1001"),
        Action.REASSIGN,
        actor=OFFICER,
        via=Channel.LINK,
        now=clock(),
        changes={"district_code": None, "ack_due_at": new_due},
    )
    c = store.get("1001")
    assert c.escalation_level == 0 and DEFAULT_POLICY.next_clock(c).due_at == new_due


def test_a_level_with_nobody_is_passed_over_and_an_empty_chain_stops_visibly():
    # Given a district whose directory is empty and no state cell
    store, clock, service = setup(complaint(priority=Priority.P1), people=[])
    clock.advance(minutes=16)
    # When the clock fires
    assert service.run() == {"chain_exhausted": 1}
    # Then the audit trail says nobody was there to tell, and the clock stopped
    (event,) = escalations(store)
    assert event.details["to"] == [] and DEFAULT_POLICY.next_clock(store.get("1001")) is None


def test_a_resolved_complaint_closes_itself_after_the_objection_period():
    resolved = complaint(status=Status.RESOLVED, resolved_at=NOW)
    store, clock, service = setup(resolved)
    clock.advance(days=7, seconds=-1)
    assert service.run() == {}
    clock.advance(seconds=1)
    assert service.run() == {"closed": 1}
    c = store.get("1001")
    (close,) = [e for e in store.trail("1001") if e.action == Action.CLOSE]
    assert c.status == Status.CLOSED and close.details["by"] == "auto" and close.actor.id == "sla"


def test_reopening_gives_a_new_time_to_resolve_and_starts_from_the_first_level():
    store, clock, _ = setup(complaint(status=Status.RESOLVED, resolved_at=NOW, escalation_level=2))
    clock.advance(days=1)
    store.apply(store.get("1001"), Action.REOPEN, actor=Actor(ActorKind.CITIZEN, "c"), via=Channel.X, now=clock())
    c = store.get("1001")
    assert c.status == Status.REOPENED and c.escalation_level == 0
    assert c.resolve_due_at == clock() + DEFAULT_POLICY.resolve[Priority.P2]


def test_a_clock_from_an_older_version_is_put_right_not_acted_on():
    # Given the index still holds a clock, but the complaint was acknowledged since (due later)
    acknowledged = complaint(priority=Priority.P1, status=Status.ACKNOWLEDGED)
    store, clock, service = setup(acknowledged)
    clock.advance(minutes=20)
    # When a stale index entry makes the service look at it
    assert service.tick(store.get("1001"), clock()) == "retimed"
    assert store.retimed == ["1001"] and escalations(store) == []


def test_the_chain_comes_from_the_policy_file():
    chain = [(lv.level, sorted(lv.roles), lv.district) for lv in DEFAULT_POLICY.chain(Priority.P1)]
    assert chain[0] == (1, ["co"], None) and chain[-1] == (3, ["hq_cell"], "HQ")
    assert [lv.level for lv in DEFAULT_POLICY.chain(Priority.P3)] == [1, 2]


def test_a_circle_officer_is_told_first_when_the_district_has_one():
    co = Officer(district="162", officer_id="lko-co", name="CO", role="co", phone="+447700900009")
    store, clock, service = setup(complaint(priority=Priority.P3), people=[*officers(), co])
    clock.advance(days=3, seconds=1)
    service.run()
    assert escalations(store)[0].details["to"] == ["lko-co"]


def test_two_runs_on_one_resolved_complaint_close_it_once():
    store, clock, service = setup(complaint(status=Status.RESOLVED, resolved_at=NOW))
    clock.advance(days=8)
    read_by_both = store.get("1001")
    outcomes = sorted([service.tick(read_by_both, clock()), service.tick(read_by_both, clock())])
    assert outcomes == ["closed", "raced"]
    assert len([e for e in store.trail("1001") if e.action == Action.CLOSE]) == 1


def test_none_missed_when_more_are_due_than_one_run_takes():
    # Given three overdue complaints and a run that takes one at a time
    store, clock, service = setup(*(complaint(str(1001 + n), priority=Priority.P3) for n in range(3)))
    service.batch = 1
    clock.advance(days=3, seconds=1)
    # When the clocks run each minute
    for _ in range(3):
        service.run()
        clock.advance(minutes=1)
    # Then every one was escalated, once
    assert [len(escalations(store, str(1001 + n))) for n in range(3)] == [1, 1, 1]


def test_a_run_short_of_time_leaves_the_rest_for_the_next_minute():
    _store, clock, service = setup(*(complaint(str(1001 + n), priority=Priority.P3) for n in range(3)))
    clock.advance(days=3, seconds=1)
    left = iter([30.0, 2.0, 2.0])
    assert service.run(lambda: next(left)) == {"escalated": 1, "deferred": 2}
    assert service.run() == {"escalated": 2}


def test_one_complaint_failing_never_holds_the_others_back():
    # Given three overdue complaints, the store failing on the second one
    store, clock, service = setup(*(complaint(str(1001 + n), priority=Priority.P3) for n in range(3)))
    clock.advance(days=3, seconds=1)
    real_get = store.get

    def flaky(tweet_id):
        if tweet_id == "1002":
            raise ConnectionError("throttled")
        return real_get(tweet_id)

    store.get = flaky  # type: ignore[method-assign]
    # When the clocks run
    assert service.run() == {"escalated": 2, "failed": 1}
    # Then the two others are escalated, and the failed one next minute
    store.get = real_get  # type: ignore[method-assign]
    clock.advance(minutes=1)
    assert service.run() == {"escalated": 1}


def test_a_p1_is_escalated_first_when_a_run_has_time_for_only_a_few():
    # Given twenty routine complaints overdue for an hour and a P1 overdue by a minute
    routine = [complaint(str(2000 + i), priority=Priority.P3) for i in range(20)]
    store, clock, service = setup(*routine)
    clock.advance(hours=6)
    store.put(complaint("1001", priority=Priority.P1, tweeted=clock() - P1_ACK - timedelta(minutes=1)))
    service.workers = 1
    # When the run has time for three complaints only
    budget = iter([60, 60, 60])
    done = service.run(time_left=lambda: next(budget, 0))
    # Then the P1 was one of them; the rest wait for the next minute
    assert escalations(store, "1001") != []
    assert done["deferred"] == 18

"""Figures from the lifecycle's events: what each event counts, deadlines from the trail, percentiles from bucket
counts, the summary's rates, and the public page's figures (no personal data)."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from seva.districts import load_districts
from seva.figures import (
    BOUNDS,
    FiguresKeeper,
    breakdown,
    bucket,
    contribution,
    day_of,
    day_range,
    district_names,
    histogram,
    public_figures,
    quantile,
    summary,
)
from seva.lifecycle import Action, Actor, ActorKind, Channel, Event, Priority, Status
from seva.sla import DEFAULT_POLICY

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
OFFICER = Actor(ActorKind.OFFICER, "lko-sp")
SYSTEM = Actor.system("route")


class Trail:
    """A complaint's audit trail, built event by event."""

    def __init__(self, priority: Priority = Priority.P2, district: int | None = 162):
        self.events: list[Event] = []
        self.priority, self.district = priority, district

    def add(
        self,
        action: Action,
        minutes: float,
        frm: Status | None = None,
        status: Status | None = None,
        actor: Actor = OFFICER,
        **details: object,
    ) -> Event:
        event = Event(
            complaint_id="1001",
            event_id=f"e{len(self.events)}",
            kind="transition",
            at=T0 + timedelta(minutes=minutes),
            actor=actor,
            via=Channel.API,
            action=action,
            from_status=frm,
            to_status=status,
            priority=self.priority,
            district_code=self.district,
            details=dict(details),
        )
        self.events.append(event)
        return event

    def counts(self, event: Event, category: str = "theft") -> dict[str, int]:
        return contribution(event, self.events, category, DEFAULT_POLICY).counts


def test_buckets_are_log_spaced_and_cover_seconds_to_months():
    assert BOUNDS[0] == 30 and BOUNDS[2] == 60 and BOUNDS[-1] > 60 * 86400
    ratios = [b / a for a, b in itertools.pairwise(BOUNDS)]
    assert all(1.3 < r < 1.5 for r in ratios)
    assert bucket(0) == 0 and bucket(30) == 0 and bucket(31) == 1 and bucket(10**9) == len(BOUNDS)


def test_a_percentile_read_from_bucket_counts_lies_within_a_bucket_of_the_true_value():
    # Given latencies spread over minutes to days
    rng = random.Random(7)
    values = [rng.lognormvariate(7, 1.5) for _ in range(2000)]
    counts = [0] * (len(BOUNDS) + 1)
    for v in values:
        counts[bucket(v)] += 1
    # When the median and the 95th percentile are read from the counts alone
    for q in (0.5, 0.95):
        exact = sorted(values)[int(q * len(values))]
        estimate = quantile(counts, q)
        # Then each is within a factor √2 (one bucket) of the exact value
        assert estimate is not None and 1 / 1.42 < estimate / exact < 1.42, (q, estimate, exact)
    assert quantile([0] * 5, 0.5) is None


def test_routing_counts_a_received_complaint_and_noise_counts_apart():
    t = Trail()
    assert t.counts(t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)) == {"received": 1}
    assert t.counts(t.add(Action.MARK_NOISE, 0, Status.RECEIVED, Status.NOISE, SYSTEM)) == {"noise": 1}


def test_an_acknowledgement_within_its_deadline_counts_within_and_its_time_in_the_histogram():
    # Given a P2 routed at T0 (4 hours to acknowledge)
    t = Trail(Priority.P2)
    t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    # When it is acknowledged after 10 minutes
    counts = t.counts(t.add(Action.ACKNOWLEDGE, 10, Status.ROUTED, Status.ACKNOWLEDGED))
    # Then it counts as acknowledged within the SLA, in the bucket of 600 s
    assert counts == {"acknowledged": 1, "ack_within": 1, f"a{bucket(600)}": 1}


def test_a_late_acknowledgement_counts_late():
    t = Trail(Priority.P1)  # 15 minutes to acknowledge
    t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    counts = t.counts(t.add(Action.ACKNOWLEDGE, 20, Status.ROUTED, Status.ACKNOWLEDGED))
    assert counts["ack_late"] == 1 and "ack_within" not in counts


def test_a_reassignment_restarts_the_clock_for_the_new_district():
    t = Trail(Priority.P1)
    t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    t.add(Action.REASSIGN, 14, Status.ROUTED, Status.ROUTED)
    counts = t.counts(t.add(Action.ACKNOWLEDGE, 20, Status.ROUTED, Status.ACKNOWLEDGED))
    # 6 minutes after the reassignment: within the new district's 15 minutes
    assert counts["ack_within"] == 1 and counts[f"a{bucket(360)}"] == 1


def test_on_the_way_straight_from_routed_acknowledges_but_not_after_an_acknowledgement():
    t = Trail()
    t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    assert t.counts(t.add(Action.ON_THE_WAY, 5, Status.ROUTED, Status.ON_THE_WAY))["acknowledged"] == 1
    t2 = Trail()
    t2.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    t2.add(Action.ACKNOWLEDGE, 3, Status.ROUTED, Status.ACKNOWLEDGED)
    assert t2.counts(t2.add(Action.ON_THE_WAY, 5, Status.ACKNOWLEDGED, Status.ON_THE_WAY)) == {}


def test_resolution_after_a_reopening_is_timed_from_the_reopening():
    t = Trail(Priority.P2)  # 48 hours to resolve
    t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    t.add(Action.ACKNOWLEDGE, 5, Status.ROUTED, Status.ACKNOWLEDGED)
    first = t.counts(t.add(Action.RESOLVE, 60, Status.ACKNOWLEDGED, Status.RESOLVED))
    assert first == {"resolved": 1, "resolve_within": 1, f"r{bucket(3600)}": 1}
    reopen = t.add(Action.REOPEN, 120, Status.RESOLVED, Status.REOPENED, Actor(ActorKind.CITIZEN, "42"))
    assert t.counts(reopen) == {"reopened": 1}
    again = t.counts(t.add(Action.RESOLVE, 150, Status.REOPENED, Status.RESOLVED))
    assert again[f"r{bucket(1800)}"] == 1


def test_escalations_count_and_the_first_level_of_a_stage_is_a_missed_deadline():
    t = Trail(Priority.P1)
    t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    sla = Actor.system("sla")
    first = t.add(Action.ESCALATE, 15, Status.ROUTED, Status.ROUTED, sla, stage="acknowledge", level=1, to=["co"])
    second = t.add(Action.ESCALATE, 30, Status.ROUTED, Status.ROUTED, sla, stage="acknowledge", level=2, to=["sp"])
    late = t.add(Action.ESCALATE, 300, Status.ACKNOWLEDGED, Status.ACKNOWLEDGED, sla, stage="resolve", level=1)
    assert t.counts(first) == {"escalations": 1, "ack_missed": 1}
    assert t.counts(second) == {"escalations": 1}
    assert t.counts(late) == {"escalations": 1, "resolve_missed": 1}


def test_the_first_escalation_of_a_clock_is_its_missed_deadline_whatever_its_level():
    # Given a district with nobody at level 1: the chain starts at level 2
    t = Trail(Priority.P2)
    t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    sla = Actor.system("sla")
    first = t.add(Action.ESCALATE, 240, Status.ROUTED, Status.ROUTED, sla, stage="acknowledge", level=2)
    assert t.counts(first) == {"escalations": 1, "ack_missed": 1}
    # A reassignment restarts the clock: the new district's first escalation is a missed deadline again
    t.add(Action.REASSIGN, 250, Status.ROUTED, Status.ROUTED)
    again = t.add(Action.ESCALATE, 500, Status.ROUTED, Status.ROUTED, sla, stage="acknowledge", level=2)
    assert t.counts(again) == {"escalations": 1, "ack_missed": 1}


def test_a_close_counts_the_citizens_rating_and_an_auto_close():
    t = Trail()
    citizen = Actor(ActorKind.CITIZEN, "42")
    assert t.counts(t.add(Action.CLOSE, 9, Status.RESOLVED, Status.CLOSED, citizen, by="citizen", rating=4)) == {
        "closed": 1,
        "rating_count": 1,
        "rating_sum": 4,
    }
    assert t.counts(t.add(Action.CLOSE, 9, Status.RESOLVED, Status.CLOSED, SYSTEM, by="auto")) == {
        "closed": 1,
        "closed_auto": 1,
    }
    assert "rating_count" not in t.counts(t.add(Action.CLOSE, 9, Status.RESOLVED, Status.CLOSED, citizen, rating=9))


def test_a_persons_review_is_a_label_for_triage():
    t = Trail()
    cell = Actor(ActorKind.STATE_CELL, "cell.duty")
    to_noise = t.add(Action.TO_NOISE, 1, Status.ROUTED, Status.NOISE, cell)
    c = contribution(to_noise, t.events, "theft", DEFAULT_POLICY)
    assert c.counts == {"to_noise": 1, "reviewed": 1}
    assert c.label == {
        "is_complaint": False,
        "district_code": 162,
        "category": "theft",
        "priority": None,
        "verdict": "corrected",
    }
    label = {"is_complaint": True, "category": "violent_crime", "priority": "P1"}
    review = t.add(Action.REVIEW, 2, Status.ROUTED, Status.ROUTED, cell, verdict="corrected", label=label)
    c = contribution(review, t.events, "violent_crime", DEFAULT_POLICY)
    assert c.label is not None and c.label["priority"] == "P1" and c.label["category"] == "violent_crime"
    # the system's own noise decision is not a person's label
    assert contribution(t.add(Action.MARK_NOISE, 0, actor=SYSTEM), t.events, None, DEFAULT_POLICY).label is None


def test_a_note_changes_no_figure():
    t = Trail()
    c = contribution(t.add(Action.NOTE, 1, note="called the citizen"), t.events, "theft", DEFAULT_POLICY)
    assert c.empty


def test_the_day_is_indias():
    assert day_of(datetime(2026, 11, 28, 19, 0, tzinfo=UTC)) == "2026-11-29"  # 00:30 IST


def test_the_summary_counts_a_missed_deadline_once_and_reads_rates():
    rows = [
        {"day": "2026-11-28", "district": "162", "received": 10, "acknowledged": 8, "ack_within": 6, "ack_late": 2},
        {"day": "2026-11-28", "district": "162", "ack_missed": 3, "escalations": 4},  # one never acknowledged
        {"day": "2026-11-29", "district": "118", "resolved": 4, "reopened": 1, "rating_count": 2, "rating_sum": 9},
    ]
    s = summary(rows)
    assert s["received"] == 10 and s["escalations"] == 4
    assert s["ack_sla_pct"] == round(100 * 6 / 9, 1)  # 6 within, 3 missed (2 of them acknowledged late)
    assert s["reopen_rate_pct"] == 25.0 and s["satisfaction"] == 4.5
    assert [r["district"] for r in breakdown(rows, "district")] == ["118", "162"]


def test_the_summary_reads_percentiles_from_the_histograms():
    rows = [{"a3": 5, "a10": 5}, {"a10": 10}]
    s = summary(rows)
    assert histogram(s, "a") == [0] * (len(BOUNDS) + 1)  # the summary's own keys are not buckets
    assert BOUNDS[9] <= s["ack_p50_s"] <= BOUNDS[10] and BOUNDS[9] <= s["ack_p95_s"] <= BOUNDS[10]
    assert s["ack_histogram"][3] == 5 and s["ack_histogram"][10] == 15


def test_a_day_range_defaults_to_the_last_thirty_days_and_refuses_nonsense():
    today = datetime(2026, 11, 28).date()
    assert day_range(None, None, today) == ("2026-10-30", "2026-11-28")
    with pytest.raises(ValueError):
        day_range("2026-11-29", "2026-11-28", today)
    with pytest.raises(ValueError):
        day_range("2020-01-01", "2026-11-28", today)
    with pytest.raises(ValueError):
        day_range("yesterday", None, today)


def test_the_public_figures_carry_counts_and_times_only():
    rows = [
        {"day": "2026-11-28", "district": "162", "received": 3, "acknowledged": 2, "ack_within": 2, "a4": 2},
        {"day": "2026-11-28", "district": "HQ", "received": 1},
    ]
    names = district_names(load_districts())
    out = public_figures(rows, names, T0)
    lucknow = next(d for d in out["districts"] if d["code"] == "162")
    assert lucknow["name"] == "Lucknow" and lucknow["received"] == 3
    assert lucknow["acknowledged_within_sla_pct"] == 100.0 and lucknow["median_response_s"] is not None
    allowed = {
        "code",
        "name",
        "hindi",
        "received",
        "acknowledged",
        "acknowledged_within_sla_pct",
        "resolved",
        "median_response_s",
        "median_resolution_s",
    }
    assert all(set(d) == allowed for d in out["districts"])
    assert set(out) == {"generated_at", "from", "to", "state", "districts"}
    json.dumps(out)


class _Store:
    """Counts each event once (the DynamoDB store's marker), keeps what it was given."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.added: list = []

    def add(self, event, c, now):  # type: ignore[no-untyped-def]
        if event.event_id in self.seen:
            return False
        self.seen.add(event.event_id)
        self.added.append(c)
        return True

    def district_rows(self, first_day, last_day):  # type: ignore[no-untyped-def]
        return [{"day": c.day, "district": c.district, **c.counts} for c in self.added]


class _Complaints:
    def __init__(self, trail: Trail):
        self.trail = trail

    def get(self, tweet_id):  # type: ignore[no-untyped-def]
        from tests.unit.fakes import complaint

        return complaint(tweet_id)

    def events(self, tweet_id):  # type: ignore[no-untyped-def]
        return list(self.trail.events)


def test_the_keeper_counts_an_event_once_and_publishes_the_snapshot():
    t = Trail()
    route = t.add(Action.ROUTE, 0, Status.RECEIVED, Status.ROUTED, SYSTEM)
    published: list[dict] = []
    store = _Store()
    keeper = FiguresKeeper(
        _Complaints(t), store, DEFAULT_POLICY, lambda: T0, district_names(load_districts()), published.append
    )
    assert [keeper.count(route) for _ in range(3)] == ["counted", "duplicate", "duplicate"]
    assert keeper.count(t.add(Action.NOTE, 1, note="x")) == "nothing"
    snapshot = keeper.public_snapshot()
    assert published == [snapshot] and snapshot["state"]["received"] == 1 and snapshot["to"] == "2026-11-28"

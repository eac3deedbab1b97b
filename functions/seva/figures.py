"""Figures kept as the lifecycle flows: each transition adds to counters and latency histograms of its
(district, category, priority, day), and the dashboard and the public page read those aggregates — never a scan of
the complaints. Pure: ``seva.dal.figures`` applies a contribution once per event (conditional write keyed by the
event id) with DynamoDB's ADD.

Latencies go into fixed, log-spaced buckets (√2 apart, 30 s to 64 days), so a median or a 95th percentile of any
set of rows is read from summed counts: the estimate lies in the bucket that holds the true value (at most a
factor √2 off, interpolated geometrically inside it).

What each action counts (on the day of the event, India time):
- ROUTE, TO_COMPLAINT: ``received``; MARK_NOISE: ``noise``; TO_NOISE / TO_COMPLAINT by a person: a correction.
- The first acknowledgement of a clock (ACKNOWLEDGE, or ON_THE_WAY straight from ROUTED): ``acknowledged``,
  ``ack_within`` or ``ack_late`` against the deadline, and its time since the clock started (routing, a
  noise turned into a complaint, or a reassignment) in the ``a`` histogram.
- RESOLVE: ``resolved``, ``resolve_within`` / ``resolve_late``, the time since the resolve clock started (routing,
  reassignment or a reopening) in the ``r`` histogram.
- ESCALATE: ``escalations``; a stage's first escalation since its clock started is the deadline passing without
  its action (``ack_missed`` / ``resolve_missed``), whatever level the chain starts at.
- REOPEN: ``reopened``; CLOSE: ``closed`` (``closed_auto``) and a citizen's rating (``rating_count``, ``rating_sum``).
- REASSIGN: ``reassigned``; REVIEW, TO_COMPLAINT, TO_NOISE by a person: ``reviewed`` and a label for triage.

Deadlines are recomputed from the audit trail (the clock's start) and the SLA policy for the event's priority:
the trail before an event never changes, so a redelivered event counts the same.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Protocol

from seva.lifecycle import Action, ActorKind, Complaint, Event, Priority, Status
from seva.sla import SlaPolicy, Stage

IST = timezone(timedelta(hours=5, minutes=30), "IST")
BOUNDS: tuple[int, ...] = tuple(round(30 * 2 ** (k / 2)) for k in range(36))
"""Upper bounds (seconds) of the latency buckets; one more bucket holds what is longer than the last."""
HISTOGRAMS = ("a", "r")  # time to acknowledge, time to resolve
COUNTERS = (
    "received",
    "noise",
    "to_complaint",
    "to_noise",
    "acknowledged",
    "ack_within",
    "ack_late",
    "ack_missed",
    "resolved",
    "resolve_within",
    "resolve_late",
    "resolve_missed",
    "escalations",
    "reopened",
    "closed",
    "closed_auto",
    "rating_count",
    "rating_sum",
    "reassigned",
    "reviewed",
)
SUMMARY_FIELDS = (
    *COUNTERS,
    "ack_sla_pct",
    "resolve_sla_pct",
    "ack_p50_s",
    "ack_p95_s",
    "resolve_p50_s",
    "resolve_p95_s",
    "reopen_rate_pct",
    "satisfaction",
)
CLOCK_STARTS = {
    Stage.ACKNOWLEDGE: frozenset({Action.ROUTE, Action.TO_COMPLAINT, Action.REASSIGN}),
    Stage.RESOLVE: frozenset({Action.ROUTE, Action.TO_COMPLAINT, Action.REASSIGN, Action.REOPEN}),
}
PEOPLE = frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL})


def bucket(seconds: float) -> int:
    """The histogram bucket of a latency (0: up to 30 s; len(BOUNDS): longer than the last bound)."""
    return bisect_left(BOUNDS, max(0.0, seconds))


def quantile(histogram: Sequence[int], q: float) -> float | None:
    """The q-quantile (0..1) of a bucketed latency, in seconds; None without values."""
    total = sum(histogram)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(histogram):
        if n <= 0:
            continue
        if seen + n >= rank:
            frac = min(1.0, max(0.0, (rank - seen) / n))
            if i == 0:
                return BOUNDS[0] * frac
            low = BOUNDS[i - 1]
            high = BOUNDS[i] if i < len(BOUNDS) else BOUNDS[-1] * 2
            return low * (high / low) ** frac
        seen += n
    return float(BOUNDS[-1] * 2)


def day_of(at: datetime) -> str:
    """The day a figure belongs to: the event's date in India."""
    return at.astimezone(IST).date().isoformat()


@dataclass(frozen=True)
class Contribution:
    """What one event adds to the figures of its (district, category, priority, day)."""

    district: str  # LGD code, or HQ
    category: str
    priority: str
    day: str
    counts: dict[str, int] = field(default_factory=dict)
    label: dict[str, Any] | None = None  # a person's verdict on triage (labelled data)

    @property
    def empty(self) -> bool:
        return not self.counts and self.label is None


def contribution(event: Event, trail: Sequence[Event], category: str | None, policy: SlaPolicy) -> Contribution:
    """What ``event`` adds to the figures, given the complaint's audit trail (the events before it are read) and
    its category."""
    priority = event.priority or Priority.P3
    counts: dict[str, int] = {}
    label: dict[str, Any] | None = None

    def add(name: str, value: int = 1) -> None:
        counts[name] = counts.get(name, 0) + value

    before = [e for e in trail if e.kind == "transition" and e.sort_key < event.sort_key]
    action, by_person = event.action, event.actor.kind in PEOPLE
    if action in (Action.ROUTE, Action.TO_COMPLAINT):
        add("received")
    if action == Action.MARK_NOISE:
        add("noise")
    if action == Action.TO_COMPLAINT:
        add("to_complaint")
    if action == Action.TO_NOISE:
        add("to_noise")
    acknowledges = action == Action.ACKNOWLEDGE or (action == Action.ON_THE_WAY and event.from_status == Status.ROUTED)
    if acknowledges and event.from_status == Status.ROUTED:
        add("acknowledged")
        _clock(add, "a", "ack", event, before, policy.acknowledge[priority], Stage.ACKNOWLEDGE)
    if action == Action.RESOLVE:
        add("resolved")
        _clock(add, "r", "resolve", event, before, policy.resolve[priority], Stage.RESOLVE)
    if action == Action.ESCALATE:
        add("escalations")
        stage = str(event.details.get("stage") or "")
        if stage in (Stage.ACKNOWLEDGE, Stage.RESOLVE) and _first_escalation(event, before, Stage(stage)):
            add("ack_missed" if stage == Stage.ACKNOWLEDGE else "resolve_missed")
    if action == Action.REOPEN:
        add("reopened")
    if action == Action.CLOSE:
        add("closed")
        if event.details.get("by") == "auto":
            add("closed_auto")
        rating = _int(event.details.get("rating"))
        if rating is not None and 1 <= rating <= 5:
            add("rating_count")
            add("rating_sum", rating)
    if action == Action.REASSIGN:
        add("reassigned")
    if by_person and action in (Action.REVIEW, Action.TO_COMPLAINT, Action.TO_NOISE):
        add("reviewed")
        label = review_label(event, category)
    return Contribution(
        district=str(event.district_code) if event.district_code is not None else "HQ",
        category=category or "none",
        priority=str(event.priority) if event.priority else "none",
        day=day_of(event.at),
        counts=counts,
        label=label,
    )


def _first_escalation(event: Event, before: list[Event], stage: Stage) -> bool:
    """The stage's first escalation since its clock started: its deadline passed without the action. (The level
    alone does not say it: a chain skips levels with nobody on them.) Without a trail, level 1 is the first."""
    if not before:
        return _int(event.details.get("level")) == 1
    for e in reversed(before):
        if e.action in CLOCK_STARTS[stage]:
            return True
        if e.action == Action.ESCALATE and str(e.details.get("stage") or "") == stage:
            return False
    return True


def _clock(add: Any, histogram: str, name: str, event: Event, before: list[Event], window: timedelta, stage: Stage):
    started = next((e.at for e in reversed(before) if e.action in CLOCK_STARTS[stage]), None)
    if started is None:
        return
    elapsed = (event.at - started).total_seconds()
    add(f"{histogram}{bucket(elapsed)}")
    add(f"{name}_within" if event.at <= started + window else f"{name}_late")


def review_label(event: Event, category: str | None) -> dict[str, Any]:
    """A person's verdict in the labelled-data shape triage trains on (``tests/data``: is_complaint, district,
    category, priority), and whether it confirmed or corrected triage."""
    details = event.details or {}
    given: dict[str, Any] = details["label"] if isinstance(details.get("label"), dict) else {}
    if event.action == Action.TO_NOISE:
        is_complaint, verdict = False, "corrected"
    elif event.action == Action.TO_COMPLAINT:
        is_complaint, verdict = True, "corrected"
    else:
        is_complaint, verdict = bool(given.get("is_complaint", True)), str(details.get("verdict") or "confirmed")
    priority = given.get("priority") or details.get("priority") or (str(event.priority) if event.priority else None)
    return {
        "is_complaint": is_complaint,
        "district_code": event.district_code,
        "category": given.get("category") or category,
        "priority": priority if is_complaint else None,
        "verdict": verdict,
    }


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- reading the aggregates ------------------------------------------------------------------------------------------
def histogram(row: Mapping[str, Any], name: str) -> list[int]:
    return [int(row.get(f"{name}{i}", 0) or 0) for i in range(len(BOUNDS) + 1)]


def total(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Counters and histogram buckets summed over rows."""
    out: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            if key in COUNTERS or (key[:1] in HISTOGRAMS and key[1:].isdigit()):
                out[key] = out.get(key, 0) + int(value or 0)
    return out


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _seconds(value: float | None) -> int | None:
    return None if value is None or math.isnan(value) else round(value)


def summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures of a set of rows: counts, SLA compliance, median and 95th percentile latencies, escalations,
    reopen rate, satisfaction.

    A deadline is met or missed once per clock: met is ``ack_within``; missed is the first escalation of the stage
    (the deadline passed without the action) or, where escalation did not run, a late acknowledgement — the
    larger of the two, so a complaint escalated and then acknowledged late counts once."""
    t = total(rows)
    g = t.get
    ack_missed = max(g("ack_missed", 0), g("ack_late", 0))
    resolve_missed = max(g("resolve_missed", 0), g("resolve_late", 0))
    ack_h, res_h = histogram(t, "a"), histogram(t, "r")
    return {
        **{name: g(name, 0) for name in COUNTERS},
        "ack_sla_pct": _pct(g("ack_within", 0), g("ack_within", 0) + ack_missed),
        "resolve_sla_pct": _pct(g("resolve_within", 0), g("resolve_within", 0) + resolve_missed),
        "ack_p50_s": _seconds(quantile(ack_h, 0.5)),
        "ack_p95_s": _seconds(quantile(ack_h, 0.95)),
        "resolve_p50_s": _seconds(quantile(res_h, 0.5)),
        "resolve_p95_s": _seconds(quantile(res_h, 0.95)),
        "reopen_rate_pct": _pct(g("reopened", 0), g("resolved", 0)),
        "satisfaction": round(g("rating_sum", 0) / g("rating_count", 1), 2) if g("rating_count", 0) else None,
        "ack_histogram": ack_h,
        "resolve_histogram": res_h,
    }


def breakdown(rows: Iterable[Mapping[str, Any]], by: str) -> list[dict[str, Any]]:
    """Figures per value of one dimension (district, category, priority or day), in key order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get(by)), []).append(row)
    return [{by: key, **summary(group)} for key, group in sorted(groups.items())]


def day_range(start: str | None, end: str | None, today: date, max_days: int = 366) -> tuple[str, str]:
    """A valid [from, to] range of ISO days (default: the last 30 days), at most ``max_days`` long."""
    to = date.fromisoformat(end) if end else today
    since = date.fromisoformat(start) if start else to - timedelta(days=29)
    if since > to:
        raise ValueError("'from' is after 'to'")
    if (to - since).days >= max_days:
        raise ValueError(f"at most {max_days} days at once")
    return since.isoformat(), to.isoformat()


def public_figures(rows: Iterable[Mapping[str, Any]], names: Mapping[str, tuple[str, str]], now: datetime) -> dict:
    """The public page's figures: per district and for the state, counts and times only — nothing that identifies
    a citizen (no text, no usernames, no references)."""
    rows = list(rows)
    days = sorted({str(r.get("day")) for r in rows}) or [day_of(now)]

    def public(s: dict[str, Any]) -> dict[str, Any]:
        return {
            "received": s["received"],
            "acknowledged": s["acknowledged"],
            "acknowledged_within_sla_pct": s["ack_sla_pct"],
            "resolved": s["resolved"],
            "median_response_s": s["ack_p50_s"],
            "median_resolution_s": s["resolve_p50_s"],
        }

    districts = []
    for entry in breakdown(rows, "district"):
        code = entry["district"]
        name, hindi = names.get(code, (code, code))
        districts.append({"code": code, "name": name, "hindi": hindi, **public(entry)})
    districts.sort(key=lambda d: (-d["received"], d["name"]))
    return {
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "from": days[0],
        "to": days[-1],
        "state": public(summary(rows)),
        "districts": districts,
    }


# -- keeping them ----------------------------------------------------------------------------------------------------
class ComplaintsPort(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...
    def events(self, tweet_id: str) -> list[Event]: ...


class FiguresStore(Protocol):
    def add(self, event: Event, contribution: Contribution, now: datetime) -> bool: ...
    def district_rows(self, first_day: str, last_day: str) -> list[dict[str, Any]]: ...


NEEDS_TRAIL = frozenset({Action.ACKNOWLEDGE, Action.ON_THE_WAY, Action.RESOLVE, Action.ESCALATE})


@dataclass
class FiguresKeeper:
    """Counts each lifecycle event once, and writes the public page's snapshot."""

    complaints: ComplaintsPort
    store: FiguresStore
    policy: SlaPolicy
    now: Callable[[], datetime]
    names: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # district key -> (English, Hindi)
    publish: Callable[[dict[str, Any]], None] | None = None
    public_days: int = 30

    def count(self, event: Event) -> str:
        """``counted``, ``duplicate`` (already counted) or ``nothing`` (the event changes no figure)."""
        if event.kind != "transition" or event.action is None:
            return "nothing"
        complaint = self.complaints.get(event.complaint_id)
        category = str(complaint.category) if complaint and complaint.category else None
        trail = self.complaints.events(event.complaint_id) if event.action in NEEDS_TRAIL else []
        c = contribution(event, trail, category, self.policy)
        if c.empty:
            return "nothing"
        return "counted" if self.store.add(event, c, self.now()) else "duplicate"

    def public_snapshot(self) -> dict[str, Any]:
        now = self.now()
        today = now.astimezone(IST).date()
        first, last = (today - timedelta(days=self.public_days - 1)).isoformat(), today.isoformat()
        snapshot = public_figures(self.store.district_rows(first, last), self.names, now)
        snapshot |= {"from": first, "to": last}
        if self.publish is not None:
            self.publish(snapshot)
        return snapshot


def district_names(districts: Any) -> dict[str, tuple[str, str]]:
    """District key -> (English, Hindi) names, the state cell's queue included."""
    names = {str(d.code): (d.name, d.hindi) for d in districts.by_code.values()}
    names["HQ"] = ("State cell (district not known)", "राज्य प्रकोष्ठ (ज़िला अज्ञात)")
    return names

"""The SLA clocks act: once a minute, every complaint whose clock is due is escalated to the next level of its
district's chain, or (resolved, nobody objected) closed.

Why a due-time index and not one EventBridge Scheduler schedule per complaint: the instant a clock fires is
written with the transition that starts or stops it, in the same conditional write (``seva.dal.complaints``),
so it can never disagree with the state; a schedule is a second resource to create and delete beside every
transition (a write that can fail on its own), for $1 per million and a 1M-schedule quota. A minute's
granularity suits deadlines of 15 minutes and more.

Exactly once per level: each escalation is a transition conditional on the complaint's version, so of two
invocations (or a redelivery) that find the same due clock, one writes and the other is refused; the audit
event it writes is what the notify lanes turn into SMS and email for that level's officers, once per officer
(the ledger). A clock found due but written by an older version is put right, never acted on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from seva.lifecycle import Action, Actor, Channel, Complaint, TransitionRefused
from seva.officers import Officer
from seva.sla import Clock, SlaPolicy, Stage

CLOCK = Actor.system("sla")


class ClockStore(Protocol):
    def due(self, now: datetime, limit: int = 500) -> list[str]: ...
    def get(self, tweet_id: str) -> Complaint | None: ...

    def retime(self, complaint: Complaint) -> None: ...
    def apply(
        self,
        complaint: Complaint,
        action: Action,
        *,
        actor: Actor,
        via: Channel,
        now: datetime,
        changes: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> Any: ...


class Directory(Protocol):
    def for_district(self, district: str) -> list[Officer]: ...


@dataclass
class ClockService:
    store: ClockStore
    directory: Directory
    policy: SlaPolicy
    now: Callable[[], datetime]
    batch: int = 500
    workers: int = 8

    def run(self, time_left: Callable[[], float] = lambda: 60.0) -> dict[str, int]:
        """Act on every clock due now (what is left when the invocation runs short waits for the next minute:
        the index still holds it); a count of what was done. Each complaint is its own conditional write, so
        several are written at once (I/O-bound: a few threads, not a process each)."""
        from concurrent.futures import ThreadPoolExecutor

        now, done = self.now(), Counter[str]()
        due = self.store.due(now, self.batch)

        def one(tweet_id: str) -> str:
            if time_left() < 5:
                return "deferred"
            try:
                complaint = self.store.get(tweet_id)
                # the event's time is taken after the read: a change written meanwhile (an officer acknowledging)
                # is earlier than this one in the audit trail, as it was in fact
                return self.tick(complaint, max(now, self.now())) if complaint is not None else "gone"
            except TransitionRefused:
                return "raced"
            except Exception:  # one complaint's failure (throttling, a timeout) never holds the others back:
                return "failed"  # its clock stays in the index and is tried again next minute

        if self.workers > 1 and len(due) > 1:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                done.update(pool.map(one, due))
        else:
            done.update(one(tweet_id) for tweet_id in due)
        done.pop("gone", None)
        return dict(done)

    def tick(self, complaint: Complaint, now: datetime) -> str:
        clock = self.policy.next_clock(complaint)
        if clock is None or clock.due_at > now:
            self.store.retime(complaint)  # a clock the index kept from an older version
            return "retimed"
        try:
            if clock.stage == Stage.AUTO_CLOSE:
                self.store.apply(
                    complaint,
                    Action.CLOSE,
                    actor=CLOCK,
                    via=Channel.SYSTEM,
                    now=now,
                    changes={"closed_at": now},
                    details={"by": "auto", "resolved_at": _iso(complaint.resolved_at)},
                )
                return "closed"
            level, officers = self.recipients(complaint, clock)
            self.store.apply(
                complaint,
                Action.ESCALATE,
                actor=CLOCK,
                via=Channel.SYSTEM,
                now=now,
                changes={"escalation_level": level},
                details={
                    "stage": str(clock.stage),
                    "level": level,
                    "to": [o.officer_id for o in officers],
                    "due_at": _iso(clock.due_at),
                },
            )
        except TransitionRefused:
            return "raced"  # another invocation (or an officer) changed it first: next minute decides again
        return "escalated" if officers else "chain_exhausted"

    def recipients(self, complaint: Complaint, clock: Clock) -> tuple[int, list[Officer]]:
        """The first level from the clock's on whose roles the district (or the state cell) has officers; the
        last level with nobody when none has (the clock then stops, visibly, in the audit trail)."""
        assert complaint.priority is not None and clock.level is not None
        last = clock.level
        for level in self.policy.chain(complaint.priority):
            if level.level < clock.level:
                continue
            last = level.level
            district = level.district or complaint.district_key
            officers = [o for o in self.directory.for_district(district) if o.role in level.roles]
            if officers:
                return level.level, officers
        return last, []


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None

"""Service levels: how soon a complaint must be acknowledged and resolved, who is told when it is not, and when
a resolved complaint closes by itself. Pure.

Police work round the clock: deadlines are plain elapsed time, no business hours. Which clock runs follows the
complaint's state (``stage_of``); ``next_clock`` says when it next fires. The data layer keeps that instant on
the complaint (a sparse due-time index) in the same write as every transition, so a clock can never disagree
with the state it belongs to; the clock function reads the index each minute (``seva.clocks``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from seva.lifecycle import Action, Complaint, Priority, Status

DATA = Path(__file__).resolve().parent / "data" / "sla_policy.json"


class Stage(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    AUTO_CLOSE = "auto_close"  # a resolved complaint nobody objected to


@dataclass(frozen=True)
class Level:
    """One step up a district's chain (SHO → circle officer → SP → the state cell for P1)."""

    level: int
    name: str
    roles: frozenset[str]
    priorities: frozenset[Priority]
    district: str | None = None  # "HQ": the state cell's officers, whatever the complaint's district


@dataclass(frozen=True)
class Clock:
    stage: Stage
    due_at: datetime
    level: int | None = None  # the escalation level this clock fires (None: auto-close)


@cache
def load_levels(path: Path = DATA) -> tuple[tuple[Level, ...], float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    levels = tuple(
        sorted(
            (
                Level(
                    level=int(entry["level"]),
                    name=str(entry["name"]),
                    roles=frozenset(entry["roles"]),
                    priorities=frozenset(Priority(p) for p in entry.get("priorities", ["P1", "P2", "P3"])),
                    district=entry.get("district"),
                )
                for entry in data["levels"]
            ),
            key=lambda lv: lv.level,
        )
    )
    return levels, float(data.get("step_fraction", 0.5))


@dataclass(frozen=True)
class SlaPolicy:
    acknowledge: dict[Priority, timedelta]
    resolve: dict[Priority, timedelta]
    auto_close: timedelta = timedelta(days=7)
    levels: tuple[Level, ...] = field(default_factory=lambda: load_levels()[0])
    step_fraction: float = field(default_factory=lambda: load_levels()[1])

    @classmethod
    def from_minutes(
        cls, acknowledge: dict[str, float], resolve: dict[str, float], auto_close_minutes: float = 7 * 24 * 60
    ) -> SlaPolicy:
        return cls(
            {Priority(p): timedelta(minutes=m) for p, m in acknowledge.items()},
            {Priority(p): timedelta(minutes=m) for p, m in resolve.items()},
            timedelta(minutes=auto_close_minutes),
        )

    def due(self, stage: Stage, priority: Priority, since: datetime) -> datetime:
        table = self.acknowledge if stage == Stage.ACKNOWLEDGE else self.resolve
        return since + table[priority]

    @staticmethod
    def stage_of(status: Status) -> Stage | None:
        """The clock that runs in a state (None: no clock runs)."""
        if status in (Status.ROUTED,):
            return Stage.ACKNOWLEDGE
        if status in (Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED):
            return Stage.RESOLVE
        if status == Status.RESOLVED:
            return Stage.AUTO_CLOSE
        return None

    def chain(self, priority: Priority) -> tuple[Level, ...]:
        return tuple(level for level in self.levels if priority in level.priorities)

    def level_due(self, stage: Stage, priority: Priority, deadline: datetime, level: int) -> datetime:
        """Level 1 at the deadline, each next level a step later (a fraction of the stage's own time)."""
        table = self.acknowledge if stage == Stage.ACKNOWLEDGE else self.resolve
        return deadline + (level - 1) * table[priority] * self.step_fraction

    def next_clock(self, complaint: Complaint) -> Clock | None:
        """When the complaint's running clock next fires, and what it does then (None: no clock runs)."""
        stage = self.stage_of(complaint.status)
        if stage == Stage.AUTO_CLOSE:
            return Clock(stage, (complaint.resolved_at or complaint.ingested_at) + self.auto_close)
        if stage is None or complaint.priority is None:
            return None
        deadline = complaint.ack_due_at if stage == Stage.ACKNOWLEDGE else complaint.resolve_due_at
        if deadline is None:
            return None
        higher = [lv for lv in self.chain(complaint.priority) if lv.level > complaint.escalation_level]
        if not higher:
            return None  # told every level: the clock has run out
        return Clock(stage, self.level_due(stage, complaint.priority, deadline, higher[0].level), higher[0].level)

    def on_transition(self, before: Complaint, after: Complaint, action: Action, now: datetime) -> dict[str, Any]:
        """Fields a transition sets for the clocks: a stage that starts again starts from level 0, and a
        reopened complaint gets a new time to resolve."""
        fields: dict[str, Any] = {}
        restarted = action in (Action.REASSIGN, Action.REOPEN, Action.TO_COMPLAINT, Action.ROUTE)
        if restarted or self.stage_of(before.status) != self.stage_of(after.status):
            fields["escalation_level"] = 0
        if action == Action.REOPEN and after.priority is not None:
            fields["resolve_due_at"] = self.due(Stage.RESOLVE, after.priority, now)
        return fields


DEFAULT_POLICY = SlaPolicy.from_minutes(
    acknowledge={"P1": 15, "P2": 240, "P3": 4320},
    resolve={"P1": 240, "P2": 2880, "P3": 20160},
)

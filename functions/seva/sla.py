"""Service levels: how soon a complaint must be acknowledged and resolved, per priority. Police work round
the clock: deadlines are plain elapsed time, no business hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from seva.lifecycle import Priority, Status


class Stage(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class SlaPolicy:
    acknowledge: dict[Priority, timedelta]
    resolve: dict[Priority, timedelta]

    @classmethod
    def from_minutes(cls, acknowledge: dict[str, float], resolve: dict[str, float]) -> SlaPolicy:
        return cls(
            {Priority(p): timedelta(minutes=m) for p, m in acknowledge.items()},
            {Priority(p): timedelta(minutes=m) for p, m in resolve.items()},
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
        return None


DEFAULT_POLICY = SlaPolicy.from_minutes(
    acknowledge={"P1": 15, "P2": 240, "P3": 4320},
    resolve={"P1": 240, "P2": 2880, "P3": 20160},
)

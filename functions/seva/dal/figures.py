"""The figures table: aggregates of the lifecycle by (district, category, priority, day), each event added once.

Items (``pk`` / ``sk``):
- ``seen#<complaint>#<event>`` / ``-``: the event was counted (expires after ``SEEN_DAYS``, well past any redelivery).
- ``fig#d#<district>`` / ``<day>#<category>#<priority>``: a district's figures (the dashboard's district view).
- ``fig#state`` / ``<day>#<category>#<priority>``: the whole state's (the state cell's view).
- ``fig#districts`` / ``<day>#<district>``: each district's daily totals (the public page, the district table).
- ``labels`` / ``<day>#<at>#<complaint>``: a person's verdict on triage (exported as labelled data).

An event is applied in one transaction: the ``seen`` marker is put only if absent, and the counters are ADDed with
it — a redelivered event fails the marker's condition and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from seva.dal.models import Model, bind, shared_connection
from seva.figures import BOUNDS, COUNTERS, HISTOGRAMS, Contribution
from seva.lifecycle import Event

SEEN_DAYS = 30
BUCKETS = tuple(f"{h}{i}" for h in HISTOGRAMS for i in range(len(BOUNDS) + 1))
NUMBERS = (*COUNTERS, *BUCKETS)


class _FiguresBase(Model):
    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    district = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(null=True)
    day = UnicodeAttribute(null=True)
    complaint_id = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    label = JSONAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL (seen markers)


# One number attribute per counter and histogram bucket (ADDed in place)
FiguresModel: type[_FiguresBase] = type(
    "FiguresModel",
    (_FiguresBase,),
    {"__module__": __name__, **{name: NumberAttribute(null=True) for name in NUMBERS}},
)


def figures_model(table_name: str, region: str) -> type[_FiguresBase]:
    return bind(FiguresModel, table_name, region)


class DynamoFigures:
    def __init__(self, table_name: str, region: str):
        self.model = figures_model(table_name, region)
        self.region = region

    # -- writing ----------------------------------------------------------------------------------------------------
    def add(self, event: Event, c: Contribution, now: datetime) -> bool:
        """Add one event's contribution; False when the event was already counted."""
        m = self.model
        seen = m(f"seen#{event.complaint_id}#{event.event_id}", "-")
        seen.expires_at = int((now + timedelta(days=SEEN_DAYS)).timestamp())
        cells = [
            (f"fig#d#{c.district}", f"{c.day}#{c.category}#{c.priority}"),
            ("fig#state", f"{c.day}#{c.category}#{c.priority}"),
            ("fig#districts", f"{c.day}#{c.district}"),
        ]
        try:
            with TransactWrite(connection=shared_connection(self.region)) as tx:
                tx.save(seen, condition=m.pk.does_not_exist())
                if c.counts:
                    for pk, sk in cells:
                        dims = {"day": c.day, "district": c.district if pk != "fig#state" else "*"}
                        if pk != "fig#districts":
                            dims |= {"category": c.category, "priority": c.priority}
                        actions = [getattr(m, k).set(v) for k, v in dims.items()]
                        actions += [getattr(m, name).add(value) for name, value in sorted(c.counts.items())]
                        tx.update(m(pk, sk), actions=actions)
                if c.label is not None:
                    label = m("labels", f"{c.day}#{event.at.isoformat(timespec='microseconds')}#{event.complaint_id}")
                    label.complaint_id, label.at, label.day = event.complaint_id, event.at, c.day
                    label.label = {**c.label, "event_id": event.event_id, "by": event.actor.as_dict()}
                    tx.save(label)
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    # -- reading ----------------------------------------------------------------------------------------------------
    def rows(self, district: str | None, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """Rows of (day, category, priority) for a district, or for the state when ``district`` is None."""
        pk = f"fig#d#{district}" if district else "fig#state"
        return self._query(pk, first_day, last_day, district or "*")

    def district_rows(self, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """Each district's daily totals (no category or priority)."""
        return self._query("fig#districts", first_day, last_day, None)

    def labels(self, first_day: str, last_day: str) -> list[dict[str, Any]]:
        m = self.model
        out = []
        for item in m.query("labels", m.sk.between(first_day, f"{last_day}~"), consistent_read=True):
            out.append({"complaint_id": item.complaint_id, "at": item.at, **(item.label or {})})
        return out

    def _query(self, pk: str, first_day: str, last_day: str, district: str | None) -> list[dict[str, Any]]:
        m = self.model
        rows = []
        for item in m.query(pk, m.sk.between(first_day, f"{last_day}~"), consistent_read=True):
            row: dict[str, Any] = {
                "day": item.day,
                "district": item.district if district is None else (item.district or district),
                "category": item.category,
                "priority": item.priority,
            }
            for name in NUMBERS:
                value = getattr(item, name, None)
                if value:
                    row[name] = int(value)
            rows.append(row)
        return rows

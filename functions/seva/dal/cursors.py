"""Poll cursors and rate-limit state in the state table. Cursors only ever move forward."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError

from seva.dal.models import state_model
from seva.polling import Cursor, Gap

CURSOR_PK = "cursor#search"
RATE_PK = "ratelimit"
GAP_PK = "gap#search"


def _lost_race(exc: UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


class DynamoCursorStore:
    def __init__(self, table_name: str, region: str):
        self.model = state_model(table_name, region)

    def load_all(self) -> list[Cursor]:
        return [
            Cursor(
                key=item.sk,
                handles=tuple(item.handles or ()),
                since_id=int(item.since_id) if item.since_id is not None else None,
                pending_newest_id=int(item.pending_newest_id) if item.pending_newest_id is not None else None,
                pending_until_id=int(item.pending_until_id) if item.pending_until_id is not None else None,
            )
            for item in self.model.query(CURSOR_PK, consistent_read=True)
        ]

    def _unchanged_since(self, cursor: Cursor):
        m = self.model
        if cursor.since_id is None:
            return m.since_id.does_not_exist()
        return m.since_id == cursor.since_id

    def set_pending(self, cursor: Cursor, newest_id: int, until_id: int) -> None:
        """Record how far an unfinished window is stored. Only narrows the window; never moves since_id."""
        m = self.model
        condition = self._unchanged_since(cursor) & (
            m.pending_until_id.does_not_exist() | (m.pending_until_id > until_id)
        )
        try:
            m(CURSOR_PK, cursor.key).update(
                actions=[
                    m.handles.set(list(cursor.handles)),
                    m.pending_newest_id.set(newest_id),
                    m.pending_until_id.set(until_id),
                    m.updated_at.set(datetime.now(UTC)),
                ],
                condition=condition,
            )
        except UpdateError as exc:
            if not _lost_race(exc):
                raise

    def commit(self, cursor: Cursor, since_id: int) -> None:
        """Everything up to ``since_id`` is stored: move forward (never back) and close the window."""
        m = self.model
        try:
            m(CURSOR_PK, cursor.key).update(
                actions=[
                    m.handles.set(list(cursor.handles)),
                    m.since_id.set(since_id),
                    m.pending_newest_id.remove(),
                    m.pending_until_id.remove(),
                    m.last_error.remove(),
                    m.updated_at.set(datetime.now(UTC)),
                ],
                condition=m.since_id.does_not_exist() | (m.since_id < since_id),
            )
        except UpdateError as exc:
            if not _lost_race(exc):  # a concurrent cycle already moved further: fine
                raise

    def reanchor(self, cursor: Cursor, gap: Gap) -> None:
        """Forget an aged cursor and record what may be missing (a visible gap, never a silent one)."""
        m = self.model
        now = datetime.now(UTC)
        m(
            GAP_PK,
            f"{now.isoformat()}#{cursor.key}",
            handles=list(gap.handles),
            since_id=gap.since_id,
            reason=gap.reason[:300],
            details={
                "since": gap.since.isoformat() if gap.since else None,
                "searchable_from": gap.searchable_from.isoformat(),
            },
            updated_at=now,
        ).save()
        m(CURSOR_PK, cursor.key).update(
            actions=[
                m.handles.set(list(cursor.handles)),
                m.since_id.remove(),
                m.pending_newest_id.remove(),
                m.pending_until_id.remove(),
                m.updated_at.set(now),
            ]
        )

    def gaps(self) -> list[dict]:
        return [
            {"query": i.sk.split("#", 1)[1], "since_id": i.since_id, "reason": i.reason, **(i.details or {})}
            for i in self.model.query(GAP_PK, consistent_read=True)
        ]

    def query_failed(self, cursor: Cursor, reason: str, now: datetime) -> None:
        m = self.model
        m(CURSOR_PK, cursor.key).update(
            actions=[
                m.handles.set(list(cursor.handles)),
                m.last_error.set(reason),
                m.failures.add(1),
                m.updated_at.set(now),
            ]
        )

    def blocked_until(self, endpoint: str) -> tuple[int, str] | None:
        try:
            item = self.model.get(RATE_PK, endpoint, consistent_read=True)
        except self.model.DoesNotExist:
            return None
        if item.reset_at is None:
            return None
        return int(item.reset_at), item.reason or "rate_limited"

    def block(self, endpoint: str, until: int, reason: str) -> None:
        m = self.model
        m(RATE_PK, endpoint).update(
            actions=[m.reset_at.set(until), m.reason.set(reason), m.updated_at.set(datetime.now(UTC))]
        )


COUNTER_PK = "counter#reference"


class DynamoReferenceCounter:
    """Atomic per-district, per-year counters for human-readable reference numbers."""

    def __init__(self, table_name: str, region: str):
        self.model = state_model(table_name, region)

    def next(self, scope: str) -> int:
        m = self.model
        item = m(COUNTER_PK, scope)
        item.update(actions=[m.counter.add(1), m.updated_at.set(datetime.now(UTC))])
        return int(item.counter)

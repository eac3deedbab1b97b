"""One poll cycle: search X for mentions of every registered handle and store each new tweet once.

Gap-free by construction:
- every query pages with ``next_token`` all the way back to its cursor;
- tweets are stored (conditional put) before the cursor moves, and the cursor only moves forward;
- a window that cannot be finished this cycle (rate limit, X outage, page budget, crash) is remembered as
  ``pending`` (newest id of the window, oldest id stored so far) and resumed next cycle with ``until_id``.

Side effects go through the ports below, so this module is pure logic and testable without AWS or X.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from seva.querypack import SearchQuery, pack_queries
from seva.registry import HandleRegistry
from seva.tweets import SearchPage, TweetEnvelope, is_retweet, mentioned_usernames, parse_created_at


class RateLimited(Exception):
    """X answered 429 (or has no requests left in this window)."""

    def __init__(self, reset_at: int | None):
        super().__init__(f"rate limited until {reset_at}")
        self.reset_at = reset_at


class XUnavailable(Exception):
    """X kept failing (5xx / network) after bounded retries."""


@dataclass(slots=True)
class Cursor:
    key: str
    handles: tuple[str, ...]
    since_id: int | None = None  # every matching tweet with id <= since_id is stored
    pending_newest_id: int | None = None  # an unfinished window: (since_id, pending_until_id) not yet paged
    pending_until_id: int | None = None


class Searcher(Protocol):
    def search(
        self,
        query: str,
        *,
        since_id: int | None,
        until_id: int | None,
        start_time: datetime | None,
        next_token: str | None,
    ) -> SearchPage: ...


class ComplaintStore(Protocol):
    def add(self, envelope: TweetEnvelope, registered_mentions: list[str], now: datetime) -> bool:
        """Store a new complaint; False if that tweet is already stored."""
        ...


class CursorStore(Protocol):
    def load_all(self) -> list[Cursor]: ...

    def set_pending(self, cursor: Cursor, newest_id: int, until_id: int) -> None: ...

    def commit(self, cursor: Cursor, since_id: int) -> None: ...


@dataclass
class CycleReport:
    queries: int = 0
    requests: int = 0
    pages: int = 0
    ingested: int = 0
    already_stored: int = 0
    skipped_self: int = 0
    skipped_retweet: int = 0
    skipped_unregistered: int = 0
    max_lag_s: float = 0.0
    stopped: str | None = None  # None | rate_limited | x_unavailable | page_budget
    rate_limit_reset: int | None = None
    ingested_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "ingested_ids"}
        out["ingested_ids"] = self.ingested_ids[:50]
        return out


class _PageBudgetSpent(Exception):
    pass


def derive_cursor(query: SearchQuery, known: Iterable[Cursor]) -> Cursor:
    """Start position for a query that a registry change has just created.

    Each handle's safe position is the highest ``since_id`` of any earlier query that covered it. If every
    handle of the new query has one, the query starts from the lowest, so none of them can have a gap. If any
    handle is new, the query backfills (``backfill`` window) so the new handle's recent mentions are picked
    up too. Either way tweets seen again are rejected by the store's conditional put.
    """
    positions: dict[str, int] = {}
    for cursor in known:
        if cursor.since_id is None:
            continue
        for handle in cursor.handles:
            positions[handle] = max(positions.get(handle, 0), cursor.since_id)
    if not query.handles or any(h not in positions for h in query.handles):
        return Cursor(key=query.key, handles=query.handles, since_id=None)
    return Cursor(key=query.key, handles=query.handles, since_id=min(positions[h] for h in query.handles))


@dataclass
class PollCycle:
    registry: HandleRegistry
    searcher: Searcher
    store: ComplaintStore
    cursors: CursorStore
    now: Callable[[], datetime]
    backfill: timedelta = timedelta(days=1)
    max_pages: int = 300
    max_query_length: int = 512
    on_ingested: Callable[[TweetEnvelope], None] | None = None
    report: CycleReport = field(default_factory=CycleReport)
    _query_budget: int = 0
    _seen: set[str] = field(default_factory=set)
    _query_pages: int = 0

    def run(self) -> CycleReport:
        queries = pack_queries(self.registry.usernames, self.max_query_length)
        known = self.cursors.load_all()
        by_key = {c.key: c for c in known}
        self.report.queries = len(queries)
        # Each query gets its share of the page budget, so a burst on one cannot starve the others.
        self._query_budget = max(1, self.max_pages // max(1, len(queries)))
        try:
            for query in queries:
                cursor = by_key.get(query.key)
                if cursor is None:
                    cursor = derive_cursor(query, known)
                    if cursor.since_id is not None:
                        # Persist the carried-over position first: later conditional writes build on it.
                        self.cursors.commit(cursor, cursor.since_id)
                self._query_pages = 0
                try:
                    self._poll_query(query, cursor)
                except _PageBudgetSpent:
                    self.report.stopped = "page_budget"  # the open window resumes next cycle
        except RateLimited as exc:
            self.report.stopped, self.report.rate_limit_reset = "rate_limited", exc.reset_at
        except XUnavailable:
            self.report.stopped = "x_unavailable"
        return self.report

    def _poll_query(self, query: SearchQuery, cursor: Cursor) -> None:
        if cursor.pending_newest_id is not None:
            self._drain(query, cursor, until_id=cursor.pending_until_id, window_newest=cursor.pending_newest_id)
        self._drain(query, cursor, until_id=None, window_newest=None)

    def _drain(self, query: SearchQuery, cursor: Cursor, *, until_id: int | None, window_newest: int | None) -> None:
        """Page one window (since_id, until_id) to its end, storing before moving the cursor."""
        start_time = None if cursor.since_id is not None else self.now() - self.backfill
        token: str | None = None
        while True:
            if self._query_pages >= self._query_budget:
                raise _PageBudgetSpent
            self._query_pages += 1
            self.report.requests += 1
            page = self.searcher.search(
                query.text,
                since_id=cursor.since_id,
                until_id=until_id,
                start_time=start_time,
                next_token=token,
            )
            self.report.pages += 1
            if window_newest is None:
                window_newest = page.newest_id
            self._store_page(page)
            if page.next_token:
                assert window_newest is not None and page.oldest_id is not None
                self.cursors.set_pending(cursor, window_newest, page.oldest_id)
                cursor.pending_newest_id, cursor.pending_until_id = window_newest, page.oldest_id
                token = page.next_token
                if page.rate_limit_remaining == 0:
                    raise RateLimited(page.rate_limit_reset)
                continue
            if window_newest is not None:
                self.cursors.commit(cursor, window_newest)
                cursor.since_id = window_newest
                cursor.pending_newest_id = cursor.pending_until_id = None
            if page.rate_limit_remaining == 0:
                raise RateLimited(page.rate_limit_reset)
            return

    def _store_page(self, page: SearchPage) -> None:
        for envelope in page.envelopes:
            if envelope.id in self._seen:
                continue  # mentions handles of two queries: one conditional put is enough
            self._seen.add(envelope.id)
            if is_retweet(envelope.tweet):
                self.report.skipped_retweet += 1
                continue
            if self.registry.is_registered(envelope.author_username):
                self.report.skipped_self += 1  # the police's own tweets are not complaints
                continue
            registered = list(
                dict.fromkeys(h.username for m in mentioned_usernames(envelope.tweet) if (h := self.registry.get(m)))
            )
            if not registered:
                self.report.skipped_unregistered += 1
                continue
            now = self.now()
            if self.store.add(envelope, registered, now):
                self.report.ingested += 1
                self.report.ingested_ids.append(envelope.id)
                created = parse_created_at(envelope.tweet.get("created_at"))
                if created:
                    self.report.max_lag_s = max(self.report.max_lag_s, (now - created).total_seconds())
                if self.on_ingested:
                    self.on_ingested(envelope)
            else:
                self.report.already_stored += 1

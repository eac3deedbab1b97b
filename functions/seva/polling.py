"""One poll cycle: search X for mentions of every registered handle and store each new tweet once.

Gap-free by construction:
- every query pages with ``next_token`` all the way back to its cursor;
- tweets are stored (conditional put) before the cursor moves, and the cursor only moves forward;
- a window that cannot be finished this cycle (rate limit, X outage, page budget, crash) is remembered as
  ``pending`` (where the window ends, the oldest id stored so far) and resumed next cycle with ``until_id``;
- a window ends ``settle`` seconds before now (``end_time``): X indexes recent posts with a delay, and a tweet
  indexed late must not fall below a cursor that has already passed it. Once a window is paged, the cursor moves
  to the id of its end time (ids are time-ordered snowflakes), so an empty window moves it too.

Never wedged: each query is isolated (its error is its own state, the others go on); a cursor older than what
recent search covers (7 days) is re-anchored at the edge of the searchable window and the possible gap is
recorded; malformed answers are retried, then skipped for this cycle. Limits that hold for the whole app (429,
the monthly usage cap, rejected credentials) stop the cycle and are remembered, so later cycles make no request
until they lift.

Side effects go through the ports below, so this module is pure logic and testable without AWS or X.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from seva.fanout import fan_out
from seva.querypack import MENTIONS, RESPONSES, SearchQuery, pack_queries
from seva.registry import HandleRegistry
from seva.tweets import (
    SearchPage,
    TweetEnvelope,
    is_reply,
    is_retweet,
    mentioned_usernames,
    parse_created_at,
)

SEARCH_ENDPOINT = "GET /2/tweets/search/recent"
X_WINDOW_S = 900  # X's rate-limit window: when a 429 gives no reset time, wait this long
SEARCHABLE = timedelta(days=7)  # recent search's reach
ANCHOR_MARGIN = timedelta(minutes=10)  # re-anchor this far inside the searchable window
CURSOR_REFRESH = timedelta(hours=1)  # an idle query's cursor still moves this often (one write, not one a cycle)


class RateLimited(Exception):
    """X answered 429 (or has no requests left in this window)."""

    def __init__(self, reset_at: int | None):
        super().__init__(f"rate limited until {reset_at}")
        self.reset_at = reset_at


class UsageCapped(Exception):
    """X answered 429 UsageCapExceeded: the project's monthly post cap is used up."""


class CredentialsRejected(Exception):
    """X answered 401/403: the app's token is missing, revoked or not allowed this endpoint."""


class XUnavailable(Exception):
    """X kept failing (5xx / network) after bounded retries."""


class MalformedAnswer(Exception):
    """X answered 200 with something that is not a search page (not JSON, no meta, a page without ids)."""


class CursorTooOld(Exception):
    """X refused the query's since_id / start_time: older than recent search covers."""


class BadQuery(Exception):
    """X refused this query (400) for a reason other than its cursor's age."""


@dataclass(slots=True)
class Cursor:
    key: str
    handles: tuple[str, ...]
    since_id: int | None = None  # every matching tweet with id <= since_id is stored
    pending_newest_id: int | None = None  # an unfinished window: (since_id, pending_until_id) not yet paged
    pending_until_id: int | None = None


@dataclass(frozen=True)
class Gap:
    """Tweets that may be missing: X would no longer search back to the cursor."""

    query: str
    handles: tuple[str, ...]
    since_id: int | None
    since: datetime | None
    searchable_from: datetime
    reason: str


class Searcher(Protocol):
    def search(
        self,
        query: str,
        *,
        since_id: int | None,
        until_id: int | None,
        start_time: datetime | None,
        end_time: datetime | None,
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

    def reanchor(self, cursor: Cursor, gap: Gap) -> None:
        """Forget an aged cursor (the query starts again from the searchable window) and record the gap."""
        ...

    def query_failed(self, cursor: Cursor, reason: str, now: datetime) -> None: ...

    def blocked_until(self, endpoint: str) -> tuple[int, str] | None:
        """(until, why) while the app may not search: a 429, the usage cap, rejected credentials."""
        ...

    def block(self, endpoint: str, until: int, reason: str) -> None: ...


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
    skipped_malformed: int = 0
    max_lag_s: float = 0.0
    stopped: str | None = None  # None | rate_limited | usage_capped | x_credentials
    rate_limit_reset: int | None = None
    query_errors: dict[str, str] = field(default_factory=dict)  # query key -> x_unavailable | malformed | ...
    gaps: int = 0
    expressed: int = 0  # stored tweets sent ahead to the express route lane (SOS)
    express_failed: int = 0  # ... whose send failed: the stream routes them, in their turn
    ingested_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "ingested_ids"}
        out["ingested_ids"] = self.ingested_ids[:50]
        return out


class _PageBudgetSpent(Exception):
    pass


@dataclass
class ExpressLane:
    """An SOS goes ahead of any backlog: a stored tweet that triage reads as P1 is also sent to the express
    route lane (a queue the route logic reads at once), besides the table's stream, which routes every tweet in
    its turn. Routing is idempotent, so whichever comes first routes it and the other finds it done. A send that
    fails costs speed, never the complaint (the stream has it): counted and reported, and the cycle goes on."""

    urgent: Callable[[TweetEnvelope], bool]
    send: Callable[[str], None]
    on_failed: Callable[[str, Exception], None] = lambda tweet_id, exc: None

    def urgency(self, envelope: TweetEnvelope) -> bool | Exception:
        """Whether triage reads it as P1, or why it could not (reported once the tweet is stored)."""
        try:
            return bool(self.urgent(envelope))
        except Exception as exc:
            return exc

    def send_ahead(self, envelope: TweetEnvelope) -> bool:
        """True: sent ahead; False: the send failed (reported)."""
        try:
            self.send(envelope.id)
            return True
        except Exception as exc:
            self.on_failed(envelope.id, exc)
            return False


def derive_cursor(query: SearchQuery, known: Iterable[Cursor]) -> Cursor:
    """Start position for a query that a registry change has just created.

    Each handle's safe position is the highest ``since_id`` of any earlier query that covered it. If every
    handle of the new query has one, the query starts from the lowest, so none of them can have a gap. If any
    handle is new, the query backfills (``backfill`` window) so the new handle's recent mentions are picked
    up too. Either way tweets seen again are rejected by the store's conditional put.
    """
    positions: dict[str, int] = {}
    for cursor in known:
        if cursor.since_id is None or cursor.key[:2] != query.key[:2]:
            continue  # a mention query's position says nothing about a response query's
        for handle in cursor.handles:
            positions[handle] = max(positions.get(handle, 0), cursor.since_id)
    if not query.handles or any(h not in positions for h in query.handles):
        return Cursor(key=query.key, handles=query.handles, since_id=None)
    return Cursor(key=query.key, handles=query.handles, since_id=min(positions[h] for h in query.handles))


def next_month(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


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
    settle: timedelta = timedelta(seconds=40)
    """A window ends this long before now: X's index lags; tweets indexed later than this are at risk."""
    id_at: Callable[[datetime], int] | None = None
    """The snowflake id of a moment (ids are time-ordered): lets an empty or finished window move its cursor."""
    time_of: Callable[[int], datetime] | None = None
    """The moment of a snowflake id: tells an aged cursor before X refuses it."""
    credentials_retry: timedelta = timedelta(minutes=5)
    on_ingested: Callable[[TweetEnvelope], None] | None = None
    store_concurrency: int = 1
    """Conditional puts of one page in flight at once (``_add_all``)."""
    express: ExpressLane | None = None
    """``ExpressLane``: a citizen's tweet, once stored, may go ahead of the stream's backlog (an SOS)."""
    responses: bool = True
    """Also search the police handles' own replies (first responses by hand): once a minute is enough, so the
    poll handler asks for them in one cycle of its four."""
    report: CycleReport = field(default_factory=CycleReport)
    _query_budget: int = 0
    _seen: set[str] = field(default_factory=set)
    _query_pages: int = 0
    _reanchored: set[str] = field(default_factory=set)
    _window_stored: bool = False
    _kind: str = MENTIONS

    def run(self) -> CycleReport:
        blocked = self.cursors.blocked_until(SEARCH_ENDPOINT)
        if blocked and blocked[0] > self.now().timestamp():
            # Never sleep in Lambda waiting for a limit to lift: skip this cycle, the cursors keep our place
            return CycleReport(stopped=blocked[1], rate_limit_reset=blocked[0])
        now = self.now()
        try:
            self._run()
        except RateLimited as exc:
            self.report.stopped, self.report.rate_limit_reset = "rate_limited", exc.reset_at
            self.cursors.block(SEARCH_ENDPOINT, exc.reset_at or int(now.timestamp()) + X_WINDOW_S, "rate_limited")
        except UsageCapped:
            # The monthly cap lifts with the billing cycle (or a plan change): look again every hour
            self.report.stopped = "usage_capped"
            until = min(next_month(now), now + timedelta(hours=1))
            self.cursors.block(SEARCH_ENDPOINT, int(until.timestamp()), "usage_capped")
        except CredentialsRejected:
            self.report.stopped = "x_credentials"
            self.cursors.block(SEARCH_ENDPOINT, int((now + self.credentials_retry).timestamp()), "x_credentials")
        return self.report

    def _run(self) -> None:
        queries = pack_queries(self.registry.usernames, self.max_query_length)
        if self.responses:
            queries += pack_queries(self.registry.usernames, self.max_query_length, RESPONSES)
        known = self.cursors.load_all()
        by_key = {c.key: c for c in known}
        self.report.queries = len(queries)
        # Each query gets its share of the page budget, so a burst on one cannot starve the others.
        self._query_budget = max(1, self.max_pages // max(1, len(queries)))
        for query in queries:
            cursor = by_key.get(query.key)
            if cursor is None:
                cursor = derive_cursor(query, known)
                if cursor.since_id is not None:
                    # Persist the carried-over position first: later conditional writes build on it.
                    self.cursors.commit(cursor, cursor.since_id)
            self._query_pages = 0
            self._kind = query.kind
            try:
                self._poll_query(query, cursor)
            except _PageBudgetSpent:
                self.report.query_errors[query.key] = "page_budget"  # the open window resumes next cycle
            except (XUnavailable, MalformedAnswer, BadQuery) as exc:
                # This query's problem: recorded and retried next cycle; the other queries go on
                reason = {XUnavailable: "x_unavailable", MalformedAnswer: "malformed_answer"}.get(
                    type(exc), "bad_query"
                )
                self.report.query_errors[query.key] = reason
                self.cursors.query_failed(cursor, f"{reason}: {exc}"[:300], self.now())

    def _poll_query(self, query: SearchQuery, cursor: Cursor) -> None:
        if self._aged(cursor):
            self._reanchor(query, cursor, "cursor older than recent search covers")
        try:
            self._windows(query, cursor)
        except CursorTooOld as exc:
            self._reanchor(query, cursor, f"X refused the cursor: {exc}")
            self._windows(query, cursor)

    def _windows(self, query: SearchQuery, cursor: Cursor) -> None:
        if cursor.pending_newest_id is not None:
            self._drain(query, cursor, until_id=cursor.pending_until_id, target=cursor.pending_newest_id)
        self._drain(query, cursor, until_id=None, target=None)

    def _aged(self, cursor: Cursor) -> bool:
        if cursor.since_id is None or self.time_of is None:
            return False
        return self.time_of(cursor.since_id) < self.now() - SEARCHABLE + ANCHOR_MARGIN

    def _reanchor(self, query: SearchQuery, cursor: Cursor, reason: str) -> None:
        now = self.now()
        gap = Gap(
            query=query.key,
            handles=query.handles,
            since_id=cursor.since_id,
            since=self.time_of(cursor.since_id) if self.time_of and cursor.since_id else None,
            searchable_from=now - SEARCHABLE + ANCHOR_MARGIN,
            reason=reason,
        )
        self.cursors.reanchor(cursor, gap)
        cursor.since_id = cursor.pending_newest_id = cursor.pending_until_id = None
        self._reanchored.add(cursor.key)
        self.report.gaps += 1

    def _drain(self, query: SearchQuery, cursor: Cursor, *, until_id: int | None, target: int | None) -> None:
        """Page one window (since_id, until_id or end_time] to its end, storing before moving the cursor; then
        move the cursor to ``target`` (the window's end)."""
        now = self.now()
        # X takes whole seconds, and end_time is exclusive: the window is every post before that second
        end_time = None if until_id is not None else (now - self.settle).replace(microsecond=0)
        start_time = None
        if cursor.since_id is None:
            # A new query backfills; a re-anchored one takes everything X still has
            searchable = now - SEARCHABLE + ANCHOR_MARGIN
            start_time = searchable if cursor.key in self._reanchored else max(now - self.backfill, searchable)
        if target is None and end_time is not None and self.id_at is not None:
            target = self.id_at(end_time)
        token: str | None = None
        self._window_stored = False
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
                end_time=end_time,
                next_token=token,
            )
            self.report.pages += 1
            self.report.skipped_malformed += page.skipped
            if target is None:
                target = page.newest_id  # no clock for ids: the newest tweet of the window
            self._store_page(page)
            if page.next_token:
                if target is None or page.oldest_id is None:
                    raise MalformedAnswer("a next page without the ids of this one")
                self.cursors.set_pending(cursor, target, page.oldest_id)
                cursor.pending_newest_id, cursor.pending_until_id = target, page.oldest_id
                token = page.next_token
                if page.rate_limit_remaining == 0:
                    raise RateLimited(page.rate_limit_reset)
                continue
            if target is not None and self._worth_moving(cursor, target, stored_any=self._window_stored):
                self.cursors.commit(cursor, target)
                cursor.since_id = target
            cursor.pending_newest_id = cursor.pending_until_id = None
            if page.rate_limit_remaining == 0:
                raise RateLimited(page.rate_limit_reset)
            return

    def _worth_moving(self, cursor: Cursor, target: int, stored_any: bool) -> bool:
        """Move the cursor when it has new tweets behind it, or an hour after it last moved: an empty window
        need not cost a write every cycle, but the cursor must never age out of recent search."""
        if cursor.since_id is None or cursor.pending_until_id is not None or stored_any:
            return cursor.since_id is None or target > cursor.since_id
        if self.time_of is None or self.id_at is None:
            return target > cursor.since_id
        return target > cursor.since_id and self.time_of(target) - self.time_of(cursor.since_id) > CURSOR_REFRESH

    def _store_page(self, page: SearchPage) -> None:
        if page.envelopes:
            self._window_stored = True
        wanted: list[tuple[TweetEnvelope, list[str], bool]] = []
        for envelope in page.envelopes:
            if envelope.id in self._seen:
                continue  # mentions handles of two queries: one conditional put is enough
            self._seen.add(envelope.id)
            if is_retweet(envelope.tweet):
                self.report.skipped_retweet += 1
                continue
            police = self.registry.get(envelope.author_username)
            if police is not None:
                if self._kind != RESPONSES or not is_reply(envelope.tweet):
                    self.report.skipped_self += 1  # the police's own posts are not complaints
                    continue
                registered = [police.username]  # a police reply: routing records it as a first response
            else:
                registered = list(
                    dict.fromkeys(
                        h.username for m in mentioned_usernames(envelope.tweet) if (h := self.registry.get(m))
                    )
                )
            if not registered:
                self.report.skipped_unregistered += 1
                continue
            wanted.append((envelope, registered, police is not None))
        express = self.express
        # Triage on every new-to-this-cycle tweet of the page, before its put (0.2 ms each; a tweet seen before is
        # refused by the put and never sent ahead)
        urgency = {e.id: express.urgency(e) if express and not by_police else False for e, _, by_police in wanted}
        # A page's SOS are stored and sent ahead before its routine tweets, one at a time, each right after its
        # own put: a hundred puts ahead of an SOS would hold it back as long (a second in AWS, far longer on a busy
        # local cloud)
        first = self._sos_first(wanted, urgency)
        chosen = {w[0].id for w in first}
        rest = [w for w in wanted if w[0].id not in chosen]
        failed: BaseException | None = None
        for part in [*([w] for w in first), rest]:
            for (envelope, _, _), (added, now) in zip(part, self._add_all(part), strict=True):
                if isinstance(added, BaseException):
                    failed = failed or added
                elif added:
                    self._ingested(envelope, now, urgency[envelope.id])
                else:
                    self.report.already_stored += 1
        if failed is not None:
            # The tweets stored before are counted and sent ahead (a retry finds them stored and would not);
            # the cursor stays, so the retry stores the rest
            raise failed

    @staticmethod
    def _sos_first(
        wanted: list[tuple[TweetEnvelope, list[str], bool]], urgency: dict[str, bool | Exception]
    ) -> list[tuple[TweetEnvelope, list[str], bool]]:
        """The page's SOS, oldest first, each after the same citizen's earlier tweets of its conversation in the
        page: the express route then finds stored the complaint an SOS follows up, as it would after the page."""
        first: dict[str, tuple[TweetEnvelope, list[str], bool]] = {}
        for item in sorted((w for w in wanted if urgency[w[0].id] is True), key=lambda w: int(w[0].id)):
            sos = item[0]
            conversation, author = sos.tweet.get("conversation_id"), sos.tweet.get("author_id")
            thread = [
                w
                for w in wanted
                if conversation
                and author
                and w[0].tweet.get("conversation_id") == conversation
                and w[0].tweet.get("author_id") == author
                and int(w[0].id) < int(sos.id)
            ]
            for w in [*sorted(thread, key=lambda w: int(w[0].id)), item]:
                first.setdefault(w[0].id, w)
        return list(first.values())

    def _ingested(self, envelope: TweetEnvelope, now: datetime, urgency: bool | Exception) -> None:
        self.report.ingested += 1
        self.report.ingested_ids.append(envelope.id)
        created = parse_created_at(envelope.tweet.get("created_at"))
        if created:
            self.report.max_lag_s = max(self.report.max_lag_s, (now - created).total_seconds())
        if self.on_ingested:
            self.on_ingested(envelope)
        if self.express is None:
            return
        if isinstance(urgency, Exception):  # triage failed: the stream routes it, in its turn
            self.express.on_failed(envelope.id, urgency)
            self.report.express_failed += 1
        elif urgency:
            sent = self.express.send_ahead(envelope)
            self.report.expressed += sent
            self.report.express_failed += not sent

    def _add_all(
        self, wanted: list[tuple[TweetEnvelope, list[str], bool]]
    ) -> list[tuple[bool | BaseException, datetime]]:
        """Store a page's tweets, ``store_concurrency`` conditional puts at a time: a flood's page is stored in
        the time of a few puts, so the next cycle (and an SOS tweeted meanwhile) does not wait for a hundred in a
        row. Every put of the page has finished or failed (its exception in its place) before this returns."""

        def add(item: tuple[TweetEnvelope, list[str], bool]) -> tuple[bool | BaseException, datetime]:
            now = self.now()
            try:
                return self.store.add(item[0], item[1], now), now
            except Exception as exc:  # re-raised by _store_page once the page is accounted for
                return exc, now

        return fan_out(add, wanted, self.store_concurrency)


TWEPOCH_MS = 1288834974657  # X's snowflake epoch


def snowflake_at(moment: datetime) -> int:
    """The highest id X could have given a post before this moment (ids are ms since X's epoch, shifted 22
    bits): the cursor of a window whose exclusive end is ``moment``."""
    return ((int(moment.timestamp() * 1000) - TWEPOCH_MS) << 22) - 1


def snowflake_time(tweet_id: int) -> datetime:
    return datetime.fromtimestamp(((tweet_id >> 22) + TWEPOCH_MS) / 1000, UTC)


def run_cycles(
    cycle: Callable[[int], PollCycle],
    *,
    cycles: int,
    interval: timedelta,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    time_left: Callable[[], float],
) -> list[CycleReport]:
    """Several cycles in one invocation, ``interval`` apart (a schedule cannot fire more often than once a
    minute; X's budget allows a cycle every 10-15 s). Stops early when a cycle was stopped by a limit, or when
    the next cycle would not finish before the invocation's deadline."""
    reports: list[CycleReport] = []
    started = clock()
    for n in range(cycles):
        report = cycle(n).run()
        reports.append(report)
        if report.stopped or n == cycles - 1:
            break
        if clock() - started > cycles * interval.total_seconds():
            break  # slow cycles: the next scheduled invocation takes over
        wait = started + (n + 1) * interval.total_seconds() - clock()
        if time_left() - max(wait, 0) < 2 * interval.total_seconds():
            break
        if wait > 0:
            sleep(wait)
    return reports

"""Poll-cycle invariants, with in-memory ports: nothing lost, nothing doubled, cursors only move forward and
never pass an unstored tweet — under arbitrary bursts, page sizes, 429s, 5xx and crashes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seva.polling import (
    BadQuery,
    CredentialsRejected,
    Cursor,
    CursorTooOld,
    ExpressLane,
    MalformedAnswer,
    PollCycle,
    RateLimited,
    UsageCapped,
    XUnavailable,
    derive_cursor,
    run_cycles,
)
from seva.querypack import RESPONSES, pack_queries
from seva.registry import Handle, HandleRegistry
from seva.tweets import SearchPage, TweetEnvelope

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Crash(Exception):
    """The Lambda process dies mid-invocation."""


@dataclass
class FakeX:
    page_size: int = 5
    tweets: list[dict] = field(default_factory=list)  # visible tweets
    failures: dict[int, Exception] = field(default_factory=dict)  # call number -> error
    calls: int = 0
    requests: list[dict] = field(default_factory=list)
    now: datetime = NOW  # X's clock: what it has indexed (tweets with "indexed" after it are not found yet)

    def search(self, query, *, since_id, until_id, start_time, end_time=None, next_token):
        self.calls += 1
        self.requests.append({"query": query, "since_id": since_id, "start_time": start_time, "end_time": end_time})
        if self.calls in self.failures:
            raise self.failures[self.calls]
        handles = set(re.findall(r"@(\w+)", query))
        hits = [
            t
            for t in self.tweets
            if {m.lower() for m in t["mentions"]} & handles
            and not t["retweet"]
            and (since_id is None or t["id"] > since_id)
            and (until_id is None or t["id"] < until_id)
            and (next_token is None or t["id"] < int(next_token))
            and (end_time is None or "at" not in t or t["at"] < end_time)
            and ("indexed" not in t or t["indexed"] <= self.now)
        ]
        hits.sort(key=lambda t: t["id"], reverse=True)
        page, rest = hits[: self.page_size], hits[self.page_size :]
        envelopes = [
            TweetEnvelope(
                {
                    "id": str(t["id"]),
                    "text": " ".join("@" + m for m in t["mentions"]),
                    "entities": {"mentions": [{"username": m} for m in t["mentions"]]},
                    "created_at": NOW.isoformat(),
                    **({"referenced_tweets": [{"type": "retweeted", "id": "1"}]} if t["retweet"] else {}),
                    **t.get("fields", {}),
                },
                {"id": "u", "username": t["author"], "name": t["author"]},
            )
            for t in page
        ]
        return SearchPage(
            envelopes,
            newest_id=page[0]["id"] if page else None,
            oldest_id=page[-1]["id"] if page else None,
            next_token=str(page[-1]["id"]) if rest else None,
        )


@dataclass
class FakeStore:
    crash_at: set[int] = field(default_factory=set)
    adds: int = 0
    stored: dict[str, int] = field(default_factory=dict)  # tweet id -> times created

    def add(self, envelope, registered_mentions, now):
        self.adds += 1
        if self.adds in self.crash_at:
            raise Crash
        if envelope.id in self.stored:
            return False
        self.stored[envelope.id] = 1
        return True


@dataclass
class FakeCursors:
    x: FakeX
    store: FakeStore
    registry: HandleRegistry
    items: dict[str, Cursor] = field(default_factory=dict)
    history: list[tuple[str, int]] = field(default_factory=list)
    gaps: list = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    blocked: tuple[int, str] | None = None

    def reanchor(self, cursor, gap):
        self.gaps.append(gap)
        self.items[cursor.key] = Cursor(cursor.key, cursor.handles)

    def query_failed(self, cursor, reason, now):
        self.failed.append((cursor.key, reason))

    def blocked_until(self, endpoint):
        return self.blocked

    def block(self, endpoint, until, reason):
        self.blocked = (until, reason)

    def load_all(self):
        return [
            Cursor(c.key, c.handles, c.since_id, c.pending_newest_id, c.pending_until_id) for c in self.items.values()
        ]

    def _item(self, cursor):
        return self.items.setdefault(cursor.key, Cursor(cursor.key, cursor.handles))

    def set_pending(self, cursor, newest_id, until_id):
        item = self._item(cursor)
        assert item.since_id == cursor.since_id
        assert item.pending_until_id is None or until_id < item.pending_until_id
        item.pending_newest_id, item.pending_until_id = newest_id, until_id
        self._check_stored(cursor.handles, lambda tid: until_id <= tid <= newest_id)

    def commit(self, cursor, since_id):
        item = self._item(cursor)
        assert item.since_id is None or since_id > item.since_id, "cursor moved back"
        item.since_id, item.pending_newest_id, item.pending_until_id = since_id, None, None
        self.history.append((cursor.key, since_id))
        self._check_stored(cursor.handles, lambda tid: tid <= since_id)

    def _check_stored(self, handles, in_range):
        for t in self.x.tweets:
            if in_range(t["id"]) and matching(t, self.registry) and {m.lower() for m in t["mentions"]} & set(handles):
                assert str(t["id"]) in self.store.stored, f"cursor passed unstored tweet {t['id']}"


def matching(t, registry):
    return (
        not t["retweet"]
        and not registry.is_registered(t["author"])
        and any(registry.is_registered(m) for m in t["mentions"])
    )


def registry_of(names):
    return HandleRegistry(tuple(Handle(n, n, "district") for n in names))


HANDLES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]


def make_cycle(registry, x, store, cursors, max_pages=1000, max_query_length=40, **kw):
    return PollCycle(
        registry=registry,
        searcher=x,
        store=store,
        cursors=cursors,
        now=kw.pop("now", lambda: NOW),
        backfill=timedelta(days=1),
        max_pages=max_pages,
        max_query_length=max_query_length,
        responses=kw.pop("responses", False),
        **kw,
    )


def run_until_settled(registry, x, store, cursors, cycles=60, **kw):
    for _ in range(cycles):
        cursors.blocked = None  # time passes between cycles: any rate limit has reset
        try:
            make_cycle(registry, x, store, cursors, **kw).run()
        except Crash:
            continue  # Lambda retries; the next invocation starts from the stored cursors


tweet_st = st.fixed_dictionaries(
    {
        "mentions": st.lists(st.sampled_from([*HANDLES, "ALPHA", "Bravo", "stranger"]), min_size=1, max_size=3),
        "author": st.sampled_from(["citizen1", "citizen2", "alpha", "citizen3"]),
        "retweet": st.booleans(),
    }
)


@settings(
    max_examples=int(__import__("os").environ.get("SEVA_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    batches=st.lists(st.lists(tweet_st, max_size=25), min_size=1, max_size=4),
    page_size=st.integers(1, 7),
    failure_calls=st.dictionaries(st.integers(1, 40), st.sampled_from(["429", "5xx"]), max_size=6),
    crash_at=st.sets(st.integers(1, 80), max_size=5),
    max_pages=st.integers(1, 8),
    store_concurrency=st.sampled_from([1, 4]),
)
def test_no_tweet_is_lost_or_doubled_and_cursors_hold(
    batches, page_size, failure_calls, crash_at, max_pages, store_concurrency
):
    # Given a registry packed into several small queries and X that fails and rate-limits at random
    registry = registry_of(HANDLES)
    x = FakeX(
        page_size=page_size,
        failures={n: RateLimited(None) if kind == "429" else XUnavailable("503") for n, kind in failure_calls.items()},
    )
    store = FakeStore(crash_at=crash_at)
    cursors = FakeCursors(x, store, registry)
    next_id = 1000
    # When tweets arrive in bursts between poll cycles (and some cycles crash)
    for batch in batches:
        for t in batch:
            next_id += 1
            x.tweets.append({**t, "id": next_id})
        run_until_settled(
            registry, x, store, cursors, cycles=3, max_pages=max_pages, store_concurrency=store_concurrency
        )
    run_until_settled(registry, x, store, cursors, max_pages=max_pages, store_concurrency=store_concurrency)
    # Then every matching tweet is stored exactly once, and nothing else is
    expected = {str(t["id"]) for t in x.tweets if matching(t, registry)}
    assert set(store.stored) == expected
    assert all(n == 1 for n in store.stored.values())


def test_burst_of_3000_between_two_polls_is_fully_paged():
    registry = registry_of(HANDLES)
    x = FakeX(page_size=100)
    store = FakeStore()
    cursors = FakeCursors(x, store, registry)
    x.tweets = [{"id": i, "mentions": ["alpha"], "author": "c", "retweet": False} for i in range(1, 11)]
    make_cycle(registry, x, store, cursors).run()
    x.tweets += [{"id": i, "mentions": [HANDLES[i % 6]], "author": "c", "retweet": False} for i in range(11, 3011)]
    report = make_cycle(registry, x, store, cursors).run()
    assert report.stopped is None
    assert len(store.stored) == 3010
    assert report.ingested == 3000


def test_rate_limit_stops_the_cycle_and_the_next_cycle_catches_up():
    registry = registry_of(HANDLES)
    x = FakeX(page_size=2, failures={3: RateLimited(1234)})
    store, cursors = FakeStore(), None
    cursors = FakeCursors(x, store, registry)
    x.tweets = [{"id": i, "mentions": ["alpha"], "author": "c", "retweet": False} for i in range(1, 10)]
    first = make_cycle(registry, x, store, cursors).run()
    assert first.stopped == "rate_limited" and first.rate_limit_reset == 1234
    assert 0 < len(store.stored) < 9
    assert cursors.blocked == (1234, "rate_limited")  # remembered: cycles before the reset make no request
    calls = x.calls
    assert make_cycle(registry, x, store, cursors, now=lambda: datetime.fromtimestamp(1000, UTC)).run().stopped
    assert x.calls == calls
    cursors.blocked = None
    second = make_cycle(registry, x, store, cursors).run()
    assert second.stopped is None
    assert set(store.stored) == {str(i) for i in range(1, 10)}


def test_self_authored_tweets_and_retweets_are_skipped():
    registry = registry_of(HANDLES)
    x = FakeX(page_size=10)
    x.tweets = [
        {"id": 1, "mentions": ["alpha"], "author": "Bravo", "retweet": False},  # a police handle's own tweet
        {"id": 2, "mentions": ["alpha"], "author": "citizen", "retweet": True},
        {"id": 3, "mentions": ["alpha"], "author": "citizen", "retweet": False},
    ]
    store = FakeStore()
    report = make_cycle(registry, x, store, FakeCursors(x, store, registry)).run()
    assert set(store.stored) == {"3"}
    assert report.skipped_self == 1


def test_registry_change_repacks_without_loss_or_double():
    # Given cursors built under one packing
    before = registry_of(HANDLES[:3])
    x = FakeX(page_size=3)
    store = FakeStore()
    cursors = FakeCursors(x, store, before)
    x.tweets = [{"id": i, "mentions": [HANDLES[i % 6]], "author": "c", "retweet": False} for i in range(1, 40)]
    make_cycle(before, x, store, cursors).run()
    # When the registry grows (new packing) and more tweets arrive
    after = registry_of(HANDLES)
    cursors.registry = after
    x.tweets += [{"id": i, "mentions": [HANDLES[i % 6]], "author": "c", "retweet": False} for i in range(40, 80)]
    make_cycle(after, x, store, cursors).run()
    # Then every tweet to every registered handle is stored once
    expected = {str(t["id"]) for t in x.tweets if matching(t, after)}
    assert set(store.stored) == expected


def test_derived_cursor_starts_from_the_lowest_safe_position():
    queries = pack_queries(["aa", "bb", "cc"], max_length=512)
    known = [
        Cursor("q-old1", ("aa",), since_id=50),
        Cursor("q-old2", ("bb",), since_id=70),
        Cursor("q-old3", ("aa", "bb"), since_id=60),
    ]
    assert derive_cursor(queries[0], known).since_id is None  # cc is new: backfill so its mentions are seen
    known.append(Cursor("q-old4", ("cc",), since_id=90))
    assert derive_cursor(queries[0], known).since_id == 60  # aa safe to 60, bb to 70, cc to 90: from 60
    assert derive_cursor(queries[0], []).since_id is None  # nothing known: backfill
    # a mention query's position says nothing about the police's own replies: those backfill
    (responses,) = pack_queries(["aa", "bb", "cc"], max_length=512, kind=RESPONSES)
    assert responses.text == "(from:aa OR from:bb OR from:cc) is:reply" and responses.key.startswith("r-")
    assert derive_cursor(responses, known).since_id is None


@pytest.mark.parametrize(
    ("error", "stopped"),
    [
        (RateLimited(99), "rate_limited"),
        (UsageCapped("Monthly product cap"), "usage_capped"),
        (CredentialsRejected("401"), "x_credentials"),
    ],
)
def test_limits_of_the_whole_app_stop_the_cycle_and_leave_cursors_untouched(error, stopped):
    registry = registry_of(HANDLES)
    x = FakeX(failures={1: error})
    x.tweets = [{"id": 5, "mentions": ["alpha"], "author": "c", "retweet": False}]
    store = FakeStore()
    cursors = FakeCursors(x, store, registry)
    report = make_cycle(registry, x, store, cursors).run()
    assert report.stopped == stopped and cursors.blocked[1] == stopped
    assert cursors.history == [] and x.calls == 1


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (XUnavailable("503 x3"), "x_unavailable"),
        (MalformedAnswer("not JSON"), "malformed_answer"),
        (BadQuery("x"), "bad_query"),
    ],
)
def test_a_query_that_fails_is_its_own_state_and_the_others_go_on(error, reason):
    # Given X failing the first query's request
    registry = registry_of(HANDLES)
    x = FakeX(failures={1: error}, page_size=100)
    x.tweets = [{"id": i, "mentions": [h], "author": "c", "retweet": False} for i, h in enumerate(HANDLES, 1)]
    store = FakeStore()
    cursors = FakeCursors(x, store, registry)
    # When a cycle runs
    report = make_cycle(registry, x, store, cursors).run()
    # Then that query's error is recorded, the other queries ran, and the next cycle catches up
    first = report.query_errors
    assert list(first.values()) == [reason] and report.stopped is None
    assert cursors.failed and cursors.failed[0][1].startswith(reason)
    assert len(store.stored) >= 1 and len(cursors.history) == report.queries - 1
    make_cycle(registry, x, store, cursors).run()
    assert set(store.stored) == {str(i) for i in range(1, 7)}


def clocked(minutes_ago: float, **extra):
    """A tweet posted ``minutes_ago`` (its id a snowflake of that moment, as X's are)."""
    from seva.polling import snowflake_at

    at = NOW - timedelta(minutes=minutes_ago)
    return {"id": snowflake_at(at) - 10, "at": at, "mentions": ["alpha"], "author": "c", "retweet": False, **extra}


def snowflake_cycle(registry, x, store, cursors, now=NOW, **kw):
    from seva.polling import snowflake_at, snowflake_time

    return make_cycle(registry, x, store, cursors, now=lambda: now, id_at=snowflake_at, time_of=snowflake_time, **kw)


def test_a_window_ends_before_now_and_an_empty_window_moves_the_cursor():
    # Given a query with a cursor and no new mentions
    from seva.polling import snowflake_at

    registry = registry_of(["alpha"])
    x, store = FakeX(), FakeStore()
    cursors = FakeCursors(x, store, registry)
    cursors.items = {c.key: c for c in [derive_cursor(q, []) for q in pack_queries(["alpha"])]}
    key = next(iter(cursors.items))
    cursors.items[key].since_id = snowflake_at(NOW - timedelta(days=2))
    # When a cycle runs
    snowflake_cycle(registry, x, store, cursors, settle=timedelta(seconds=40)).run()
    # Then it searched up to a whole second 40 s before now, and the cursor moved to that moment: an empty
    # window keeps the cursor young (it never ages out of recent search)
    end = x.requests[0]["end_time"]
    assert end == (NOW - timedelta(seconds=40)).replace(microsecond=0)
    assert cursors.items[key].since_id == snowflake_at(end)


def test_a_tweet_indexed_late_is_not_skipped():
    # Given a tweet posted 35 s ago that X has not indexed yet, and a newer one it has (posted 50 s later)
    registry = registry_of(["alpha"])
    late = clocked(0.6, indexed=NOW + timedelta(seconds=10))
    x, store = FakeX(tweets=[late]), FakeStore()
    cursors = FakeCursors(x, store, registry)
    # When cycles run every 15 s
    for step in range(4):
        x.now = NOW + timedelta(seconds=15 * step)
        snowflake_cycle(registry, x, store, cursors, now=x.now, settle=timedelta(seconds=40)).run()
    # Then the late one is stored: no window passed it before it was indexed
    assert str(late["id"]) in store.stored


def test_an_aged_cursor_is_reanchored_at_the_edge_of_recent_search_with_a_recorded_gap():
    # Given a query silent (or X down) for 8 days: its cursor is older than recent search covers
    from seva.polling import snowflake_at

    registry = registry_of(["alpha"])
    x, store = FakeX(tweets=[clocked(60 * 24 * 3)]), FakeStore()
    cursors = FakeCursors(x, store, registry)
    key = next(iter(pack_queries(["alpha"]))).key
    cursors.items[key] = Cursor(key, ("alpha",), since_id=snowflake_at(NOW - timedelta(days=8)))
    # When a cycle runs
    report = snowflake_cycle(registry, x, store, cursors).run()
    # Then the gap is recorded (what may be missing, since when), the query searched from the edge of the
    # searchable window, and the tweet of 3 days ago is stored
    assert report.gaps == 1 and cursors.gaps[0].since.date() == (NOW - timedelta(days=8)).date()
    assert x.requests[0]["since_id"] is None and x.requests[0]["start_time"] > NOW - timedelta(days=7)
    assert len(store.stored) == 1


def test_x_refusing_a_cursor_reanchors_it_too():
    registry = registry_of(["alpha"])
    x, store = FakeX(tweets=[clocked(5)], failures={1: CursorTooOld("since_id must be after ...")}), FakeStore()
    cursors = FakeCursors(x, store, registry)
    key = next(iter(pack_queries(["alpha"]))).key
    from seva.polling import snowflake_at

    # six days old by our clock, too old for X's
    cursors.items[key] = Cursor(key, ("alpha",), since_id=snowflake_at(NOW - timedelta(days=6)))
    report = snowflake_cycle(registry, x, store, cursors).run()
    assert report.gaps == 1 and len(store.stored) == 1 and report.query_errors == {}


def test_a_page_without_the_ids_to_continue_from_is_a_malformed_answer_not_a_wedge():
    from seva.tweets import SearchPage

    class NoIds(FakeX):
        def search(self, query, **kw):
            self.calls += 1
            return SearchPage([], newest_id=None, oldest_id=None, next_token="abc")

    registry = registry_of(["alpha"])
    x, store = NoIds(), FakeStore()
    cursors = FakeCursors(x, store, registry)
    report = make_cycle(registry, x, store, cursors).run()
    assert set(report.query_errors.values()) == {"malformed_answer"}


def test_several_cycles_run_in_one_invocation_15_s_apart():
    clock = {"t": 0.0}
    runs = []

    class Cycle:
        def run(self):
            runs.append(clock["t"])
            clock["t"] += 2  # a cycle takes 2 s
            from seva.polling import CycleReport

            return CycleReport()

    def sleep(s):
        clock["t"] += s

    reports = run_cycles(
        lambda n: Cycle(),
        cycles=4,
        interval=timedelta(seconds=15),
        clock=lambda: clock["t"],
        sleep=sleep,
        time_left=lambda: 300,
    )
    assert runs == [0, 15, 30, 45] and len(reports) == 4


def test_a_stored_sos_is_sent_ahead_to_the_express_lane_once_and_routine_tweets_are_not():
    # Given an SOS, a routine complaint, a police handle's own tweet and an SOS mentioning no registered handle
    registry = registry_of(HANDLES)
    x = FakeX(page_size=10)
    x.tweets = [
        {"id": 1, "mentions": ["alpha"], "author": "citizen", "retweet": False},
        {"id": 2, "mentions": ["alpha"], "author": "citizen", "retweet": False},
        {"id": 3, "mentions": ["alpha"], "author": "bravo", "retweet": False},
        {"id": 4, "mentions": ["stranger"], "author": "citizen", "retweet": False},
    ]
    store = FakeStore()
    sent: list[tuple[str, bool]] = []
    lane = ExpressLane(
        urgent=lambda envelope: envelope.id in {"1", "3", "4"},
        send=lambda tweet_id: sent.append((tweet_id, tweet_id in store.stored)),
    )
    cursors = FakeCursors(x, store, registry)
    # When two cycles run (the second sees the same tweets again: nothing new)
    first = make_cycle(registry, x, store, cursors, express=lane).run()
    again = make_cycle(registry, x, store, cursors, express=lane).run()
    # Then only the citizen's SOS was sent ahead, once, and only after it was stored
    assert sent == [("1", True)]
    assert (first.expressed, first.express_failed, again.expressed) == (1, 0, 0)
    assert set(store.stored) == {"1", "2"}


def test_a_failed_express_send_slows_the_sos_down_but_loses_nothing():
    # Given the express queue refusing every send
    registry = registry_of(HANDLES)
    x = FakeX(page_size=1)
    x.tweets = [{"id": i, "mentions": ["alpha"], "author": "citizen", "retweet": False} for i in (1, 2, 3)]
    store = FakeStore()
    failures: list[str] = []

    def refuse(tweet_id: str) -> None:
        raise ConnectionError("SQS unreachable")

    lane = ExpressLane(urgent=lambda e: True, send=refuse, on_failed=lambda tweet_id, exc: failures.append(tweet_id))
    cursors = FakeCursors(x, store, registry)
    # When a cycle runs
    report = make_cycle(registry, x, store, cursors, express=lane).run()
    # Then every tweet is stored (the stream routes them), each failure was reported, and the cycle went on
    assert set(store.stored) == {"1", "2", "3"} and sorted(failures) == ["1", "2", "3"]
    assert (report.expressed, report.express_failed, report.query_errors) == (0, 3, {})
    assert cursors.items and all(c.since_id == 3 for c in cursors.items.values())


def test_a_pages_tweets_are_stored_concurrently_and_all_before_the_cursor_moves():
    # Given a page of 9 tweets and a store whose puts, after the first (alone: it opens the connection), each
    # wait until 4 are in flight at once
    import threading

    registry = registry_of(HANDLES)
    x = FakeX(page_size=10)
    x.tweets = [{"id": i, "mentions": ["alpha"], "author": "citizen", "retweet": False} for i in range(1, 10)]
    store = FakeStore()
    together = threading.Barrier(4, timeout=5)
    plain_add = store.add

    def add(envelope, registered_mentions, now):
        if store.stored:
            together.wait()  # a BrokenBarrierError here: fewer than 4 puts were in flight
        return plain_add(envelope, registered_mentions, now)

    store.add = add  # type: ignore[method-assign]
    cursors = FakeCursors(x, store, registry)
    # When a cycle stores them 4 at a time
    report = make_cycle(registry, x, store, cursors, store_concurrency=4).run()
    # Then all 9 are stored, and the cursor moved past them only then (FakeCursors checks it on commit)
    assert report.ingested == 9 and set(store.stored) == {str(i) for i in range(1, 10)}
    assert all(c.since_id == 9 for c in cursors.items.values())


def store_noting_puts() -> tuple[FakeStore, list[tuple[str, str]]]:
    """A store that notes each put, in order, in the list it returns (sends ahead are noted there too)."""
    store = FakeStore()
    plain_add = store.add
    steps: list[tuple[str, str]] = []

    def add(envelope, registered_mentions, now):
        steps.append(("put", envelope.id))
        return plain_add(envelope, registered_mentions, now)

    store.add = add  # type: ignore[method-assign]
    return store, steps


@pytest.mark.parametrize("store_concurrency", [1, 4])
def test_a_pages_sos_is_stored_and_sent_ahead_before_its_routine_tweets(store_concurrency):
    # Given a page of 8 tweets whose SOS (the oldest) comes last in X's answer
    registry = registry_of(HANDLES)
    x = FakeX(page_size=10)
    x.tweets = [{"id": i, "mentions": ["alpha"], "author": "citizen", "retweet": False} for i in range(1, 9)]
    store, steps = store_noting_puts()
    last = "1"  # X lists the newest first
    lane = ExpressLane(urgent=lambda envelope: envelope.id == last, send=lambda i: steps.append(("send", i)))
    cursors = FakeCursors(x, store, registry)
    # When a cycle stores the page
    report = make_cycle(registry, x, store, cursors, express=lane, store_concurrency=store_concurrency).run()
    # Then the SOS was stored and sent ahead before any routine put, and every tweet was stored
    assert steps[:2] == [("put", last), ("send", last)]
    assert (report.ingested, report.expressed, len(store.stored)) == (8, 1, 8)


@pytest.mark.parametrize("store_concurrency", [1, 4])
def test_an_sos_replying_in_its_own_thread_is_stored_after_the_tweets_it_follows_up_in_the_page(store_concurrency):
    # Given a page where a citizen's SOS (5) replies to their own complaint (2), which replies to their first (1),
    # among other citizens' tweets, one of them in the same conversation (4)
    registry = registry_of(HANDLES)
    x = FakeX(page_size=10)

    def tweet(i, author, conversation, reply_to=None):
        refs = {"referenced_tweets": [{"type": "replied_to", "id": str(reply_to)}]} if reply_to else {}
        fields = {"conversation_id": str(conversation), "author_id": author, **refs}
        return {"id": i, "mentions": ["alpha"], "author": author, "retweet": False, "fields": fields}

    x.tweets = [tweet(1, "c1", 1), tweet(2, "c1", 1, 1), tweet(3, "c2", 3), tweet(4, "c2", 1, 2), tweet(5, "c1", 1, 2)]
    x.tweets.append(tweet(6, "c3", 6))
    store, steps = store_noting_puts()
    lane = ExpressLane(urgent=lambda envelope: envelope.id == "5", send=lambda i: steps.append(("send", i)))
    cursors = FakeCursors(x, store, registry)
    # When a cycle stores the page
    report = make_cycle(registry, x, store, cursors, express=lane, store_concurrency=store_concurrency).run()
    # Then the citizen's own thread went first, oldest first, the SOS last of it and sent ahead at once; the rest after
    assert steps[:4] == [("put", "1"), ("put", "2"), ("put", "5"), ("send", "5")]
    assert sorted(steps[4:]) == [("put", "3"), ("put", "4"), ("put", "6")]
    assert (report.ingested, report.expressed) == (6, 1)


def test_a_triage_failure_is_reported_and_the_tweet_stored_for_the_stream_to_route():
    # Given triage failing on one tweet of two
    registry = registry_of(HANDLES)
    x = FakeX(page_size=10)
    x.tweets = [{"id": i, "mentions": ["alpha"], "author": "citizen", "retweet": False} for i in (1, 2)]
    store = FakeStore()
    failures: list[str] = []

    def urgent(envelope):
        if envelope.id == "2":
            raise ValueError("model file unreadable")
        return False

    lane = ExpressLane(urgent=urgent, send=lambda tweet_id: None, on_failed=lambda i, exc: failures.append(i))
    cursors = FakeCursors(x, store, registry)
    # When a cycle runs
    report = make_cycle(registry, x, store, cursors, express=lane).run()
    # Then both were stored and the failure reported, once
    assert set(store.stored) == {"1", "2"} and failures == ["2"]
    assert (report.ingested, report.expressed, report.express_failed) == (2, 0, 1)


@pytest.mark.parametrize("store_concurrency", [1, 4])
def test_a_put_that_fails_mid_page_loses_neither_the_other_tweets_nor_their_express_send(store_concurrency):
    # Given a page with an SOS, and a store that refuses one other tweet's put once (a throttle outlasting retries)
    registry = registry_of(HANDLES)
    x = FakeX(page_size=10)
    x.tweets = [{"id": i, "mentions": ["alpha"], "author": "citizen", "retweet": False} for i in range(1, 7)]
    store = FakeStore()
    plain_add = store.add
    refused: list[str] = []

    def add(envelope, registered_mentions, now):
        if envelope.id == "2" and not refused:
            refused.append(envelope.id)
            raise ConnectionError("throttled")
        return plain_add(envelope, registered_mentions, now)

    store.add = add  # type: ignore[method-assign]
    sent: list[str] = []
    lane = ExpressLane(urgent=lambda envelope: envelope.id == "5", send=sent.append)
    cursors = FakeCursors(x, store, registry)
    # When the cycle fails on that put (the invocation fails and Lambda runs it again)
    with pytest.raises(ConnectionError):
        make_cycle(registry, x, store, cursors, express=lane, store_concurrency=store_concurrency).run()
    # Then the SOS stored in the same page was sent ahead all the same, and the cursor did not move
    assert sent == ["5"] and "2" not in store.stored and len(store.stored) == 5
    assert all(c.since_id is None for c in cursors.items.values())
    # And the retry stores the refused tweet, moves the cursor and sends nothing twice
    report = make_cycle(registry, x, store, cursors, express=lane, store_concurrency=store_concurrency).run()
    assert (report.ingested, report.already_stored, sent) == (1, 5, ["5"])
    assert all(c.since_id == 6 for c in cursors.items.values())

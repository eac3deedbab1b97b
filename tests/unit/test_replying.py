"""Replying on X: the right handle, exactly once, errors as states, and the posting budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from seva.registry import Handle, HandleRegistry
from seva.replying import (
    FAILED,
    NOT_ALLOWED,
    PENDING,
    REPLIED,
    DuplicateContent,
    NotAllowed,
    PostRateLimited,
    PostUnavailable,
    Replier,
    ReplyJob,
)

REGISTRY = HandleRegistry(
    (
        Handle("Uppolice", "UP", "state"),
        Handle("lucknowpolice", "LKO", "district", 162, "Lucknow"),
        Handle("upcyberpolice", "Cyber", "unit"),
    )
)


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


class FakeX:
    def __init__(self, failures=()):
        self.failures = list(failures)
        self.posted: dict[str, tuple[str, str, str]] = {}  # reply id -> (handle, text, in_reply_to)

    def post_reply(self, handle, text, in_reply_to):
        if self.failures:
            raise self.failures.pop(0)
        if any(h == handle and t == text for h, t, _ in self.posted.values()):
            raise DuplicateContent("You are not allowed to create a Tweet with duplicate content.")
        reply_id = str(len(self.posted) + 1)
        self.posted[reply_id] = (handle, text, in_reply_to)
        return reply_id

    def find_reply(self, handle, reference):
        return next((i for i, (h, t, _) in self.posted.items() if h == handle and reference in t), None)


class FakeRepo:
    def __init__(self):
        self.state: dict[str, dict] = {}

    def reply_status(self, tweet_id):
        s = self.state.get(tweet_id, {})
        return s.get("status"), s.get("attempts", 0)

    def mark_replied(self, tweet_id, handle, reply_id, now):
        self.state[tweet_id] = {"status": REPLIED, "reply_id": reply_id, "handle": handle}

    def mark_pending(self, tweet_id, next_at, attempts, reason):
        self.state[tweet_id] = {"status": PENDING, "next_at": next_at, "attempts": attempts}

    def mark_final(self, tweet_id, status, attempts, reason):
        self.state[tweet_id] = {"status": status, "attempts": attempts, "reason": reason}

    def clear_pending(self, tweet_id):
        pass


class WindowBudget:
    """The same fixed-window rule as DynamoPostingBudget, in memory."""

    def __init__(self, limit=100, window=timedelta(minutes=15)):
        self.limit, self.window, self.used = limit, window, {}

    def take(self, handle, now):
        start = int(now.timestamp() // self.window.total_seconds())
        if self.used.get((handle, start), 0) >= self.limit:
            return datetime.fromtimestamp((start + 1) * self.window.total_seconds(), UTC)
        self.used[(handle, start)] = self.used.get((handle, start), 0) + 1
        return None


def job(tweet_id="1", handles=("Uppolice", "lucknowpolice")):
    return ReplyJob(
        tweet_id=tweet_id,
        reference=f"UP-LKO-2026-{int(tweet_id):06d}",
        priority="P2",
        language="en",
        district="Lucknow",
        district_hindi="लखनऊ",
        mentioned_handles=tuple(handles),
    )


def replier(x, repo=None, budget=None, clock=None):
    return Replier(
        registry=REGISTRY,
        poster=x,
        budget=budget or WindowBudget(),
        repo=repo or FakeRepo(),
        compose=lambda j: f"Registered: {j.reference}",
        now=clock or Clock(),
        max_attempts=3,
    )


def test_replies_from_the_district_handle_first_else_the_state_handle():
    r = replier(FakeX())
    assert r.reply_handle(job(handles=("Uppolice", "LUCKNOWPOLICE"))) == "lucknowpolice"
    assert r.reply_handle(job(handles=("upcyberpolice", "Uppolice"))) == "Uppolice"
    assert r.reply_handle(job(handles=("upcyberpolice",))) == "upcyberpolice"


def test_exactly_once_even_after_a_crash_between_posting_and_recording():
    x, repo = FakeX(), FakeRepo()
    first = replier(x, repo).reply(job())
    assert first.status == REPLIED and len(x.posted) == 1
    repo.state.clear()  # the crash: the post happened, the record did not
    again = replier(x, repo).reply(job())
    assert again.status == REPLIED and again.reply_id == first.reply_id
    assert len(x.posted) == 1
    assert replier(x, repo).reply(job()).reason == "already settled"


def test_not_allowed_is_final():
    repo = FakeRepo()
    outcome = replier(FakeX([NotAllowed("not mentioned")]), repo).reply(job())
    assert outcome.status == NOT_ALLOWED and repo.state["1"]["status"] == NOT_ALLOWED
    assert replier(FakeX(), repo).reply(job()).status == NOT_ALLOWED  # never retried


def test_429_leaves_it_pending_until_the_reset():
    repo = FakeRepo()
    reset = int(datetime(2026, 11, 28, 10, 15, tzinfo=UTC).timestamp())
    outcome = replier(FakeX([PostRateLimited(reset)]), repo).reply(job())
    assert outcome.status == PENDING and repo.state["1"]["next_at"].timestamp() == reset
    assert replier(FakeX(), repo).reply(job()).status == REPLIED


def test_5xx_is_retried_a_bounded_number_of_times_then_failed():
    x, repo = FakeX([PostUnavailable("503")] * 5), FakeRepo()
    statuses = [replier(x, repo).reply(job()).status for _ in range(4)]
    assert statuses == [PENDING, PENDING, FAILED, FAILED]
    assert x.posted == {}


def test_a_burst_of_500_to_one_handle_is_all_answered_never_above_the_limit():
    x, repo, budget, clock = FakeX(), FakeRepo(), WindowBudget(limit=100), Clock()
    r = replier(x, repo, budget, clock)
    jobs = [job(str(i), handles=("lucknowpolice",)) for i in range(1, 501)]
    for j in jobs:
        r.reply(j)
    per_window: dict[int, int] = {}
    while any(repo.state[j.tweet_id]["status"] == PENDING for j in jobs):
        clock.now += timedelta(minutes=1)  # the sweep runs every minute
        for j in jobs:
            if repo.state[j.tweet_id]["status"] == PENDING and repo.state[j.tweet_id]["next_at"] <= clock.now:
                r.reply(j)
    for (handle, window), used in budget.used.items():
        per_window[window] = used
        assert handle == "lucknowpolice" and used <= 100
    assert len(x.posted) == 500
    assert {s["status"] for s in repo.state.values()} == {REPLIED}
    assert len(per_window) == 5


def test_no_registered_handle_means_it_cannot_reply():
    assert replier(FakeX()).reply(job(handles=("DelhiPolice",))).status == NOT_ALLOWED


@pytest.mark.parametrize("language", ["hi", "en"])
def test_reply_text_is_deterministic(language):
    from seva.replytext import reply_text

    args = {
        "reference": "UP-LKO-2026-000001",
        "language": language,
        "district": "Lucknow",
        "district_hindi": "लखनऊ",
        "priority": "P1",
    }
    assert reply_text(**args) == reply_text(**args)

"""Replying on X: the right handle, once (a claim before posting, the duplicate check after a crash), every X
answer a state, the sweep that one bad item never blocks, and the posting budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from seva.districts import load_districts
from seva.lifecycle import Priority, Status
from seva.notify import Claim
from seva.registry import Handle, HandleRegistry
from seva.replying import (
    FAILED,
    NOT_ALLOWED,
    PENDING,
    REPLIED,
    SUPERSEDED,
    BadRequest,
    Begun,
    CredentialsRejected,
    DuplicateContent,
    NotAllowed,
    PostRateLimited,
    PostUnavailable,
    Replier,
    ReplyDesk,
)
from seva.replytext import reply_text

from tests.unit.fakes import Clock, Complaints, Crash, FailureQueue, complaint

REGISTRY = HandleRegistry(
    (
        Handle("Uppolice", "UP", "state"),
        Handle("lucknowpolice", "LKO", "district", 162, "Lucknow"),
        Handle("upcyberpolice", "Cyber", "unit"),
    )
)


class FakeX:
    def __init__(self, failures=(), crash_after_post=False):
        self.failures = list(failures)
        self.crash_after_post = crash_after_post
        self.posted: dict[str, tuple[str, str, str]] = {}  # reply id -> (handle, text, in_reply_to)

    def post_reply(self, handle, text, in_reply_to):
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "malformed":  # posted, but the answer came back broken
                self.posted[str(len(self.posted) + 1)] = (handle, text, in_reply_to)
                raise PostUnavailable("malformed answer to a post (201)")
            raise failure
        if any(h == handle and t == text for h, t, _ in self.posted.values()):
            raise DuplicateContent("You are not allowed to create a Tweet with duplicate content.")
        reply_id = str(len(self.posted) + 1)
        self.posted[reply_id] = (handle, text, in_reply_to)
        if self.crash_after_post:
            raise Crash
        return reply_id

    def find_reply(self, handle, reference, text):
        return next((i for i, (h, t, _) in self.posted.items() if h == handle and t == text), None)


@dataclass
class Repo:
    """Reply state per (complaint, kind) — claim and outcome on one item — and the pending index, as
    DynamoReplyRepo keeps them."""

    items: dict[tuple[str, str], dict] = field(default_factory=dict)
    pending_at: dict[tuple[str, str], datetime] = field(default_factory=dict)
    events: list = field(default_factory=list)
    priorities: dict[str, str] = field(default_factory=dict)

    def state(self, complaint, kind):
        item = self.items.get((complaint.tweet_id, kind), {})
        return item.get("outcome"), item.get("tries", 0)

    def begin(self, complaint, kind, lease_until, now):
        item = self.items.setdefault((complaint.tweet_id, kind), {"state": None, "tries": 0})
        settled = item.get("outcome") in (REPLIED, NOT_ALLOWED, FAILED)
        free = item["state"] in (None, "RETRY") or (item["state"] == "SENDING" and item["lease"] < now.timestamp())
        if free and not settled:
            item.update(state="SENDING", lease=lease_until)
            return Begun(Claim.GRANTED, item.get("outcome"), item["tries"])
        if settled:
            return Begun(Claim.FAILED, item["outcome"], item["tries"], item.get("reply_id"))
        if item["state"] == "SENT":
            return Begun(Claim.SENT, item.get("outcome"), item["tries"], item.get("reply_id"))
        return Begun(Claim.HELD, item.get("outcome"), item["tries"], lease_until=item["lease"])

    def replied(self, complaint, kind, handle, reply_id, now, event):
        self.items[(complaint.tweet_id, kind)].update(state="SENT", outcome=REPLIED, reply_id=reply_id, handle=handle)
        self.pending_at.pop((complaint.tweet_id, kind), None)
        self.events.append(event)

    def _outcome(self, complaint, kind, state, outcome, tries, reason):
        item = self.items.setdefault((complaint.tweet_id, kind), {"state": None, "tries": 0})
        if item.get("outcome") in (REPLIED, NOT_ALLOWED, FAILED):
            return False
        item.update(state=state, outcome=outcome, tries=tries, reason=reason)
        return True

    def pending(self, complaint, kind, next_at, tries, reason):
        if self._outcome(complaint, kind, "RETRY", PENDING, tries, reason):
            self.pending_at[(complaint.tweet_id, kind)] = next_at
            self.priorities[complaint.tweet_id] = str(complaint.priority)

    def final(self, complaint, kind, status, tries, reason):
        self._outcome(complaint, kind, "FAILED", status, tries, reason)
        self.pending_at.pop((complaint.tweet_id, kind), None)

    def clear_pending(self, tweet_id, kind):
        self.pending_at.pop((tweet_id, kind), None)

    def due(self, now, limit):
        due = [k for k, at in self.pending_at.items() if at <= now]
        return sorted(due, key=lambda k: (self.priorities.get(k[0]) != "P1", self.pending_at[k]))[:limit]


class SlidingBudget:
    """The same rule as DynamoPostingBudget: posts in the last window below the limit (P1 may use a reserve)."""

    def __init__(self, limit=100, window=timedelta(minutes=15), reserve=0.1):
        self.limit, self.window, self.reserve, self.posts = limit, window, reserve, {}

    def take(self, handle, now, urgent=False):
        posts = [t for t in self.posts.get(handle, []) if t > now - self.window]
        allowed = self.limit if urgent else int(self.limit * (1 - self.reserve))
        if len(posts) >= allowed:
            return posts[len(posts) - allowed] + self.window
        self.posts[handle] = [*posts, now]
        return None


def replier(x, repo=None, budget=None, clock=None, max_attempts=3):
    clock = clock or Clock()
    districts = load_districts()
    return Replier(
        registry=REGISTRY,
        poster=x,
        budget=budget or SlidingBudget(),
        repo=repo if repo is not None else Repo(),
        compose=lambda c, kind: reply_text(c, kind, districts),
        now=clock,
        lease_until=lambda: clock().timestamp() + 65,
        max_attempts=max_attempts,
    )


def test_replies_from_the_district_handle_first_else_the_state_handle():
    x = FakeX()
    assert replier(x).reply(complaint(handles=("Uppolice", "lucknowpolice")), "ack").handle == "lucknowpolice"
    assert replier(x).reply(complaint("1002", handles=("upcyberpolice", "Uppolice")), "ack").handle == "Uppolice"


def test_exactly_once_even_after_a_crash_between_posting_and_recording():
    repo, clock = Repo(), Clock()
    x = FakeX(crash_after_post=True)
    with pytest.raises(Crash):
        replier(x, repo, clock=clock).reply(complaint(), "ack")
    x.crash_after_post = False
    # while the dead invocation's claim holds, nobody posts; after it, X refuses the copy and it is found
    assert replier(x, repo, clock=clock).reply(complaint(), "ack").status == PENDING
    clock.advance(minutes=2)
    outcome = replier(x, repo, clock=clock).reply(complaint(), "ack")
    assert outcome.status == REPLIED and outcome.reply_id == "1" and len(x.posted) == 1


def test_two_overlapping_invocations_cannot_both_post():
    # Given the stream lane and the sweep picking up the same complaint at once (one claim between them)
    repo, clock = Repo(), Clock()
    x = FakeX()
    first = replier(x, repo, clock=clock)
    repo.begin(complaint(), "ack", clock().timestamp() + 60, clock())  # the other one claimed it a moment ago
    assert first.reply(complaint(), "ack").status == PENDING
    assert x.posted == {}


@pytest.mark.parametrize("kind", ["acknowledged", "on_the_way"])
@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_a_progress_reply_still_due_after_the_complaint_was_resolved_is_never_posted(kind, status):
    # Given "an officer is on the way" that X refused until after the officer had resolved the complaint
    repo, clock = Repo(), Clock()
    x = FakeX([PostUnavailable("503")])
    assert replier(x, repo, clock=clock).reply(complaint(), kind).status == PENDING
    clock.advance(minutes=5)
    # When it is tried again, the complaint resolved meanwhile
    outcome = replier(x, repo, clock=clock).reply(complaint(status=status), kind)
    # Then it is settled unposted: the citizen is not told of progress after being told it was resolved
    assert outcome.status == SUPERSEDED and x.posted == {}
    assert replier(x, repo, clock=clock).reply(complaint(status=status), kind).status == SUPERSEDED


def test_not_mentioned_is_final_and_a_bad_request_is_final():
    repo = Repo()
    assert replier(FakeX([NotAllowed("not mentioned")]), repo).reply(complaint(), "ack").status == NOT_ALLOWED
    assert replier(FakeX([BadRequest("the post is gone")]), repo).reply(complaint("1002"), "ack").status == FAILED


def test_rejected_credentials_wait_and_the_reply_goes_once_they_are_fixed():
    repo, clock = Repo(), Clock()
    x = FakeX([CredentialsRejected("401 unauthorized"), CredentialsRejected("403 client-not-enrolled")])
    assert replier(x, repo, clock=clock).reply(complaint(), "ack").status == PENDING
    clock.advance(minutes=11)
    assert replier(x, repo, clock=clock).reply(complaint(), "ack").status == PENDING
    clock.advance(minutes=11)
    assert replier(x, repo, clock=clock, max_attempts=5).reply(complaint(), "ack").status == REPLIED


def test_429_leaves_it_pending_until_the_reset():
    repo, clock = Repo(), Clock()
    reset = int((clock() + timedelta(minutes=5)).timestamp())
    assert replier(FakeX([PostRateLimited(reset)]), repo, clock=clock).reply(complaint(), "ack").status == PENDING
    assert repo.pending_at[("1001", "ack")] == datetime.fromtimestamp(reset, UTC)


def test_5xx_is_retried_a_bounded_number_of_times_then_failed():
    repo, clock = Repo(), Clock()
    x = FakeX([PostUnavailable("503")] * 5)
    statuses = []
    for _ in range(3):
        statuses.append(replier(x, repo, clock=clock).reply(complaint(), "ack").status)
        clock.advance(minutes=30)
    assert statuses == [PENDING, PENDING, FAILED]


def test_a_malformed_answer_to_a_post_that_went_through_is_found_not_posted_again():
    repo, clock = Repo(), Clock()
    x = FakeX(["malformed"])
    assert replier(x, repo, clock=clock).reply(complaint(), "ack").status == PENDING
    clock.advance(minutes=5)
    assert replier(x, repo, clock=clock).reply(complaint(), "ack").status == REPLIED
    assert len(x.posted) == 1


def test_the_sweep_goes_on_past_an_item_that_raises_and_pushes_it_back():
    # Given two pending replies, the first of which makes the poster raise something nobody expected
    repo, clock, store = Repo(), Clock(), Complaints()
    store.put(complaint("1"), complaint("2"))
    for tweet_id in ("1", "2"):
        repo.pending(store.get(tweet_id), "ack", clock(), 0, "429")

    class Exploding(FakeX):
        def post_reply(self, handle, text, in_reply_to):
            if in_reply_to == "1":
                raise KeyError("data")
            return super().post_reply(handle, text, in_reply_to)

    x = Exploding()
    desk = ReplyDesk(replier(x, repo, clock=clock), store, repo, FailureQueue())
    outcomes = desk.sweep(limit=10)
    # Then the second is answered, and the first waits (with backoff) instead of coming first forever
    assert [o.status for o in outcomes] == [PENDING, REPLIED]
    assert repo.pending_at[("1", "ack")] > clock()
    assert [k for k, _ in desk.pending.due(clock(), 10)] == []


def test_the_sweep_starts_no_reply_without_time_to_finish_it():
    # Given three due replies and an invocation with time for two (each post takes 5 s here)
    repo, clock, store = Repo(), Clock(), Complaints()
    store.put(complaint("1"), complaint("2"), complaint("3"))
    for tweet_id in ("1", "2", "3"):
        repo.pending(store.get(tweet_id), "ack", clock(), 0, "429")

    class Slow(FakeX):
        def post_reply(self, handle, text, in_reply_to):
            clock.advance(seconds=5)
            return super().post_reply(handle, text, in_reply_to)

    x, deadline = Slow(), clock().timestamp() + 17
    desk = ReplyDesk(replier(x, repo, clock=clock), store, repo, FailureQueue())
    # When the sweep runs
    outcomes = desk.sweep(limit=10, time_left=lambda: deadline - clock().timestamp(), reply_seconds=8)
    # Then two are answered and the third is still due for the next sweep, untouched
    assert [o.status for o in outcomes] == [REPLIED, REPLIED]
    assert [k for k, _ in desk.pending.due(clock(), 10)] == ["3"]


def test_p1_replies_come_first_in_the_sweep():
    repo, clock = Repo(), Clock()
    repo.pending(complaint("1", priority=Priority.P3), "ack", clock() - timedelta(minutes=5), 0, "429")
    repo.pending(complaint("2", priority=Priority.P1), "ack", clock(), 0, "429")
    assert repo.due(clock(), 10)[0] == ("2", "ack")


def test_a_burst_of_500_to_one_handle_is_all_answered_never_above_the_limit():
    repo, clock, budget, x = Repo(), Clock(), SlidingBudget(), FakeX()
    r = replier(x, repo, budget=budget, clock=clock)
    for i in range(500):
        r.reply(complaint(str(10_000 + i)), "ack")
    for _ in range(100):
        clock.advance(minutes=1)
        for tweet_id, kind in repo.due(clock(), 500):
            r.reply(complaint(tweet_id), kind)
    assert len(x.posted) == 500
    times = sorted(budget.posts["lucknowpolice"])
    assert max(sum(1 for t in times if start <= t < start + timedelta(minutes=15)) for start in times) <= 100


def test_a_p1_reply_may_use_the_reserve_routine_replies_leave():
    budget, clock = SlidingBudget(limit=10), Clock()
    assert all(budget.take("h", clock()) is None for _ in range(9))
    assert budget.take("h", clock()) is not None  # routine: 9 of 10
    assert budget.take("h", clock(), urgent=True) is None  # a P1 takes the tenth


def test_no_registered_handle_means_it_cannot_reply():
    assert replier(FakeX()).reply(complaint(handles=("stranger",)), "ack").status == NOT_ALLOWED


def test_an_x_outage_of_three_hours_still_ends_in_the_reply():
    # Given X answering 503 to every post for three hours, and the default number of tries
    from seva.settings import ReplySettings

    repo, clock = Repo(), Clock()
    outage_ends = clock() + timedelta(hours=3)

    class Down(FakeX):
        def post_reply(self, handle, text, in_reply_to):
            if clock() < outage_ends:
                raise PostUnavailable("503 Service Unavailable")
            return super().post_reply(handle, text, in_reply_to)

    x, attempts = Down(), ReplySettings.model_fields["max_reply_attempts"].default
    # When the sweep retries it each time it is due
    outcome = replier(x, repo, clock=clock, max_attempts=attempts).reply(complaint(), "ack")
    while outcome.status == PENDING:
        clock.advance(seconds=(repo.pending_at[("1001", "ack")] - clock()).total_seconds())
        outcome = replier(x, repo, clock=clock, max_attempts=attempts).reply(complaint(), "ack")
    # Then the citizen is answered once X is back, never given up on meanwhile
    assert outcome.status == REPLIED and len(x.posted) == 1

"""Answering the citizen on X: once per complaint and kind of answer, from the right handle, errors as states.

- From the handle the citizen mentioned (a district handle first, else the state handle): X only lets an
  account reply to a post that mentions it.
- What the citizen is told follows what happened: registered (with the reference and who was told), then
  "an officer has acknowledged" / "is on the way" only once that happened, and "resolved".
- A claim (lease) is taken before posting, so two overlapping invocations (a lane and the sweep) cannot both
  post. The text is deterministic per complaint and kind, so after a crash between posting and recording X
  refuses the second copy (403 duplicate) and the existing reply is found and recorded.
- Every X answer is a state: 403 "not mentioned" → REPLY_NOT_ALLOWED (final); 400 (the post is gone, a bad
  request) → REPLY_FAILED (final); 401 and other 403s (revoked or misconfigured credentials) → pending, retried
  with backoff as credentials are fixed; 429 or no budget → pending until the reset; 5xx, timeouts and malformed
  bodies → retried with backoff, then REPLY_FAILED and the failure queue.
- Posting budgets (per handle and for the app) are taken before posting; a P1 reply may use a reserve that
  routine replies leave free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from seva.lifecycle import Action, Actor, Channel, Complaint, Event, Priority, Status
from seva.notify import Claim
from seva.registry import HandleRegistry

REPLIED, PENDING, NOT_ALLOWED, FAILED = "REPLIED", "REPLY_PENDING", "REPLY_NOT_ALLOWED", "REPLY_FAILED"
SUPERSEDED = "REPLY_SUPERSEDED"  # a progress reply still due once the complaint was resolved: never posted
SETTLED = (REPLIED, NOT_ALLOWED, FAILED, SUPERSEDED)
ALREADY_SETTLED = "already settled"
REPLIER = Actor.system("reply")


class ReplyKind(StrEnum):
    REGISTERED = "ack"  # registered: the reference and who was told
    ACKNOWLEDGED = "acknowledged"
    ON_THE_WAY = "on_the_way"
    RESOLVED = "resolved"


PROGRESS = frozenset({ReplyKind.ACKNOWLEDGED, ReplyKind.ON_THE_WAY})
"""Replies that tell of progress: once the complaint is resolved, the resolution reply says more."""

REPLY_FOR: dict[Action, ReplyKind] = {
    Action.ROUTE: ReplyKind.REGISTERED,
    Action.TO_COMPLAINT: ReplyKind.REGISTERED,
    Action.ACKNOWLEDGE: ReplyKind.ACKNOWLEDGED,
    Action.ON_THE_WAY: ReplyKind.ON_THE_WAY,
    Action.RESOLVE: ReplyKind.RESOLVED,
}


# -- what X answered (raised by the X client) ----------------------------------------------------------------
class DuplicateContent(Exception):
    """403: this handle already posted this text (our earlier attempt went through)."""


class NotAllowed(Exception):
    """403: the handle may not reply to this post (it was not mentioned) — final."""


class BadRequest(Exception):
    """400: the post is gone or the request is invalid — final."""


class CredentialsRejected(Exception):
    """401, or a 403 about the app or the account (revoked token, app not enrolled, account locked)."""


class PostRateLimited(Exception):
    def __init__(self, reset_at: int | None):
        super().__init__(f"rate limited until {reset_at}")
        self.reset_at = reset_at


class PostUnavailable(Exception):
    """5xx, a timeout or a malformed answer: it may or may not have been posted; retry (a duplicate is found)."""


@dataclass(frozen=True)
class ReplyOutcome:
    tweet_id: str
    kind: str
    status: str
    reply_id: str | None = None
    handle: str | None = None
    reason: str | None = None


class Poster(Protocol):
    def post_reply(self, handle: str, text: str, in_reply_to: str) -> str: ...
    def find_reply(self, handle: str, reference: str, text: str) -> str | None: ...


class Budget(Protocol):
    def take(self, handle: str, now: datetime, urgent: bool) -> datetime | None:
        """None if a post may go now; else when there is room again."""
        ...


@dataclass(frozen=True)
class Begun:
    """What taking a reply in hand found: ``claim`` GRANTED (yours to post), SENT (posted, being recorded),
    HELD (another invocation posts it until ``lease_until``) or FAILED; or ``status`` when already settled."""

    claim: Claim
    status: str | None = None
    tries: int = 0
    reply_id: str | None = None
    lease_until: float | None = None


class ReplyRepo(Protocol):
    """A reply's state is one item per (complaint, kind): its claim (a lease while being posted) and its
    outcome. The first answer's outcome is also kept on the complaint."""

    def begin(self, complaint: Complaint, kind: str, lease_until: float, now: datetime) -> Begun: ...
    def replied(self, complaint: Complaint, kind: str, handle: str, reply_id: str, now: datetime, event: Event) -> None:
        """Posted: the outcome, the complaint's copy, the outbox entry gone and the audit event, at once."""
        ...

    def pending(self, complaint: Complaint, kind: str, next_at: datetime, tries: int, reason: str) -> None: ...
    def final(self, complaint: Complaint, kind: str, status: str, tries: int, reason: str) -> None: ...
    def clear_pending(self, tweet_id: str, kind: str) -> None: ...


@dataclass
class Replier:
    registry: HandleRegistry
    poster: Poster
    budget: Budget
    repo: ReplyRepo
    compose: Callable[[Complaint, str], str]  # (complaint, kind) -> text
    now: Callable[[], datetime]
    lease_until: Callable[[], float]
    max_attempts: int = 5
    retry_base: timedelta = timedelta(minutes=1)  # after a 5xx: 2, 4, … of these, at most 30 (X outages last hours)
    rate_wait: timedelta = timedelta(minutes=15)  # after a 429 without a reset time: X's window
    credentials_wait: timedelta = timedelta(minutes=10)  # after a 401/403 about credentials

    def reply_handle(self, complaint: Complaint) -> str | None:
        handles = [h for name in complaint.mentioned_handles if (h := self.registry.get(name))]
        for kinds in (("district", "commissionerate"), ("state",), ("zone", "range", "unit")):
            for handle in handles:
                if handle.kind in kinds:
                    return handle.username
        return None

    def reply(self, complaint: Complaint, kind: str) -> ReplyOutcome:
        if complaint.reference is None:
            self.repo.clear_pending(complaint.tweet_id, kind)
            return ReplyOutcome(complaint.tweet_id, kind, "SKIPPED", reason="not a routed complaint")
        now = self.now()
        begun = self.repo.begin(complaint, kind, self.lease_until(), now)
        tries = begun.tries
        if begun.status in SETTLED:
            self.repo.clear_pending(complaint.tweet_id, kind)  # an outbox entry written after the reply settled
            return ReplyOutcome(complaint.tweet_id, kind, str(begun.status), reason=ALREADY_SETTLED)
        handle = self.reply_handle(complaint)
        if begun.claim == Claim.SENT:  # posted and claimed, but not recorded everywhere yet: do it now
            self._replied(complaint, kind, handle or "?", str(begun.reply_id), now)
            return ReplyOutcome(complaint.tweet_id, kind, REPLIED, begun.reply_id, handle, reason=ALREADY_SETTLED)
        if begun.claim == Claim.HELD:
            # Another invocation is posting it; should it have died, the sweep tries again after its lease
            lease_end = datetime.fromtimestamp(begun.lease_until or now.timestamp(), now.tzinfo)
            self.repo.pending(complaint, kind, lease_end, tries, "held by another invocation")
            return ReplyOutcome(complaint.tweet_id, kind, PENDING, handle=handle, reason="held")
        if kind in PROGRESS and complaint.status in (Status.RESOLVED, Status.CLOSED):
            # X refused it until the officer had resolved the complaint: "on the way" after "resolved" is false
            return self._final(complaint, kind, SUPERSEDED, tries, f"the complaint is {complaint.status} now")
        if handle is None:
            return self._final(complaint, kind, NOT_ALLOWED, tries, "no registered handle was mentioned")
        wait_until = self.budget.take(handle, now, complaint.priority == Priority.P1)
        if wait_until is not None:
            return self._later(complaint, kind, wait_until, tries, "rate budget", count=False)
        text = self.compose(complaint, kind)
        try:
            reply_id = self.poster.post_reply(handle, text, complaint.tweet_id)
        except DuplicateContent:
            # Posted before (a crash between posting and recording): find it and record it
            existing = self.poster.find_reply(handle, str(complaint.reference), text)
            if existing is None:
                return self.retry_later(complaint, kind, tries + 1, "duplicate refused but reply not found yet")
            reply_id = existing
        except NotAllowed as exc:
            return self._final(complaint, kind, NOT_ALLOWED, tries + 1, f"not allowed: {exc}"[:200], handle)
        except BadRequest as exc:
            return self._final(complaint, kind, FAILED, tries + 1, f"bad request: {exc}"[:200], handle)
        except CredentialsRejected as exc:
            return self._later(complaint, kind, now + self.credentials_wait, tries + 1, f"credentials: {exc}"[:200])
        except PostRateLimited as exc:
            next_at = datetime.fromtimestamp(exc.reset_at, now.tzinfo) if exc.reset_at else now + self.rate_wait
            return self._later(complaint, kind, next_at, tries, "429", count=False)
        except PostUnavailable as exc:
            return self.retry_later(complaint, kind, tries + 1, str(exc)[:200])
        self._replied(complaint, kind, handle, reply_id, now)
        return ReplyOutcome(complaint.tweet_id, kind, REPLIED, reply_id=reply_id, handle=handle)

    def _replied(self, complaint: Complaint, kind: str, handle: str, reply_id: str, now: datetime) -> None:
        event = Event(
            complaint_id=complaint.tweet_id,
            event_id=f"r-{kind}",
            kind="delivery",
            at=now,
            actor=REPLIER,
            via=Channel.X,
            details={"to": "citizen", "purpose": kind, "handle": handle, "reply_id": reply_id},
        )
        self.repo.replied(complaint, kind, handle, reply_id, now, event)

    def _final(
        self, complaint: Complaint, kind: str, status: str, tries: int, reason: str, handle: str | None = None
    ) -> ReplyOutcome:
        self.repo.final(complaint, kind, status, tries, reason)
        return ReplyOutcome(complaint.tweet_id, kind, status, handle=handle, reason=reason)

    def _later(
        self, complaint: Complaint, kind: str, next_at: datetime, tries: int, reason: str, count: bool = True
    ) -> ReplyOutcome:
        if count and tries >= self.max_attempts:
            return self._final(complaint, kind, FAILED, tries, reason)
        self.repo.pending(complaint, kind, next_at, tries, reason)
        return ReplyOutcome(complaint.tweet_id, kind, PENDING, reason=reason)

    def retry_later(self, complaint: Complaint, kind: str, tries: int, reason: str) -> ReplyOutcome:
        wait = self.retry_base * min(2**tries, 30)
        return self._later(complaint, kind, self.now() + wait, tries, reason)


class ComplaintReader(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...


class PendingReplies(Protocol):
    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]: ...
    def clear_pending(self, tweet_id: str, kind: str) -> None: ...
    def state(self, complaint: Complaint, kind: str) -> tuple[str | None, int]: ...


class FailureQueue(Protocol):
    def send(self, message: dict) -> None: ...


@dataclass
class ReplyDesk:
    """Lifecycle events and the pending sweep in, answers out; a failed answer reported on the failure queue."""

    replier: Replier
    complaints: ComplaintReader
    pending: PendingReplies
    failures: FailureQueue
    log: Callable[[str, dict], None] = lambda message, extra: None

    def on_event(self, event: Event) -> ReplyOutcome | None:
        kind = REPLY_FOR.get(event.action) if event.action else None
        complaint = self.complaints.get(event.complaint_id) if kind else None
        if kind is None or complaint is None:
            return None
        return self._report(complaint, self.replier.reply(complaint, kind))

    def sweep(
        self, limit: int, time_left: Callable[[], float] = lambda: float("inf"), reply_seconds: float = 8.0
    ) -> list[ReplyOutcome]:
        """Retry the replies whose time has come, P1 first. One that raises is pushed back with backoff and
        never blocks the others; none is started with less than ``reply_seconds`` left in the invocation (the
        rest stay due for the next sweep, a minute later)."""
        outcomes = []
        for tweet_id, kind in self.pending.due(self.replier.now(), limit):
            if time_left() < reply_seconds:
                break
            complaint = self.complaints.get(tweet_id)
            if complaint is None:
                self.pending.clear_pending(tweet_id, kind)
                continue
            try:
                outcomes.append(self._report(complaint, self.replier.reply(complaint, kind)))
            except Exception as exc:  # an answer nobody expected: this item waits, the others go on
                _, attempts = self.pending.state(complaint, kind)
                self.log("reply sweep item failed", {"tweet_id": tweet_id, "kind": kind, "error": repr(exc)[:200]})
                outcome = self.replier.retry_later(complaint, kind, attempts + 1, f"unexpected: {exc!r}"[:200])
                outcomes.append(self._report(complaint, outcome))
        return outcomes

    def _report(self, complaint: Complaint, outcome: ReplyOutcome) -> ReplyOutcome:
        if outcome.status == FAILED and outcome.reason != ALREADY_SETTLED:
            self.failures.send(
                {
                    "tweet_id": complaint.tweet_id,
                    "reference": complaint.reference,
                    "kind": outcome.kind,
                    "reason": outcome.reason,
                }
            )
        return outcome

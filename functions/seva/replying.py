"""Answering the citizen on X, exactly once per complaint.

- From the handle the citizen mentioned (a district handle first, else the state handle): X only lets an
  account reply to a tweet that mentions it.
- The text is deterministic and carries the reference, so a retry after a crash between posting and recording
  is refused by X as duplicate content (403); the existing reply is then found and recorded.
- Errors are states: 403 not allowed → REPLY_NOT_ALLOWED (no retry); 429 or no budget left → REPLY_PENDING,
  retried by the scheduled sweep without blocking other complaints; 5xx → bounded retries, then REPLY_FAILED.
- Per-handle budget (100 posts per 15 minutes per user, 10,000 per 24 hours per app) is taken before posting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from seva.registry import HandleRegistry

REPLIED, PENDING, NOT_ALLOWED, FAILED = "REPLIED", "REPLY_PENDING", "REPLY_NOT_ALLOWED", "REPLY_FAILED"
ALREADY_SETTLED = "already settled"


class DuplicateContent(Exception):
    pass


class NotAllowed(Exception):
    pass


class PostRateLimited(Exception):
    def __init__(self, reset_at: int | None):
        super().__init__(f"rate limited until {reset_at}")
        self.reset_at = reset_at


class PostUnavailable(Exception):
    pass


@dataclass(frozen=True)
class ReplyJob:
    tweet_id: str
    reference: str
    priority: str
    language: str
    district: str | None
    district_hindi: str | None
    mentioned_handles: tuple[str, ...]
    reply_status: str | None = None
    reply_attempts: int = 0

    @classmethod
    def from_image(cls, image: dict[str, Any], hindi_name: Callable[[int | None], str | None]) -> ReplyJob:
        from seva.routing import BadRecord

        try:
            code = int(image["district_code"]) if image.get("district_code") is not None else None
            return cls(
                tweet_id=str(image["tweet_id"]),
                reference=str(image["reference"]),
                priority=str(image.get("priority") or "P3"),
                language=str(image.get("language") or "en"),
                district=image.get("district"),
                district_hindi=hindi_name(code),
                mentioned_handles=tuple(image.get("mentioned_handles") or ()),
                reply_status=image.get("reply_status"),
                reply_attempts=int(image.get("reply_attempts") or 0),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRecord(f"routed complaint image incomplete: {exc}") from exc


class Poster(Protocol):
    def post_reply(self, handle: str, text: str, in_reply_to: str) -> str: ...
    def find_reply(self, handle: str, reference: str) -> str | None: ...


class Budget(Protocol):
    def take(self, handle: str, now: datetime) -> datetime | None:
        """None if a post may go now; else when the handle's (or the app's) window has room again."""
        ...


class ReplyRepo(Protocol):
    def reply_status(self, tweet_id: str) -> tuple[str | None, int]: ...
    def mark_replied(self, tweet_id: str, handle: str, reply_id: str, now: datetime) -> None: ...
    def mark_pending(self, tweet_id: str, next_at: datetime, attempts: int, reason: str) -> None: ...
    def mark_final(self, tweet_id: str, status: str, attempts: int, reason: str) -> None: ...
    def clear_pending(self, tweet_id: str) -> None: ...


@dataclass(frozen=True)
class ReplyOutcome:
    tweet_id: str
    status: str
    reply_id: str | None = None
    handle: str | None = None
    reason: str | None = None


@dataclass
class Replier:
    registry: HandleRegistry
    poster: Poster
    budget: Budget
    repo: ReplyRepo
    compose: Callable[[ReplyJob], str]
    now: Callable[[], datetime]
    max_attempts: int = 3
    retry_base: timedelta = timedelta(minutes=1)  # after a 5xx: 2, 4, … of these
    rate_wait: timedelta = timedelta(minutes=15)  # after a 429 without a reset time: X's window

    def reply_handle(self, job: ReplyJob) -> str | None:
        handles = [h for name in job.mentioned_handles if (h := self.registry.get(name))]
        for kinds in (("district", "commissionerate"), ("state",), ("zone", "range", "unit")):
            for handle in handles:
                if handle.kind in kinds:
                    return handle.username
        return None

    def reply(self, job: ReplyJob) -> ReplyOutcome:
        status, attempts = self.repo.reply_status(job.tweet_id)
        if status in (REPLIED, NOT_ALLOWED, FAILED):
            self.repo.clear_pending(job.tweet_id)  # an outbox entry written after the reply settled
            return ReplyOutcome(job.tweet_id, status, reason=ALREADY_SETTLED)
        handle = self.reply_handle(job)
        if handle is None:
            self.repo.mark_final(job.tweet_id, NOT_ALLOWED, attempts, "no registered handle was mentioned")
            return ReplyOutcome(job.tweet_id, NOT_ALLOWED, reason="no handle")
        now = self.now()
        wait_until = self.budget.take(handle, now)
        if wait_until is not None:
            self.repo.mark_pending(job.tweet_id, wait_until, attempts, "rate budget")
            return ReplyOutcome(job.tweet_id, PENDING, handle=handle, reason="rate budget")
        text = self.compose(job)
        try:
            reply_id = self.poster.post_reply(handle, text, job.tweet_id)
        except DuplicateContent:
            # Posted before (a crash between posting and recording): find it and record it.
            existing = self.poster.find_reply(handle, job.reference)
            if existing is None:
                return self._retry_later(job, attempts + 1, "duplicate refused but reply not found yet")
            reply_id = existing
        except NotAllowed as exc:
            self.repo.mark_final(job.tweet_id, NOT_ALLOWED, attempts + 1, str(exc)[:200])
            return ReplyOutcome(job.tweet_id, NOT_ALLOWED, handle=handle, reason="not allowed")
        except PostRateLimited as exc:
            next_at = datetime.fromtimestamp(exc.reset_at, now.tzinfo) if exc.reset_at else now + self.rate_wait
            self.repo.mark_pending(job.tweet_id, next_at, attempts, "429")
            return ReplyOutcome(job.tweet_id, PENDING, handle=handle, reason="429")
        except PostUnavailable as exc:
            return self._retry_later(job, attempts + 1, str(exc)[:200])
        self.repo.mark_replied(job.tweet_id, handle, reply_id, now)
        return ReplyOutcome(job.tweet_id, REPLIED, reply_id=reply_id, handle=handle)

    def _retry_later(self, job: ReplyJob, attempts: int, reason: str) -> ReplyOutcome:
        if attempts >= self.max_attempts:
            self.repo.mark_final(job.tweet_id, FAILED, attempts, reason)
            return ReplyOutcome(job.tweet_id, FAILED, reason=reason)
        self.repo.mark_pending(job.tweet_id, self.now() + self.retry_base * 2**attempts, attempts, reason)
        return ReplyOutcome(job.tweet_id, PENDING, reason=reason)

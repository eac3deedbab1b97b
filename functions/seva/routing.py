"""Routing of a newly stored complaint: thread follow-up, noise, or a routed complaint with a reference.

Pure orchestration over ports; every write is a conditional state transition from ``RECEIVED``, so a
redelivered stream record is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

RECEIVED = "RECEIVED"


class BadRecord(ValueError):
    """A stream record the route function cannot process (goes to the on-failure destination)."""


@dataclass(frozen=True)
class StoredComplaint:
    tweet_id: str
    status: str
    author_id: str | None
    conversation_id: str | None
    tweet: dict[str, Any]
    author: dict[str, Any] | None
    place: dict[str, Any] | None

    @classmethod
    def from_image(cls, image: dict[str, Any]) -> StoredComplaint:
        """From a stream NewImage (already deserialised from DynamoDB JSON)."""
        import json

        tweet_id = image.get("tweet_id")
        if not isinstance(tweet_id, str) or not tweet_id.isdigit():
            raise BadRecord(f"complaint image without a valid tweet_id: {str(tweet_id)[:40]!r}")
        raw = image.get("raw")
        try:
            payload = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError as exc:
            raise BadRecord(f"tweet {tweet_id}: raw is not JSON") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("tweet"), dict):
            raise BadRecord(f"tweet {tweet_id}: raw has no tweet object")
        return cls(
            tweet_id=tweet_id,
            status=str(image.get("status") or ""),
            author_id=image.get("author_id"),
            conversation_id=image.get("conversation_id"),
            tweet=payload["tweet"],
            author=payload.get("author") if isinstance(payload.get("author"), dict) else None,
            place=payload.get("place") if isinstance(payload.get("place"), dict) else None,
        )


@dataclass(frozen=True)
class RouteOutcome:
    tweet_id: str
    status: str  # ROUTED | NOISE | ATTACHED | SKIPPED
    reference: str | None = None
    district: str | None = None
    category: str | None = None
    priority: str | None = None
    parent_tweet_id: str | None = None


class RoutingRepo(Protocol):
    def status(self, tweet_id: str) -> str | None: ...
    def find_open_complaint(self, conversation_id: str, author_id: str, exclude: str) -> Any: ...
    def attach_update(self, parent_id: str, child_id: str, text: str, now: datetime) -> None: ...
    def mark_attached(self, tweet_id: str, parent_id: str, now: datetime) -> bool: ...
    def mark_noise(self, tweet_id: str, triage: dict, now: datetime) -> bool: ...
    def mark_routed(self, tweet_id: str, triage: dict, reference: str, sla_due: datetime, now: datetime) -> bool: ...


class Counter(Protocol):
    def next(self, scope: str) -> int: ...


@dataclass
class Router:
    repo: RoutingRepo
    counter: Counter
    classify: Callable[[dict, dict | None, dict | None], Any]  # -> Triage
    abbreviation: Callable[[int | None], str]  # LGD code -> district abbreviation, None -> "HQ"
    sla_minutes: Callable[[str], int]
    now: Callable[[], datetime]
    prefix: str = "UP"

    def route(self, complaint: StoredComplaint) -> RouteOutcome:
        # The image says RECEIVED even on redelivery: the table says whether it was already handled.
        if complaint.status != RECEIVED or self.repo.status(complaint.tweet_id) != RECEIVED:
            return RouteOutcome(complaint.tweet_id, "SKIPPED")
        now = self.now()
        parent = self._open_parent(complaint)
        if parent is not None:
            text = str(complaint.tweet.get("text") or "")
            self.repo.attach_update(parent.tweet_id, complaint.tweet_id, text, now)
            self.repo.mark_attached(complaint.tweet_id, parent.tweet_id, now)
            return RouteOutcome(complaint.tweet_id, "ATTACHED", parent_tweet_id=parent.tweet_id)
        triage = self.classify(complaint.tweet, complaint.author, complaint.place)
        result = triage.as_dict()
        if not triage.is_complaint:
            self.repo.mark_noise(complaint.tweet_id, result, now)
            return RouteOutcome(complaint.tweet_id, "NOISE", category=triage.category)
        priority = triage.priority or "P3"
        abbr = self.abbreviation(triage.district_code)
        reference = f"{self.prefix}-{abbr}-{now.year}-{self.counter.next(f'{abbr}#{now.year}'):06d}"
        due = now + timedelta(minutes=self.sla_minutes(priority))
        if not self.repo.mark_routed(complaint.tweet_id, result, reference, due, now):
            return RouteOutcome(complaint.tweet_id, "SKIPPED")  # a concurrent delivery won
        return RouteOutcome(complaint.tweet_id, "ROUTED", reference, triage.district, triage.category, priority)

    def _open_parent(self, complaint: StoredComplaint) -> Any:
        conversation = complaint.conversation_id
        if not conversation or conversation == complaint.tweet_id or not complaint.author_id:
            return None
        replied_to = [r for r in complaint.tweet.get("referenced_tweets") or [] if isinstance(r, dict)]
        if replied_to and not any(r.get("type") == "replied_to" for r in replied_to):
            return None  # a quote, not a reply in the thread
        return self.repo.find_open_complaint(conversation, complaint.author_id, exclude=complaint.tweet_id)

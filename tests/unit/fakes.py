"""In-memory fakes of the ports (the same contracts as the DynamoDB, SNS and X adapters)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from seva.lifecycle import (
    OPEN,
    Action,
    Actor,
    Change,
    Channel,
    Complaint,
    Event,
    Priority,
    Status,
    TransitionRefused,
    target,
)
from seva.notify import Claim, ClaimResult, GuardDecision, SendFailed, admit
from seva.officers import Officer
from seva.sla import DEFAULT_POLICY, SlaPolicy

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def complaint(
    tweet_id: str = "1001",
    *,
    status: Status = Status.ROUTED,
    priority: Priority | None = Priority.P2,
    category: str = "theft",
    district_code: int | None = 162,
    author: str = "citizen",
    text: str = "मेरी बाइक चोरी हो गई, call 9876543210 http://t.co/x",
    tweeted: datetime = NOW,
    conversation: str | None = None,
    handles: tuple[str, ...] = ("lucknowpolice",),
    language: str = "en",
    **extra: Any,
) -> Complaint:
    routed = status not in (Status.RECEIVED, Status.NOISE, Status.ATTACHED)
    return Complaint(
        tweet_id=tweet_id,
        status=status,
        text=text,
        author_id=author,
        author_username=author,
        conversation_id=conversation or tweet_id,
        mentioned_handles=handles,
        tweet_created_at=tweeted,
        ingested_at=tweeted,
        tweet={"id": tweet_id, "text": text, "conversation_id": conversation or tweet_id, **extra.pop("tweet", {})},
        author={"id": author, "username": author, "name": author},
        reference=f"UP-LKO-2026-{int(tweet_id) % 10**6:06d}" if routed else None,
        priority=priority if routed else None,
        category=category if routed else None,  # type: ignore[arg-type]
        district_code=district_code if routed else None,
        district="Lucknow" if routed and district_code == 162 else None,
        language=language,
        routed_at=tweeted if routed else None,
        ack_due_at=tweeted + timedelta(minutes=15) if routed else None,
        resolve_due_at=tweeted + timedelta(hours=4) if routed else None,
        **extra,
    )


def officers() -> list[Officer]:
    return [
        Officer(
            district="162",
            officer_id="lko-cr",
            name="Control Room",
            role="control_room",
            phone="+447700900001",
            email="cr@example.org",
            language="hi",
            priorities=("P1",),
        ),
        Officer(
            district="162",
            officer_id="lko-sp",
            name="SP",
            role="sp",
            phone="+447700900002",
            email="sp@example.org",
            language="en",
        ),
        Officer(district="HQ", officer_id="hq", name="HQ", role="hq_cell", phone="+447700900003"),
    ]


@dataclass
class Complaints:
    """The complaints table and its audit trail, with the same all-or-nothing, conditional transitions."""

    items: dict[str, Complaint] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    outbox: list[Any] = field(default_factory=list)
    notified: dict[str, tuple[datetime, list[str]]] = field(default_factory=dict)
    fail_next_write: bool = False
    sla: SlaPolicy = field(default_factory=lambda: DEFAULT_POLICY)
    retimed: list[str] = field(default_factory=list)

    def put(self, *complaints: Complaint) -> None:
        for c in complaints:
            self.items[c.tweet_id] = c

    def get(self, tweet_id: str) -> Complaint | None:
        return self.items.get(tweet_id)

    def in_conversation(self, conversation_id: str, author_id: str) -> list[Complaint]:
        found = [c for c in self.items.values() if c.conversation_id == conversation_id and c.author_id == author_id]
        return sorted(found, key=lambda c: c.tweet_created_at)

    def write(self, changes: list[Change], *, actor: Actor, via: Channel, now: datetime, outbox: list) -> list[Event]:
        staged: dict[str, Complaint] = {}
        events = []
        for n, change in enumerate(changes):
            current = self.items[change.complaint.tweet_id]
            if current.status != change.complaint.status or current.version != change.complaint.version:
                raise TransitionRefused(change.action, current.status, "changed since it was read")
            fields = {
                k: v
                for k, v in change.changes.items()
                if k not in ("is_complaint", "review_reason", "confidence", "in_reply_to_user_id")
            }
            if "priority" in fields and fields["priority"] is not None:
                fields["priority"] = Priority(fields["priority"])
            after = replace(
                current, status=target(change.action, current.status), version=current.version + 1, **fields
            )
            clocks = {k: v for k, v in self.sla.on_transition(current, after, change.action, now).items()}
            after = replace(after, **{**clocks, **fields})
            staged[after.tweet_id] = after
            events.append(
                Event(
                    complaint_id=after.tweet_id,
                    event_id=f"e{len(self.events) + n}",
                    kind="transition",
                    at=now,
                    actor=actor,
                    via=via,
                    action=change.action,
                    from_status=current.status,
                    to_status=after.status,
                    priority=after.priority,
                    district_code=after.district_code,
                    details=change.details,
                )
            )
        if self.fail_next_write:
            self.fail_next_write = False
            raise ConnectionError("the write failed")
        self.items.update(staged)
        self.events += events
        self.outbox += outbox
        return events

    def apply(
        self,
        complaint: Complaint,
        action: Action,
        *,
        actor: Actor,
        via: Channel,
        now: datetime,
        changes: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> tuple[Complaint, Event]:
        (event,) = self.write(
            [Change(complaint, action, changes or {}, details or {})], actor=actor, via=via, now=now, outbox=[]
        )
        return self.items[complaint.tweet_id], event

    def due(self, now: datetime, limit: int = 500) -> list[str]:
        """As the due-time index answers: every complaint whose running clock fires by now, P1 first."""
        due = [
            (str(c.priority), clock.due_at, c.tweet_id)
            for c in self.items.values()
            if (clock := self.sla.next_clock(c))
        ]
        return [tweet_id for _, at, tweet_id in sorted(due) if at <= now][:limit]

    def get_many(self, tweet_ids: list[str]) -> list[Complaint]:
        return [self.items[i] for i in tweet_ids if i in self.items]

    def retime(self, complaint: Complaint) -> None:
        self.retimed.append(complaint.tweet_id)

    def reply_outbox(self, complaint: Complaint, due: datetime) -> Any:
        return ("reply", complaint.tweet_id, due)

    def by_author(self, author_id: str) -> list[Complaint]:
        return [c for c in self.items.values() if c.author_id == author_id]

    def record(self, event: Event) -> bool:
        if any(e.complaint_id == event.complaint_id and e.event_id == event.event_id for e in self.events):
            return False
        self.events.append(event)
        return True

    def set_notified(self, tweet_id: str, now: datetime, failed: list[str]) -> None:
        self.notified[tweet_id] = (now, failed)

    def trail(self, tweet_id: str) -> list[Event]:
        return [e for e in self.events if e.complaint_id == tweet_id]

    def by_reference(self, reference: str) -> Complaint | None:
        return next((c for c in self.items.values() if c.reference == reference), None)

    def queue(self, district_key: str, limit: int = 200) -> list[Complaint]:
        """A district's open complaints, P1 first, then by deadline (as the by_queue index orders them)."""
        found = [c for c in self.items.values() if c.is_open and c.district_key == district_key]
        return sorted(found, key=lambda c: (str(c.priority), c.due_at or NOW))[:limit]


@dataclass
class Leases:
    """The ledger: a lease per piece of outbound work, as DynamoLeases keeps it."""

    max_attempts: int = 5
    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def claim(self, complaint_id: str, key: str, lease_until: float, now: datetime) -> ClaimResult:
        item = self.items.get((complaint_id, key))
        free = (
            item is None or item["state"] == "RETRY" or (item["state"] == "SENDING" and item["lease"] < now.timestamp())
        )
        if free:
            attempts = (item or {}).get("attempts", 0) + 1
            self.items[(complaint_id, key)] = {"state": "SENDING", "lease": lease_until, "attempts": attempts}
            return ClaimResult(Claim.GRANTED)
        assert item is not None
        if item["state"] == "SENT":
            return ClaimResult(Claim.SENT, item["message_id"], item["sent_at"])
        if item["state"] == "FAILED":
            return ClaimResult(Claim.FAILED)
        return ClaimResult(Claim.HELD, lease_until=item["lease"])

    audit: list[Event] = field(default_factory=list)

    def complete(self, complaint_id: str, key: str, message_id: str, now: datetime, event: Event) -> None:
        self.items[(complaint_id, key)].update(state="SENT", message_id=message_id, sent_at=now)
        self.audit.append(event)

    def release(self, complaint_id: str, key: str, error: str, final: bool, now: datetime) -> bool:
        item = self.items[(complaint_id, key)]
        final = final or item["attempts"] >= self.max_attempts
        item.update(state="FAILED" if final else "RETRY", error=error)
        return final

    def told(self, complaint_id: str, purpose: str) -> set[str]:
        return {
            k.split("#")[1]
            for (c, k), v in self.items.items()
            if c == complaint_id and k.startswith(f"{purpose}#") and v["state"] == "SENT"
        }


@dataclass
class Guard:
    """The SMS guard's book per citizen, deciding with the real rule (``seva.notify.admit``)."""

    books: dict[str, dict] = field(default_factory=dict)

    def decide(
        self, author_id: str, tweet_id: str, tweeted_at: datetime, priority: str, limit: int, officers: Sequence[str]
    ) -> GuardDecision:
        book = copy.deepcopy(self.books.get(author_id, {}))
        decision, _ = admit(book, tweet_id, tweeted_at.timestamp(), priority, limit, officers)
        self.books[author_id] = book
        return decision


class Crash(BaseException):
    """The process dies (not an Exception: nothing in the code under test may catch it)."""


@dataclass
class Sender:
    """SNS: records what it accepted; fails or crashes on request."""

    fail: dict[int, Exception] = field(default_factory=dict)  # send number -> error raised instead of sending
    crash_after: int | None = None  # the process dies right after SNS accepted this send
    on_send: Callable[[], None] = lambda: None  # e.g. a clock advancing: the time a publish takes
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    calls: int = 0

    def _send(self, kind: str, to: str, body: str) -> str:
        self.calls += 1
        self.on_send()
        if self.calls in self.fail:
            raise self.fail[self.calls]
        self.sent.append((kind, to, body))
        if self.crash_after is not None and len(self.sent) == self.crash_after:
            raise Crash
        return f"msg-{len(self.sent)}"

    def sms(self, phone: str, body: str, template_id: str, entity_id: str, sender_id: str) -> str:
        assert template_id and entity_id and sender_id
        return self._send("sms", phone, body)

    def email(self, officer: Officer, subject: str, body: str, attributes: dict[str, str]) -> str:
        return self._send("email", officer.officer_id, body)

    def sos(self, payload: dict[str, Any]) -> str:
        return self._send("sos", "topic", str(payload["reference"]))


def throttled() -> SendFailed:
    return SendFailed("SNS Throttling")


@dataclass
class Directory:
    people: list[Officer] = field(default_factory=officers)

    def for_district(self, district: str) -> list[Officer]:
        return [o for o in self.people if o.district == district]


@dataclass
class FailureQueue:
    messages: list[dict] = field(default_factory=list)

    def send(self, message: dict) -> None:
        self.messages.append(message)


def open_statuses() -> list[Status]:
    return sorted(OPEN)


__all__ = ["NOW", "Action", "Clock", "Complaints", "Crash", "Directory", "Guard", "Leases", "Sender", "complaint"]

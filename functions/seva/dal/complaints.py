"""Complaint items: the poller's conditional create (never twice), reads into the one ``Complaint`` shape, and
the one transition operation: a lifecycle action applied with a conditional write that appends its audit event
in the same transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from seva.dal.models import (
    AuditModel,
    ComplaintModel,
    StateModel,
    audit_model,
    complaint_model,
    shared_connection,
    state_model,
)
from seva.errors import BadRecord
from seva.lifecycle import (
    OPEN,
    Action,
    Actor,
    Category,
    Change,
    Channel,
    Complaint,
    Event,
    Priority,
    Status,
    TransitionRefused,
    target,
)
from seva.retention import Retention
from seva.sla import DEFAULT_POLICY, SlaPolicy
from seva.tweets import TweetEnvelope, full_text, minimal_author, parse_created_at

# The due-time index has a partition per priority, read P1 first: however many routine clocks fall due in a
# minute, no P1 waits behind them (a few thousand running clocks, read once a minute)
CLOCK_PRIORITIES = ("P1", "P2", "P3")
LEGACY_CLOCK_KEY = "SLA"  # the one partition of releases before 2026-12 (read last until its clocks have moved)


def clock_key(priority: Any) -> str:
    return f"SLA#{priority or 'P3'}"


# Fields a transition may set on the complaint (whatever else it is asked to set is a bug)
SETTABLE = frozenset(
    {
        "is_complaint",
        "district_code",
        "district",
        "locality",
        "category",
        "priority",
        "language",
        "evidence",
        "needs_review",
        "review_reason",
        "confidence",
        "reference",
        "routed_at",
        "ack_due_at",
        "resolve_due_at",
        "parent_tweet_id",
        "acknowledged_at",
        "acknowledged_by",
        "on_the_way_at",
        "resolved_at",
        "reopened_at",
        "closed_at",
        "first_response_at",
        "first_response_by",
        # an edit of the post (its new text and payload) and an erasure (personal data removed)
        "text",
        "tweet",
        "author",
        "place",
        "author_id",
        "author_username",
        "in_reply_to_user_id",
        "erased_at",
        "escalation_level",
        "satisfaction",
        "resolution_note",
    }
)
RAW = ("tweet", "author", "place")  # stored together in ``raw``
RAW_CHANGED = frozenset(RAW)
MAX_FOLLOWERS = 90  # attached items updated with their complaint's expiry (a transaction holds 100 writes)


def to_complaint(item: ComplaintModel) -> Complaint:
    raw = item.raw if isinstance(item.raw, dict) else {}
    return Complaint(
        tweet_id=item.tweet_id,
        status=Status(item.status),
        text=item.text,
        author_id=item.author_id,
        author_username=item.author_username,
        conversation_id=item.conversation_id,
        mentioned_handles=tuple(item.mentioned_handles or ()),
        tweet_created_at=item.tweet_created_at,
        ingested_at=item.ingested_at,
        tweet=tweet if isinstance(tweet := raw.get("tweet"), dict) else {},
        author=raw.get("author") if isinstance(raw.get("author"), dict) else None,
        place=raw.get("place") if isinstance(raw.get("place"), dict) else None,
        reference=item.reference,
        priority=Priority(item.priority) if item.priority else None,
        category=Category.parse(item.category) if item.category else None,
        district_code=int(item.district_code) if item.district_code is not None else None,
        district=item.district,
        locality=item.locality,
        language=item.language,
        evidence=list(item.evidence or []),
        routed_at=item.routed_at,
        ack_due_at=item.ack_due_at,
        resolve_due_at=item.resolve_due_at,
        parent_tweet_id=item.parent_tweet_id,
        acknowledged_at=item.acknowledged_at,
        acknowledged_by=item.acknowledged_by,
        on_the_way_at=item.on_the_way_at,
        resolved_at=item.resolved_at,
        reopened_at=item.reopened_at,
        closed_at=item.closed_at,
        first_response_at=item.first_response_at,
        first_response_by=item.first_response_by,
        erased_at=item.erased_at,
        escalation_level=int(item.escalation_level or 0),
        satisfaction=int(item.satisfaction) if item.satisfaction is not None else None,
        reply_handle=item.reply_handle,
        resolution_note=item.resolution_note,
        needs_review=bool(item.needs_review),
        review_reason=item.review_reason,
        confidence=float(item.confidence) if item.confidence is not None else None,
        version=int(item.version or 0),
    )


def event_from_message(body: str) -> Event:
    """A lifecycle event as the lanes deliver it: an EventBridge event (from the pipe) whose detail is the
    audit table's stream record."""
    try:
        image = json.loads(body)["detail"]["dynamodb"]["NewImage"]
        return to_event(AuditModel.from_raw_data(image))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadRecord(f"not a lifecycle event: {exc!r}"[:200]) from exc


def to_event(item: AuditModel) -> Event:
    return Event(
        complaint_id=item.complaint_id,
        event_id=item.event_id,
        kind=item.kind,
        at=item.at,
        actor=Actor(kind=item.actor_kind, id=item.actor_id),  # type: ignore[arg-type]
        via=Channel(item.via),
        action=Action(item.action) if item.action else None,
        from_status=Status(item.from_status) if item.from_status else None,
        to_status=Status(item.to_status) if item.to_status else None,
        priority=Priority(item.priority) if item.priority else None,
        district_code=int(item.district_code) if item.district_code is not None else None,
        details=dict(item.details or {}),
    )


class DynamoComplaintStore:
    """The poller's side: store a new tweet once."""

    def __init__(self, table_name: str, region: str):
        self.model = complaint_model(table_name, region)

    def add(self, envelope: TweetEnvelope, registered_mentions: list[str], now: datetime) -> bool:
        tweet = envelope.tweet
        created = parse_created_at(tweet.get("created_at")) or now
        item = self.model(
            tweet_id=envelope.id,
            status=Status.RECEIVED,
            version=0,
            text=full_text(tweet),  # a long post's whole text (note_tweet), not its first 280 characters
            lang=tweet.get("lang"),
            author_id=tweet.get("author_id"),
            author_username=envelope.author_username,
            conversation_id=tweet.get("conversation_id") or envelope.id,
            in_reply_to_user_id=tweet.get("in_reply_to_user_id"),
            mentioned_handles=registered_mentions,
            tweet_created_at=created,
            ingested_at=now,
            raw={"tweet": tweet, "author": minimal_author(envelope.author), "place": envelope.place},
        )
        try:
            item.save(condition=self.model.tweet_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


class DynamoComplaints:
    """Reads into ``Complaint`` and the one way a complaint changes: ``apply``."""

    def __init__(
        self,
        table_name: str,
        audit_table: str,
        region: str,
        state_table: str | None = None,
        sla: SlaPolicy | None = None,
        *,
        retention: Retention | None = None,
    ):
        self.sla = sla or DEFAULT_POLICY
        self.retention = retention or Retention()
        self.model = complaint_model(table_name, region)
        self.audit = audit_model(audit_table, region)
        self.state: type[StateModel] | None = state_model(state_table, region) if state_table else None
        self.region = region

    def get(self, tweet_id: str) -> Complaint | None:
        try:
            return to_complaint(self.model.get(tweet_id, consistent_read=True))
        except self.model.DoesNotExist:
            return None

    def by_reference(self, reference: str) -> Complaint | None:
        for item in self.model.by_reference.query(reference, limit=1):
            return to_complaint(item)
        return None

    def in_conversation(self, conversation_id: str, author_id: str) -> list[Complaint]:
        """The author's items in a conversation, oldest first."""
        m = self.model
        return [
            to_complaint(i) for i in m.by_conversation.query(conversation_id, filter_condition=m.author_id == author_id)
        ]

    def queue(self, district_key: str, limit: int = 200) -> list[Complaint]:
        """A district's open complaints, P1 first, then by deadline."""
        return [to_complaint(i) for i in self.model.by_queue.query(f"{district_key}#OPEN", limit=limit)]

    def in_status(
        self, status: Status, since: datetime | None = None, until: datetime | None = None, limit: int = 500
    ) -> list[Complaint]:
        """Complaints in one state that came in between ``since`` and ``until``, newest first (``by_status``)."""
        m = self.model
        condition: Any = None
        if since is not None and until is not None:
            condition = m.ingested_at.between(since, until)
        elif since is not None:
            condition = m.ingested_at >= since
        elif until is not None:
            condition = m.ingested_at <= until
        items = m.by_status.query(str(status), condition, scan_index_forward=False, limit=limit)
        return [to_complaint(i) for i in items]

    def events(self, tweet_id: str) -> list[Event]:
        """The complaint's audit trail, in time order."""
        return [to_event(i) for i in self.audit.query(tweet_id, consistent_read=True)]

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
        """Apply one action to the complaint as read; the complaint after it and its audit event."""
        (event,) = self.write([Change(complaint, action, changes or {}, details or {})], actor=actor, via=via, now=now)
        return _after(complaint, action, changes or {}), event

    def write(
        self,
        changes: list[Change],
        *,
        actor: Actor,
        via: Channel,
        now: datetime,
        outbox: list[StateModel] | None = None,
    ) -> list[Event]:
        """Apply each action to its complaint as read (its status and version): the new states, the changed
        fields and the audit events are written together, or not at all. Raises ``TransitionRefused`` when an
        action is not allowed from its complaint's state, or a complaint changed since it was read (read it
        again and decide again)."""
        events = []
        with_condition: list[tuple[Any, list[Any], Any]] = []
        m = self.model
        in_batch = {c.complaint.tweet_id for c in changes}
        expiry: dict[str, int | None] = {}  # items whose expiry this batch sets (or lifts)
        followers: list[tuple[Any, list[Any]]] = []  # attached items following their complaint's expiry
        for change in changes:
            complaint, fields = change.complaint, dict(change.changes)
            unknown = set(fields) - SETTABLE
            if unknown:
                raise ValueError(f"not settable by a transition: {sorted(unknown)}")
            after = _after(complaint, change.action, fields)
            # the clocks move with the state, in the same write (seva.sla)
            fields = {**self.sla.on_transition(complaint, after, change.action, now), **fields}
            after = _after(complaint, change.action, fields)
            clock = self.sla.next_clock(after)
            events.append(
                Event(
                    complaint_id=complaint.tweet_id,
                    event_id=uuid.uuid4().hex[:12],
                    kind="transition",
                    at=now,
                    actor=actor,
                    via=via,
                    action=change.action,
                    from_status=complaint.status,
                    to_status=after.status,
                    priority=after.priority,
                    district_code=after.district_code,
                    details=change.details,
                )
            )
            actions: list[Any] = [m.status.set(str(after.status)), m.version.set(after.version)]
            for name, value in fields.items():
                if name in RAW:
                    continue
                attribute = getattr(m, name)
                actions.append(attribute.remove() if value is None else attribute.set(_stored(value)))
            if RAW_CHANGED.intersection(fields):
                actions.append(m.raw.set({k: getattr(after, k) for k in RAW}))
            if change.action == Action.ATTACH and fields.get("parent_tweet_id"):
                # An attached item (a follow-up, an edited version, a police post) lives as long as its complaint
                parent = str(fields["parent_tweet_id"])
                expiry[complaint.tweet_id] = expiry[parent] if parent in expiry else self._expiry_of(parent)
            elif after.status != complaint.status:
                expires = self.retention.expires_at(after.status, now)
                expiry[complaint.tweet_id] = int(expires.timestamp()) if expires else None
                was = self.retention.expires_at(complaint.status, now)
                if complaint.status != Status.RECEIVED and (was is not None or expires is not None):
                    value = expiry[complaint.tweet_id]
                    followers += [
                        (m(i), [m.expires_at.set(value) if value else m.expires_at.remove()])
                        for i in self._attached_ids(complaint)
                        if i not in in_batch
                    ]
            if complaint.tweet_id in expiry:
                value = expiry[complaint.tweet_id]
                actions.append(m.expires_at.set(value) if value else m.expires_at.remove())
            if clock is not None:
                actions += [m.clock_key.set(clock_key(after.priority)), m.clock_due_at.set(clock.due_at)]
            elif complaint.status in OPEN or complaint.status == Status.RESOLVED:
                actions += [m.clock_key.remove(), m.clock_due_at.remove()]
            if after.status in OPEN:
                actions += [m.queue.set(f"{after.district_key}#OPEN"), m.queue_sort.set(_queue_sort(after))]
            elif complaint.status in OPEN:
                actions += [m.queue.remove(), m.queue_sort.remove()]
            version = (
                (m.version == complaint.version)
                if complaint.version
                else (m.version.does_not_exist() | (m.version == 0))
            )
            with_condition.append((m(complaint.tweet_id), actions, (m.status == str(complaint.status)) & version))
        try:
            with TransactWrite(connection=shared_connection(self.region)) as tx:
                for item, actions, condition in with_condition:
                    tx.update(item, actions=actions, condition=condition)
                for item, actions in followers:
                    tx.update(item, actions=actions, condition=m.tweet_id.exists())
                for event in events:
                    tx.save(self._audit_item(event), condition=self.audit.complaint_id.does_not_exist())
                for extra in outbox or ():
                    tx.save(extra)
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
            if "ConditionalCheckFailed" in reasons:
                first = changes[0]
                raise TransitionRefused(first.action, first.complaint.status, "changed since it was read") from exc
            raise
        return events

    def _expiry_of(self, tweet_id: str) -> int | None:
        try:
            item = self.model.get(tweet_id, consistent_read=True, attributes_to_get=["expires_at"])
        except self.model.DoesNotExist:
            return None
        return int(item.expires_at) if item.expires_at is not None else None

    def _attached_ids(self, complaint: Complaint) -> list[str]:
        """The items attached to a complaint (its thread's follow-ups, edited versions, police posts)."""
        m = self.model
        conversation = complaint.conversation_id or complaint.tweet_id
        found = m.by_conversation.query(conversation, filter_condition=m.parent_tweet_id == complaint.tweet_id)
        return [i.tweet_id for i in found][:MAX_FOLLOWERS]

    def due(self, now: datetime, limit: int = 500) -> list[str]:
        """Complaints whose clock is due, P1 first, then by due time (the sparse due-time index; eventually
        consistent: read each again)."""
        m, found = self.model, list[str]()
        for key in (*map(clock_key, CLOCK_PRIORITIES), LEGACY_CLOCK_KEY):
            if len(found) < limit:
                found += [i.tweet_id for i in m.by_clock.query(key, m.clock_due_at <= now, limit=limit - len(found))]
        return found

    def retime(self, complaint: Complaint) -> None:
        """Put the index entry right for the complaint as read (a clock written by an older version)."""
        m, clock = self.model, self.sla.next_clock(complaint)
        actions: list[Any] = (
            [m.clock_key.set(clock_key(complaint.priority)), m.clock_due_at.set(clock.due_at)]
            if clock
            else [m.clock_key.remove(), m.clock_due_at.remove()]
        )
        with suppress(UpdateError):  # changed meanwhile: the change wrote its own clock
            m(complaint.tweet_id).update(actions=actions, condition=m.version == complaint.version)

    def reply_outbox(self, complaint: Complaint, due: datetime) -> StateModel:
        """The reply sweep's entry for a complaint's first answer (``seva.dal.replies`` works it off)."""
        from seva.dal.replies import PENDING_PK

        assert self.state is not None, "no state table bound"
        return self.state(PENDING_PK, f"{complaint.tweet_id}#ack", next_at=int(due.timestamp()))

    def record(self, event: Event) -> bool:
        """Append an event that is not a state change (a delivery). Idempotent for a deterministic event id."""
        try:
            self._audit_item(event).save(condition=self.audit.complaint_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _audit_item(self, event: Event) -> AuditModel:
        return self.audit(
            event.complaint_id,
            event.sort_key,
            event_id=event.event_id,
            kind=event.kind,
            at=event.at,
            actor_kind=str(event.actor.kind),
            actor_id=event.actor.id,
            via=str(event.via),
            action=str(event.action) if event.action else None,
            from_status=str(event.from_status) if event.from_status else None,
            to_status=str(event.to_status) if event.to_status else None,
            priority=str(event.priority) if event.priority else None,
            district_code=event.district_code,
            details=event.details or None,
        )

    def set_notified(self, tweet_id: str, now: datetime, failed: list[str]) -> None:
        """Notify's outcome on the complaint (its copy; the audit trail and the ledger are the record)."""
        m = self.model
        actions: list[Any] = [m.notified_at.set(now)] if not failed else [m.notify_failed.set(sorted(failed))]
        m(tweet_id).update(actions=actions)

    def by_author(self, author_id: str) -> Iterator[Complaint]:
        """Every item of one author (a scan: for the erasure tool, never in a handler)."""
        for item in self.model.scan(filter_condition=self.model.author_id == author_id):
            yield to_complaint(item)

    def unerased(self, statuses: frozenset[Status]) -> Iterator[Complaint]:
        """Items in these states that still hold the citizen's words (a scan: tools only, never a handler)."""
        m = self.model
        condition = m.status.is_in(*[str(s) for s in statuses]) & m.erased_at.does_not_exist()
        for item in m.scan(filter_condition=condition):
            yield to_complaint(item)

    def scan_all(self) -> Iterator[Complaint]:  # for tools and tests only, never in a handler
        for item in self.model.scan():
            yield to_complaint(item)


def _after(complaint: Complaint, action: Action, fields: dict[str, Any]) -> Complaint:
    """The complaint as it will be once ``action`` with ``fields`` is applied (raises if not allowed)."""
    return replace(complaint, status=target(action, complaint.status), version=complaint.version + 1, **_domain(fields))


def _queue_sort(complaint: Complaint) -> str:
    due = complaint.due_at or complaint.ack_due_at or complaint.routed_at or complaint.ingested_at
    return f"{complaint.priority or 'P3'}#{due.astimezone(UTC).isoformat(timespec='seconds')}"


def _stored(value: Any) -> Any:
    if isinstance(value, Priority | Category | Status):
        return str(value)
    return value


def _domain(changes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in changes.items():
        if name == "priority" and value is not None:
            value = Priority(value)
        elif name == "category" and value is not None:
            value = Category.parse(value)
        elif name in ("is_complaint", "review_reason", "confidence", "in_reply_to_user_id"):
            continue  # not part of the domain shape
        out[name] = value
    return out

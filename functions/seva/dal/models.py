"""PynamoDB models. Table names come from settings at invoke time, so models are bound per table name."""

from __future__ import annotations

import os
from contextlib import suppress
from functools import cache
from typing import TypeVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model as _PynamoModel


def shared_connection(region: str | None) -> Connection:
    """One DynamoDB client per region (and endpoint) for every table: PynamoDB makes one per model class
    otherwise, each a botocore client, ~0.1 s of a cold start."""
    return _connection(region, os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _connection(region: str | None, endpoint: str | None) -> Connection:
    return Connection(region=region)


class Model(_PynamoModel):
    """A PynamoDB model whose tables share one connection."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        shared = shared_connection(getattr(cls.Meta, "region", None))
        fresh = cls._connection is None or cls._connection.table_name != cls.Meta.table_name
        fresh = fresh or cls._connection.connection is not shared  # type: ignore[union-attr]
        if fresh:
            cls._connection = None
        table = super()._get_connection()
        if fresh:
            with suppress(ValueError):  # models sharing a table share its key schema: the first one's will do
                shared.add_meta_table(table.connection.get_meta_table(cls.Meta.table_name))
            table.connection = shared
        return table


class ByConversation(GlobalSecondaryIndex["ComplaintModel"]):
    class Meta:
        index_name = "by_conversation"
        projection = AllProjection()

    conversation_id = UnicodeAttribute(hash_key=True)
    tweet_created_at = UTCDateTimeAttribute(range_key=True)


class ByQueue(GlobalSecondaryIndex["ComplaintModel"]):
    """Open complaints of a district (``queue`` = "<district>#OPEN"), most urgent first."""

    class Meta:
        index_name = "by_queue"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    queue_sort = UnicodeAttribute(range_key=True)


class ByReference(GlobalSecondaryIndex["ComplaintModel"]):
    class Meta:
        index_name = "by_reference"
        projection = AllProjection()

    reference = UnicodeAttribute(hash_key=True)


class ByStatus(GlobalSecondaryIndex["ComplaintModel"]):
    """Every complaint by state, in the order it came in (the state cell's queue, the review queue, exports)."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    ingested_at = UTCDateTimeAttribute(range_key=True)


class ByClock(GlobalSecondaryIndex["ComplaintModel"]):
    """Sparse due-time index: complaints whose SLA clock runs (``clock_key`` set), by when it next fires. Keys
    only: the clock function reads each complaint consistently before acting on it."""

    class Meta:
        index_name = "by_clock"
        projection = KeysOnlyProjection()

    clock_key = UnicodeAttribute(hash_key=True)
    clock_due_at = UTCDateTimeAttribute(range_key=True)


class ComplaintModel(Model):
    """One item per ingested tweet. The key is the tweet id, so a tweet can never be stored twice. Its state
    changes only through ``DynamoComplaints.apply`` (a lifecycle transition and its audit event)."""

    class Meta:
        table_name = "unbound"

    tweet_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()  # seva.lifecycle.Status
    version = NumberAttribute(default=0)  # every transition increments it (optimistic concurrency)
    text = UnicodeAttribute()
    lang = UnicodeAttribute(null=True)
    author_id = UnicodeAttribute(null=True)
    author_username = UnicodeAttribute(null=True)
    conversation_id = UnicodeAttribute(null=True)
    in_reply_to_user_id = UnicodeAttribute(null=True)
    mentioned_handles = ListAttribute[str]()  # registered handles, registry spelling
    tweet_created_at = UTCDateTimeAttribute()
    ingested_at = UTCDateTimeAttribute()
    raw = JSONAttribute()  # {"tweet", "author", "place"} exactly as X returned them
    # triage and routing
    is_complaint = BooleanAttribute(null=True)
    district_code = NumberAttribute(null=True)
    district = UnicodeAttribute(null=True)
    locality = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    evidence = JSONAttribute(null=True)
    needs_review = BooleanAttribute(null=True)
    review_reason = UnicodeAttribute(null=True)
    confidence = NumberAttribute(null=True)  # triage's calibrated probability that its decision is right
    reference = UnicodeAttribute(null=True)
    routed_at = UTCDateTimeAttribute(null=True)
    ack_due_at = UTCDateTimeAttribute(null=True)
    resolve_due_at = UTCDateTimeAttribute(null=True)
    parent_tweet_id = UnicodeAttribute(null=True)  # a citizen's follow-up, attached to their open complaint
    # the lifecycle
    acknowledged_at = UTCDateTimeAttribute(null=True)
    acknowledged_by = UnicodeAttribute(null=True)
    on_the_way_at = UTCDateTimeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    reopened_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    first_response_at = UTCDateTimeAttribute(null=True)
    first_response_by = UnicodeAttribute(null=True)  # the police handle that answered by hand on X
    queue = UnicodeAttribute(null=True)
    queue_sort = UnicodeAttribute(null=True)
    # SLA clocks (seva.sla): the level told so far in the running stage, and when the clock next fires
    escalation_level = NumberAttribute(null=True)
    clock_key = UnicodeAttribute(null=True)
    clock_due_at = UTCDateTimeAttribute(null=True)
    satisfaction = NumberAttribute(null=True)  # the citizen's 1-5 rating when closing
    resolution_note = UnicodeAttribute(null=True)  # what the officer says was done (told to the citizen)
    # notify
    notified_at = UTCDateTimeAttribute(null=True)
    notify_failed = ListAttribute[str](null=True)  # "<officer>#<channel>" deliveries that finally failed
    # reply (the first answer to the citizen)
    reply_status = UnicodeAttribute(null=True)  # REPLIED | REPLY_PENDING | REPLY_NOT_ALLOWED | REPLY_FAILED (ack)
    reply_attempts = NumberAttribute(null=True)
    reply_tweet_id = UnicodeAttribute(null=True)
    reply_handle = UnicodeAttribute(null=True)
    replied_at = UTCDateTimeAttribute(null=True)
    reply_error = UnicodeAttribute(null=True)
    # personal data
    erased_at = UTCDateTimeAttribute(null=True)  # text, names, profile and place removed (Action.ERASE)
    expires_at = NumberAttribute(null=True)  # DynamoDB TTL (epoch seconds): seva.retention

    by_conversation = ByConversation()
    by_queue = ByQueue()
    by_reference = ByReference()
    by_status = ByStatus()
    by_clock = ByClock()


class AuditModel(Model):
    """The audit trail: append-only (functions may only PutItem here)."""

    class Meta:
        table_name = "unbound"

    complaint_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "<at, ISO with microseconds>#<event id>": time order per complaint
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # transition | delivery
    at = UTCDateTimeAttribute()
    actor_kind = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    via = UnicodeAttribute()
    action = UnicodeAttribute(null=True)
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(null=True)  # the lanes route on it
    district_code = NumberAttribute(null=True)
    details = JSONAttribute(null=True)


class StateModel(Model):
    """Small operational state: poll cursors, rate-limit resets, counters, reply outbox, posting budgets."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    handles = ListAttribute[str](null=True)
    since_id = NumberAttribute(null=True)
    pending_newest_id = NumberAttribute(null=True)
    pending_until_id = NumberAttribute(null=True)
    reset_at = NumberAttribute(null=True)
    counter = NumberAttribute(null=True)
    next_at = NumberAttribute(null=True)
    priority = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    failures = NumberAttribute(null=True)
    details = JSONAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


class LeaseModel(Model):
    """A claim on one piece of outbound work (an SMS, an email, an X reply): who may send it, until when, and
    how it went. Lives in the state table."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    state = UnicodeAttribute()  # SENDING | SENT | RETRY | FAILED
    lease_until = NumberAttribute(null=True)  # epoch seconds: the claimer's invocation deadline
    attempts = NumberAttribute(default=0)
    message_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # DynamoDB TTL: seva.retention.LEDGER_DAYS after the last claim


class GuardModel(Model):
    """Per-citizen SMS guard: the citizen's recent complaints by tweet time, and which of them led to an SMS or
    a digest. One item per citizen, written with optimistic concurrency (``version``)."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    admitted = JSONAttribute(null=True)  # tweet id -> [tweet epoch seconds, priority]: SMS sent
    digested = JSONAttribute(null=True)  # ... a digest instead
    held = JSONAttribute(null=True)  # ... email only
    version = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)


M = TypeVar("M", bound=Model)


def bind(model: type[M], table_name: str, region: str) -> type[M]:
    """``model`` bound to a table (names come from settings at invoke time)."""
    return _bind(model, table_name, region)  # type: ignore[return-value]


@cache
def _bind(model: type[Model], table_name: str, region: str) -> type[Model]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type(model.__name__.removesuffix("Model"), (model,), {"Meta": meta, "__module__": __name__})


def complaint_model(table_name: str, region: str) -> type[ComplaintModel]:
    return bind(ComplaintModel, table_name, region)


def state_model(table_name: str, region: str) -> type[StateModel]:
    return bind(StateModel, table_name, region)


def audit_model(table_name: str, region: str) -> type[AuditModel]:
    return bind(AuditModel, table_name, region)

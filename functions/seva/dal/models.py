"""PynamoDB models. Table names come from settings at invoke time, so models are bound per table name."""

from __future__ import annotations

from functools import cache

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class StatusChange(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    note = UnicodeAttribute(null=True)


class ThreadUpdate(MapAttribute):
    tweet_id = UnicodeAttribute()
    text = UnicodeAttribute()
    at = UTCDateTimeAttribute()


class ByConversation(GlobalSecondaryIndex["ComplaintModel"]):
    class Meta:
        index_name = "by_conversation"
        projection = AllProjection()

    conversation_id = UnicodeAttribute(hash_key=True)
    tweet_created_at = UTCDateTimeAttribute(range_key=True)


class ComplaintModel(Model):
    """One item per ingested tweet. The key is the tweet id, so a tweet can never be stored twice."""

    class Meta:
        table_name = "unbound"

    tweet_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()  # RECEIVED → (later) ROUTED / NOISE / …
    status_history = ListAttribute[StatusChange](of=StatusChange)
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
    # set by the route function
    is_complaint = BooleanAttribute(null=True)
    district_code = NumberAttribute(null=True)
    district = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    priority = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    evidence = JSONAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    routed_at = UTCDateTimeAttribute(null=True)
    sla_due_at = UTCDateTimeAttribute(null=True)
    parent_tweet_id = UnicodeAttribute(null=True)  # a citizen's follow-up, attached to their open complaint
    updates = ListAttribute[ThreadUpdate](of=ThreadUpdate, null=True)
    update_ids = UnicodeSetAttribute(null=True)
    # set by the notify function
    deliveries = JSONAttribute(null=True)  # [{officer_id, channel, message_id}] from the ledger
    notified_at = UTCDateTimeAttribute(null=True)
    # set by the reply function
    reply_status = UnicodeAttribute(null=True)  # REPLIED | REPLY_PENDING | REPLY_NOT_ALLOWED | REPLY_FAILED
    reply_attempts = NumberAttribute(null=True)
    reply_tweet_id = UnicodeAttribute(null=True)
    reply_handle = UnicodeAttribute(null=True)
    replied_at = UTCDateTimeAttribute(null=True)
    reply_next_at = UTCDateTimeAttribute(null=True)
    reply_error = UnicodeAttribute(null=True)

    by_conversation = ByConversation()


class StateModel(Model):
    """Small operational state: poll cursors, rate-limit resets."""

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
    updated_at = UTCDateTimeAttribute(null=True)


@cache
def complaint_model(table_name: str, region: str) -> type[ComplaintModel]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type("Complaint", (ComplaintModel,), {"Meta": meta, "__module__": __name__})


@cache
def state_model(table_name: str, region: str) -> type[StateModel]:
    meta = type("Meta", (), {"table_name": table_name, "region": region})
    return type("State", (StateModel,), {"Meta": meta, "__module__": __name__})

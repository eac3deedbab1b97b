"""Complaint items: conditional create (never twice), reads for the pipeline and the demo."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import PutError

from seva.dal.models import ComplaintModel, StatusChange, complaint_model
from seva.tweets import TweetEnvelope, parse_created_at

RECEIVED = "RECEIVED"


class DynamoComplaintStore:
    def __init__(self, table_name: str, region: str):
        self.model = complaint_model(table_name, region)

    def add(self, envelope: TweetEnvelope, registered_mentions: list[str], now: datetime) -> bool:
        tweet = envelope.tweet
        created = parse_created_at(tweet.get("created_at")) or now
        item = self.model(
            tweet_id=envelope.id,
            status=RECEIVED,
            status_history=[StatusChange(status=RECEIVED, at=now)],
            text=str(tweet.get("text") or ""),
            lang=tweet.get("lang"),
            author_id=tweet.get("author_id"),
            author_username=envelope.author_username,
            conversation_id=tweet.get("conversation_id") or envelope.id,
            in_reply_to_user_id=tweet.get("in_reply_to_user_id"),
            mentioned_handles=registered_mentions,
            tweet_created_at=created,
            ingested_at=now,
            raw={"tweet": tweet, "author": envelope.author, "place": envelope.place},
        )
        try:
            item.save(condition=self.model.tweet_id.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, tweet_id: str) -> ComplaintModel | None:
        try:
            return self.model.get(tweet_id)
        except self.model.DoesNotExist:
            return None


def utcnow() -> datetime:
    return datetime.now(UTC)

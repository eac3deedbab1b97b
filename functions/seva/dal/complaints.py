"""Complaint items: conditional create (never twice), reads for the pipeline and the demo."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import PutError, UpdateError

from seva.dal.models import ComplaintModel, StatusChange, ThreadUpdate, complaint_model, state_model
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


ROUTED, NOISE, ATTACHED = "ROUTED", "NOISE", "ATTACHED"
OPEN_STATUSES = (RECEIVED, ROUTED)


class DynamoRoutingRepo:
    """State transitions of the route function. Each is conditional on ``RECEIVED``, so a redelivered
    stream record changes nothing."""

    def __init__(self, table_name: str, region: str, state_table: str | None = None, outbox_delay_s: float = 120):
        self.model = complaint_model(table_name, region)
        self.state_model = state_model(state_table, region) if state_table else None
        self.outbox_delay_s = outbox_delay_s

    def status(self, tweet_id: str) -> str | None:
        item = self.get_consistent(tweet_id)
        return item.status if item else None

    def get_consistent(self, tweet_id: str) -> ComplaintModel | None:
        try:
            return self.model.get(tweet_id, consistent_read=True)
        except self.model.DoesNotExist:
            return None

    def find_open_complaint(self, conversation_id: str, author_id: str, exclude: str) -> ComplaintModel | None:
        """The complainant's own open complaint in this conversation (the earliest), if any."""
        m = self.model
        for item in m.by_conversation.query(conversation_id, filter_condition=m.author_id == author_id):
            if item.tweet_id != exclude and item.status in OPEN_STATUSES and not item.parent_tweet_id:
                return item
        return None

    def _transition(
        self, tweet_id: str, new_status: str, now: datetime, actions: list, note: str | None = None
    ) -> bool:
        m = self.model
        change = StatusChange(status=new_status, at=now, note=note)
        try:
            m(tweet_id).update(
                actions=[m.status.set(new_status), m.status_history.set(m.status_history.append([change])), *actions],
                condition=(m.status == RECEIVED),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def attach_update(self, parent_id: str, child_id: str, text: str, now: datetime) -> None:
        m = self.model
        update = ThreadUpdate(tweet_id=child_id, text=text[:1000], at=now)
        try:
            m(parent_id).update(
                actions=[
                    m.updates.set((m.updates | []).append([update])),
                    m.update_ids.add({child_id}),
                ],
                condition=m.update_ids.does_not_exist() | ~m.update_ids.contains(child_id),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # already attached: nothing to do

    def mark_attached(self, tweet_id: str, parent_id: str, now: datetime) -> bool:
        m = self.model
        return self._transition(tweet_id, ATTACHED, now, [m.parent_tweet_id.set(parent_id)], note=parent_id)

    def mark_noise(self, tweet_id: str, triage: dict, now: datetime) -> bool:
        m = self.model
        return self._transition(tweet_id, NOISE, now, [*self._triage_actions(triage), m.routed_at.set(now)])

    def mark_routed(self, tweet_id: str, triage: dict, reference: str, sla_due: datetime, now: datetime) -> bool:
        m = self.model
        actions = [
            *self._triage_actions(triage),
            m.reference.set(reference),
            m.routed_at.set(now),
            m.sla_due_at.set(sla_due),
        ]
        if self.state_model is not None:
            # Outbox, written first: the citizen must be answered even if the reply function's stream record
            # is lost to its on-failure queue. The reply path clears it; the reply sweep handles what remains.
            from seva.dal.replies import PENDING_PK

            next_at = int(now.timestamp() + self.outbox_delay_s)
            self.state_model(PENDING_PK, tweet_id, next_at=next_at).save()
        return self._transition(tweet_id, ROUTED, now, actions, note=reference)

    def _triage_actions(self, triage: dict) -> list:
        m = self.model
        actions = [
            m.is_complaint.set(bool(triage["is_complaint"])),
            m.category.set(triage["category"]),
            m.language.set(triage["language"]),
            m.evidence.set(triage["evidence"]),
        ]
        if triage.get("district_code") is not None:
            actions += [m.district_code.set(int(triage["district_code"])), m.district.set(triage["district"])]
        if triage.get("priority"):
            actions.append(m.priority.set(triage["priority"]))
        return actions


def record_deliveries(table_name: str, region: str, tweet_id: str, deliveries: list[dict], now: datetime) -> None:
    """Idempotent (SET, not append): the ledger is the source of truth, this is its copy on the complaint."""
    m = complaint_model(table_name, region)
    m(tweet_id).update(actions=[m.deliveries.set(deliveries), m.notified_at.set(now)])

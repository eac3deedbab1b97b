"""Delivery ledger (a lease per outbound message) and the per-citizen SMS guard, in the state table."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from seva.dal.complaints import DynamoComplaints
from seva.dal.models import GuardModel, LeaseModel, bind, shared_connection
from seva.lifecycle import Event
from seva.notify import Claim, ClaimResult, GuardDecision, admit
from seva.retention import LEDGER_DAYS

HOUR = 3600


def _lost(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


class DynamoLeases:
    """Claims on outbound work under one key prefix (``notify#<complaint>``); a completed claim appends its
    delivery to the audit trail in the same transaction."""

    def __init__(self, table_name: str, region: str, prefix: str, audit: DynamoComplaints, max_attempts: int = 5):
        self.model = bind(LeaseModel, table_name, region)
        self.prefix, self.audit, self.max_attempts, self.region = prefix, audit, max_attempts, region

    def _pk(self, complaint_id: str) -> str:
        return f"{self.prefix}#{complaint_id}"

    def claim(self, complaint_id: str, key: str, lease_until: float, now: datetime) -> ClaimResult:
        m = self.model
        # Free, released after a failed send, or held by an invocation whose deadline has passed (it crashed)
        condition = (
            m.pk.does_not_exist() | (m.state == "RETRY") | ((m.state == "SENDING") & (m.lease_until < now.timestamp()))
        )
        try:
            m(self._pk(complaint_id), key).update(
                actions=[
                    m.state.set("SENDING"),
                    m.lease_until.set(lease_until),
                    m.attempts.add(1),
                    m.updated_at.set(now),
                    m.expires_at.set(int(now.timestamp()) + LEDGER_DAYS * 86400),
                ],
                condition=condition,
            )
            return ClaimResult(Claim.GRANTED)
        except UpdateError as exc:
            if not _lost(exc):
                raise
        item = m.get(self._pk(complaint_id), key, consistent_read=True)
        if item.state == "SENT":
            return ClaimResult(Claim.SENT, item.message_id, item.sent_at)
        if item.state == "FAILED":
            return ClaimResult(Claim.FAILED)
        return ClaimResult(Claim.HELD, lease_until=float(item.lease_until or 0))

    def complete(self, complaint_id: str, key: str, message_id: str, now: datetime, event: Event) -> None:
        """Sent: record it, trying harder than a usual write — until it is recorded, the message could go again
        once the claim's lease has passed."""
        for attempt in range(6):
            try:
                return self._complete(complaint_id, key, message_id, now, event)
            except (TransactWriteError, PutError, UpdateError):
                if attempt == 5:
                    raise
                time.sleep(0.1 * 2**attempt)

    def _complete(self, complaint_id: str, key: str, message_id: str, now: datetime, event: Event) -> None:
        m = self.model
        with TransactWrite(connection=shared_connection(self.region)) as tx:
            tx.update(
                m(self._pk(complaint_id), key),
                actions=[
                    m.state.set("SENT"),
                    m.message_id.set(message_id),
                    m.sent_at.set(now),
                    m.lease_until.remove(),
                    m.updated_at.set(now),
                ],
            )
            tx.save(self.audit._audit_item(event), condition=self.audit.audit.complaint_id.does_not_exist())

    def release(self, complaint_id: str, key: str, error: str, final: bool, now: datetime) -> bool:
        m = self.model
        item = m(self._pk(complaint_id), key)
        item.refresh(consistent_read=True)
        final = final or int(item.attempts or 0) >= self.max_attempts
        item.update(
            actions=[
                m.state.set("FAILED" if final else "RETRY"),
                m.error.set(error[:300]),
                m.lease_until.remove(),
                m.updated_at.set(now),
            ]
        )
        return final

    def told(self, complaint_id: str, purpose: str) -> set[str]:
        m = self.model
        items = m.query(self._pk(complaint_id), m.sk.startswith(f"{purpose}#"), consistent_read=True)
        return {i.sk.split("#")[1] for i in items if i.state == "SENT"}

    def entries(self, complaint_id: str) -> list[LeaseModel]:
        return list(self.model.query(self._pk(complaint_id), consistent_read=True))


class DynamoAuthorGuard:
    """The per-citizen SMS guard's book (``seva.notify.admit`` decides), one item per citizen, written with
    optimistic concurrency: two invocations deciding for the same citizen at once retry, never both admit."""

    def __init__(self, table_name: str, region: str):
        self.model = bind(GuardModel, table_name, region)

    def decide(
        self, author_id: str, tweet_id: str, tweeted_at: datetime, priority: str, limit: int, officers: Sequence[str]
    ) -> GuardDecision:
        m = self.model
        for _ in range(20):
            try:
                item = m.get("sms#author", author_id, consistent_read=True)
            except m.DoesNotExist:
                item = m("sms#author", author_id, admitted={}, digested={}, held={}, version=0)
            book = {name: dict(getattr(item, name) or {}) for name in ("admitted", "digested", "held")}
            decision, changed = admit(book, tweet_id, tweeted_at.timestamp(), priority, limit, officers)
            if not changed:
                return decision
            version = int(item.version or 0)
            try:
                m(
                    "sms#author",
                    author_id,
                    version=version + 1,
                    expires_at=int(time.time()) + 3 * HOUR,
                    admitted=book["admitted"],
                    digested=book["digested"],
                    held=book["held"],
                ).save(condition=m.version.does_not_exist() if version == 0 else (m.version == version))
            except PutError as exc:
                if _lost(exc):
                    continue  # another invocation for this citizen wrote first: decide again
                raise
            return decision
        raise RuntimeError(f"SMS guard for {author_id}: too much contention")

"""Delivery ledger (a lease per outbound message) and the per-citizen SMS guard, in the state table."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

from pynamodb.exceptions import PutError, UpdateError

from seva.dal.models import GuardModel, LeaseModel, bind
from seva.notify import Claim, ClaimResult, GuardDecision

HOUR = 3600


def _lost(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


class DynamoLeases:
    """Claims on outbound work under one key prefix (``notify#<complaint>``, ``reply#<complaint>``)."""

    def __init__(self, table_name: str, region: str, prefix: str, max_attempts: int = 5):
        self.model = bind(LeaseModel, table_name, region)
        self.prefix, self.max_attempts = prefix, max_attempts

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

    def complete(self, complaint_id: str, key: str, message_id: str, now: datetime) -> None:
        m = self.model
        m(self._pk(complaint_id), key).update(
            actions=[
                m.state.set("SENT"),
                m.message_id.set(message_id),
                m.sent_at.set(now),
                m.lease_until.remove(),
                m.updated_at.set(now),
            ]
        )

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
    """How many SMS one citizen's complaints may trigger: at most ``limit`` in any hour of *tweet* time, whatever
    order the complaints are processed in; the first complaint past the limit sends one digest (per officer)
    with the real count, later ones in that hour go by email only. P1 never comes here.

    One item per citizen holds their recent complaints (admitted / digested / held, with tweet times). A
    complaint is admitted only if fewer than ``limit`` admitted ones lie within an hour of it on either side,
    so every hour-long window holds at most ``limit``, in any order. Writes are conditional on a version number
    (two invocations for the same citizen retry, never both admit)."""

    def __init__(self, table_name: str, region: str):
        self.model = bind(GuardModel, table_name, region)

    def decide(self, author_id: str, tweet_id: str, tweeted_at: datetime, priority: str, limit: int) -> GuardDecision:
        m = self.model
        t = tweeted_at.timestamp()
        for _ in range(20):
            try:
                item = m.get("sms#author", author_id, consistent_read=True)
            except m.DoesNotExist:
                item = m("sms#author", author_id, admitted={}, digested={}, held={}, version=0)
            sets = {name: dict(getattr(item, name) or {}) for name in ("admitted", "digested", "held")}
            for name, entries in sets.items():
                if tweet_id in entries:  # decided before (a redelivery): the same answer
                    return self._decision({"admitted": "sms", "digested": "digest", "held": "hold"}[name], sets, t)
            near = [tid for tid, v in sets["admitted"].items() if abs(float(v[0]) - t) <= HOUR]
            if len(near) < limit:
                kind, bucket = "sms", "admitted"
            elif not any(abs(float(v[0]) - t) <= HOUR for v in sets["digested"].values()):
                kind, bucket = "digest", "digested"
            else:
                kind, bucket = "hold", "held"
            sets[bucket][tweet_id] = [int(t), priority]
            newest = max(float(v[0]) for entries in sets.values() for v in entries.values())
            for entries in sets.values():  # keep two hours: the item stays small
                for tid in [k for k, v in entries.items() if float(v[0]) < newest - 2 * HOUR]:
                    del entries[tid]
            version = int(item.version or 0)
            condition = m.version.does_not_exist() if version == 0 else (m.version == version)
            try:
                m(
                    "sms#author",
                    author_id,
                    version=version + 1,
                    expires_at=int(time.time()) + 3 * HOUR,
                    admitted=sets["admitted"],
                    digested=sets["digested"],
                    held=sets["held"],
                ).save(condition=condition)
            except PutError as exc:
                if _lost(exc):
                    continue  # another invocation for this citizen wrote first: decide again
                raise
            return self._decision(kind, sets, t)
        raise RuntimeError(f"SMS guard for {author_id}: too much contention")

    @staticmethod
    def _decision(kind: str, sets: dict[str, dict], t: float) -> GuardDecision:
        around = [v for entries in sets.values() for v in entries.values() if abs(float(v[0]) - t) <= HOUR]
        return GuardDecision(kind, len(around), dict(Counter(str(v[1]) for v in around)))


def utcnow() -> datetime:
    return datetime.now(UTC)

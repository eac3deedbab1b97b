"""How long personal data is kept (DPDP Act 2023 s.8(7): erase once the purpose is served). Pure: the data layer
stamps ``expires_at`` (epoch seconds, DynamoDB's TTL attribute) on an item when a transition brings it into a
state with a retention, and removes it when the item leaves that state (a complaint reopened, a noise turned
into a complaint). DynamoDB deletes an expired item within a few days of its ``expires_at``.

- NOISE: ``noise_days`` after it was called noise (a person may still turn it into a complaint meanwhile).
- RESOLVED and CLOSED complaints: ``complaint_days`` after the latest of the two (template parameter
  ``ComplaintRetentionDays``); a reopened complaint keeps everything until it is resolved again.
- ATTACHED items (follow-ups, edited versions, police posts in the thread) expire with their complaint: they
  take its expiry when attached, and follow it when it changes (``seva.dal.complaints``, same transaction).
- Everything else (open complaints, RECEIVED) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from seva.lifecycle import Status

LEDGER_DAYS = 30
"""Delivery ledgers (notify and reply leases) outlive any redelivery (SQS keeps a message 14 days at most)."""


@dataclass(frozen=True)
class Retention:
    complaint_days: float = 365
    noise_days: float = 30

    def expires_at(self, status: Status, now: datetime) -> datetime | None:
        """When an item entering ``status`` now expires; None: kept (any earlier expiry is lifted)."""
        if status == Status.NOISE:
            return now + timedelta(days=self.noise_days)
        if status in (Status.RESOLVED, Status.CLOSED):
            return now + timedelta(days=self.complaint_days)
        return None

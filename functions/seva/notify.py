"""Notifications for a routed complaint: SMS to the officers who act, email with full details, P1 to the
district control room and the SOS topic. Exactly once per officer, complaint and channel (a ledger entry is
claimed before sending); one citizen cannot trigger unbounded SMS (per-author hourly limit, then a digest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from seva.officers import Officer, masked
from seva.sms import Registry, complaint_sms


@dataclass(frozen=True)
class RoutedComplaint:
    tweet_id: str
    reference: str
    priority: str
    category: str
    district_code: int | None
    district: str | None
    district_hindi: str | None
    text: str
    author_id: str | None
    author_username: str | None
    sla_due_at: str | None

    @classmethod
    def from_image(cls, image: dict[str, Any], hindi_name: Callable[[int | None], str | None]) -> RoutedComplaint:
        from seva.routing import BadRecord

        try:
            code = int(image["district_code"]) if image.get("district_code") is not None else None
            return cls(
                tweet_id=str(image["tweet_id"]),
                reference=str(image["reference"]),
                priority=str(image["priority"]),
                category=str(image.get("category") or "other"),
                district_code=code,
                district=image.get("district"),
                district_hindi=hindi_name(code),
                text=str(image.get("text") or ""),
                author_id=image.get("author_id"),
                author_username=image.get("author_username"),
                sla_due_at=image.get("sla_due_at"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRecord(f"routed complaint image incomplete: {exc}") from exc


@dataclass(frozen=True)
class Delivery:
    officer_id: str
    channel: str  # sms | email | sos | digest
    message_id: str | None
    status: str  # SENT | ALREADY


class Ledger(Protocol):
    def claim(self, tweet_id: str, key: str) -> bool: ...
    def complete(self, tweet_id: str, key: str, message_id: str) -> None: ...


class AuthorGuard(Protocol):
    def complaints_this_hour(self, author_id: str, tweet_id: str, now: datetime) -> int: ...


class Sender(Protocol):
    def sms(self, phone: str, body: str, template_id: str, entity_id: str, sender_id: str) -> str: ...
    def email(self, officer_id: str, subject: str, body: str, attributes: dict[str, str]) -> str: ...
    def sos(self, payload: dict[str, Any]) -> str: ...


@dataclass
class Notifier:
    ledger: Ledger
    guard: AuthorGuard
    sender: Sender
    templates: Registry
    now: Callable[[], datetime]
    sms_per_author_per_hour: int = 5
    log: Callable[[str, dict], None] = lambda message, extra: None
    deliveries: list[Delivery] = field(default_factory=list)

    def notify(self, complaint: RoutedComplaint, officers: list[Officer]) -> list[Delivery]:
        self.deliveries = []
        recipients = [o for o in officers if o.receives(complaint.priority, complaint.category)]
        count = self.guard.complaints_this_hour(complaint.author_id or "unknown", complaint.tweet_id, self.now())
        over_limit = count > self.sms_per_author_per_hour
        for officer in recipients:
            if not over_limit:
                self._once(complaint, officer.officer_id, "sms", partial(self._sms, complaint, officer))
            elif count == self.sms_per_author_per_hour + 1:
                self._once(complaint, officer.officer_id, "digest", partial(self._digest, complaint, officer))
            if officer.email:
                self._once(complaint, officer.officer_id, "email", partial(self._email, complaint, officer))
        if complaint.priority == "P1":
            self._once(complaint, "sos-topic", "sos", lambda: self.sender.sos(self._sos_payload(complaint)))
        return self.deliveries

    def _once(self, complaint: RoutedComplaint, officer_id: str, channel: str, send: Callable[[], str]) -> None:
        key = f"{officer_id}#{channel}"
        if not self.ledger.claim(complaint.tweet_id, key):
            # Claimed before: sent, or sent and the record lost to a crash. Never send twice.
            self.deliveries.append(Delivery(officer_id, channel, None, "ALREADY"))
            return
        message_id = send()
        self.ledger.complete(complaint.tweet_id, key, message_id)
        self.deliveries.append(Delivery(officer_id, channel, message_id, "SENT"))

    def _sms(self, complaint: RoutedComplaint, officer: Officer) -> str:
        language = officer.language
        template = self.templates.template("complaint", language)
        district = (complaint.district_hindi if language == "hi" else complaint.district) or (
            "मुख्यालय" if language == "hi" else "HQ"
        )
        body = complaint_sms(
            template,
            reference=complaint.reference,
            priority=complaint.priority,
            category=self.templates.category_name(complaint.category, language),
            district=district,
            excerpt=complaint.text,
            tweet_id=complaint.tweet_id,
        )
        self.log("sms", {"officer": officer.officer_id, "phone": masked(officer.phone), "template": template.key})
        return self.sender.sms(
            officer.phone, body, template.dlt_template_id, self.templates.entity_id, self.templates.sender_id
        )

    def _digest(self, complaint: RoutedComplaint, officer: Officer) -> str:
        template = self.templates.template("digest", officer.language)
        body = template.fill([str(self.sms_per_author_per_hour + 1), f"latest {complaint.reference}"[:30]])
        return self.sender.sms(
            officer.phone, body, template.dlt_template_id, self.templates.entity_id, self.templates.sender_id
        )

    def _email(self, complaint: RoutedComplaint, officer: Officer) -> str:
        subject = f"[{complaint.priority}] {complaint.reference} {complaint.category.replace('_', ' ')}"
        lines = [
            f"Reference: {complaint.reference}",
            f"Priority: {complaint.priority}   Category: {complaint.category}",
            f"District: {complaint.district or 'unknown (state HQ queue)'}",
            f"Respond by: {complaint.sla_due_at or '-'}",
            f"Citizen: @{complaint.author_username or '?'}",
            f"Tweet: https://x.com/i/status/{complaint.tweet_id}",
            "",
            complaint.text,
        ]
        attributes = {
            "officer_id": officer.officer_id,
            "reference": complaint.reference,
            "priority": complaint.priority,
        }
        return self.sender.email(officer.officer_id, subject, "\n".join(lines), attributes)

    @staticmethod
    def _sos_payload(complaint: RoutedComplaint) -> dict[str, Any]:
        return {
            "type": "seva.sos",
            "reference": complaint.reference,
            "priority": complaint.priority,
            "category": complaint.category,
            "district_code": complaint.district_code,
            "district": complaint.district,
            "tweet_id": complaint.tweet_id,
            "tweet_url": f"https://x.com/i/status/{complaint.tweet_id}",
            "text": complaint.text,
        }

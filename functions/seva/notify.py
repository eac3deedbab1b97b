"""Who is told what about a complaint event, and sending it at least once per (complaint, officer, channel).

- A routed complaint (or one reassigned, or turned from noise into a complaint) goes by SMS to each of its
  district's officers whose priorities and categories match (every P1 also to the control room), by email to
  those with an address, and, when P1, to the SOS topic. No officer registered for the district: the state cell.
- A follow-up that changed the complaint (priority, district, a place or a phone number) tells the officers who
  already have the complaint with a follow-up SMS, and sends the whole complaint to officers newly concerned.
- Each send is claimed in a ledger first (a lease until the invocation's deadline), then marked sent. A send
  that raised releases its claim and is retried (SQS redelivers the event); a claim left SENDING by a crashed
  invocation is taken over once its lease has passed. The one window where a message can go twice: a crash
  after SNS accepted it and before the ledger recorded it. A delivery that keeps failing ends FAILED: on the
  complaint, in a metric and on the failure queue — never "notified".
- One citizen cannot trigger unbounded SMS: past the hourly limit (by tweet time, whatever the processing
  order) officers get one digest with the real count, emails go on. No guard ever holds back a P1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from seva.districts import Districts
from seva.fanout import fan_out
from seva.lifecycle import OPEN, Action, Actor, Channel, Complaint, Event, Priority, Status
from seva.messages import short_ist
from seva.officers import Officer, mailbox_key, masked
from seva.sms import Registry, complaint_sms, escalation_sms, followup_sms, reopened_sms

NOTIFIER = Actor.system("notify")
SOS_TOPIC = "sos-topic"
ANNOUNCE = frozenset({Action.ROUTE, Action.REASSIGN, Action.TO_COMPLAINT})
ESCALATION_HI = {"acknowledge": "स्वीकृति", "resolve": "निस्तारण"}


class Claim(StrEnum):
    GRANTED = "GRANTED"  # yours to send
    SENT = "SENT"  # sent before
    HELD = "HELD"  # another invocation holds it and may still be sending
    FAILED = "FAILED"  # finally failed before


class Outcome(StrEnum):
    SENT = "SENT"
    ALREADY = "ALREADY"
    HELD = "HELD"
    RETRY = "RETRY"  # this attempt failed; the event is retried
    FAILED = "FAILED"  # failed for good (attempts exhausted, or SNS refused the recipient)
    REFUSED = "REFUSED"  # the body did not match its registered template: never sent


class SendFailed(Exception):
    def __init__(self, message: str, final: bool = False):
        super().__init__(message)
        self.final = final


class NotificationsPending(Exception):
    """Some deliveries must be retried (a send failed, or another invocation holds the claim)."""

    def __init__(self, results: list[DeliveryResult]):
        pending = [f"{r.officer_id}#{r.channel}:{r.outcome}" for r in results if r.outcome in _PENDING]
        super().__init__(f"deliveries to retry: {', '.join(pending)}")
        self.results = results


@dataclass(frozen=True)
class Delivery:
    purpose: str  # complaint | followup-<event id> | digest
    officer_id: str
    channel: str  # sms | email | sos
    send: Callable[[], str] = field(compare=False, repr=False)
    template: Any = field(default=None, compare=False, repr=False)
    body: str | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.purpose}#{self.officer_id}#{self.channel}"


@dataclass(frozen=True)
class DeliveryResult:
    officer_id: str
    channel: str
    purpose: str
    outcome: Outcome
    message_id: str | None = None
    error: str | None = None


_PENDING = (Outcome.RETRY, Outcome.HELD)


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    message_id: str | None = None
    sent_at: datetime | None = None
    lease_until: float | None = None


class Ledger(Protocol):
    def claim(self, complaint_id: str, key: str, lease_until: float, now: datetime) -> ClaimResult: ...
    def complete(self, complaint_id: str, key: str, message_id: str, now: datetime, event: Event) -> None:
        """Sent: the claim marked so and the delivery's audit event appended, at once."""
        ...

    def release(self, complaint_id: str, key: str, error: str, final: bool, now: datetime) -> bool:
        """Give the claim back after a failed send; True when the delivery has now failed for good."""
        ...

    def told(self, complaint_id: str, purpose: str) -> set[str]:
        """Officers who were sent ``purpose`` for this complaint (any channel)."""
        ...


@dataclass(frozen=True)
class GuardDecision:
    kind: str  # sms | digest (some officers get one) | hold
    count: int  # the citizen's complaints in the hour around this one (this one included)
    priorities: dict[str, int]
    digest_to: frozenset[str] = frozenset()  # officers who get the digest instead of the SMS


class AuthorGuard(Protocol):
    def decide(
        self, author_id: str, tweet_id: str, tweeted_at: datetime, priority: str, limit: int, officers: Sequence[str]
    ) -> GuardDecision: ...


HOUR_S = 3600.0
BOOK_KEEPS_S = 24 * HOUR_S
GuardBook = dict[str, dict[str, list]]
"""admitted | held -> tweet id -> [tweet epoch seconds, priority]; digested -> "officer|tweet id" -> the same."""
ANY_OFFICER = "*"  # a digest recorded before digests were per officer: it counts for every officer


def admit(
    book: GuardBook, tweet_id: str, tweeted: float, priority: str, limit: int, officers: Sequence[str] = (ANY_OFFICER,)
) -> tuple[GuardDecision, bool]:
    """The per-citizen SMS guard's rule, on the citizen's book of recent complaints (changed in place; True
    when it changed). A complaint gets its SMS when fewer than ``limit`` of the citizen's complaints within an
    hour of it (by tweet time, either side) got theirs: so every hour-long window holds at most ``limit``,
    whatever the processing order. Past the limit, each officer it goes to gets one digest with the real count
    and priorities, unless that officer had one for this citizen within the hour; otherwise email only.
    The count is the citizen's, the digest the officer's: an officer of another district who never had
    this citizen's SMS still hears of the complaint. (P1 never comes here.)"""
    for bucket in ("admitted", "held", "digested"):
        book.setdefault(bucket, {})
    for key in [k for k in book["digested"] if "|" not in k]:  # the older, per-citizen digest entries
        book["held"].setdefault(key, book["digested"][key])
        book["digested"][f"{ANY_OFFICER}|{key}"] = book["digested"].pop(key)
    changed = False
    if tweet_id not in book["admitted"] and tweet_id not in book["held"]:
        near = sum(1 for t, _ in book["admitted"].values() if abs(float(t) - tweeted) <= HOUR_S)
        book["admitted" if near < limit else "held"][tweet_id] = [int(tweeted), priority]
        changed = True
    if tweet_id in book["admitted"]:
        kind, digest_to = "sms", frozenset[str]()
    else:
        digest_to = frozenset(o for o in officers if _digest_for(book, o, tweet_id, tweeted))
        changed = changed or any(f"{o}|{tweet_id}" not in book["digested"] for o in digest_to)
        for officer in digest_to:
            book["digested"][f"{officer}|{tweet_id}"] = [int(tweeted), priority]
        kind = "digest" if digest_to else "hold"
    if changed:
        newest = max(float(t) for entries in book.values() for t, _ in entries.values())
        for entries in book.values():  # a day of tweets covers any processing delay; the book stays small
            for stale in [k for k, (t, _) in entries.items() if float(t) < newest - BOOK_KEEPS_S]:
                del entries[stale]
    return _decision(kind, book, tweeted, digest_to), changed


def _digest_for(book: GuardBook, officer: str, tweet_id: str, tweeted: float) -> bool:
    """This officer's digest for this complaint: decided before (a redelivery), or none to them within the hour."""
    if f"{officer}|{tweet_id}" in book["digested"]:
        return True
    return not any(
        key.split("|", 1)[0] in (officer, ANY_OFFICER) and abs(float(t) - tweeted) <= HOUR_S
        for key, (t, _) in book["digested"].items()
    )


def _decision(kind: str, book: GuardBook, tweeted: float, digest_to: frozenset[str]) -> GuardDecision:
    tweets = [*book["admitted"].values(), *book["held"].values()]
    around = [p for t, p in tweets if abs(float(t) - tweeted) <= HOUR_S]
    return GuardDecision(kind, len(around), dict(Counter(str(p) for p in around)), digest_to)


class Sender(Protocol):
    def sms(self, phone: str, body: str, template_id: str, entity_id: str, sender_id: str) -> str: ...
    def email(self, officer: Officer, subject: str, body: str, attributes: dict[str, str]) -> str: ...
    def sos(self, payload: dict[str, Any]) -> str: ...


def tweet_link(complaint: Complaint, officer: Officer) -> str:
    """Without action links configured, the SMS points at the citizen's post (whitelisted for DLT)."""
    return f"https://x.com/i/status/{complaint.tweet_id}"


@dataclass
class Notifier:
    ledger: Ledger
    guard: AuthorGuard
    sender: Sender
    templates: Registry
    districts: Districts
    now: Callable[[], datetime]
    lease_until: Callable[[], float]  # the invocation's deadline (epoch seconds), plus a margin
    time_left: Callable[[], float] = lambda: float("inf")  # seconds until the invocation's deadline
    delivery_seconds: float = 20.0
    """The time one delivery may take (claim, publish with the SDK's retries, record). None starts with less
    left: a timeout must never cut one between SNS accepting it and the ledger recording it (a double SMS)."""
    link: Callable[[Complaint, Officer], str] = lambda c, o: tweet_link(c, o)
    """The officer's one-tap action link for a complaint (signed, expiring, theirs alone)."""
    sms_per_author_per_hour: int = 5
    send_attempts: int = 3
    concurrency: int = 1
    """Deliveries of one event in flight at once: an SOS reaches the control room, the SP and the SOS topic
    together, not one publish after another (each delivery has its own claim, so they are independent)."""
    pause: Callable[[float], None] = lambda seconds: None
    log: Callable[[str, dict], None] = lambda message, extra: None

    def deliveries(
        self,
        event: Event,
        complaint: Complaint,
        officers: list[Officer],
        follow_up: Complaint | None = None,
        earlier_officers: list[Officer] | None = None,
    ) -> list[Delivery]:
        """What this event calls for (pure, given the ledger's record of who has the complaint)."""
        if complaint.reference is None or complaint.priority is None or complaint.status == Status.NOISE:
            return []  # noise or gone: nothing to tell
        priority = complaint.priority
        category = str(complaint.category or "other")
        recipients = [o for o in officers if o.receives(priority, category)]
        if event.action in ANNOUNCE:
            # Told even if an officer already acted on it (through an escalation's link, say): the district's
            # record that it was told, and what the officers need to follow what their colleague did
            return self._complaint(complaint, recipients)
        if event.action == Action.FOLLOW_UP and event.details.get("changed"):
            # Officers concerned before the follow-up get a follow-up message; those concerned now get the
            # whole complaint (the ledger skips whoever already has it). Decided from the event itself (the
            # state before it), so a redelivered event is decided the same way, and whatever the complaint's
            # state now: a resolution that overtook the event must not swallow what the citizen said (an SOS)
            before = event.details.get("from") or {}
            old_priority = Priority.parse(before.get("priority"), priority)
            written_closed = event.from_status is not None and event.from_status not in OPEN
            if written_closed and (priority != Priority.P1 or old_priority == Priority.P1):
                return []  # posted in a resolved complaint's thread: only a new SOS is news to its officers
            old_key = str(before["district_code"]) if before.get("district_code") else complaint.district_key
            earlier = [o for o in (earlier_officers or officers) if o.receives(old_priority, category)]
            if not earlier_officers and old_key != complaint.district_key:
                earlier = []
            text = follow_up.text if follow_up else ""
            purpose = f"followup-{event.event_id}"
            followups = [
                Delivery(purpose, o.officer_id, "sms", self._followup_sender(complaint, event, o, text))
                for o in earlier
            ]
            followups += [
                Delivery(purpose, o.officer_id, "email", self._email_sender(complaint, o, event, purpose))
                for o in earlier
                if o.email
            ]
            return [*self._complaint(complaint, recipients), *followups]
        if not complaint.is_open:
            return []  # resolved or closed since: no one is told it is late or reopened
        if event.action == Action.ESCALATE:
            if not _still_overdue(complaint, event):
                return []  # acknowledged, reassigned or reopened since: nobody is told of a deadline that moved
            # the level's officers the clock chose (seva.clocks), each once for this escalation
            chosen = set(event.details.get("to") or [])
            return self._alert(complaint, event, [o for o in officers if o.officer_id in chosen], "escalation")
        if event.action == Action.REOPEN:
            return self._alert(complaint, event, recipients, "reopened")
        return []

    def _alert(self, complaint: Complaint, event: Event, officers: list[Officer], kind: str) -> list[Delivery]:
        purpose = f"{kind}-{event.event_id}"
        out = [Delivery(purpose, o.officer_id, "sms", self._alert_sender(complaint, event, o, kind)) for o in officers]
        out += [
            Delivery(purpose, o.officer_id, "email", self._email_sender(complaint, o, event, purpose))
            for o in officers
            if o.email
        ]
        return out

    def _alert_sender(self, complaint: Complaint, event: Event, officer: Officer, kind: str) -> Callable[[], str]:
        def send() -> str:
            template = self.templates.template(kind, officer.language)
            link = self.link(complaint, officer)
            if kind == "reopened":
                body = reopened_sms(
                    template,
                    reference=str(complaint.reference),
                    priority=str(complaint.priority),
                    deadline=short_ist(complaint.resolve_due_at),
                    link=link,
                )
            else:
                stage = str(event.details.get("stage") or "acknowledge")
                words = {"en": {"acknowledge": "acknowledged", "resolve": "resolved"}, "hi": ESCALATION_HI}
                due = complaint.ack_due_at if stage == "acknowledge" else complaint.resolve_due_at
                body = escalation_sms(
                    template,
                    reference=str(complaint.reference),
                    priority=str(complaint.priority),
                    district=self._district_name(complaint, officer.language),
                    stage=words["hi" if officer.language == "hi" else "en"].get(stage, stage),
                    deadline=short_ist(due),
                    link=link,
                )
            return self._send_sms(officer, template, body)

        return send

    def _complaint(self, complaint: Complaint, recipients: list[Officer]) -> list[Delivery]:
        out: list[Delivery] = []
        decision: GuardDecision | None = None
        if complaint.priority != Priority.P1 and recipients:
            # No guard ever holds back a P1
            decision = self.guard.decide(
                complaint.author_id or "unknown",
                complaint.tweet_id,
                complaint.tweet_created_at,
                str(complaint.priority),
                self.sms_per_author_per_hour,
                [o.officer_id for o in recipients],
            )
        for officer in recipients:
            if decision is None or decision.kind == "sms":
                out.append(Delivery("complaint", officer.officer_id, "sms", self._sms_sender(complaint, officer)))
            elif decision is not None and officer.officer_id in decision.digest_to:
                out.append(Delivery("digest", officer.officer_id, "sms", self._digest_sender(officer, decision)))
            if officer.email:
                out.append(Delivery("complaint", officer.officer_id, "email", self._email_sender(complaint, officer)))
        if complaint.priority == Priority.P1:
            out.append(Delivery("complaint", SOS_TOPIC, "sos", lambda: self.sender.sos(_sos_payload(complaint))))
        return out

    def notify(
        self,
        event: Event,
        complaint: Complaint,
        officers: list[Officer],
        follow_up: Complaint | None = None,
        earlier_officers: list[Officer] | None = None,
    ) -> list[DeliveryResult]:
        """Send what the event calls for; raises ``NotificationsPending`` when some deliveries must be retried
        (after the others were tried: one failure never blocks the rest)."""
        deliveries = self.deliveries(event, complaint, officers, follow_up, earlier_officers)
        results = fan_out(partial(self._once, complaint), deliveries, self.concurrency)
        if any(r.outcome in _PENDING for r in results):
            raise NotificationsPending(results)
        return results

    def _once(self, complaint: Complaint, delivery: Delivery) -> DeliveryResult:
        def result(outcome: Outcome, message_id: str | None = None, error: str | None = None) -> DeliveryResult:
            return DeliveryResult(delivery.officer_id, delivery.channel, delivery.purpose, outcome, message_id, error)

        if self.time_left() < self.delivery_seconds:
            return result(Outcome.RETRY, error="deferred: the invocation is near its deadline")
        now = self.now()
        claim = self.ledger.claim(complaint.tweet_id, delivery.key, self.lease_until(), now)
        if claim.claim == Claim.SENT:
            return result(Outcome.ALREADY, claim.message_id)
        if claim.claim == Claim.FAILED:
            return result(Outcome.FAILED, error="failed before")
        if claim.claim == Claim.HELD:
            return result(Outcome.HELD)
        try:
            message_id = self._send_with_retries(delivery)
        except OffTemplate as exc:
            self.ledger.release(complaint.tweet_id, delivery.key, str(exc)[:200], True, now)
            self.log("sms refused: off template", {"officer": delivery.officer_id, "purpose": delivery.purpose})
            return result(Outcome.REFUSED, error=str(exc)[:200])
        except SendFailed as exc:
            final = self.ledger.release(complaint.tweet_id, delivery.key, str(exc)[:200], exc.final, now)
            return result(Outcome.FAILED if final else Outcome.RETRY, error=str(exc)[:200])
        self._record_sent(complaint, delivery, message_id, now)
        return result(Outcome.SENT, message_id)

    def _record_sent(self, complaint: Complaint, delivery: Delivery, message_id: str, now: datetime) -> None:
        """SNS accepted it: record that, trying again while there is time. Giving up here would leave the claim
        SENDING, to be taken over and sent again once its lease passed (a DynamoDB error after the send doubled
        an SMS in the fault demo), so only running out of time (as a crash would) leaves that window open."""
        event = _delivered(complaint, delivery, message_id, now)
        attempts = self.send_attempts + 3
        for attempt in range(attempts):
            try:
                self.ledger.complete(complaint.tweet_id, delivery.key, message_id, now, event)
                return
            except Exception:  # the store's error, whatever its client calls it: the send itself went through
                wait = 0.2 * 2**attempt
                if attempt == attempts - 1 or self.time_left() < wait + 2:
                    raise
                self.pause(wait)

    # -- messages ------------------------------------------------------------------------------------------
    def _send_with_retries(self, delivery: Delivery) -> str:
        """A failed send is tried again a few times at once (an SNS outage of a few seconds outlasts the SDK's own
        retries); after that the event is retried later (SQS)."""
        for attempt in range(self.send_attempts):
            try:
                return delivery.send()
            except SendFailed as exc:
                wait = 0.2 * 2**attempt
                if exc.final or attempt == self.send_attempts - 1 or self.time_left() < wait + self.delivery_seconds:
                    raise  # the claim is released and SQS retries the event (in a new invocation's time)
                self.pause(wait)
        raise AssertionError("unreachable")

    def _district_name(self, complaint: Complaint, language: str) -> str:
        name = self.districts.name(complaint.district_code, language)
        return name or ("मुख्यालय" if language == "hi" else "HQ")

    def _sms_sender(self, complaint: Complaint, officer: Officer) -> Callable[[], str]:
        def send() -> str:
            template = self.templates.template("complaint", officer.language)
            body = complaint_sms(
                template,
                reference=str(complaint.reference),
                priority=str(complaint.priority),
                category=self.templates.category_name(str(complaint.category or "other"), officer.language),
                district=self._district_name(complaint, officer.language),
                locality=complaint.locality or "",
                deadline=short_ist(complaint.ack_due_at),
                excerpt=complaint.text,
                link=self.link(complaint, officer),
            )
            return self._send_sms(officer, template, body)

        return send

    def _followup_sender(self, complaint: Complaint, event: Event, officer: Officer, text: str) -> Callable[[], str]:
        def send() -> str:
            template = self.templates.template("followup", officer.language)
            body = followup_sms(
                template,
                reference=str(complaint.reference),
                priority=str(complaint.priority),
                changes=self._change_summary(complaint, event, officer.language),
                excerpt=text,
                tweet_id=str(event.details.get("follow_up") or complaint.tweet_id),
            )
            return self._send_sms(officer, template, body)

        return send

    def _change_summary(self, complaint: Complaint, event: Event, language: str) -> str:
        words = {
            "en": {"priority": f"now {complaint.priority}", "place": "place added", "phone": "phone shared"},
            "hi": {"priority": f"अब {complaint.priority}", "place": "स्थान जोड़ा", "phone": "फ़ोन दिया"},
        }[language if language == "hi" else "en"]
        parts = []
        for what in event.details.get("changed") or []:
            if what == "district":
                parts.append(self._district_name(complaint, language))
            elif what in words:
                parts.append(words[what])
        return ", ".join(parts)

    def _digest_sender(self, officer: Officer, decision: GuardDecision) -> Callable[[], str]:
        def send() -> str:
            template = self.templates.template("digest", officer.language)
            priorities = " ".join(f"{p}x{n}" for p, n in sorted(decision.priorities.items()))
            body = template.fill([str(decision.count), priorities[:30]])
            return self._send_sms(officer, template, body)

        return send

    def _send_sms(self, officer: Officer, template: Any, body: str) -> str:
        if not template.matches(body):
            # An off-template body would be blocked by the operator, or worse, delivered: never send it
            raise OffTemplate(f"{template.key}: body does not match the registered template")
        self.log("sms", {"officer": officer.officer_id, "phone": masked(officer.phone), "template": template.key})
        return self.sender.sms(
            officer.phone, body, template.dlt_template_id, self.templates.entity_id, self.templates.sender_id
        )

    def _email_sender(
        self, complaint: Complaint, officer: Officer, event: Event | None = None, purpose: str = "complaint"
    ) -> Callable[[], str]:
        def send() -> str:
            from seva.messages import complaint_email

            subject, body = complaint_email(
                complaint, officer, self.districts, self.templates, event, self.link(complaint, officer)
            )
            # The officer's email subscription filters on district, officer id and mailbox together
            attributes = {
                "officer_id": officer.officer_id,
                "district": officer.district,
                "mailbox": mailbox_key(officer.email or ""),
                "reference": str(complaint.reference),
                "priority": str(complaint.priority),
                "purpose": purpose,
            }
            return self.sender.email(officer, subject, body, attributes)

        return send


class OffTemplate(Exception):
    pass


def _still_overdue(complaint: Complaint, event: Event) -> bool:
    """An escalation still stands when its stage is still running, in the same district, at its level or
    above. An acknowledgement, a reassignment or a reopening restarts the clock (level 0): an escalation
    delivered after one (a retried message) would tell of a deadline that no longer holds, in the words of the
    complaint as it is now — the same SMS the restarted clock's own escalation sends when its time comes."""
    from seva.sla import SlaPolicy

    stage = SlaPolicy.stage_of(complaint.status)
    return (
        stage is not None
        and str(stage) == str(event.details.get("stage") or "acknowledge")
        and complaint.district_code == event.district_code
        and complaint.escalation_level >= int(event.details.get("level") or 0)
    )


def _delivered(complaint: Complaint, delivery: Delivery, message_id: str, at: datetime) -> Event:
    """The delivery's audit event (its id is the delivery's key: one per officer, channel and purpose)."""
    return Event(
        complaint_id=complaint.tweet_id,
        event_id=f"d-{delivery.key}",
        kind="delivery",
        at=at,
        actor=NOTIFIER,
        via=Channel(delivery.channel),
        details={"to": delivery.officer_id, "purpose": delivery.purpose, "message_id": message_id},
    )


def _sos_payload(complaint: Complaint) -> dict[str, Any]:
    return {
        "type": "seva.sos",
        "reference": complaint.reference,
        "priority": str(complaint.priority),
        "category": str(complaint.category),
        "district_code": complaint.district_code,
        "district": complaint.district,
        "locality": complaint.locality,
        "tweet_id": complaint.tweet_id,
        "tweet_url": f"https://x.com/i/status/{complaint.tweet_id}",
        "text": complaint.text,
    }


def summarise(results: list[DeliveryResult]) -> dict[str, int]:
    return dict(Counter(f"{r.channel}_{r.outcome.lower()}" for r in results))


class ComplaintReader(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...
    def set_notified(self, tweet_id: str, now: datetime, failed: list[str]) -> None: ...


class Directory(Protocol):
    def for_district(self, district: str) -> list[Officer]: ...


class FailureQueue(Protocol):
    def send(self, message: dict[str, Any]) -> None: ...


@dataclass
class NotifyService:
    """One lifecycle event in: the complaint and its officers looked up, the notifier run, the outcome kept."""

    complaints: ComplaintReader
    directory: Directory
    notifier: Notifier
    failures: FailureQueue

    def officers(self, complaint: Complaint) -> list[Officer]:
        officers = self.directory.for_district(complaint.district_key)
        if not officers and complaint.district_code is not None:
            officers = self.directory.for_district("HQ")  # no one registered for the district: the state cell
        return officers

    def handle(self, event: Event) -> list[DeliveryResult]:
        complaint = self.complaints.get(event.complaint_id)
        if complaint is None:
            return []
        follow_up, earlier = None, None
        if event.action == Action.FOLLOW_UP and event.details.get("follow_up"):
            follow_up = self.complaints.get(str(event.details["follow_up"]))
            moved_from = (event.details.get("from") or {}).get("district_code")
            if moved_from:
                earlier = self.officers(replace(complaint, district_code=int(moved_from)))
            elif "district" in (event.details.get("changed") or []):
                earlier = self.directory.for_district("HQ")  # it was in the state cell's queue
        officers = self.officers(complaint)
        if event.action == Action.ESCALATE and complaint.district_key != "HQ":
            # the chain ends at the state cell (already in the list when the district has no one: once each)
            officers = list({o.officer_id: o for o in [*officers, *self.directory.for_district("HQ")]}.values())
        try:
            results = self.notifier.notify(event, complaint, officers, follow_up, earlier)
        except NotificationsPending as pending:
            self._keep(complaint, event, pending.results)
            raise
        self._keep(complaint, event, results)
        return results

    def _keep(self, complaint: Complaint, event: Event, results: list[DeliveryResult]) -> None:
        failed = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.REFUSED)]
        if failed:
            keys = [f"{r.officer_id}#{r.channel}" for r in failed]
            self.complaints.set_notified(complaint.tweet_id, self.notifier.now(), keys)
            self.failures.send(
                {
                    "tweet_id": complaint.tweet_id,
                    "reference": complaint.reference,
                    "event": event.event_id,
                    "failed": [{"to": r.officer_id, "channel": r.channel, "error": r.error} for r in failed],
                }
            )
        elif (
            results and event.action in ANNOUNCE and all(r.outcome in (Outcome.SENT, Outcome.ALREADY) for r in results)
        ):
            self.complaints.set_notified(complaint.tweet_id, self.notifier.now(), [])

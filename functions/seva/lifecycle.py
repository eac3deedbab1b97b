"""One complaint model and one lifecycle: the states a complaint moves through, the actions that move it, who
may take them, and the events that record each change. Pure: the data layer applies a transition with one
conditional write that also appends its audit event (``seva.dal.complaints.DynamoComplaints.apply``).

    RECEIVED ─route─▶ ROUTED ─acknowledge─▶ ACKNOWLEDGED ─on_the_way─▶ ON_THE_WAY ─resolve─▶ RESOLVED ─close─▶ CLOSED
        │               │ ▲                                                                   │   ▲            │
        │ noise         │ └──reassign (any open state, back to ROUTED: the new district's clock restarts)    │
        ▼               │                                                                   reopen │          reopen
      NOISE ◀─to_noise──┘  (to_complaint: NOISE → ROUTED)                                    ▼   │            │
        RECEIVED ─attach─▶ ATTACHED (a citizen's follow-up in the thread of their open complaint)  REOPENED ◀─────┘

Follow-ups, notes, escalations and first responses on X are events on the complaint that keep its state; so
are an edit of the post on X (``EDIT``: its new text, re-triaged; a NOISE whose edit reads as a complaint is
turned into one with ``TO_COMPLAINT``, an open one's edit is a ``FOLLOW_UP``) and an erasure (``ERASE``: the
citizen's words, name and profile removed on request or because the post was deleted on X; the reference,
timestamps, state and routing stay for accountability figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    RECEIVED = "RECEIVED"  # stored by the poller, not yet triaged
    NOISE = "NOISE"  # not a complaint (kept; a person can turn it into one)
    ATTACHED = "ATTACHED"  # a follow-up in the thread of the citizen's open complaint
    ROUTED = "ROUTED"  # triaged, numbered, its district's officers told
    ACKNOWLEDGED = "ACKNOWLEDGED"  # an officer has seen it and owns it
    ON_THE_WAY = "ON_THE_WAY"  # police are going / acting
    RESOLVED = "RESOLVED"  # the officer says it is resolved; the citizen may object
    REOPENED = "REOPENED"  # the citizen said it is not resolved
    CLOSED = "CLOSED"  # resolved and accepted (thanks, a rating, or no objection for N days)


class Priority(StrEnum):
    P1 = "P1"  # danger to life or safety now
    P2 = "P2"  # a crime needing action within hours
    P3 = "P3"  # routine

    @classmethod
    def parse(cls, value: Any, default: Priority | None = None) -> Priority:
        try:
            return cls(str(value))
        except ValueError:
            if default is None:
                raise
            return default


class Category(StrEnum):
    EMERGENCY = "emergency"
    VIOLENT_CRIME = "violent_crime"
    THEFT = "theft"
    WOMEN_SAFETY = "women_safety"
    CYBER_FRAUD = "cyber_fraud"
    TRAFFIC = "traffic"
    PUBLIC_NUISANCE = "public_nuisance"
    POLICE_CONDUCT = "police_conduct"
    MISSING_PERSON = "missing_person"
    LAND_PROPERTY = "land_property"
    OTHER = "other"

    @classmethod
    def parse(cls, value: Any) -> Category:
        try:
            return cls(str(value))
        except ValueError:
            return cls.OTHER


class Action(StrEnum):
    ROUTE = "ROUTE"
    MARK_NOISE = "MARK_NOISE"
    ATTACH = "ATTACH"
    FOLLOW_UP = "FOLLOW_UP"  # the citizen added to the thread (priority, district, place or phone may change)
    ACKNOWLEDGE = "ACKNOWLEDGE"
    ON_THE_WAY = "ON_THE_WAY"
    RESOLVE = "RESOLVE"
    REOPEN = "REOPEN"
    CLOSE = "CLOSE"
    REASSIGN = "REASSIGN"
    NOTE = "NOTE"
    TO_COMPLAINT = "TO_COMPLAINT"  # a person decides a NOISE is a complaint
    TO_NOISE = "TO_NOISE"  # a person decides a complaint is noise
    FIRST_RESPONSE = "FIRST_RESPONSE"  # a police handle answered the citizen on X
    ESCALATE = "ESCALATE"
    REVIEW = "REVIEW"  # a person confirms or corrects triage (category, priority); the label is kept for training
    EDIT = "EDIT"  # the citizen edited the post on X: the new text, re-triaged (no state change)
    ERASE = "ERASE"  # personal data removed (erasure request, post deleted on X): no state change


OPEN = frozenset({Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED})
"""Complaints someone must still act on."""
FOLLOWABLE = OPEN | {Status.RESOLVED}
"""A citizen's reply in the thread of one of these is about it (a reply to a RESOLVED one may reopen it)."""

# action -> (states it may start from, the state it leads to; None keeps the state)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.ROUTE: (frozenset({Status.RECEIVED}), Status.ROUTED),
    Action.MARK_NOISE: (frozenset({Status.RECEIVED}), Status.NOISE),
    Action.ATTACH: (frozenset({Status.RECEIVED}), Status.ATTACHED),
    Action.FOLLOW_UP: (FOLLOWABLE, None),
    Action.ACKNOWLEDGE: (frozenset({Status.ROUTED, Status.REOPENED}), Status.ACKNOWLEDGED),
    Action.ON_THE_WAY: (frozenset({Status.ROUTED, Status.ACKNOWLEDGED, Status.REOPENED}), Status.ON_THE_WAY),
    Action.RESOLVE: (OPEN, Status.RESOLVED),
    Action.REOPEN: (frozenset({Status.RESOLVED, Status.CLOSED}), Status.REOPENED),
    Action.CLOSE: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REASSIGN: (OPEN, Status.ROUTED),
    Action.NOTE: (OPEN | {Status.RESOLVED, Status.CLOSED, Status.NOISE}, None),
    Action.TO_COMPLAINT: (frozenset({Status.NOISE}), Status.ROUTED),
    Action.TO_NOISE: (frozenset({Status.ROUTED}), Status.NOISE),
    Action.FIRST_RESPONSE: (OPEN | {Status.RESOLVED, Status.CLOSED}, None),
    Action.ESCALATE: (OPEN, None),
    Action.REVIEW: (OPEN | {Status.RESOLVED, Status.CLOSED, Status.NOISE}, None),
    Action.EDIT: (frozenset(Status), None),
    Action.ERASE: (frozenset(Status), None),
}


class ActorKind(StrEnum):
    SYSTEM = "system"
    OFFICER = "officer"
    CITIZEN = "citizen"
    STATE_CELL = "state_cell"


class Channel(StrEnum):
    """Through what an action came (or a delivery went)."""

    SYSTEM = "system"
    LINK = "link"  # a signed one-tap link from an SMS or email
    API = "api"  # the authenticated API / dashboard
    X = "x"
    SMS = "sms"
    EMAIL = "email"
    SOS = "sos"


# Who may take an action by hand (the system may take any)
BY_HAND: dict[Action, frozenset[ActorKind]] = {
    Action.ACKNOWLEDGE: frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL}),
    Action.ON_THE_WAY: frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL}),
    Action.RESOLVE: frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL}),
    Action.REASSIGN: frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL}),
    Action.NOTE: frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL}),
    Action.TO_COMPLAINT: frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL}),
    Action.TO_NOISE: frozenset({ActorKind.STATE_CELL}),
    Action.REOPEN: frozenset({ActorKind.CITIZEN, ActorKind.STATE_CELL}),
    Action.CLOSE: frozenset({ActorKind.CITIZEN, ActorKind.STATE_CELL}),
    Action.FOLLOW_UP: frozenset({ActorKind.CITIZEN}),
    Action.FIRST_RESPONSE: frozenset({ActorKind.OFFICER}),
    Action.REVIEW: frozenset({ActorKind.OFFICER, ActorKind.STATE_CELL}),
    Action.ERASE: frozenset({ActorKind.STATE_CELL}),
}


class TransitionRefused(Exception):
    """The action is not allowed from the complaint's state (or not for this actor)."""

    def __init__(self, action: Action, status: Status | str | None, reason: str = ""):
        super().__init__(f"{action} is not allowed from {status}{': ' + reason if reason else ''}")
        self.action, self.status = action, status


def allowed_from(action: Action) -> frozenset[Status]:
    return TRANSITIONS[action][0]


def target(action: Action, current: Status) -> Status:
    """The state ``action`` leads to from ``current`` (raises when the action is not allowed from it)."""
    sources, to = TRANSITIONS[action]
    if current not in sources:
        raise TransitionRefused(action, current)
    return to or current


def may(actor: ActorKind, action: Action) -> bool:
    return actor == ActorKind.SYSTEM or actor in BY_HAND.get(action, frozenset())


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str  # officer id, "route", "notify", the citizen's X user id, ...

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(ActorKind.SYSTEM, component)

    def as_dict(self) -> dict[str, str]:
        return {"kind": str(self.kind), "id": self.id}


@dataclass(frozen=True)
class Event:
    """One entry of a complaint's audit trail: a transition, or a delivery (SMS, email, SOS, X reply)."""

    complaint_id: str
    event_id: str
    kind: str  # "transition" | "delivery"
    at: datetime
    actor: Actor
    via: Channel
    action: Action | None = None
    from_status: Status | None = None
    to_status: Status | None = None
    # a snapshot for whoever reacts to the event (notify and reply lanes route on priority)
    priority: Priority | None = None
    district_code: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> str:
        return f"{self.at.isoformat(timespec='microseconds')}#{self.event_id}"


@dataclass(frozen=True)
class Complaint:
    """A stored tweet and everything Seva has decided about it (the one shape every function reads)."""

    tweet_id: str
    status: Status
    text: str
    author_id: str | None
    author_username: str | None
    conversation_id: str | None
    mentioned_handles: tuple[str, ...]
    tweet_created_at: datetime
    ingested_at: datetime
    tweet: dict[str, Any] = field(default_factory=dict)
    author: dict[str, Any] | None = None
    place: dict[str, Any] | None = None
    # triage and routing
    reference: str | None = None
    priority: Priority | None = None
    category: Category | None = None
    district_code: int | None = None
    district: str | None = None
    locality: str | None = None
    language: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    needs_review: bool = False
    review_reason: str | None = None
    confidence: float | None = None  # triage's calibrated probability that its decision is right
    routed_at: datetime | None = None
    ack_due_at: datetime | None = None
    resolve_due_at: datetime | None = None
    parent_tweet_id: str | None = None
    # lifecycle timestamps
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    on_the_way_at: datetime | None = None
    resolved_at: datetime | None = None
    reopened_at: datetime | None = None
    closed_at: datetime | None = None
    first_response_at: datetime | None = None
    first_response_by: str | None = None  # the police handle that first answered on X by hand
    erased_at: datetime | None = None  # personal data removed (``Action.ERASE``)
    escalation_level: int = 0  # the chain level told so far in the running stage (seva.sla)
    satisfaction: int | None = None  # the citizen's 1-5 rating
    reply_handle: str | None = None  # the handle Seva answered the citizen from
    resolution_note: str | None = None  # what the officer says was done
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def due_at(self) -> datetime | None:
        """The deadline of the clock that runs now (acknowledge while ROUTED, then resolve)."""
        if self.status == Status.ROUTED:
            return self.ack_due_at
        if self.status in (Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED):
            return self.resolve_due_at
        return None

    @property
    def district_key(self) -> str:
        """The officer directory's partition: an LGD code, or HQ when the district is unknown."""
        return str(self.district_code) if self.district_code is not None else "HQ"


@dataclass(frozen=True)
class Change:
    """One transition to write: the action, the fields it sets, what the audit event says about it. Several
    are written together, or none (a follow-up attaches to its complaint and updates it at once)."""

    complaint: Complaint
    action: Action
    changes: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

"""What officers and the state cell do to a complaint — acknowledge, on the way, resolve, reassign, note, turn a
noise into a complaint and back — through a one-tap link or the API. Each is a lifecycle transition, allowed
only from its states and only to who may take it, written with its audit event (actor and channel). Pure over
ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from seva.districts import Districts
from seva.lifecycle import (
    Action,
    Actor,
    ActorKind,
    Category,
    Change,
    Channel,
    Complaint,
    Event,
    Priority,
    Status,
    TransitionRefused,
    may,
    target,
)
from seva.sla import SlaPolicy, Stage

# What a person may ask for, by name (links and the API), and the lifecycle action it is
ACTIONS: dict[str, Action] = {
    "acknowledge": Action.ACKNOWLEDGE,
    "on_the_way": Action.ON_THE_WAY,
    "resolve": Action.RESOLVE,
    "reassign": Action.REASSIGN,
    "note": Action.NOTE,
    "to_complaint": Action.TO_COMPLAINT,
    "to_noise": Action.TO_NOISE,
    "review": Action.REVIEW,
    "reopen": Action.REOPEN,  # the state cell, on a citizen's word that reached it another way
    "close": Action.CLOSE,
}
LINK_ACTIONS = ("acknowledge", "on_the_way", "resolve", "reassign")  # what a one-tap link offers


class ActionRefused(Exception):
    """Not done, with one sentence that says why (shown to the officer as it is)."""


@dataclass(frozen=True)
class Request:
    complaint_id: str
    action: str
    actor: Actor
    via: Channel
    district_code: int | None = None  # for reassign: the district it belongs to (None: the state cell)
    note: str | None = None
    priority: str | None = None  # for to_complaint and review: the priority a person gives it
    category: str | None = None  # for review: the category a person gives it
    actor_district: str | None = None  # the officer's district ("HQ" for the state cell's queue)


class Repo(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...
    def write(
        self, changes: list[Change], *, actor: Actor, via: Channel, now: datetime, outbox: list
    ) -> list[Event]: ...


@dataclass
class ActionDesk:
    repo: Repo
    districts: Districts
    sla: SlaPolicy
    now: Callable[[], datetime]
    number: Callable[[int | None, datetime], str]  # a new reference, for a noise turned into a complaint

    def act(self, request: Request) -> tuple[Complaint, Event]:
        action = ACTIONS.get(request.action)
        if action is None:
            raise ActionRefused(f"'{request.action}' is not something Seva can do to a complaint.")
        if not may(request.actor.kind, action):
            raise ActionRefused(f"Only the state cell may {request.action.replace('_', ' ')} a complaint.")
        for _ in range(3):  # a concurrent change: read again and decide again
            complaint = self.repo.get(request.complaint_id)
            if complaint is None:
                raise ActionRefused("There is no such complaint.")
            self._may_touch(request, complaint)
            try:
                target(action, complaint.status)
            except TransitionRefused:
                raise ActionRefused(_already(action, complaint)) from None
            now = self.now()
            changes, details = self._changes(request, action, complaint, now)
            try:
                (event,) = self.repo.write(
                    [Change(complaint, action, changes, details)],
                    actor=request.actor,
                    via=request.via,
                    now=now,
                    outbox=[],
                )
            except TransitionRefused:
                continue
            after = self.repo.get(request.complaint_id)
            assert after is not None
            return after, event
        raise ActionRefused("The complaint is changing right now; please try again.")

    def _may_touch(self, request: Request, complaint: Complaint) -> None:
        """An officer acts on their district's complaints (the state cell on any)."""
        if request.actor.kind == ActorKind.STATE_CELL or request.actor.kind == ActorKind.SYSTEM:
            return
        if request.actor_district is not None and request.actor_district != complaint.district_key:
            raise ActionRefused(
                f"{complaint.reference or 'This complaint'} is now with "
                f"{complaint.district or 'the state cell'}, not your district."
            )

    def _changes(
        self, request: Request, action: Action, complaint: Complaint, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        details: dict[str, Any] = {}
        if request.note:
            details["note"] = request.note.strip()[:1000]
        changes: dict[str, Any] = {}
        if action == Action.ACKNOWLEDGE:
            changes = {"acknowledged_at": now, "acknowledged_by": request.actor.id}
        elif action == Action.ON_THE_WAY:
            changes = {"on_the_way_at": now}
            if complaint.acknowledged_at is None:  # on the way says they have seen it
                changes |= {"acknowledged_at": now, "acknowledged_by": request.actor.id}
        elif action == Action.RESOLVE:
            changes = {"resolved_at": now}
            if details.get("note"):  # what was done: told to the citizen in the resolution reply
                changes["resolution_note"] = details["note"]
        elif action == Action.REASSIGN:
            code = request.district_code
            if code is not None and self.districts.get(code) is None:
                raise ActionRefused("That is not a district of Uttar Pradesh.")
            if code == complaint.district_code:
                raise ActionRefused(f"{complaint.reference} is already with {complaint.district or 'the state cell'}.")
            priority = complaint.priority or Priority.P3
            # The new district's clocks start now; it must acknowledge again
            changes = {
                "district_code": code,
                "district": self.districts.name(code),
                "ack_due_at": self.sla.due(Stage.ACKNOWLEDGE, priority, now),
                "resolve_due_at": self.sla.due(Stage.RESOLVE, priority, now),
                "acknowledged_at": None,
                "acknowledged_by": None,
                "on_the_way_at": None,
            }
            details |= {"from": complaint.district_code, "to": code}
        elif action == Action.TO_COMPLAINT:
            priority = Priority.parse(request.priority or complaint.priority, Priority.P3)
            reference = complaint.reference or self.number(complaint.district_code, now)
            changes = {
                "is_complaint": True,
                "priority": priority,
                "reference": reference,
                "routed_at": now,
                "ack_due_at": self.sla.due(Stage.ACKNOWLEDGE, priority, now),
                "resolve_due_at": self.sla.due(Stage.RESOLVE, priority, now),
                "needs_review": None,
            }
            details |= {"reference": reference, "priority": str(priority)}
        elif action == Action.REOPEN:
            changes = {"reopened_at": now}
            details["by"] = str(request.actor.kind)
        elif action == Action.CLOSE:
            changes = {"closed_at": now}
            details["by"] = str(request.actor.kind)
        elif action == Action.TO_NOISE:
            changes = {"is_complaint": False, "needs_review": None}
        elif action == Action.REVIEW:
            changes, details = self._review(request, complaint, now, details)
        elif action == Action.NOTE and not details.get("note"):
            raise ActionRefused("A note needs some text.")
        return changes, details

    def _review(
        self, request: Request, complaint: Complaint, now: datetime, details: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A person confirms triage or corrects its category or priority; the label is kept for training. A higher
        priority brings its clocks forward when they are sooner than the running ones (as a follow-up does)."""
        changes: dict[str, Any] = {"needs_review": None}
        is_complaint = complaint.status != Status.NOISE
        corrected: dict[str, Any] = {}
        if request.category:
            category = Category.parse(request.category)
            if category.value != request.category:
                raise ActionRefused(f"'{request.category}' is not a category.")
            if category != complaint.category:
                changes["category"], corrected["category"] = category, str(complaint.category)
        if request.priority and is_complaint:
            priority = Priority.parse(request.priority, Priority.P3)
            if priority != complaint.priority:
                changes["priority"], corrected["priority"] = priority, str(complaint.priority)
                for stage, name in ((Stage.ACKNOWLEDGE, "ack_due_at"), (Stage.RESOLVE, "resolve_due_at")):
                    sooner = self.sla.due(stage, priority, now)
                    if complaint.is_open and (getattr(complaint, name) is None or sooner < getattr(complaint, name)):
                        changes[name] = sooner
        label = {
            "is_complaint": is_complaint,
            "category": str(changes.get("category") or complaint.category or "") or None,
            "priority": str(changes.get("priority") or complaint.priority or "") or None if is_complaint else None,
        }
        verdict = "corrected" if corrected else "confirmed"
        return changes, details | {"verdict": verdict, "label": label} | ({"from": corrected} if corrected else {})


def _already(action: Action, complaint: Complaint) -> str:
    """Why an action is not possible now, as an officer would put it."""
    ref = complaint.reference or "This complaint"
    if complaint.status == Status.RESOLVED and action in (Action.ACKNOWLEDGE, Action.ON_THE_WAY, Action.RESOLVE):
        return f"{ref} is already resolved."
    if complaint.status == Status.CLOSED:
        return f"{ref} is closed."
    if action == Action.ACKNOWLEDGE and complaint.status in (Status.ACKNOWLEDGED, Status.ON_THE_WAY):
        return f"{ref} was already acknowledged."
    if action == Action.ON_THE_WAY and complaint.status == Status.ON_THE_WAY:
        return f"{ref} already says the police are on the way."
    if complaint.status == Status.NOISE:
        return f"{ref} is not a complaint (marked as noise)."
    return f"{ref} cannot be {action.value.lower().replace('_', ' ')} now (it is {complaint.status.value.lower()})."

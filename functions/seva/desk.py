"""The officers' side of Seva: what a one-tap link shows and does, the authenticated API for officers and the
state cell (my district's open complaints, one complaint with its timeline, act), and the public lookup of a
reference (state and timestamps, no personal data). Pure over ports; the HTTP handler maps requests to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from seva.actions import ACTIONS, LINK_ACTIONS, ActionDesk, ActionRefused, Request
from seva.districts import Districts
from seva.lifecycle import Actor, ActorKind, Channel, Complaint, Event, Status, allowed_from, may
from seva.links import Link, LinkKeys, LinkRefused, read_token
from seva.officers import Officer
from seva.pages import complaint_page, open_actions, result_page


@dataclass(frozen=True)
class Identity:
    """Who calls the API, from the JWT the authorizer verified (Cognito groups and attributes)."""

    username: str
    groups: tuple[str, ...]
    district: str | None  # LGD code, or HQ
    officer_id: str | None

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Identity:
        groups = claims.get("cognito:groups") or []
        if isinstance(groups, str):  # API Gateway passes list claims as "[a b]"
            groups = groups.strip("[]").replace(",", " ").split()
        return cls(
            username=str(claims.get("cognito:username") or claims.get("username") or claims.get("sub") or "?"),
            groups=tuple(groups),
            district=claims.get("custom:district"),
            officer_id=claims.get("custom:officer_id"),
        )

    @property
    def state_cell(self) -> bool:
        return "state_cell" in self.groups

    @property
    def actor(self) -> Actor:
        if self.state_cell:
            return Actor(ActorKind.STATE_CELL, self.username)
        return Actor(ActorKind.OFFICER, self.officer_id or self.username)


class Repo(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...
    def by_reference(self, reference: str) -> Complaint | None: ...
    def queue(self, district_key: str, limit: int = 200) -> list[Complaint]: ...
    def events(self, tweet_id: str) -> list[Event]: ...


class Directory(Protocol):
    def for_district(self, district: str) -> list[Officer]: ...


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


@dataclass
class Desk:
    repo: Repo
    directory: Directory
    actions: ActionDesk
    districts: Districts
    keys: Callable[[], LinkKeys]
    now: Callable[[], datetime]

    # -- one-tap links ---------------------------------------------------------------------------------------
    def _link(self, token: str) -> tuple[Link, Complaint, Officer | None]:
        link = read_token(self.keys(), token, self.now())
        complaint = self.repo.get(link.complaint_id)
        if complaint is None:
            raise LinkRefused("This complaint no longer exists.")
        officers = self.directory.for_district(complaint.district_key) + self.directory.for_district("HQ")
        officer = next((o for o in officers if link.is_for(o.officer_id)), None)
        return link, complaint, officer

    def link_page(self, token: str) -> tuple[int, str]:
        """GET: show the complaint and the actions; nothing changes."""
        try:
            _, complaint, officer = self._link(token)
        except LinkRefused as exc:
            return 403, result_page("en", False, str(exc))
        language = officer.language if officer else "en"
        if officer is None:
            return 403, result_page(language, False, _moved(complaint))
        actions = [a for a in open_actions(complaint.status) if a in LINK_ACTIONS]
        return 200, complaint_page(complaint, language, self.districts, token, actions, self.now())

    def confirm(self, token: str, form: dict[str, str]) -> tuple[int, str]:
        """POST: the officer confirmed one action."""
        try:
            _, complaint, officer = self._link(token)
        except LinkRefused as exc:
            return 403, result_page("en", False, str(exc))
        if officer is None:
            return 403, result_page("en", False, _moved(complaint))
        action = form.get("action", "")
        if action not in LINK_ACTIONS:
            return 400, result_page(officer.language, False, "Choose one of the buttons on the page.", token)
        district = form.get("district")
        try:
            after, _ = self.actions.act(
                Request(
                    complaint_id=complaint.tweet_id,
                    action=action,
                    actor=Actor(ActorKind.OFFICER, officer.officer_id),
                    via=Channel.LINK,
                    district_code=int(district) if district and district.isdigit() else None,
                    note=form.get("note"),
                    actor_district=officer.district if officer.district != "HQ" else None,
                )
            )
        except ActionRefused as exc:
            return 409, result_page(officer.language, False, str(exc), token)
        return 200, result_page(officer.language, True, _done(after, action, self.districts), token)

    # -- the authenticated API ----------------------------------------------------------------------------------
    def queue(self, who: Identity, district: str | None) -> list[dict[str, Any]]:
        key = district if who.state_cell and district else who.district
        if not key:
            raise Forbidden("Your account has no district: ask the state cell.")
        if not who.state_cell and district and district != who.district:
            raise Forbidden("You can see your own district's complaints only.")
        now = self.now()
        return [public_view(c, now) | officer_view(c, now) for c in self.repo.queue(key)]

    def complaint(self, who: Identity, tweet_id: str) -> dict[str, Any]:
        complaint = self.repo.get(tweet_id)
        if complaint is None or complaint.status == Status.RECEIVED:
            raise NotFound("There is no such complaint.")
        if not who.state_cell and complaint.district_key != who.district:
            raise Forbidden("This complaint is not in your district.")
        now = self.now()
        view = public_view(complaint, now) | officer_view(complaint, now)
        view["timeline"] = [timeline_entry(e) for e in self.repo.events(tweet_id)]
        view["actions"] = allowed_actions(who, complaint)
        view |= {"review_reason": complaint.review_reason, "confidence": complaint.confidence}
        return view

    def act(self, who: Identity, tweet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        district = body.get("district")
        after, event = self.actions.act(
            Request(
                complaint_id=tweet_id,
                action=str(body.get("action") or ""),
                actor=who.actor,
                via=Channel.API,
                district_code=int(str(district)) if str(district or "").isdigit() else None,
                note=body.get("note"),
                priority=body.get("priority"),
                category=body.get("category"),
                actor_district=None if who.state_cell else who.district,
            )
        )
        now = self.now()
        view = public_view(after, now) | officer_view(after, now) | {"event": timeline_entry(event)}
        return view | {"actions": allowed_actions(who, after)}

    # -- public ----------------------------------------------------------------------------------------------
    def lookup(self, reference: str) -> dict[str, Any]:
        complaint = self.repo.by_reference(reference.strip().upper())
        if complaint is None:
            raise NotFound("No complaint has this reference.")
        return public_view(complaint, self.now())


def allowed_actions(who: Identity, complaint: Complaint) -> list[str]:
    """What this person may do to the complaint now (the lifecycle's states and who may act), by the API's names."""
    kind = who.actor.kind
    return [name for name, action in ACTIONS.items() if complaint.status in allowed_from(action) and may(kind, action)]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def public_view(c: Complaint, now: datetime) -> dict[str, Any]:
    """A reference's state and timestamps: nothing that identifies the citizen (no text, no username)."""
    return {
        "reference": c.reference,
        "status": c.status.value,
        "priority": str(c.priority) if c.priority else None,
        "category": str(c.category) if c.category else None,
        "district": c.district,
        "received_at": _iso(c.ingested_at),
        "routed_at": _iso(c.routed_at),
        "acknowledged_at": _iso(c.acknowledged_at),
        "on_the_way_at": _iso(c.on_the_way_at),
        "resolved_at": _iso(c.resolved_at),
        "closed_at": _iso(c.closed_at),
    }


def officer_view(c: Complaint, now: datetime) -> dict[str, Any]:
    due = c.due_at
    if due is None:
        deadline = "none"
    elif due < now:
        deadline = "breached"
    elif (due - now).total_seconds() < 0.25 * max(60.0, (due - (c.routed_at or due)).total_seconds()):
        deadline = "due_soon"
    else:
        deadline = "on_time"
    return {
        "id": c.tweet_id,
        "text": c.text,
        "author": c.author_username,
        "tweet_url": f"https://x.com/i/status/{c.tweet_id}",
        "district_code": c.district_code,
        "locality": c.locality,
        "language": c.language,
        "due_at": _iso(due),
        "deadline": deadline,
        "ack_due_at": _iso(c.ack_due_at),
        "resolve_due_at": _iso(c.resolve_due_at),
        "evidence": c.evidence,
        "needs_review": c.needs_review,
        "escalation_level": c.escalation_level,
        "satisfaction": c.satisfaction,
    }


def timeline_entry(e: Event) -> dict[str, Any]:
    return {
        "at": _iso(e.at),
        "kind": e.kind,
        "action": e.action.value if e.action else None,
        "from": e.from_status.value if e.from_status else None,
        "to": e.to_status.value if e.to_status else None,
        "actor": e.actor.as_dict(),
        "via": e.via.value,
        "details": {k: v for k, v in e.details.items() if k != "message_id"},
    }


def _moved(complaint: Complaint) -> str:
    where = complaint.district or "the state cell"
    return f"{complaint.reference or 'This complaint'} is now with {where}; this link no longer acts on it."


def _done(complaint: Complaint, action: str, districts: Districts) -> str:
    ref = complaint.reference
    if action == "reassign":
        return f"{ref} was sent to {complaint.district or 'the state cell'}. Its officers are being told."
    return {
        "acknowledge": f"{ref} is acknowledged in your name. The citizen is told an officer has it.",
        "on_the_way": f"{ref}: the citizen is told the police are on the way.",
        "resolve": f"{ref} is resolved. The citizen is asked to confirm.",
    }.get(action, f"{ref}: done.")

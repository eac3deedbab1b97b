"""Routing of a newly stored tweet: a follow-up in the thread of the citizen's complaint, noise, or a routed
complaint with a reference number and its deadlines.

Pure orchestration over ports. Every write is a lifecycle transition from ``RECEIVED`` (``seva.lifecycle``),
applied with its audit event, so a redelivered stream record changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from seva.districts import Districts
from seva.errors import BadRecord
from seva.feedback import citizen_verdict
from seva.lifecycle import (
    FOLLOWABLE,
    Action,
    Actor,
    ActorKind,
    Change,
    Channel,
    Complaint,
    Event,
    Priority,
    Status,
    TransitionRefused,
    allowed_from,
)
from seva.sla import SlaPolicy, Stage
from seva.tweets import original_id, replied_to

ROUTER = Actor.system("route")
_URGENCY = {Priority.P1: 0, Priority.P2: 1, Priority.P3: 2}
# Triage's district decisions (seva.triage.gazetteer) that come from the post's own words or place (not
# "agreeing ambiguous names": the author's profile can be one of them)
_DECIDED_BY_WORDS = ("text", "place")
# A phone number the citizen adds ("call 98765 43210", "+91-98765-43210"); never forwarded by SMS (redacted)
_PHONE = re.compile(r"(?<!\w)\+?\d(?:[\s\-().]*\d){9,}")


@dataclass(frozen=True)
class RouteOutcome:
    tweet_id: str
    status: str  # ROUTED | NOISE | ATTACHED | SKIPPED
    reference: str | None = None
    district: str | None = None
    category: str | None = None
    priority: str | None = None
    parent_tweet_id: str | None = None
    changed: tuple[str, ...] = ()


class ComplaintRepo(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...
    def in_conversation(self, conversation_id: str, author_id: str) -> list[Complaint]: ...
    def write(self, changes: list[Change], *, actor: Actor, via: Channel, now: datetime, outbox: list) -> list[Event]:
        """Write the transitions and their audit events in one transaction (raises TransitionRefused)."""
        ...

    def reply_outbox(self, complaint: Complaint, due: datetime) -> Any: ...


class Counter(Protocol):
    def next(self, scope: str) -> int: ...


def more_urgent(a: Priority | None, b: Priority | None) -> Priority | None:
    if a is None or b is None:
        return a or b
    return a if _URGENCY[a] <= _URGENCY[b] else b


def decided_by(evidence: list[dict[str, Any]]) -> str | None:
    """Which evidence decided the district (handle, text, place, profile), from triage's evidence list."""
    return next((e.get("decision") for e in evidence if "decision" in e), None)


def locality(evidence: list[dict[str, Any]], district: str | None) -> str | None:
    """The place in the text that is not just the district's own name ("Hazratganj", "roadways bus stand")."""
    for item in evidence:
        if item.get("source") in ("text", "place") and item.get("match") and item["match"] != district:
            return str(item["match"])[:60]
    return None


@dataclass
class Numbering:
    """Reference numbers citizens quote: UP-<district>-<year>-<6 digits>, from an atomic counter per district
    and year (UP-HQ-… while the district is unknown)."""

    counter: Counter
    districts: Districts
    prefix: str = "UP"

    def __call__(self, district_code: int | None, now: datetime) -> str:
        abbr = self.districts.abbreviation(district_code)
        return f"{self.prefix}-{abbr}-{now.year}-{self.counter.next(f'{abbr}#{now.year}'):06d}"


@dataclass
class Router:
    repo: ComplaintRepo
    number: Numbering
    classify: Callable[[dict, dict | None, dict | None], Any]  # -> seva.triage.Triage
    districts: Districts
    sla: SlaPolicy
    now: Callable[[], datetime]
    reply_outbox_delay: timedelta = timedelta(minutes=10)
    is_police: Callable[[str], bool] = lambda username: False
    """A registered police handle (its replies are the police answering, not complaints)."""
    ours: Callable[[Complaint, Complaint], bool] = lambda complaint, post: False
    """Whether a police post in a complaint's thread is one of Seva's own replies."""
    replied_with: Callable[[Complaint], set[str]] = lambda complaint: set()
    """The ids of the replies Seva posted to a complaint (its reply records, kept whether or not read back)."""

    def route(self, tweet_id: Any) -> RouteOutcome:
        if not isinstance(tweet_id, str) or not tweet_id.isdigit():
            raise BadRecord(f"complaint image without a valid tweet_id: {str(tweet_id)[:40]!r}")
        for _ in range(3):
            # The image says RECEIVED even on redelivery: the table says whether it was already handled.
            complaint = self.repo.get(tweet_id)
            if complaint is None or complaint.status != Status.RECEIVED:
                return RouteOutcome(tweet_id, "SKIPPED")
            try:
                first = original_id(complaint.tweet)
                original = self.repo.get(first) if first else None
                police = original is None and self.is_police(complaint.author_username or "")
                if original is None and not police and (waiting := self._received_parent(complaint)) is not None:
                    # A reply read before the citizen's tweet it answers was routed (that one still waits in the
                    # stream while this came by the express lane, or sits in another stream slot): that one
                    # first, so this one follows it up instead of becoming a second complaint
                    self.route(waiting.tweet_id)
                answered = self._answered(complaint) if police else None
                parent = self._thread_parent(complaint) if original is None and not police else None
                # The time is taken after every read: a change written meanwhile (a concurrent route of the
                # parent, an officer) stays earlier than this one in the audit trail, as it was in fact
                now = self.now()
                if original is not None:
                    return self._edit(complaint, original, now)
                if police:
                    return self._police_reply(complaint, answered, now)
                if parent is not None:
                    return self._follow_up(complaint, parent, now)
                return self._triage(complaint, now)
            except TransitionRefused:
                # a concurrent delivery won (the tweet is handled: skipped above), or the complaint this tweet
                # follows up changed meanwhile (an officer, a clock): read both again and decide again
                continue
        raise TransitionRefused(Action.ROUTE, Status.RECEIVED, "kept changing while being routed; retried later")

    def _triage(self, complaint: Complaint, now: datetime) -> RouteOutcome:
        triage = self.classify(complaint.tweet, complaint.author, complaint.place)
        if not triage.is_complaint:
            # Kept, never dropped: a person can turn it into a complaint; one with any SOS signal waits in the
            # review queue (needs_review)
            fields = self._triage_fields(triage) | {"priority": triage.priority}
            self.repo.write(
                [Change(complaint, Action.MARK_NOISE, fields)], actor=ROUTER, via=Channel.SYSTEM, now=now, outbox=[]
            )
            return RouteOutcome(complaint.tweet_id, "NOISE", category=triage.category)
        fields = self._routing_fields(triage, now)
        reference, priority = fields["reference"], fields["priority"]
        change = Change(complaint, Action.ROUTE, fields, {"reference": reference, "priority": str(priority)})
        # The outbox, written with the transition: the citizen is answered by the reply sweep even if the
        # event is lost on its way to the reply lane
        outbox = [self.repo.reply_outbox(complaint, now + self.reply_outbox_delay)]
        self.repo.write([change], actor=ROUTER, via=Channel.SYSTEM, now=now, outbox=outbox)
        return RouteOutcome(complaint.tweet_id, "ROUTED", reference, triage.district, triage.category, str(priority))

    @staticmethod
    def _triage_fields(triage: Any) -> dict[str, Any]:
        result = triage.as_dict()
        return {
            "is_complaint": bool(triage.is_complaint),
            "category": triage.category,
            "language": triage.language,
            "evidence": result["evidence"],
            "district_code": triage.district_code,
            "district": triage.district,
            "locality": locality(result["evidence"], triage.district),
            "needs_review": bool(result.get("needs_review")) or None,
            "review_reason": result.get("review_reason"),
            "confidence": result.get("confidence"),
        }

    def _routing_fields(self, triage: Any, now: datetime) -> dict[str, Any]:
        """A complaint's triage, its reference number and its deadlines."""
        priority = Priority.parse(triage.priority, Priority.P3)
        return self._triage_fields(triage) | {
            "priority": priority,
            "reference": self.number(triage.district_code, now),
            "routed_at": now,
            "ack_due_at": self.sla.due(Stage.ACKNOWLEDGE, priority, now),
            "resolve_due_at": self.sla.due(Stage.RESOLVE, priority, now),
        }

    def _police_reply(self, post: Complaint, target: Complaint | None, now: datetime) -> RouteOutcome:
        """A police handle answered in a thread by hand: the complaint's first response (time-stamped when the
        post was made), so officers who work in the X app are measured too. Seva's own replies are kept with
        the complaint and measure nothing. ``target``: the complaint it answers (``_answered``)."""
        if target is None:
            # not about a complaint Seva holds: kept, out of the review queue
            change = Change(post, Action.MARK_NOISE, {"is_complaint": False, "needs_review": None}, {"police": True})
            self.repo.write([change], actor=ROUTER, via=Channel.X, now=now, outbox=[])
            return RouteOutcome(post.tweet_id, "NOISE")
        ours = self.ours(target, post)
        changes = []
        if not ours and target.first_response_at is None and target.status in allowed_from(Action.FIRST_RESPONSE):
            at = min(post.tweet_created_at, now)
            changes.append(
                Change(
                    target,
                    Action.FIRST_RESPONSE,
                    {"first_response_at": at, "first_response_by": post.author_username},
                    {"post": post.tweet_id, "handle": post.author_username, "at": at.isoformat()},
                )
            )
        attach = {"parent": target.tweet_id, "police": True} | ({"seva_reply": True} if ours else {})
        changes.append(Change(post, Action.ATTACH, {"parent_tweet_id": target.tweet_id}, attach))
        actor = ROUTER if ours else Actor(ActorKind.OFFICER, post.author_username or "?")
        self.repo.write(changes, actor=actor, via=Channel.X, now=now, outbox=[])
        return RouteOutcome(post.tweet_id, "ATTACHED", target.reference, parent_tweet_id=target.tweet_id)

    def _answered(self, post: Complaint) -> Complaint | None:
        """The complaint a police post answers: the post it replies to (or that post's complaint), else the
        conversation's first post."""
        for tweet_id in (replied_to(post.tweet), post.conversation_id):
            found = self.repo.get(tweet_id) if tweet_id and tweet_id != post.tweet_id else None
            if found is not None and found.parent_tweet_id:
                found = self.repo.get(found.parent_tweet_id)
            if found is not None and found.reference:
                return found
        return None

    def _received_parent(self, complaint: Complaint) -> Complaint | None:
        """The citizen's own tweet this one replies to, when it is not routed yet."""
        target_id = replied_to(complaint.tweet)
        if not target_id or target_id == complaint.tweet_id or not complaint.author_id:
            return None
        target = self.repo.get(target_id)
        if target is None or target.status != Status.RECEIVED or target.author_id != complaint.author_id:
            return None
        return target

    def _thread_parent(self, complaint: Complaint) -> Complaint | None:
        """The citizen's own complaint in this conversation that this tweet follows up (the earliest)."""
        conversation = complaint.conversation_id
        if not conversation or conversation == complaint.tweet_id or not complaint.author_id:
            return None
        refs = [r for r in complaint.tweet.get("referenced_tweets") or [] if isinstance(r, dict)]
        if refs and not any(r.get("type") == "replied_to" for r in refs):
            return None  # a quote, not a reply in the thread
        author = complaint.author_id

        @cache  # read once, and only when needed
        def candidates() -> list[Complaint]:
            return [
                c
                for c in self.repo.in_conversation(conversation, author)
                if c.tweet_id != complaint.tweet_id
                and c.status in FOLLOWABLE | {Status.CLOSED}
                and not c.parent_tweet_id
            ]

        answered = self._answered_complaint(complaint, candidates)
        if answered is not None and answered.author_id == complaint.author_id:
            # a reply to Seva's (or an officer's) post in the thread of one of the citizen's complaints: that one
            if answered.status == Status.CLOSED and not _reopens(complaint, answered):
                return None
            if answered.status in FOLLOWABLE | {Status.CLOSED}:
                return answered
        first = next(iter(candidates()), None)
        if first is not None and first.status == Status.CLOSED and not _reopens(complaint, first):
            return None  # a closed complaint's thread: only "not resolved" reopens it; else a new complaint
        return first

    def _citizen_answer(self, child: Complaint, parent: Complaint, now: datetime) -> RouteOutcome | None:
        """The citizen's answer to "resolved": "not resolved" reopens it (its officers are told, the resolve
        clock restarts); thanks or a 1-5 rating closes it with the satisfaction recorded."""
        if parent.status not in (Status.RESOLVED, Status.CLOSED) or not _written_after_resolution(child, parent):
            return None
        verdict = citizen_verdict(child.text)
        details = {"by": "citizen", "post": child.tweet_id}
        if verdict.reopen:
            change = Change(parent, Action.REOPEN, {"reopened_at": now}, details)
        elif verdict.close and parent.status == Status.RESOLVED:
            fields: dict[str, Any] = {"closed_at": now, "satisfaction": verdict.rating}
            change = Change(parent, Action.CLOSE, fields, details | {"rating": verdict.rating})
        else:
            return None
        attach = Change(child, Action.ATTACH, {"parent_tweet_id": parent.tweet_id}, {"parent": parent.tweet_id})
        citizen = Actor(ActorKind.CITIZEN, child.author_id or "?")
        self.repo.write([change, attach], actor=citizen, via=Channel.X, now=now, outbox=[])
        return RouteOutcome(child.tweet_id, "ATTACHED", parent.reference, parent_tweet_id=parent.tweet_id)

    def _answered_complaint(self, post: Complaint, candidates: Callable[[], list[Complaint]]) -> Complaint | None:
        """The complaint whose thread post (a police reply, kept attached to it) this post replies to; for a
        reply to a post not read yet, the citizen's complaint in this conversation that Seva posted it to."""
        target_id = replied_to(post.tweet)
        target = self.repo.get(target_id) if target_id and target_id != post.tweet_id else None
        if target is None and target_id and target_id not in {c.tweet_id for c in candidates()}:
            # X returned the answer before Seva's reply (another query, a later page): the reply records know
            return next((c for c in candidates() if target_id in self.replied_with(c)), None)
        if target is None or target.author_id == post.author_id:
            return None
        if target.parent_tweet_id:
            return self.repo.get(target.parent_tweet_id)
        if target.status == Status.RECEIVED and self.is_police(target.author_username or ""):
            # read in the same poll and not routed yet: the complaint it answers, as its own routing will find
            # (never the conversation's earliest complaint: the citizen may have several in one thread)
            return self._answered(target)
        return None

    def _follow_up(self, child: Complaint, parent: Complaint, now: datetime) -> RouteOutcome:
        """Triage the follow-up on its own: it may raise the priority, name or change the district, add a place
        or a phone number. The complaint is updated with it and the follow-up is recorded either way."""
        answered = self._citizen_answer(child, parent, now)
        if answered is not None:
            return answered
        triage = self.classify(child.tweet, child.author, child.place)
        changes, changed = self._updates(parent, triage, now)
        if _PHONE.search(child.text):
            changed.append("phone")
        details = {
            "follow_up": child.tweet_id,
            "changed": changed,
            "from": {
                k: (str(v) if (v := getattr(parent, k)) is not None else None)
                for k in ("priority", "district_code")
                if k in changes
            },
        }
        self.repo.write(
            [
                Change(parent, Action.FOLLOW_UP, changes, details),
                Change(child, Action.ATTACH, {"parent_tweet_id": parent.tweet_id}, {"parent": parent.tweet_id}),
            ],
            actor=Actor.system("route"),
            via=Channel.X,
            now=now,
            outbox=[],
        )
        return RouteOutcome(
            child.tweet_id,
            "ATTACHED",
            parent.reference,
            priority=str(changes.get("priority") or parent.priority),
            parent_tweet_id=parent.tweet_id,
            changed=tuple(changed),
        )

    def _updates(self, parent: Complaint, triage: Any, now: datetime) -> tuple[dict[str, Any], list[str]]:
        """What a citizen's new words change on their complaint: a more urgent priority (with its sooner
        deadlines), a district their words name (when the complaint's was a guess), a place."""
        evidence = triage.as_dict()["evidence"]
        changes: dict[str, Any] = {}
        changed: list[str] = []
        if triage.is_complaint and triage.priority:
            raised = more_urgent(parent.priority, Priority.parse(triage.priority, Priority.P3))
            if raised != parent.priority and raised is not None:
                changes["priority"] = raised
                changed.append("priority")
                # The new priority's clocks, if they are sooner than the ones running
                for stage, name in ((Stage.ACKNOWLEDGE, "ack_due_at"), (Stage.RESOLVE, "resolve_due_at")):
                    sooner = self.sla.due(stage, raised, now)
                    current = getattr(parent, name)
                    if current is None or sooner < current:
                        changes[name] = sooner
        text_code = self._named_district(evidence)
        if text_code is not None and text_code != parent.district_code and self._may_move(parent):
            changes["district_code"] = text_code
            changes["district"] = self.districts.name(text_code)
            changed.append("district")
        place = locality(evidence, self.districts.name(text_code or parent.district_code))
        if place and place != parent.locality:
            changes["locality"] = place
            changed.append("place")
        return changes, changed

    def _edit(self, version: Complaint, original: Complaint, now: datetime) -> RouteOutcome:
        """A new version of a post Seva holds (the citizen edited it on X): the complaint takes the new text and
        is triaged again by the lifecycle's rules, and the version is attached to it — never a second complaint.
        A NOISE that now reads as a complaint becomes one (numbered, answered) unless a person made it noise (then
        it goes to review); an open or resolved complaint is
        updated as a follow-up would update it (officers are told what changed); otherwise the text changes."""
        place = version.place or original.place
        content: dict[str, Any] = {"text": version.text, "tweet": version.tweet, "place": place}
        details: dict[str, Any] = {"version": version.tweet_id, "edit": True}
        attach = Change(version, Action.ATTACH, {"parent_tweet_id": original.tweet_id}, {"edit_of": original.tweet_id})
        outbox: list[Any] = []
        outcome = RouteOutcome(version.tweet_id, "ATTACHED", original.reference, parent_tweet_id=original.tweet_id)
        if original.status == Status.NOISE and original.reference is not None:
            # A person called it noise (it was numbered once): their decision stands; a person looks again
            review = {"needs_review": True, "review_reason": "edited on X after a person called it noise"}
            change = Change(original, Action.EDIT, content | review, details)
        elif original.status == Status.NOISE and not original.parent_tweet_id:
            triage = self.classify(version.tweet, original.author, place)
            if triage.is_complaint:
                fields = self._routing_fields(triage, now)
                change = Change(
                    original, Action.TO_COMPLAINT, content | fields, details | {"reference": fields["reference"]}
                )
                outbox = [self.repo.reply_outbox(original, now + self.reply_outbox_delay)]
                outcome = replace(outcome, reference=fields["reference"], priority=str(fields["priority"]))
            else:
                change = Change(original, Action.EDIT, content | self._triage_fields(triage), details)
        elif original.status in FOLLOWABLE and not original.parent_tweet_id:
            triage = self.classify(version.tweet, original.author, place)
            changes, changed = self._updates(original, triage, now)
            if _PHONE.search(version.text) and not _PHONE.search(original.text):
                changed.append("phone")
            details |= {"follow_up": version.tweet_id, "changed": changed}
            change = Change(original, Action.FOLLOW_UP, content | changes, details)
            outcome = replace(outcome, changed=tuple(changed))
        else:
            change = Change(original, Action.EDIT, content, details)  # RECEIVED: its routing reads the new text
        self.repo.write([change, attach], actor=ROUTER, via=Channel.X, now=now, outbox=outbox)
        return outcome

    @staticmethod
    def _named_district(evidence: list[dict[str, Any]]) -> int | None:
        """A district the follow-up's own words (or its place) name without doubt; its @handles are the thread's."""
        for source in ("text", "place"):
            codes = {c for e in evidence if e.get("source") == source for c in e.get("district_codes") or []}
            if len(codes) == 1:
                return next(iter(codes))
        # "Sadar Bazar Agra": a locality of several districts and the one it is in; triage's decision from the
        # words says which (never one from a handle: a follow-up's handles are the thread's)
        code = next((e.get("district_code") for e in evidence if "decision" in e), None)
        named = {c for e in evidence if e.get("source") in ("text", "place") for c in e.get("district_codes") or []}
        if decided_by(evidence) in _DECIDED_BY_WORDS and code is not None and code in named:
            return int(code)  # one of the places the words name, never a pick the profile narrowed
        return None

    @staticmethod
    def _may_move(parent: Complaint) -> bool:
        """A follow-up moves a complaint that no one could place, or that only a handle or a profile placed."""
        return parent.district_code is None or decided_by(parent.evidence) in ("handle", "profile", None)


def _written_after_resolution(post: Complaint, complaint: Complaint) -> bool:
    """Only a post written after the complaint was resolved answers "resolved". One written before and read
    late (X indexes late, the poller catches up after an outage) is a follow-up of the open complaint: "no
    action yet" from before the officer came must not reopen what the officer has since resolved."""
    return complaint.resolved_at is None or post.tweet_created_at >= complaint.resolved_at


def _reopens(post: Complaint, closed: Complaint) -> bool:
    return citizen_verdict(post.text).reopen and _written_after_resolution(post, closed)

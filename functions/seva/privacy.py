"""Erasure of a citizen's personal data (DPDP Act 2023 s.8(7) and s.12; X's developer policy: a post deleted on
X is deleted here). Pure orchestration over a port.

An erasure is a lifecycle event (``Action.ERASE``, no state change) written with its audit record. It removes
the citizen's words (text and the post's payload), name, username, user id, profile and the post's place; it
keeps the reference, the timestamps, the state, district, category and priority, so accountability figures
(how fast, where, how many) stay true. An erasure by post covers the post's chain: its edited versions and the
citizen's follow-ups in its thread (they repeat or extend the words). An erasure is idempotent: an item already
erased is left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from seva.lifecycle import Action, Actor, Change, Channel, Complaint, Event, TransitionRefused
from seva.tweets import original_id

KEPT_TWEET_FIELDS = ("id", "created_at", "conversation_id", "lang", "referenced_tweets", "edit_history_tweet_ids")
"""What stays of an erased post: ids and times (threads and edits still match), no words, no entities, no geo."""


def erasure(complaint: Complaint, now: datetime) -> dict[str, Any]:
    """The fields an erasure sets on an item."""
    kept = {k: complaint.tweet[k] for k in KEPT_TWEET_FIELDS if k in complaint.tweet}
    return {
        "text": "",
        "tweet": kept,
        "author": None,
        "place": None,
        "author_id": None,
        "author_username": None,
        "in_reply_to_user_id": None,
        "evidence": None,  # the matched words of the text and the profile's location
        "locality": None,  # a place taken from the citizen's words
        "erased_at": now,
    }


class ErasureRepo(Protocol):
    def get(self, tweet_id: str) -> Complaint | None: ...
    def events(self, tweet_id: str) -> list[Event]: ...
    def by_author(self, author_id: str) -> Iterable[Complaint]: ...
    def write(
        self, changes: list[Change], *, actor: Actor, via: Channel, now: datetime, outbox: list[Any]
    ) -> list[Event]: ...


@dataclass
class ErasureReport:
    erased: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"erased": self.erased, "already_erased": self.already, "not_found": self.missing}


@dataclass
class Eraser:
    repo: ErasureRepo
    now: Callable[[], datetime]

    def erase_post(self, tweet_id: str, actor: Actor, reason: str, via: Channel = Channel.API) -> ErasureReport:
        """A post and its chain (its first version, later versions, the citizen's follow-ups)."""
        report = ErasureReport()
        item = self.repo.get(tweet_id)
        if item is None:
            report.missing.append(tweet_id)
            return report
        root = item
        if item.parent_tweet_id and item.parent_tweet_id == original_id(item.tweet):
            root = self.repo.get(item.parent_tweet_id) or item  # an edited version: its first version too
        ids = [root.tweet_id, *self._chain(root.tweet_id)]
        if item.tweet_id not in ids:
            ids.append(item.tweet_id)
        for one in dict.fromkeys(ids):
            self._erase_one(one, actor, via, reason, report)
        return report

    def erase_author(self, author_id: str, actor: Actor, reason: str, via: Channel = Channel.API) -> ErasureReport:
        """Everything one citizen posted that Seva holds."""
        report = ErasureReport()
        for item in self.repo.by_author(author_id):
            self._erase_one(item.tweet_id, actor, via, reason, report)
        return report

    def erase_deleted(self, candidates: Iterable[Complaint], deleted: Callable[[list[str]], set[str]]) -> ErasureReport:
        """Posts deleted on X lose their words here (X's developer policy): ``deleted`` asks X which of the
        candidates' posts it no longer has (``GET /2/tweets?ids=``, 100 a request)."""
        report = ErasureReport()
        ids = [c.tweet_id for c in candidates if c.erased_at is None]
        for gone in sorted(deleted(ids)):
            one = self.erase_post(gone, Actor.system("compliance"), "deleted on X", via=Channel.X)
            report.erased += [i for i in one.erased if i not in report.erased]
            report.already += one.already
            report.missing += one.missing
        return report

    def _chain(self, tweet_id: str) -> list[str]:
        """Items the audit trail links to a complaint: edited versions and follow-ups."""
        linked = []
        for event in self.repo.events(tweet_id):
            for key in ("version", "follow_up"):
                value = event.details.get(key)
                if isinstance(value, str) and value.isdigit():
                    linked.append(value)
        return linked

    def _erase_one(self, tweet_id: str, actor: Actor, via: Channel, reason: str, report: ErasureReport) -> None:
        for _ in range(5):
            item = self.repo.get(tweet_id)
            if item is None:
                report.missing.append(tweet_id)
                return
            if item.erased_at is not None:
                report.already.append(tweet_id)
                return
            now = self.now()
            change = Change(item, Action.ERASE, erasure(item, now), {"reason": reason[:200]})
            try:
                self.repo.write([change], actor=actor, via=via, now=now, outbox=[])
            except TransitionRefused:
                continue  # changed since it was read (routed meanwhile): read it again
            report.erased.append(tweet_id)
            return
        raise RuntimeError(f"erasing {tweet_id}: it kept changing")

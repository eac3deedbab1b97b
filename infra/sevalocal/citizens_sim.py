"""Simulated citizens: some answer Seva's "resolved" reply in the thread, in their words — "not resolved"
(the complaint reopens) or thanks and a rating (it closes) — after a delay; the rest stay silent (it closes by
itself after the objection period). What each posted, and when, is the ground truth the demo judges."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RESOLVED_MARKERS = ("report your complaint as resolved", "आपकी शिकायत का समाधान हो गया है")
OBJECTIONS = ("not resolved, nothing has happened", "abhi tak kuch nahi hua sir", "समाधान नहीं हुआ")
THANKS = (("Thank you sir 5", 5), ("4", 4), ("धन्यवाद", None), ("thanks, rating 3/5", 3))


@dataclass(frozen=True)
class CitizenBehaviour:
    object_share: float = 0.2  # say it is not resolved
    thank_share: float = 0.4  # thank or rate (the rest stay silent)
    answer_minutes: tuple[float, float] = (1.0, 4.0)  # after Seva's "resolved" reply
    seed: int = 0


@dataclass(frozen=True)
class Answer:
    tweet_id: str  # the complaint
    kind: str  # reopen | close
    rating: int | None
    post_id: str | None
    at: float


def is_resolution_reply(text: str) -> bool:
    return any(marker in text for marker in RESOLVED_MARKERS)


class CitizenSimulator:
    def __init__(
        self,
        replies: Callable[[], list[dict[str, Any]]],
        author_of: Callable[[str], str | None],
        post: Callable[..., str | None],
        speed: float,
        behaviour: CitizenBehaviour | None = None,
        author_id_of: Callable[[str], str | None] = lambda tweet_id: None,
    ):
        self.replies, self.author_of, self.post, self.speed = replies, author_of, post, speed
        self.author_id_of = author_id_of
        self.behaviour = behaviour or CitizenBehaviour()
        self.answers: list[Answer] = []
        self.errors: list[str] = []
        self._planned: list[tuple[float, str, str, str, int | None, str]] = []
        self._seen = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="citizens", daemon=True)

    def start(self) -> CitizenSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._planned)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._read()
                self._answer_due()
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(0.05)

    def _read(self) -> None:
        replies = self.replies()
        for reply in replies[self._seen :]:
            complaint = str(reply.get("in_reply_to_tweet_id") or "")
            if not complaint or not is_resolution_reply(str(reply.get("text") or "")):
                continue
            b = self.behaviour
            fate = random.Random(int(hashlib.sha256(f"{b.seed}|{complaint}".encode()).hexdigest()[:12], 16))
            roll = fate.random()
            wait = fate.uniform(*b.answer_minutes) * 60 / self.speed
            if roll < b.object_share:
                text, kind, rating = fate.choice(OBJECTIONS), "reopen", None
            elif roll < b.object_share + b.thank_share:
                (text, rating), kind = fate.choice(THANKS), "close"
            else:
                continue
            with self._lock:
                self._planned.append((time.time() + wait, complaint, str(reply["id"]), text, rating, kind))
        self._seen = len(replies)

    def _answer_due(self) -> None:
        now = time.time()
        with self._lock:
            due = [p for p in self._planned if p[0] <= now]
        for at, complaint, reply_id, text, rating, kind in due:
            author = self.author_of(complaint)
            handle = self.author_of(reply_id)
            # as the complaint's own author (by id: two accounts may share a name in a scenario)
            post_id = (
                self.post(author, f"@{handle} {text}", reply_id, self.author_id_of(complaint))
                if author and handle
                else None
            )
            self.answers.append(Answer(complaint, kind, rating, post_id, time.time()))
            with self._lock:
                self._planned.remove((at, complaint, reply_id, text, rating, kind))

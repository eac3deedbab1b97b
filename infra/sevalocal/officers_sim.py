"""Simulated officers for the local cloud. They read what reached them (the SMS and emails SNS accepted) and act
on the one-tap links in them after a while, as people do: most acknowledge, P1s get "on the way", most are
resolved later; some complaints are not theirs and go back to the state cell; some officers answer the citizen
by hand in the X app from the district's handle instead (a first response, never a link); an SMS app's
preview fetches some links (nothing may change); and a share of complaints nobody ever acts on. Every request
and the API's answer is kept: the ground truth the demo judges the lifecycle against."""

from __future__ import annotations

import base64
import hashlib
import heapq
import random
import re
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LINK = re.compile(r"https?://\S+/a/([A-Za-z0-9_-]{32})")
REFERENCE = re.compile(r"UP-[A-Z]{2,4}-\d{4}-\d{6}")


@dataclass(frozen=True)
class OfficerBehaviour:
    never_share: float = 0.2  # complaints nobody acts on
    preview_share: float = 0.3  # links an SMS app or mail scanner fetches first
    reassign_share: float = 0.05  # "not ours": sent back to the state cell
    on_the_way_share: float = 0.3  # P2/P3 complaints the police go out for (every P1)
    resolve_share: float = 0.8  # of those acknowledged
    x_reply_share: float = 0.1  # complaints answered by hand on X from the handle, and not through the link
    ack_minutes: tuple[float, float] = (1.0, 12.0)  # from the message to acknowledging (P1: a fifth)
    resolve_minutes: tuple[float, float] = (5.0, 40.0)  # from acknowledging to resolving
    seed: int = 0


@dataclass
class Taken:
    """One request an officer made and what the API answered."""

    tweet_id: str
    reference: str | None
    officer_id: str
    action: str  # preview | acknowledge | on_the_way | resolve | reassign | x_reply
    status: int
    at: float
    post_id: str | None = None  # x_reply: the post on X
    sent_at: float = 0.0  # when the request left (``at``: when its answer came; the action took effect between)


@dataclass(order=True)
class _Step:
    due: float
    seq: int
    run: Callable[[], None] = field(compare=False)


def complaint_of(token: str) -> str:
    """The complaint id a link's token carries (read without the key: the officers only follow links)."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return str(struct.unpack(">Q", raw[1:9])[0])


class OfficerSimulator:
    def __init__(
        self,
        published: Callable[[], list[dict[str, Any]]],
        phones: dict[str, str],
        speed: float,
        behaviour: OfficerBehaviour | None = None,
        reply_on_x: Callable[[str], str | None] | None = None,
    ):
        self.published, self.phones, self.speed = published, phones, speed
        self.reply_on_x = reply_on_x  # posts an officer's answer to a complaint from its handle; the post's id
        self.behaviour = behaviour or OfficerBehaviour()
        self.taken: list[Taken] = []
        self.planned: dict[tuple[str, str], str] = {}  # (complaint, officer's district) -> what was planned
        self._steps: list[_Step] = []
        self._seq = 0
        self._running = 0
        self._read = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="officers", daemon=True)
        self.errors: list[str] = []

    # -- running ------------------------------------------------------------------------------------------------
    def start(self) -> OfficerSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def pending(self) -> int:
        """Steps still to take, the one under way included."""
        with self._lock:
            return len(self._steps) + self._running

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._read_messages()
                self._run_due()
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(0.05)

    def _read_messages(self) -> None:
        messages = self.published()
        for message in messages[self._read :]:
            self._read_message(message)
        self._read = len(messages)

    def _read_message(self, message: dict[str, Any]) -> None:
        body = message.get("message") or ""
        link = LINK.search(body)
        if not link:
            return
        if message.get("phone"):
            officer = self.phones.get(message["phone"], message["phone"])
        else:
            officer = str((message.get("attributes") or {}).get("officer_id") or "")
        reference = REFERENCE.search(body)
        self._plan(link.group(0), link.group(1), officer, reference.group(0) if reference else None, body)

    # -- what a person does with a link --------------------------------------------------------------------------
    def _plan(self, url: str, token: str, officer: str, reference: str | None, body: str) -> None:
        tweet_id = complaint_of(token)
        b = self.behaviour
        rng = random.Random(int(hashlib.sha256(f"{b.seed}|{tweet_id}|{officer}".encode()).hexdigest()[:12], 16))
        minute = 60.0 / self.speed
        now = time.time()
        if rng.random() < b.preview_share:
            self._at(now + rng.uniform(0.1, 1.0) * minute, lambda: self._request(url, tweet_id, reference, officer))
        district = officer.split("-", 1)[0]
        key = (tweet_id, district)
        if key in self.planned:  # one officer of a district acts on a complaint; the others leave it to them
            return
        fate = random.Random(int(hashlib.sha256(f"{b.seed}|{tweet_id}|{district}".encode()).hexdigest()[:12], 16))
        p1 = " P1 " in f" {body} "
        if fate.random() < b.never_share:
            self.planned[key] = "never"
            return
        ack_at = now + fate.uniform(*b.ack_minutes) * minute / (5 if p1 else 1)
        if self.reply_on_x is not None and fate.random() < b.x_reply_share:
            self.planned[key] = "x_reply"
            self._at(ack_at, lambda: self._reply_on_x(tweet_id, reference, officer))
            return
        if fate.random() < b.reassign_share and district != "hq":
            self.planned[key] = "reassign"
            self._at(ack_at, lambda: self._request(url, tweet_id, reference, officer, "reassign", {"district": ""}))
            return
        plan = ["acknowledge"]
        self._at(ack_at, lambda: self._request(url, tweet_id, reference, officer, "acknowledge"))
        step_at = ack_at
        if p1 or fate.random() < b.on_the_way_share:
            step_at += fate.uniform(0.2, 2.0) * minute
            plan.append("on_the_way")
            self._at(step_at, lambda: self._request(url, tweet_id, reference, officer, "on_the_way"))
        if fate.random() < b.resolve_share:
            plan.append("resolve")
            step_at += fate.uniform(*b.resolve_minutes) * minute
            self._at(step_at, lambda: self._request(url, tweet_id, reference, officer, "resolve"))
        self.planned[key] = "+".join(plan)

    def _at(self, due: float, run: Callable[[], None]) -> None:
        with self._lock:
            self._seq += 1
            heapq.heappush(self._steps, _Step(due, self._seq, run))

    def _run_due(self) -> None:
        while True:
            with self._lock:
                if not self._steps or self._steps[0].due > time.time():
                    return
                step = heapq.heappop(self._steps)
                self._running += 1
            try:
                step.run()
            finally:
                with self._lock:
                    self._running -= 1

    def _reply_on_x(self, tweet_id: str, reference: str | None, officer: str) -> None:
        assert self.reply_on_x is not None
        posted = self.reply_on_x(tweet_id)
        self.taken.append(Taken(tweet_id, reference, officer, "x_reply", 201 if posted else 0, time.time(), posted))

    def _request(
        self,
        url: str,
        tweet_id: str,
        reference: str | None,
        officer: str,
        action: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        data = urllib.parse.urlencode({"action": action, **(extra or {})}).encode() if action else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if data else {}
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET", headers=headers)
        sent_at = time.time()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, TimeoutError) as exc:
            status = 0
            self.errors.append(f"{action or 'preview'} {reference}: {exc}")
        self.taken.append(
            Taken(tweet_id, reference, officer, action or "preview", status, time.time(), sent_at=sent_at)
        )

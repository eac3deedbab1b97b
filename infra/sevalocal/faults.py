"""Reproducible fault injection: each decision is a pure function of (seed, stream, n).

Some streams fail in bursts (``BURSTS``): a fault there starts an outage of several consecutive events, long
enough to outlast a client's own retries (an SNS publish failing through the SDK's attempts, an X 503 run
longer than the poller's retry budget)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

BURSTS = {"aws:sns": (2, 8), "x:503": (2, 6)}  # stream -> (shortest, longest) run of consecutive failures


@dataclass
class FaultPlan:
    rate: float = 0.0
    seed: int = 0
    injected: Counter = field(default_factory=Counter)
    _counters: Counter = field(default_factory=Counter)
    _bursts: Counter = field(default_factory=Counter)  # stream -> failures still to come in the current burst
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def burst(self, stream: str, rng: random.Random) -> None:
        """Start an outage on ``stream``: its next events fail too (lengths per ``BURSTS``)."""
        shortest, longest = BURSTS.get(stream, (1, 1))
        with self._lock:
            self._bursts[stream] = max(self._bursts[stream], rng.randint(shortest, longest) - 1)

    def in_burst(self, stream: str) -> bool:
        with self._lock:
            if self._bursts[stream] > 0:
                self._bursts[stream] -= 1
                return True
        return False

    def draw(self, stream: str, scale: float = 1.0) -> random.Random | None:
        """A random generator for the next event of ``stream`` if it is to fail (at ``rate × scale``), else
        None."""
        if self.rate <= 0:
            return None
        with self._lock:
            n = self._counters[stream]
            self._counters[stream] += 1
        rng = random.Random(f"{self.seed}:{stream}:{n}")
        if rng.random() < self.rate * scale:
            return rng
        return None

    def record(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

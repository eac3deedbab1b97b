"""Reproducible fault injection: each decision is a pure function of (seed, stream, n)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FaultPlan:
    rate: float = 0.0
    seed: int = 0
    injected: Counter = field(default_factory=Counter)
    _counters: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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

"""A small learned second opinion on P1: naive Bayes log-odds over words and word pairs, trained on our own
labelled tweets (``infra/tools/train_p1_model.py``). The rules miss SOS phrasings they have never seen; the
model generalises from the words around them ("nakabposh khade hain", "gala ret diya"). Scoring is a few
dictionary lookups per tweet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise, repeat


def features(words: list[str]) -> set[str]:
    """Words and adjacent word pairs ("a b") of normalised tokens (``seva.triage.text.tokens``)."""
    found = set(words)
    found.update([a + " " + b for a, b in pairwise(words)])
    return found


@dataclass(frozen=True)
class P1Model:
    prior: float = 0.0
    threshold: float = float("inf")  # no model: never fires
    weights: dict[str, float] = field(default_factory=dict)
    pairs: dict[str, dict[str, float]] = field(default_factory=dict)  # "a b" weights as a -> b -> weight

    @classmethod
    def from_document(cls, doc: dict) -> P1Model:
        weights = {k: float(v) for k, v in doc["weights"].items()}
        pairs: dict[str, dict[str, float]] = {}
        for key, weight in weights.items():
            if " " in key:
                first, second = key.split(" ", 1)
                pairs.setdefault(first, {})[second] = weight
        return cls(float(doc["prior"]), float(doc["threshold"]), weights, pairs)

    def score(self, words: list[str]) -> float:
        """Log-odds that a tweet with these words is P1: the sum over ``features(words)``, pairs looked up
        without building their strings (this runs on most tweets)."""
        total = self.prior + sum(map(self.weights.get, set(words), repeat(0.0)))
        pairs = self.pairs
        for first, second in set(pairwise(words)):
            following = pairs.get(first)
            if following is not None:
                total += following.get(second, 0.0)
        return total


def train(examples: Iterable[tuple[list[str], bool]], threshold: float, keep: float = 1.0) -> dict:
    """Naive Bayes with add-half smoothing over feature presence; the document ``P1Model`` loads. Features
    whose log-odds are within ±``keep`` of even are dropped: they are mostly noise."""
    import math
    from collections import Counter

    counts = {True: Counter[str](), False: Counter[str]()}
    totals = {True: 0, False: 0}
    for words, is_p1 in examples:
        totals[is_p1] += 1
        counts[is_p1].update(features(words))
    weights = {
        f: round(
            math.log((counts[True][f] + 0.5) / (totals[True] + 1))
            - math.log((counts[False][f] + 0.5) / (totals[False] + 1)),
            4,
        )
        for f in sorted(set(counts[True]) | set(counts[False]))
    }
    weights = {f: w for f, w in weights.items() if abs(w) >= keep}
    prior = round(math.log(max(1, totals[True]) / max(1, totals[False])), 4)
    return {"prior": prior, "threshold": threshold, "examples": totals, "weights": weights}

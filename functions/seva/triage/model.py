"""The learned half of triage: two small linear models over the tweet's words, their script-independent
skeletons, word pairs and what the rules saw (``signals``), trained on our labelled tweets
(``infra/tools/train_triage_model.py``, ``make model``; data: ``seva/data/triage_model.json``).

- *decision*: noise, complaint (not P1) or P1 — one softmax, so "P1" is also a complaint and the three
  probabilities add up to one;
- *category*: which of the complaint categories.

Spelling and script vary without end ("bachao/bachaao/बचाओ/بچاؤ"); the skeletons let a phrasing seen in one
spelling or script count in another. Scoring is pure Python: a dictionary lookup per feature and one sum per
class, a few tens of microseconds a tweet; no numpy at inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from seva.triage.text import consonant_skeleton

DECISIONS = ("noise", "complaint", "p1")


def features(words: list[str], signals: list[str]) -> set[str]:
    """The model's features: words, adjacent word pairs, the rules' signals (``~name``), and for Devanagari the
    same words and pairs as consonant skeletons (so Hindi examples teach Urdu, which is read as skeletons).
    Spelling variants of romanised Hindi are already one skeleton spelling (``seva.triage.text.skeleton``);
    character n-grams on top scored no better out of fold and cost half the scoring time: left out."""
    found = set(words)
    found.update(signals)
    for a, b in pairwise(words):
        found.add(a + " " + b)
    if not all(map(str.isascii, words)):
        skeletons = [w if w.isascii() or w[0] == "_" else consonant_skeleton(w) or w for w in words]
        found.update(skeletons)
        for a, b in pairwise(skeletons):
            found.add(a + " " + b)
    return found


def softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


@dataclass(frozen=True)
class Head:
    """One linear softmax over the shared vocabulary: class names and a bias per class."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]

    @classmethod
    def from_document(cls, doc: dict) -> Head:
        return cls(tuple(doc["classes"]), tuple(float(b) for b in doc["bias"]))


@dataclass(frozen=True)
class Prediction:
    noise: float
    complaint: float  # a complaint that is not P1
    p1: float
    categories: dict[str, float]

    @property
    def category(self) -> str:
        return max(self.categories, key=self.categories.__getitem__) if self.categories else "other"


@dataclass(frozen=True)
class TriageModel:
    vocabulary: dict[str, int]
    decision: Head
    category: Head
    # per feature, its weight for every decision class then every category: one lookup per feature, and the
    # per-class sums are C loops over the transposed rows (``zip(*rows)``), a few microseconds a tweet
    columns: list[tuple[float, ...]]
    # P(P1) from which a tweet is a P1 complaint: in the categories of danger to life, in the others (chosen on
    # held-out folds)
    p1_thresholds: tuple[float, float]
    calibration: tuple[float, float]  # Platt scaling of the chosen decision's probability: a·logit(p) + b

    @classmethod
    def from_document(cls, doc: dict) -> TriageModel:
        vocabulary = {f: i for i, f in enumerate(doc["vocabulary"])}
        weights = [*doc["decision"]["weights"], *doc["category"]["weights"]]
        columns = [tuple(map(float, column)) for column in zip(*weights, strict=True)]
        return cls(
            vocabulary,
            Head.from_document(doc["decision"]),
            Head.from_document(doc["category"]),
            columns,
            (float(doc["p1_thresholds"][0]), float(doc["p1_thresholds"][1])),
            (float(doc["calibration"][0]), float(doc["calibration"][1])),
        )

    def predict(self, found: set[str]) -> Prediction:
        get, columns = self.vocabulary.get, self.columns
        rows = [columns[i] for i in map(get, found) if i is not None]
        decision, category = self.decision, self.category
        n_decisions = len(decision.classes)
        totals = list(map(sum, zip(*rows, strict=True))) if rows else [0.0] * (n_decisions + len(category.classes))
        noise, complaint, p1 = softmax([b + t for b, t in zip(decision.bias, totals[:n_decisions], strict=True)])
        scores = [b + t for b, t in zip(category.bias, totals[n_decisions:], strict=True)]
        return Prediction(noise, complaint, p1, dict(zip(category.classes, softmax(scores), strict=True)))

    def calibrated(self, probability: float) -> float:
        """The probability that a decision the model gave ``probability`` is right, as measured on held-out
        folds (Platt scaling: the raw softmax is over-confident on phrasings it has not seen)."""
        p = min(max(probability, 1e-6), 1 - 1e-6)
        a, b = self.calibration
        return 1.0 / (1.0 + math.exp(-(a * math.log(p / (1 - p)) + b)))

"""The learned half of triage: two small linear models over the tweet's words, their script-independent
skeletons, word pairs, character n-grams and what the rules saw (``signals``), trained on our labelled tweets
(``infra/tools/train_triage_model.py``, ``make model``; data: ``seva/data/triage_model.json``).

- *decision*: noise, complaint (not P1) or P1 — one softmax, so "P1" is also a complaint and the three
  probabilities add up to one;
- *category*: which of the complaint categories.

Spelling and script vary without end ("bachao/bachaao/बचाओ/بچاؤ"); the skeletons and n-grams let a phrasing
seen in one spelling count in another. Scoring is pure Python: a dictionary lookup per feature and one sum per
class (``sum(map(list.__getitem__, ids))``), a few tens of microseconds a tweet; no numpy at inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from seva.triage.text import consonant_skeleton

DECISIONS = ("noise", "complaint", "p1")
_NGRAM = 4  # character n-grams of this length inside a word ("bachaao" → "<bac", "bach", …)


def features(words: list[str], signals: list[str]) -> set[str]:
    """The model's features: words, the consonant skeleton of Devanagari words (so Hindi examples teach Urdu,
    which is read as skeletons), adjacent word pairs, character 4-grams of longer romanised words (spelling
    variants share most of them), and the rules' signals (``~name``)."""
    found = set(words)
    found.update(signals)
    for a, b in pairwise(words):
        found.add(a + " " + b)
    for word in set(words):
        if word.isascii():
            if len(word) > 4 and word.isalpha():
                padded = "<" + word + ">"
                found.update(["#" + padded[i : i + _NGRAM] for i in range(len(padded) - _NGRAM + 1)])
        elif word[0] != "_":
            skeleton = consonant_skeleton(word)
            if skeleton:
                found.add(skeleton)
    return found


def softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


@dataclass(frozen=True)
class Head:
    """One linear softmax: a weight list per class over the shared vocabulary, and a bias per class."""

    classes: tuple[str, ...]
    weights: tuple[list[float], ...]
    bias: tuple[float, ...]

    def probabilities(self, ids: list[int]) -> list[float]:
        return softmax([b + sum(map(w.__getitem__, ids)) for w, b in zip(self.weights, self.bias, strict=True)])

    @classmethod
    def from_document(cls, doc: dict) -> Head:
        return cls(tuple(doc["classes"]), tuple([float(x) for x in w] for w in doc["weights"]), tuple(doc["bias"]))


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
    p1_threshold: float  # P(P1) from which a complaint is P1 (chosen for recall on held-out folds)
    calibration: tuple[float, float]  # Platt scaling of the chosen decision's probability: a·logit(p) + b

    @classmethod
    def from_document(cls, doc: dict) -> TriageModel:
        vocabulary = {f: i for i, f in enumerate(doc["vocabulary"])}
        return cls(
            vocabulary,
            Head.from_document(doc["decision"]),
            Head.from_document(doc["category"]),
            float(doc["p1_threshold"]),
            (float(doc["calibration"][0]), float(doc["calibration"][1])),
        )

    def predict(self, found: set[str], with_category: bool = True) -> Prediction:
        get = self.vocabulary.get
        ids = [i for i in map(get, found) if i is not None]
        noise, complaint, p1 = self.decision.probabilities(ids)
        categories = {}
        if with_category:
            categories = dict(zip(self.category.classes, self.category.probabilities(ids), strict=True))
        return Prediction(noise, complaint, p1, categories)

    def calibrated(self, probability: float) -> float:
        """The probability that a decision the model gave ``probability`` is right, as measured on held-out
        folds (Platt scaling: the raw softmax is over-confident on phrasings it has not seen)."""
        p = min(max(probability, 1e-6), 1 - 1e-6)
        a, b = self.calibration
        return 1.0 / (1.0 + math.exp(-(a * math.log(p / (1 - p)) + b)))

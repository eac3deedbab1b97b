"""Phrase lexicons compiled into one index, so a tweet's n-grams are scanned once for every phrase set
(data: ``seva/data/triage_lexicon.json``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from seva.triage.text import stems, tokens

MAX_NGRAM = 5
Hit = tuple[str, float]  # (phrase, weight)


@dataclass
class PhraseIndex:
    """Labelled phrases with weights; ``word*`` matches any ending of the phrase's last word."""

    exact: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)  # key -> (label, phrase, w)
    prefixes: dict[str, list[tuple[tuple[str, ...], str, str, float]]] = field(default_factory=dict)
    symbols: list[tuple[str, str, float]] = field(default_factory=list)  # emoji: matched on raw text

    def add(self, label: str, phrases: list[str]) -> None:
        for raw in phrases:
            text, _, weight_s = raw.partition("=")
            weight = float(weight_s) if weight_s else 1.0
            prefix = text.endswith("*")
            words = tokens(text.rstrip("*"), drop_mentions=False)
            if not prefix:
                words = stems(words)  # exact phrases match stems; prefixes match the words as written
            if not words:
                symbol = text.strip()
                if symbol and weight > 0:
                    self.symbols.append((symbol, label, weight))
                continue
            if prefix:
                anchor = words[0] if len(words) > 1 else words[0][:3]
                self.prefixes.setdefault(anchor, []).append((tuple(words), label, text, weight))
            else:
                self.exact.setdefault(" ".join(words), []).append((label, text, weight))

    def _first_words(self) -> frozenset[str]:
        cached: frozenset[str] | None = self.__dict__.get("_first")
        if cached is None:
            cached = frozenset(key.split(" ", 1)[0] for key in self.exact)
            self.__dict__["_first"] = cached
        return cached

    def scan(
        self, words: list[str], raw_text: str = "", raw_words: list[str] | None = None
    ) -> dict[str, dict[str, float]]:
        """label -> {phrase: weight} for every phrase found in ``words`` (stems; prefixes: ``raw_words``)."""
        raw = raw_words if raw_words is not None else words
        found: dict[str, dict[str, float]] = defaultdict(dict)
        spans: dict[str, list[tuple[float, int, int, str]]] = defaultdict(list)  # label -> (w, start, end, phrase)
        exact, prefixes, first_words = self.exact, self.prefixes, self._first_words()
        n_words = len(words)
        for i in range(n_words):
            word = words[i]
            key = word
            for n in range(1, MAX_NGRAM + 1 if word in first_words else 1):
                if n > 1:
                    if i + n > n_words:
                        break
                    key = key + " " + words[i + n - 1]
                hits = exact.get(key)
                if hits:
                    for label, phrase, weight in hits:
                        found[label][phrase] = weight
                        spans[label].append((weight, i, i + n, phrase))
            raw_word = raw[i]
            for anchor in (raw_word, raw_word[:3]):
                for pattern, label, phrase, weight in prefixes.get(anchor, ()):
                    n = len(pattern)
                    if i + n > n_words or not raw[i + n - 1].startswith(pattern[-1]):
                        continue
                    if n == 1 or all(raw[i + k] == pattern[k] for k in range(n - 1)):
                        found[label][phrase] = weight
                        spans[label].append((weight, i, i + n, phrase))
        for label, matched in spans.items():
            if len(matched) > 1:
                _drop_overlaps(found[label], matched)
        if raw_text:
            for symbol, label, weight in self.symbols:
                if symbol in raw_text:
                    found[label][symbol] = weight
        return found


def _drop_overlaps(found: dict[str, float], matched: list[tuple[float, int, int, str]]) -> None:
    """Phrases of one label that overlap in the text count once, the heaviest (then longest) first:
    "fake id" and "id bana*" in "fake ID bana ke" are one piece of evidence, not two."""
    taken: list[tuple[int, int]] = []
    keep: set[str] = set()
    for weight, start, end, phrase in sorted(matched, key=lambda m: (-m[0], m[1] - m[2])):
        if all(end <= s or start >= e for s, e in taken):
            taken.append((start, end))
            keep.add(phrase)
    for phrase in [p for p in found if p not in keep and any(p == m[3] for m in matched)]:
        del found[phrase]


@dataclass
class Lexicon:
    category_order: list[str]
    categories: list[str]
    index: PhraseIndex
    hinglish: frozenset[str]

    SETS = (
        "p1",
        "p1_urgency",
        "p1_help",
        "p1_ongoing",
        "continuous",
        "violence",
        "habitual",
        "child",
        "complaint",
        "query",
        "noise",
        "police_actor",
    )

    @classmethod
    def from_document(cls, doc: dict) -> Lexicon:
        index = PhraseIndex()
        for category, phrases in doc["categories"].items():
            index.add(f"cat:{category}", phrases)
        for name in cls.SETS:
            index.add(name, doc[name])
        return cls(list(doc["category_order"]), list(doc["categories"]), index, frozenset(doc["hinglish"]))

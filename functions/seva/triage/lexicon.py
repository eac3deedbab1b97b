"""Phrase lexicons compiled into one index, so a tweet's n-grams are scanned once for every phrase set
(data: ``seva/data/triage_lexicon.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from seva.triage.text import consonant_skeleton, has_devanagari, leading_parts, stems, tokens

MAX_NGRAM = 5
Hit = tuple[str, float]  # (phrase, weight)


@dataclass
class PhraseIndex:
    """Labelled phrases with weights; ``word*`` matches any ending of the phrase's last word."""

    exact: dict[str, list[tuple[str, str, float]]] = field(default_factory=dict)  # key -> (label, phrase, w)
    prefixes: dict[str, tuple[tuple[tuple[str, ...], str, str, float], ...]] = field(default_factory=dict)
    symbols: list[tuple[str, str, float]] = field(default_factory=list)  # emoji: matched on raw text
    _candidates: dict[str, tuple[tuple[tuple[str, ...], str, str, float], ...]] = field(default_factory=dict)

    def add(self, label: str, phrases: list[str]) -> None:
        for raw in phrases:
            text, _, weight_s = raw.partition("=")
            weight = float(weight_s) if weight_s else 1.0
            prefix = text.endswith("*")
            words = tokens(text.rstrip("*"), drop_mentions=False)
            if not prefix:
                words = stems(words)  # exact phrases match stems; prefixes match the words as written
            self._add(label, text, weight, prefix, words)
            if words and any(has_devanagari(w) for w in words):
                # Urdu is read as consonant skeletons: a Hindi phrase also stands for its Urdu spelling
                urdu = [consonant_skeleton(w) if has_devanagari(w) else w for w in words]
                if all(urdu):
                    self._add(label, text, weight, prefix, urdu)

    def _add(self, label: str, text: str, weight: float, prefix: bool, words: list[str]) -> None:
        if not words:
            symbol = text.strip()
            if symbol and weight > 0:
                self.symbols.append((symbol, label, weight))
            return
        # spellings that normalise alike ("bachao", "bachaao") are one phrase: the heavier is kept
        if prefix:
            anchor = words[0] if len(words) > 1 else words[0][:3]
            pattern = tuple(words)
            others = [e for e in self.prefixes.get(anchor, ()) if (e[0], e[1]) != (pattern, label)]
            known = [e[3] for e in self.prefixes.get(anchor, ()) if (e[0], e[1]) == (pattern, label)]
            if not known or max(known) < weight:
                self.prefixes[anchor] = (*others, (pattern, label, text, weight))
        else:
            at_key = self.exact.setdefault(" ".join(words), [])
            same = [i for i, e in enumerate(at_key) if e[0] == label]
            if same:
                if at_key[same[0]][2] >= weight:
                    return
                del at_key[same[0]]
            at_key.append((label, text, weight))

    def _prefix_candidates(self, raw_word: str) -> tuple[tuple[tuple[str, ...], str, str, float], ...]:
        """Prefix patterns that may start at this word (anchored on the whole word or its first 3 letters),
        remembered per word: tweets repeat their words."""
        found = self.prefixes.get(raw_word, ()) + self.prefixes.get(raw_word[:3], ())
        if len(self._candidates) > 50_000:
            self._candidates.clear()
        self._candidates[raw_word] = found
        return found

    def _partial_keys(self) -> frozenset[str]:
        cached: frozenset[str] | None = self.__dict__.get("_partial")
        if cached is None:
            cached = self.__dict__["_partial"] = leading_parts(self.exact)
        return cached

    def scan(
        self, words: list[str], raw_text: str = "", raw_words: list[str] | None = None
    ) -> dict[str, dict[str, float]]:
        """label -> {phrase: weight} for every phrase found in ``words`` (stems; prefixes: ``raw_words``)."""
        raw = raw_words if raw_words is not None else words
        found: dict[str, dict[str, float]] = {}
        spans: list[tuple[str, float, int, int, str]] = []  # category phrases only, by start: overlaps
        exact_get, partial = self.exact.get, self._partial_keys()
        candidates_get = self._candidates.get
        n_words = len(words)

        def record(label: str, phrase: str, weight: float, start: int, end: int) -> None:
            phrases = found.get(label)
            if phrases is None:
                found[label] = {phrase: weight}
            else:
                phrases[phrase] = weight
            if label[:4] == "cat:":
                spans.append((label, weight, start, end, phrase))

        for i in range(n_words):
            key, n = words[i], 1
            while True:
                hits = exact_get(key)
                if hits:
                    for label, phrase, weight in hits:
                        record(label, phrase, weight, i, i + n)
                if key not in partial or i + n >= n_words or n >= MAX_NGRAM:
                    break
                key = key + " " + words[i + n]
                n += 1
            candidates = candidates_get(raw[i])
            if candidates is None:
                candidates = self._prefix_candidates(raw[i])
            if not candidates:
                continue
            for pattern, label, phrase, weight in candidates:
                n = len(pattern)
                if i + n > n_words or not raw[i + n - 1].startswith(pattern[-1]):
                    continue
                if n == 1 or all(raw[i + k] == pattern[k] for k in range(n - 1)):
                    record(label, phrase, weight, i, i + n)
        if len(spans) > 1:  # categories are scored by their sums: overlapping phrases count once
            reach: dict[str, int] = {}
            overlapping: set[str] = set()
            for label, _, start, end, _ in spans:
                if start < reach.get(label, -1):
                    overlapping.add(label)
                reach[label] = max(end, reach.get(label, -1))
            for label in overlapping:
                _drop_overlaps(found[label], [(w, s, e, p) for lb, w, s, e, p in spans if lb == label])
        if raw_text and not raw_text.isascii():  # the symbols are emoji
            for symbol, label, weight in self.symbols:
                if symbol in raw_text:
                    found.setdefault(label, {})[symbol] = weight
        return found


def _drop_overlaps(found: dict[str, float], matched: list[tuple[float, int, int, str]]) -> None:
    """Phrases of one label that overlap in the text count once:
    "fake id" and "id bana*" in "fake ID bana ke" are one piece of evidence, not two."""
    taken: list[tuple[int, int]] = []
    keep: set[str] = set()
    # heaviest first; of equal weight the shorter, so "chaku" + "vaar" outweigh "chaku se vaar" alone
    for _, start, end, phrase in sorted(matched, key=lambda m: (-m[0], m[2] - m[1])):
        if all(end <= s or start >= e for s, e in taken):
            taken.append((start, end))
            keep.add(phrase)
    for phrase in {m[3] for m in matched} - keep:
        found.pop(phrase, None)


@dataclass
class Lexicon:
    category_order: list[str]
    categories: list[str]
    index: PhraseIndex
    hinglish: frozenset[str]

    @property
    def label_category(self) -> dict[str, str]:
        """Index label ("cat:theft") -> category ("theft")."""
        cached: dict[str, str] | None = self.__dict__.get("_labels")
        if cached is None:
            cached = {f"cat:{c}": c for c in self.categories}
            self.__dict__["_labels"] = cached
        return cached

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
        "domestic",
        "past",
        "threat",
        "earlier",
        "captive",
        "unharmed",
        "could_happen",
        "self_harm",
        "handled",
        "rescue_call",
    )

    @classmethod
    def from_document(cls, doc: dict) -> Lexicon:
        index = PhraseIndex()
        for category, phrases in doc["categories"].items():
            index.add(f"cat:{category}", phrases)
        for name in cls.SETS:
            index.add(name, doc[name])
        return cls(
            list(doc["category_order"]),
            list(doc["categories"]),
            index,
            frozenset(w for word in doc["hinglish"] for w in tokens(word)),
        )

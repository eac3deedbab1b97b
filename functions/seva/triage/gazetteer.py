"""District resolution from the gazetteer (data: ``seva/data/gazetteer.json``, keyed by LGD code).

Every name form (English, Devanagari, romanised variants, old names, towns, localities) maps to a district.
Ambiguous names (Civil Lines, Kotwali, Akbarpur, Kaushambi-in-Ghaziabad, …) and words that are also
ordinary words (banda, basti, sambhal) map to a *set* of candidates: they never route on their own, they
only narrow other evidence.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from seva.triage.text import tokens

MAX_NGRAM = 5


@dataclass(frozen=True, slots=True)
class District:
    code: int
    name: str
    abbr: str
    hindi: str


@dataclass(frozen=True, slots=True)
class PlaceHit:
    phrase: str
    candidates: frozenset[int]
    ambiguous: bool


@dataclass
class Gazetteer:
    districts: dict[int, District]
    index: dict[str, tuple[frozenset[int], bool]] = field(default_factory=dict)  # key -> (codes, ambiguous)

    @classmethod
    def from_document(cls, doc: dict) -> Gazetteer:
        districts = {
            int(d["code"]): District(int(d["code"]), d["name"], d["abbr"], (d.get("hi") or [""])[0])
            for d in doc["districts"]
        }
        strong: dict[str, set[int]] = {}
        for d in doc["districts"]:
            for name in [d["name"], *d.get("hi", []), *d.get("aliases", []), *d.get("places", [])]:
                for key in _keys(name):
                    strong.setdefault(key, set()).add(int(d["code"]))
        index: dict[str, tuple[frozenset[int], bool]] = {}
        for key, codes in strong.items():
            index[key] = (frozenset(codes), len(codes) > 1)
        weak = {" ".join(tokens(w)) for w in doc.get("weak", [])}
        for key in weak:
            if key in index:
                index[key] = (index[key][0], True)
        for name, codes in (doc.get("ambiguous") or {}).items():
            for key in _keys(name):
                known = index.get(key, (frozenset(), True))[0]
                index[key] = (frozenset(codes) | known, True)
        return cls(districts, index)

    def find(self, text: str) -> list[PlaceHit]:
        """Place names in ``text``: greedy longest match, left to right, non-overlapping."""
        return self.find_words(tokens(text))

    def find_words(self, words: list[str]) -> list[PlaceHit]:
        """Place names in already tokenised text."""
        index, first_words = self.index, self._first_words()
        if not any(w in first_words or w.endswith("police") for w in words):
            return []
        # "#LucknowPolice", "lucknowpolice": also try the word without a trailing "police"
        words = [w[:-6] if w.endswith("police") and len(w) > 8 and w[:-6] in index else w for w in words]
        hits: list[PlaceHit] = []
        i, n_words = 0, len(words)
        while i < n_words:
            if words[i] not in first_words:
                i += 1
                continue
            keys = [words[i]]
            for n in range(2, min(MAX_NGRAM, n_words - i) + 1):
                keys.append(keys[-1] + " " + words[i + n - 1])
            for n in range(len(keys), 0, -1):
                entry = index.get(keys[n - 1])
                if entry is not None:
                    hits.append(PlaceHit(keys[n - 1], entry[0], entry[1]))
                    i += n
                    break
            else:
                i += 1
        return hits

    def _first_words(self) -> frozenset[str]:
        cached: frozenset[str] | None = self.__dict__.get("_first")
        if cached is None:
            cached = frozenset(key.split(" ", 1)[0] for key in self.index)
            self.__dict__["_first"] = cached
        return cached


def _keys(name: str) -> set[str]:
    words = tokens(name, drop_mentions=False)
    if not words:
        return set()
    keys = {" ".join(words)}
    if len(words) > 1 and all(w.isascii() for w in words):
        keys.add("".join(words))  # "Gomti Nagar" = "Gomtinagar", "Rae Bareli" = "Raebareli"
    return keys


@dataclass
class Resolution:
    district_code: int | None
    evidence: list[dict]


def resolve_district(
    handle_codes: list[tuple[str, int]],
    text_hits: list[PlaceHit],
    place_hits: list[PlaceHit],
    profile_hits: list[PlaceHit],
) -> Resolution:
    """Strongest evidence first: mentioned district handle, place names in the text, the tweet's place, the
    author's profile location. Ambiguous names only narrow. No certain answer: ``None`` (state HQ queue)."""
    evidence: list[dict] = []
    for source, hits in (("text", text_hits), ("place", place_hits), ("profile", profile_hits)):
        for hit in hits:
            item: dict = {"source": source, "match": hit.phrase, "district_codes": sorted(hit.candidates)}
            if hit.ambiguous:
                item["ambiguous"] = True
            evidence.append(item)
    for handle, code in handle_codes:
        evidence.insert(0, {"source": "handle", "match": "@" + handle, "district_codes": [code]})

    def strong(hits: list[PlaceHit]) -> set[int]:
        if not hits:
            return set()
        counts = Counter(next(iter(h.candidates)) for h in hits if not h.ambiguous and len(h.candidates) == 1)
        if len(counts) > 1:
            (first, n1), (_, n2) = counts.most_common(2)
            if n1 > n2:  # "Hazratganj, Lucknow … a trader from Kanpur": the district named most
                return {first}
        return set(counts)

    def narrowing(hits: list[PlaceHit]) -> list[frozenset[int]]:
        return [h.candidates for h in hits if h.ambiguous and h.candidates]

    support = [strong(text_hits), strong(place_hits), strong(profile_hits)]
    weak_sets = narrowing(text_hits) + narrowing(place_hits) + narrowing(profile_hits)

    def pick(candidates: set[int]) -> int | None:
        """One candidate, or the only one that other evidence also supports."""
        if len(candidates) == 1:
            return next(iter(candidates))
        for other in [*support, *weak_sets]:
            narrowed = candidates & set(other)
            if len(narrowed) == 1:
                return next(iter(narrowed))
        return None

    handle_set = {code for _, code in handle_codes}
    if handle_set:
        chosen = pick(handle_set)
        return Resolution(chosen, _mark(evidence, chosen, "handle"))
    for source, candidates in zip(("text", "place", "profile"), support, strict=True):
        if candidates:
            chosen = pick(candidates)
            if chosen is not None or source == "text":
                return Resolution(chosen, _mark(evidence, chosen, source))
    # Only ambiguous names: route when they agree on exactly one district
    if weak_sets:
        common = set(weak_sets[0])
        for other in weak_sets[1:]:
            common &= other
        if len(common) == 1 and len(weak_sets) > 1:
            chosen = next(iter(common))
            return Resolution(chosen, _mark(evidence, chosen, "agreeing ambiguous names"))
    return Resolution(None, evidence)


def _mark(evidence: list[dict], chosen: int | None, basis: str) -> list[dict]:
    if chosen is not None:
        evidence.append({"decision": basis, "district_code": chosen})
    else:
        evidence.append({"decision": f"conflicting {basis} evidence: state HQ", "district_code": None})
    return evidence

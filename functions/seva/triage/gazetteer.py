"""District resolution from the gazetteer (data: ``seva/data/gazetteer.json``, keyed by LGD code).

Every name form (English, Devanagari, romanised variants, old names, towns, localities) maps to a district.
Ambiguous names (Civil Lines, Kotwali, Akbarpur, Kaushambi-in-Ghaziabad, …) and words that are also
ordinary words (banda, basti, sambhal) map to a *set* of candidates: they never route on their own, they
only narrow other evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from seva.triage.text import coarse_skeleton, fold, leading_parts, tokens

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
    start: int = 0
    end: int = 0
    primary: int | None = None  # the district whose own name this is (also when the name is ambiguous)
    weak: bool = False  # also an ordinary word (basti = settlement, banda = guy)
    name: str = ""  # as written in the gazetteer ("Ghaziabad"; ``phrase`` is its normal form "ghajiabad")
    approximate: bool = False  # Urdu met only in a coarse or joined skeleton: likely, not certain


@dataclass(frozen=True, slots=True)
class WeighedHit:
    """A place name judged in its context: ``code`` set when it can route on its own, with a weight."""

    hit: PlaceHit
    code: int | None
    weight: float
    why: str = ""


def _word_set(*words: str) -> frozenset[str]:
    return frozenset(t for w in words for t in tokens(w))


# Words around a name that say what kind of place it is ("district Basti", "thana Sadar", "gaon Rampur")
_DISTRICT_WORDS = _word_set("district distt dist jila zila jilla janpad jile zile जिला जनपद जिले")
_STATION_WORDS = _word_set("thana ps kotwali chowki thane थाना थाने कोतवाली चौकी")
_VILLAGE_WORDS = _word_set("gaon gaanv gav village gram graam mohalla muhalla ग्राम गांव गाव गाँव मोहल्ला")
_RESIDENCE_WORDS = _word_set(
    "live living resident residing rehta rehti rehte rahta rahti rahte रहता रहती रहते रहने رہتا رہتی رہتے رہنے"
)
_FROM_PHRASES = {tuple(tokens(p)) for p in ("m from", "am from", "originally from", "hu from", "hoon from")}
_ROAD_WORDS = _word_set(
    "expressway highway hwy road rd marg bypass expway मार्ग हाईवे एक्सप्रेसवे रोड"
    " mail express superfast intercity shatabdi rajdhani मेल एक्सप्रेस میل ایکسپریس"  # trains named after cities
)


@dataclass
class Gazetteer:
    districts: dict[int, District]
    # key -> (codes, ambiguous, primary district, weak word)
    index: dict[str, tuple[frozenset[int], bool, int | None, bool]] = field(default_factory=dict)
    never_alone: frozenset[str] = frozenset()
    names: dict[str, str] = field(default_factory=dict)  # normal form -> name as written
    approximate: frozenset[str] = frozenset()  # coarse skeletons of names: an Urdu word that meets one is a guess

    @classmethod
    def from_document(cls, doc: dict) -> Gazetteer:
        districts = {
            int(d["code"]): District(int(d["code"]), d["name"], d["abbr"], (d.get("hi") or [""])[0])
            for d in doc["districts"]
        }
        strong: dict[str, set[int]] = {}  # every name form -> districts
        own: dict[str, set[int]] = {}  # a district's own names (not its places) -> districts
        names: dict[str, str] = {}  # normal form -> name as written
        for d in doc["districts"]:
            code = int(d["code"])
            own_names = [d["name"], *d.get("hi", []), *d.get("ur", []), *d.get("aliases", [])]
            for name in [*own_names, *d.get("places", [])]:
                for key in _keys(name):
                    strong.setdefault(key, set()).add(code)
                    names.setdefault(key, name)
            for name in own_names:
                for key in _keys(name):
                    own.setdefault(key, set()).add(code)
        weak = {" ".join(tokens(w)) for w in doc.get("weak", [])}
        index: dict[str, tuple[frozenset[int], bool, int | None, bool]] = {
            key: (frozenset(codes), len(codes) > 1 or key in weak, None, key in weak) for key, codes in strong.items()
        }
        for name, listed in (doc.get("ambiguous") or {}).items():
            for key in _keys(name):
                known = index.get(key, (frozenset(), True, None, False))[0]
                index[key] = (frozenset(listed) | known, True, None, key in weak)
                names.setdefault(key, name)
        for key, (candidates, ambiguous, _, is_weak) in list(index.items()):
            owners = own.get(key, set())
            primary = next(iter(owners)) if len(owners) == 1 else None
            index[key] = (candidates, ambiguous, primary, is_weak)
        never_alone = frozenset(k for name in doc.get("never_alone", []) for k in _keys(name))
        approximate = frozenset(k for k in index if k[0] == "_" and not any(c in k for c in "ाअएओ"))
        approximate -= {k for d in doc["districts"] for name in d.get("ur", []) for k in _keys(name)}
        return cls(districts, index, never_alone, names, approximate)

    def find_words(self, words: list[str]) -> list[PlaceHit]:
        """Place names in tokenised text: greedy longest match, left to right, non-overlapping."""
        index, partial = self.index, self._partial_keys()
        # "#LucknowPolice", "lucknowpolice": also try the word without a trailing "police"
        if any("police" in w for w in words):
            words = [w[:-6] if w.endswith("police") and len(w) > 8 and w[:-6] in index else w for w in words]
        if partial.isdisjoint(words) and index.keys().isdisjoint(words) and all(w[0] != "_" for w in words):
            return []  # no word can start a name (most words of most tweets)
        hits: list[PlaceHit] = []
        i, n_words = 0, len(words)
        while i < n_words:
            key, n, longest = words[i], 1, None
            while True:
                entry = index.get(key)
                if entry is not None:
                    longest = (key, n, entry)
                if key not in partial or i + n >= n_words or n >= MAX_NGRAM:
                    break
                key = key + " " + words[i + n]
                n += 1
            approximate = longest is not None and longest[0] in self.approximate
            if longest is None and words[i][0] == "_":
                longest = self._joined_urdu(words, i)
                approximate = True
            if longest is None:
                i += 1
                continue
            key, n, (codes, ambiguous, primary, weak) = longest
            name = self.names.get(key, key)
            hits.append(PlaceHit(key, codes, ambiguous, i, i + n, primary, weak, name, approximate))
            i += n
        return hits

    def _joined_urdu(self, words: list[str], i: int) -> tuple[str, int, tuple] | None:
        """An Urdu word that starts no name as written: the name may be written in two or three words (حضرت گنج,
        الہ آباد), and a place known only in Hindi or roman letters meets it in the coarse skeleton."""
        index = self.index
        for n in (3, 2, 1):
            if i + n > len(words) or any(w[0] != "_" for w in words[i + 1 : i + n]):
                continue
            joined = "_" + "".join(w[1:] for w in words[i : i + n])
            for key in (joined, coarse_skeleton(joined)) if n > 1 else (coarse_skeleton(joined),):
                entry = index.get(key)
                if entry is not None and len(key) >= 5:  # short skeletons are everyday words ("اے ٹی" is not Etah)
                    return key, n, entry
        return None

    def weigh(self, hits: list[PlaceHit], words: list[str], raw_text: str = "") -> list[WeighedHit]:
        """Judge each name in its context. A district's own name weighs more than a locality; "district X"
        more still; a name that is part of a road ("Agra-Lucknow expressway") does not locate the tweet; an
        ambiguous district name ("Fatehpur" is also a Barabanki town) routes to its district, unless it is on
        the never-alone list (Kaushambi, also a Ghaziabad locality) or an ordinary word used as one."""
        weighed: list[WeighedHit] = []
        n_words = len(words)
        for hit in hits:
            before = words[hit.start - 1] if hit.start > 0 else ""
            after = words[hit.end] if hit.end < n_words else ""
            marked = before in _DISTRICT_WORDS or after in _DISTRICT_WORDS
            single = next(iter(hit.candidates)) if len(hit.candidates) == 1 else hit.primary
            if single is not None and not _ROAD_WORDS.isdisjoint(words[hit.end : hit.end + 2]):
                # "Agra-Lucknow expressway near Etawah", "Kanpur road, Lucknow": the least evidence there is
                weighed.append(WeighedHit(hit, single, 0.5, "road name"))
            elif not hit.ambiguous and len(hit.candidates) == 1:
                weight = 3.0 if hit.primary is not None else 2.0
                weight += 2.0 if marked else (1.0 if before in _STATION_WORDS else 0.0)
                if before in _VILLAGE_WORDS:
                    weight -= 1.0  # village names repeat across districts
                if not _RESIDENCE_WORDS.isdisjoint(words[max(0, hit.start - 2) : hit.end + 3]) or (
                    tuple(words[max(0, hit.start - 2) : hit.start]) in _FROM_PHRASES
                ):
                    weight -= 1.5  # "Lucknow me rehta hu, par Kanpur station pe …": where the citizen lives
                if hit.approximate:
                    weight = min(weight, 1.5)  # an Urdu spelling met only roughly: never outweighs a handle
                weighed.append(WeighedHit(hit, next(iter(hit.candidates)), weight))
            elif hit.primary is not None and marked:
                weighed.append(WeighedHit(hit, hit.primary, 4.0, "district word"))
            elif hit.primary is not None and hit.phrase not in self.never_alone and before not in _VILLAGE_WORDS:
                if not hit.weak:
                    weighed.append(WeighedHit(hit, hit.primary, 2.0, "district name"))
                elif _written_as_name(hit.phrase, raw_text):
                    weighed.append(WeighedHit(hit, hit.primary, 2.0, "written as a name"))
                else:
                    weighed.append(WeighedHit(hit, None, 0.0))
            elif (
                (hit.weak or not hit.phrase.isascii())
                and len(hit.candidates) == 1
                and _written_as_name(hit.phrase, raw_text)
            ):
                weighed.append(WeighedHit(hit, next(iter(hit.candidates)), 1.5, "written as a name"))
            else:
                weighed.append(WeighedHit(hit, None, 0.0))
        return weighed

    def handle_district(self, username: str) -> int | None:
        """A police handle not in the registry that names its district ("ghaziabadpolice", "sp_hardoi")."""
        cache: dict[str, int | None] = self.__dict__.setdefault("_handles", {})
        if username not in cache:
            if len(cache) > 10_000:
                cache.clear()
            cache[username] = self._handle_district(username)
        return cache[username]

    def _handle_district(self, username: str) -> int | None:
        name = username.lower().strip("_")
        heads = [name] + [name[len(p) :] for p in _HANDLE_PREFIXES if name.startswith(p) and len(name) > len(p) + 2]
        for head in heads:
            bodies = [head] + [head[: -len(s)] for s in _HANDLE_SUFFIXES if head.endswith(s) and len(head) > len(s) + 2]
            for body in bodies:
                entry = self.index.get(" ".join(tokens(body.strip("_"))))
                if entry is None:
                    continue
                codes, ambiguous, primary, weak = entry
                if weak:
                    continue  # "@bastipolice" yes, but not a handle that only contains an ordinary word
                if not ambiguous and len(codes) == 1:
                    return next(iter(codes))
                if primary is not None:
                    return primary
        return None

    def _partial_keys(self) -> frozenset[str]:
        cached: frozenset[str] | None = self.__dict__.get("_partial")
        if cached is None:
            cached = self.__dict__["_partial"] = leading_parts(self.index)
        return cached


# District police and administration accounts: "sspbareilly", "sp_hardoi", "prayagraj_pol", "dmlucknow"
_HANDLE_PREFIXES = ("ssp_", "ssp", "sp_", "sp", "cp_", "cp", "dm_", "dm", "up_", "igrange_", "dig_", "dig")
_HANDLE_SUFFIXES = (
    "_police",
    "police",
    "polic",
    "_pol",
    "pol",
    "_cp",
    "cp",
    "_up",
    "_ssp",
    "ssp",
    "_sp",
    "_dm",
    "dm",
    "_",
)

_CAPITALISED = re.compile(r"(?<![\w@])[A-Z][A-Za-z]*\b")
_SENTENCE_END = re.compile(r"[.!?।]\s*$")


def _written_as_name(phrase: str, raw_text: str) -> bool:
    """An ordinary-word name counts when written as a name: capitalised mid-sentence ("chori, Basti")."""
    if not raw_text:
        return False
    if not phrase.isascii():  # Devanagari has no capitals: count it when it signs off the tweet ("… कट गए। बस्ती")
        tail = raw_text.rstrip(" .!।\n")
        return bool(re.search(r"[,.!?।|:\-]\s*" + re.escape(phrase) + "$", fold(tail)))
    n_words = phrase.count(" ") + 1
    for match in _CAPITALISED.finditer(raw_text):  # compared as spelled-out skeletons: "Jewar" is "jevar"
        words = raw_text[match.start() :].split(None, n_words)[:n_words]
        if " ".join(tokens(" ".join(words))) != phrase:
            continue
        if not _SENTENCE_END.search(raw_text[: match.start()]) or not raw_text[match.end() :].strip(" .!।"):
            return True  # mid-sentence, or signed at the end ("… since Sunday. Mau")
    return False


@cache
def _keys(name: str) -> frozenset[str]:
    words = tokens(name, drop_mentions=False)
    if not words:
        return frozenset()
    keys = {" ".join(words)}
    if len(words) > 1 and all(w.isascii() for w in words):
        keys.add("".join(words))  # "Gomti Nagar" = "Gomtinagar", "Rae Bareli" = "Raebareli"
    # Urdu is read as consonant skeletons: the name as an Urdu writer spells it, in one word ("_हजरतगनज"; the
    # text's words are joined too). From romanised names only when three consonants are left: short skeletons
    # ("_पर", "_कर") are everyday Urdu words.
    if any(w[0] == "_" for w in words):
        keys.add("_" + "".join(w.lstrip("_") for w in words))  # گورکھ پور = گورکھپور
    elif len(coarse := coarse_skeleton("".join(words))) >= 5:
        keys.add(coarse)
    return frozenset(keys)


_TEXT_OVER_HANDLE = 2.0  # a locality (2), a district's own name (3), "district X" (5); not a road (0.5) or home (1.5)


@dataclass
class Resolution:
    district_code: int | None
    evidence: list[dict]


def resolve_district(
    handle_codes: list[tuple[str, int]],
    text_hits: list[WeighedHit],
    place_hits: list[WeighedHit],
    profile_hits: list[WeighedHit],
) -> Resolution:
    """Strongest evidence first: a place the text names (when it routes on its own in its context), a mentioned
    district handle, other names in the text, the tweet's place, the author's profile location. Ambiguous names
    only narrow. No certain answer: ``None`` (state HQ queue)."""
    if not (handle_codes or text_hits or place_hits or profile_hits):
        return Resolution(None, [])  # no evidence at all: the state HQ queue
    evidence: list[dict] = []
    for source, hits in (("text", text_hits), ("place", place_hits), ("profile", profile_hits)):
        for weighed in hits:
            hit = weighed.hit
            item: dict = {"source": source, "match": hit.name or hit.phrase, "district_codes": sorted(hit.candidates)}
            if weighed.code is None:
                item["ambiguous"] = True
            if weighed.why:
                item["because"] = weighed.why
            evidence.append(item)
    for handle, code in handle_codes:
        evidence.insert(0, {"source": "handle", "match": "@" + handle, "district_codes": [code]})

    def strong(hits: list[WeighedHit]) -> set[int]:
        """The district these names weigh most for ("Hazratganj, Lucknow … a trader from Kanpur"); on a tie,
        all the tied districts."""
        scores: dict[int, float] = {}
        for weighed in hits:
            if weighed.code is not None:
                scores[weighed.code] = scores.get(weighed.code, 0.0) + weighed.weight
        if not scores:
            return set()
        best = max(scores.values())
        return {code for code, score in scores.items() if score == best}

    def narrowing(hits: list[WeighedHit]) -> list[frozenset[int]]:
        return [w.hit.candidates for w in hits if w.code is None]

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

    # The place the text names decides, even against a tagged handle (citizens tag the handle they know, or two
    # handles): a name that routes on its own in its context (a district, a town, a locality; not a road or
    # where the citizen lives)
    text_scores: dict[int, float] = {}
    for weighed in text_hits:
        if weighed.code is not None:
            text_scores[weighed.code] = text_scores.get(weighed.code, 0.0) + weighed.weight
    handle_set = {code for _, code in handle_codes}
    # ... unless the text also names the handle's district ("@bandapolice Banda bus stand … in the Kanpur bus",
    # "@barabankipol Fatehpur tehsil"): then the handle says which of the named places it is
    named = {code for weighed in text_hits for code in weighed.hit.candidates}
    if handle_set & named:
        chosen = pick(handle_set & named)
        return Resolution(chosen, _mark(evidence, chosen, "handle"))
    if text_scores and max(text_scores.values()) >= _TEXT_OVER_HANDLE:
        chosen = pick(support[0] | (support[0] & handle_set))
        if chosen is None and handle_set:
            chosen = pick(support[0] & handle_set) if len(support[0] & handle_set) == 1 else None
        return Resolution(chosen, _mark(evidence, chosen, "text"))
    if handle_set:
        # ... an ambiguous name in the text narrows the handles ("Akbarpur" with two district handles)
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

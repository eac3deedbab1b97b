"""Triage of one tweet: complaint or noise, district, category, priority, language — and why.

Pure and total: any input (missing fields, malformed entities, any Unicode) yields a result, never an
exception. Data (gazetteer, lexicon, handle registry) is loaded once per warm container.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from seva.registry import HandleRegistry, load_registry
from seva.textnorm import normalise
from seva.triage.gazetteer import Gazetteer, WeighedHit, resolve_district
from seva.triage.lexicon import Lexicon
from seva.triage.model import P1Model
from seva.triage.text import has_devanagari, has_urdu, stems, tokens

DATA = Path(__file__).resolve().parent.parent / "data"
CATEGORIES = (
    "emergency",
    "violent_crime",
    "theft",
    "women_safety",
    "cyber_fraud",
    "traffic",
    "public_nuisance",
    "police_conduct",
    "missing_person",
    "land_property",
    "other",
)
P1_CATEGORIES = ("emergency", "violent_crime", "women_safety", "missing_person")  # danger to life or safety
MODEL_CATEGORIES = frozenset({"women_safety", "theft", "land_property", "other"})
P2_CATEGORIES = {"violent_crime", "theft", "women_safety", "cyber_fraud", "missing_person", "emergency"}
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_SHOUTED_HELP = re.compile(r"\bHELP\b|\bhelp\s*!|\bSOS\b|\bBACHAO\b|बचाओ", re.UNICODE)
_MAX_TEXT = 4000  # a tweet is at most 4,000 characters (long posts); more is not a tweet


@dataclass
class Triage:
    id: str
    is_complaint: bool
    district_code: int | None
    district: str | None
    category: str
    priority: str | None
    language: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_complaint": self.is_complaint,
            "district_code": self.district_code,
            "district": self.district,
            "category": self.category,
            "priority": self.priority,
            "language": self.language,
            "evidence": self.evidence,
        }


@dataclass
class Triager:
    registry: HandleRegistry
    gazetteer: Gazetteer
    lexicon: Lexicon
    p1_model: P1Model = field(default_factory=P1Model)

    def classify(self, tweet: Any, author: Any = None, place: Any = None) -> Triage:
        tweet = tweet if isinstance(tweet, dict) else {}
        author = author if isinstance(author, dict) else {}
        place = place if isinstance(place, dict) else {}
        text = normalise(_str(tweet.get("text"))[:_MAX_TEXT])
        words = tokens(text)
        lex = self.lexicon

        # district
        handle_codes = []
        for username in _mentions(tweet, text):
            handle = self.registry.get(username)
            if handle is not None:
                if handle.district_code is not None:
                    handle_codes.append((handle.username, handle.district_code))
            elif (code := self.gazetteer.handle_district(username)) is not None:
                handle_codes.append((username, code))  # a district police account we do not watch
        handle_codes = list(dict.fromkeys(handle_codes))
        place_text = f"{_str(place.get('full_name'))} {_str(place.get('name'))}" if place else ""
        location = _str(author.get("location"))[:200]
        resolution = resolve_district(
            handle_codes,
            self._weighed(words, text),
            self._weighed(tokens(place_text), "") if place_text.strip() else [],
            self._weighed(tokens(location), "") if location else [],
        )

        # category
        found = lex.index.scan(stems(words), text, words)
        scores: dict[str, float] = {}
        hits_by_category: dict[str, list[str]] = {}
        strong = 0.0
        label_category = lex.label_category
        for label, hits in found.items():
            category = label_category.get(label)
            if category is not None and hits:
                total = 0.0
                for weight in hits.values():
                    total += weight
                    if weight >= 2:
                        strong += weight
                scores[category] = total
                hits_by_category[category] = list(hits)
        # "murder 2 saal pehle": an old case, its P1 words are not danger now
        p1_hits = [] if "past" in found else [p for p, w in found.get("p1", {}).items() if w >= 2]
        # an urgent call for help ("jaldi police bhejo", "please come"); not about a standing pattern
        urgent = "p1_urgency" in found and "p1_help" in found and "habitual" not in found
        shouted = _shouted(text)
        if "police_actor" in found and "police_conduct" in scores:
            scores["police_conduct"] += 3  # the police are the ones complained about
        if "?" in text:
            found.setdefault("query", {})["?"] = 1.0  # tips a question towards a query; not a complaint alone
        age = _age(text, words)
        child = age < 18 if age is not None else "child" in found
        missing_child = child and "missing_person" in scores
        # "maar rahe hai" is violence now; "kal peeta tha, ab dhamki de rahe hai" is not
        now = "p1_ongoing" in found or ("continuous" in found and "violence" in found and "earlier" not in found)
        habitual = "habitual" in found  # "every night", "roz": a pattern to act on, not a danger this minute
        # Violence described as happening now, or a death threat with a cry for help (when in doubt, P1)
        # ... a daily pattern needs an explicit "right now", not just a present tense ("roz maarta hai")
        now_for_violence = "p1_ongoing" in found or (now and not habitual)
        violent_now = ("violence" in found and now_for_violence) or (
            "threat" in found and ("p1_help" in found or now_for_violence)
        )
        # A crime or danger described as happening now, or with an urgent call for police (in doubt: P1)
        danger = any(c in scores for c in P1_CATEGORIES)
        happening_now = danger and not habitual and (now or urgent)
        if missing_child:
            scores["missing_person"] += 3  # a missing child is a missing-person case first
        if "domestic" in found and "violence" in found and "women_safety" in scores:
            scores["women_safety"] += 3  # a husband or in-laws who beat her: domestic violence
        if (habitual or "past" in found) and "emergency" in scores:
            scores["emergency"] -= 1  # "accidents every day", "kisi din hadsa ho jayega": not an emergency now
        category = "other"
        if scores:
            best = max(scores.values())
            category = next(c for c in lex.category_order if scores.get(c) == best)
            if category == "police_conduct" and "police_actor" not in found:
                # "beaten by neighbours … FIR not registered": the crime first, the police's inaction second
                crimes = [c for c in (*P1_CATEGORIES, "theft", "cyber_fraud") if scores.get(c, 0) >= 3]
                if crimes:
                    category = max(crimes, key=lambda c: scores[c])

        # complaint or noise: strong category words, SOS, requests and questions vs praise, greetings, politics
        requests = found.get("complaint", {})
        queries = sum(found.get("query", {}).values())
        sos = 4 if p1_hits or shouted else 0
        complaint_score = strong + sum(requests.values()) + queries + sos
        noise_score = sum(found.get("noise", {}).values())
        # Weak words ("help", "my", "sir") only tip the balance; a complaint needs one strong signal
        strong_queries = sum(w for w in found.get("query", {}).values() if w >= 2)
        strong_signal = strong + sum(w for w in requests.values() if w >= 2) + strong_queries + sos
        is_complaint = strong_signal > 0 and complaint_score >= noise_score
        if is_complaint and category == "other" and not scores.get("other") and p1_hits:
            category = "emergency"

        # priority: recall of P1 first
        priority: str | None = None
        reasons: list[str] = []
        if is_complaint:
            life = [p for p in p1_hits if found["p1"][p] >= 3]
            if category in P1_CATEGORIES:  # softer P1 words ("scared", "following me") not for a daily pattern
                soft_now = len(life) < len(p1_hits) and not habitual
                p1 = bool(life or soft_now or urgent or missing_child or violent_now or happening_now)
                p1 = p1 or category == "emergency"
            else:  # a theft, fraud, dispute, nuisance: P1 only with danger to life, and not a standing pattern
                p1 = (bool(life) and not habitual) or violent_now
            if p1 or shouted:
                priority = "P1"
                reasons = p1_hits[:5] + (["shouted help"] if shouted else []) + (["urgent help"] if urgent else [])
                reasons += ["missing child"] if missing_child else []
                reasons += ["violence now"] if violent_now else []
                reasons += ["happening now"] if happening_now and not violent_now else []
            elif category in P2_CATEGORIES or (category == "land_property" and "violent_crime" in scores):
                priority = "P2"
            else:
                priority = "P3"
        # A second opinion learned from labelled tweets catches SOS phrasings the rules have not seen: on tweets
        # the rules call noise, or a theft, women's-safety, land or other complaint (elsewhere it was wrong more
        # often than right), and not for a daily pattern or an old case
        model_score = None
        second_opinion = not is_complaint or category in MODEL_CATEGORIES
        if second_opinion and priority != "P1" and not habitual and "past" not in found:
            model_score = self.p1_model.score(words)
            if model_score > self.p1_model.threshold:
                if not is_complaint:
                    is_complaint = True
                    category = category if scores else "emergency"
                priority = "P1"
                reasons = ["learned from labelled SOS tweets"]

        language = _language(text, words, tweet.get("lang"), lex.hinglish)
        evidence = [*resolution.evidence]
        matched = hits_by_category.get(category, [])[:8]
        evidence.append({"source": "keywords", "category": category, "matched": matched, "score": scores.get(category)})
        evidence.append({"source": "complaint_vs_noise", "complaint": complaint_score, "noise": noise_score})
        if model_score is not None:
            evidence.append({"source": "p1_model", "log_odds": round(model_score, 1)})
        if reasons:
            evidence.append({"source": "priority", "priority": "P1", "because": reasons})
        district = self.gazetteer.districts.get(resolution.district_code) if resolution.district_code else None
        return Triage(
            id=_str(tweet.get("id")),
            is_complaint=is_complaint,
            district_code=district.code if district else None,
            district=district.name if district else None,
            category=category if is_complaint else "other",
            priority=priority,
            language=language,
            evidence=evidence,
        )

    def _weighed(self, words: list[str], raw_text: str) -> list[WeighedHit]:
        return self.gazetteer.weigh(self.gazetteer.find_words(words), words, raw_text) if words else []


_AGE = re.compile(
    r"(?<![\d.,])(\d{1,2})\s*(?:-\s*)?(?:saal|sal|year|years|yr|yrs|varsh|varshiya|वर्ष|वर्षीय|साल)(?![a-z])"
    r"|(?:aged|age|umar|umra|उम्र|आयु)\s*:?\s*(\d{1,2})(?!\d)"
    r"|\((\d{1,2})\)",  # "mera bhai (19)"
    re.IGNORECASE,
)


_AGE_WORDS = frozenset(
    [
        "saal",
        "sal",
        "year",
        "years",
        "yr",
        "yrs",
        "varsh",
        "varshiya",
        "वर्ष",
        "वर्षीय",
        "साल",
        "aged",
        "age",
        "umar",
        "umra",
        "उम्र",
        "आयु",
    ]
)


def _age(text: str, words: list[str]) -> int | None:
    """A person's stated age ("7 year old", "23 saal ka", "aged 72", "उम्र 5"): the youngest, if several."""
    if _AGE_WORDS.isdisjoint(words) and "(" not in text:
        return None
    ages = [int(m.group(1) or m.group(2) or m.group(3)) for m in _AGE.finditer(text)]
    return min(ages) if ages else None


def _shouted(text: str) -> bool:
    """HELP, help!, SOS, BACHAO, बचाओ — checked cheaply before the regex (this runs on every tweet)."""
    if "HELP" in text or "help" in text or "SOS" in text or "BACHAO" in text or "बचाओ" in text:
        return _SHOUTED_HELP.search(text) is not None
    return False


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _mentions(tweet: dict[str, Any], text: str) -> list[str]:
    entities = tweet.get("entities")
    mentions = entities.get("mentions") if isinstance(entities, dict) else None
    names = []
    if isinstance(mentions, list):
        names = [m["username"] for m in mentions if isinstance(m, dict) and isinstance(m.get("username"), str)]
    return names or (_MENTION.findall(text) if "@" in text else [])


def _language(text: str, words: list[str], declared: Any, hinglish: frozenset[str]) -> str:
    if not text.isascii():
        urdu = has_urdu(text)
        if urdu or has_devanagari(text):
            # mostly Urdu words: Urdu ("ur"); a Hindi tweet quoting an Urdu word stays Hindi
            return "ur" if urdu and sum(w[0] == "_" for w in words) * 2 >= len(words) else "hi"
    markers = len(hinglish.intersection(words))
    if markers >= 2 or (declared == "hi" and markers >= 1):
        return "hi-Latn"
    return "en"


@cache
def default_triager(registry_path: str | None = None) -> Triager:
    with open(DATA / "gazetteer.json", encoding="utf-8") as fh:
        gazetteer = Gazetteer.from_document(json.load(fh))
    with open(DATA / "triage_lexicon.json", encoding="utf-8") as fh:
        lexicon = Lexicon.from_document(json.load(fh))
    model_path = DATA / "p1_model.json"
    p1_model = P1Model()
    if model_path.exists():
        with open(model_path, encoding="utf-8") as fh:
            p1_model = P1Model.from_document(json.load(fh))
    return Triager(load_registry(registry_path), gazetteer, lexicon, p1_model)


def classify(tweet: Any, author: Any = None, place: Any = None, registry_path: str | None = None) -> Triage:
    return default_triager(registry_path).classify(tweet, author, place)

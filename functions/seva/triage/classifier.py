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
from seva.triage.gazetteer import Gazetteer, Resolution, WeighedHit, resolve_district
from seva.triage.lexicon import Lexicon
from seva.triage.model import Prediction, TriageModel, features
from seva.triage.text import consonant_skeleton, has_devanagari, has_urdu, stems, tokens
from seva.tweets import full_text, mentioned_usernames

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
P2_CATEGORIES = {"violent_crime", "theft", "women_safety", "cyber_fraud", "missing_person", "emergency"}
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_SHOUTED_HELP = re.compile(r"\bHELP\b|\bhelp\s*!|\bSOS\b|\bBACHAO\b|बचाओ|🆘", re.UNICODE)
# "Save us" in Awadhi, Bhojpuri, Hindi and Urdu ("बचाय लेव", "bachai lyo", "بچاؤ"); Latin "bacha lo" is also "save
# money", left out
_CRY_FOR_HELP = re.compile(
    r"बचाय लेव|बचाई लेव|बचाय लो|बचा लेव|बचा लो|बचा लीजिए|बचाइए|بچاؤ|بچا لو|بچائیں"
    r"|\bbach(?:ai|ay|aai)\s*(?:lyo|lo|lev|leo)\b|\bbacha lijiye\b",
    re.IGNORECASE,
)
_EMOJI_SIGNALS = ("😂", "🤣", "😅", "😆", "🙏", "🔥", "😭", "🆘", "👏", "👍", "❤", "🇮🇳", "😡", "🤲", "🌹", "💐")
_EXPLICIT_SOS = ("~shouted", "~emoji_sos")
# A tweet of a place and these ("🔥🆘 Naka Hindola", "🚗💥🩸 Shuklaganj pul"): an SOS; 🔥 alone is praise too
_SOS_EMOJI = ("🆘", "🚑", "🩸", "🔫", "💥", "🚒", "🔪", "😱")
# A year named in the text ("2023 me", "March 2022", FIR 217/2023) — not a vehicle number ("UP32 AT 2021")
_NAMED_YEAR = re.compile(r"(?<![A-Z] )(?<![\w.-])(?:19[89]\d|20[0-2]\d)(?![\w])")
# A complaint the rules see no sign of needs the model to be fairly sure: P(noise) below this. Out of fold this
# added half a point of complaint/noise accuracy; on real Mumbai Police tweets four points.
_UNSUPPORTED_COMPLAINT = 0.3
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
    confidence: float = 1.0  # calibrated probability that complaint/noise and P1/not-P1 are both right
    needs_review: bool = False  # a person should look: low confidence, or a P1 signal on a non-P1 result
    review_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_complaint": self.is_complaint,
            "district_code": self.district_code,
            "district": self.district,
            "category": self.category,
            "priority": self.priority,
            "language": self.language,
            "confidence": self.confidence,
            "needs_review": self.needs_review,
            "review_reason": self.review_reason,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class ReviewPolicy:
    """When a person should look at a triage (data: ``seva/data/triage_review.json``)."""

    confidence_below: float = 0.7  # the decision is less likely right than this
    p1_probability_above: float = 0.15  # a non-P1 result the model gives at least this chance of being P1


@dataclass
class RuleReading:
    """What the hand-written rules conclude and the signals they saw (the model weighs both)."""

    is_complaint: bool
    category: str
    priority: str | None
    reasons: list[str]
    found: dict[str, dict[str, float]]
    scores: dict[str, float]
    hits_by_category: dict[str, list[str]]
    p1_hits: list[str]
    shouted: bool
    complaint_score: float
    noise_score: float
    signals: list[str]


@dataclass(frozen=True)
class Decision:
    is_complaint: bool
    p1: bool
    probability: float  # the model's probability of this decision (noise / complaint / P1), before calibration
    reasons: list[str]
    downgraded: str | None = None  # why a P(P1) above the threshold was not made P1 (then a person looks)


# Signals that the danger to life, if any, is not now (unless the text also says "right now")
_NOT_NOW = (
    ("~set_unharmed", "nobody hurt"),
    ("~set_could_happen", "what could happen"),
    ("~set_handled", "help has come"),
)


# "Now" markers that say it has just happened, not that it is going on ("abhi abhi jeb kat gayi, koi chot nahi")
_JUST_HAPPENED = frozenset(["abhi abhi", "अभी अभी", "ابھی ابھی", "just now", "minutes ago", "min pehle", "मिनट पहले"])


# Lexicon sets that are danger to life on their own
_EXPLICIT_SETS = (
    ("~set_threat", "death threat"),
    ("~set_captive", "held captive"),
    ("~set_self_harm", "self-harm"),
    ("~set_rescue_call", "rescue call"),
)


_EXPLICIT_SET_NAMES = tuple(name.removeprefix("~set_") for name, _ in _EXPLICIT_SETS)


def explicit_danger(rules: RuleReading) -> list[str]:
    """Danger to life the rules read outright: a shouted HELP or an emoji SOS; unless the tweet names a past time,
    a missing child with a stated age under 18, a death threat, a person held captive, self-harm, a call for an
    ambulance, fire brigade or divers."""
    signals = rules.signals
    found = [s.strip("~") for s in _EXPLICIT_SOS if s in signals]
    # a past event named in the tweet ("2 saal pehle", "March 2023", "pichle saal"): an old case
    if "~set_past" not in signals:
        found += [reason for name, reason in _EXPLICIT_SETS if name in signals]
        if "~missing_child" in signals and "~child_age" in signals:  # "my son … phone switched off": no age, no SOS
            found.append("missing child")
    return found


def _going_on(rules: RuleReading) -> bool:
    """The text says it is going on now ("right now", "abhi bhi"), not only that it has just happened."""
    return not _JUST_HAPPENED.issuperset(rules.found.get("p1_ongoing", ()))


def no_danger_now(prediction: Prediction, rules: RuleReading) -> str | None:
    """Why a tweet the model leans to P1 describes no danger to life *now*, or None. The labelling policy's "not
    P1" cases that the model's words miss most often (out of fold): nobody was hurt or all are safe now; a hazard
    or fear of what could happen; help has come (in hospital now, the police have arrived); a missing adult."""
    signals = rules.signals
    for name, reason in () if _going_on(rules) else _NOT_NOW:
        if name in signals:
            return reason
    if prediction.category == "missing_person" and "~adult_age" in signals and "~child_age" not in signals:
        return "missing adult"
    return None


def decide(prediction: Prediction | None, rules: RuleReading, thresholds: tuple[float, float]) -> Decision:
    """Complaint or noise and P1 or not, from the model's probabilities and the rules where they are strong.

    A tweet the model gives at least the P1 threshold of being P1 is a P1 complaint; when the model's category
    is one where P1 is the exception (a theft, fraud, dispute, nuisance, traffic, police conduct: "P1 only with
    danger to life now"), the second, higher threshold — unless the rules read that there is no danger now
    (``no_danger_now``: then it is downgraded, and a person looks). A tweet the rules see no complaint in is
    noise unless the model is fairly sure it is one. Danger the rules read outright (``explicit_danger``) in a
    tweet the model does not call noise is P1 whatever the model says of its priority. Without a model: the
    rules alone.
    """
    if prediction is None:
        return Decision(rules.is_complaint, rules.priority == "P1", 1.0, rules.reasons)
    explicit = explicit_danger(rules)
    threshold = thresholds[0] if prediction.category in P1_CATEGORIES else thresholds[1]
    downgraded = None
    if prediction.p1 >= threshold:
        downgraded = None if explicit else no_danger_now(prediction, rules)
        if downgraded is None:
            return Decision(True, True, prediction.p1, [f"model P1 {prediction.p1:.2f}", *explicit, *rules.reasons])
    if "emoji_sos" in explicit:  # a place and 🆘🚑🩸: the model, which reads words, takes it for noise
        return Decision(True, True, prediction.p1, explicit)
    if prediction.noise >= 0.5:
        return Decision(False, False, prediction.noise, [], downgraded)
    if rules.priority is None and prediction.noise >= _UNSUPPORTED_COMPLAINT and not explicit:
        # the rules found nothing to act on and the model is unsure: noise, with a low confidence (to review)
        return Decision(False, False, prediction.noise, [], downgraded)
    if explicit:
        return Decision(True, True, prediction.p1, [*explicit, *rules.reasons])
    return Decision(True, False, prediction.complaint, [], downgraded)


@dataclass
class Triager:
    registry: HandleRegistry
    gazetteer: Gazetteer
    lexicon: Lexicon
    model: TriageModel | None = None
    review: ReviewPolicy = field(default_factory=ReviewPolicy)

    def classify(self, tweet: Any, author: Any = None, place: Any = None) -> Triage:
        tweet = tweet if isinstance(tweet, dict) else {}
        author = author if isinstance(author, dict) else {}
        place = place if isinstance(place, dict) else {}
        text = normalise(full_text(tweet)[:_MAX_TEXT])
        words = tokens(text)
        handle_codes = self._handle_codes(tweet, text)
        resolution = self._district(text, words, handle_codes, author, place)
        rules = self.read_rules(text, words, bool(handle_codes))

        model = self.model
        prediction = model.predict(features(words, rules.signals)) if model is not None else None
        decision = decide(prediction, rules, model.p1_thresholds if model is not None else (0.5, 0.5))
        is_complaint = decision.is_complaint
        category = "other"
        if is_complaint:
            category = prediction.category if prediction is not None else rules.category
        priority: str | None = None
        if decision.p1:
            priority = "P1"
        elif is_complaint:
            land_fight = category == "land_property" and "violent_crime" in rules.scores
            priority = "P2" if category in P2_CATEGORIES or land_fight else "P3"
        confidence = model.calibrated(decision.probability) if model is not None else 0.5
        review_reason = self._review_reason(confidence, decision, prediction, rules)

        language = _language(text, words, tweet.get("lang"), self.lexicon.hinglish)
        evidence = [*resolution.evidence]
        matched = rules.hits_by_category.get(category, [])[:8]
        evidence.append(
            {"source": "keywords", "category": rules.category, "matched": matched, "score": rules.scores.get(category)}
        )
        evidence.append(
            {"source": "complaint_vs_noise", "complaint": rules.complaint_score, "noise": rules.noise_score}
        )
        if prediction is not None:
            top = sorted(prediction.categories.items(), key=lambda kv: -kv[1])[:2]
            evidence.append(
                {
                    "source": "model",
                    "noise": round(prediction.noise, 3),
                    "complaint": round(prediction.complaint, 3),
                    "p1": round(prediction.p1, 3),
                    "categories": {c: round(p, 3) for c, p in top},
                }
            )
        if decision.p1:
            evidence.append({"source": "priority", "priority": "P1", "because": decision.reasons[:6]})
        district = self.gazetteer.districts.get(resolution.district_code) if resolution.district_code else None
        return Triage(
            id=_str(tweet.get("id")),
            is_complaint=is_complaint,
            district_code=district.code if district else None,
            district=district.name if district else None,
            category=category,
            priority=priority,
            language=language,
            evidence=evidence,
            confidence=round(confidence, 3),
            needs_review=review_reason is not None,
            review_reason=review_reason,
        )

    def read(self, tweet: Any) -> tuple[RuleReading, set[str]]:
        """What the rules conclude of a tweet and what the model sees of it (also for training:
        ``infra/tools/train_triage_model.py``)."""
        tweet = tweet if isinstance(tweet, dict) else {}
        text = normalise(full_text(tweet)[:_MAX_TEXT])
        words = tokens(text)
        rules = self.read_rules(text, words, bool(self._handle_codes(tweet, text)))
        return rules, features(words, rules.signals)

    def _review_reason(
        self, confidence: float, decision: Decision, prediction: Prediction | None, rules: RuleReading
    ) -> str | None:
        """Why a person should look at this triage, or None. A noise or non-P1 result with any sign of danger
        to life is never left to pass silently."""
        kind = "non-P1 complaint" if decision.is_complaint else "noise"
        if decision.downgraded is not None and prediction is not None:
            return f"P1 signal on a {kind}: model P1 {prediction.p1:.2f}, not P1 as {decision.downgraded}"
        if confidence < self.review.confidence_below:
            return f"low confidence {confidence:.2f} < {self.review.confidence_below}"
        if decision.p1:
            return None
        # P1 words, and the phrases of danger read outright that a past time in the tweet set aside
        found = rules.found
        signs = [f"'{p}'" for name in ("p1", *_EXPLICIT_SET_NAMES) for p in found.get(name, ())][:3]
        if rules.shouted:
            signs.append("shouted help")
        if prediction is not None and prediction.p1 >= self.review.p1_probability_above:
            signs.append(f"model P1 {prediction.p1:.2f}")
        if not signs:
            return None
        return f"P1 signal on a {kind}: {', '.join(signs)}"

    def _handle_codes(self, tweet: dict[str, Any], text: str) -> list[tuple[str, int]]:
        handle_codes = []
        for username in _mentions(tweet, text):
            handle = self.registry.get(username)
            if handle is not None:
                if handle.district_code is not None:
                    handle_codes.append((handle.username, handle.district_code))
            elif (code := self.gazetteer.handle_district(username)) is not None:
                handle_codes.append((username, code))  # a district police account we do not watch
        return list(dict.fromkeys(handle_codes))

    def _district(
        self,
        text: str,
        words: list[str],
        handle_codes: list[tuple[str, int]],
        author: dict[str, Any],
        place: dict[str, Any],
    ) -> Resolution:
        place_text = f"{_str(place.get('full_name'))} {_str(place.get('name'))}" if place else ""
        location = _str(author.get("location"))[:200]
        return resolve_district(
            handle_codes,
            self._weighed(words, text),
            self._weighed(tokens(place_text), "") if place_text.strip() else [],
            self._weighed(tokens(location), "") if location else [],
        )

    def read_rules(self, text: str, words: list[str], district_handle: bool) -> RuleReading:
        """The hand-written rules: weighted phrases per category, SOS words, ages, tense markers."""
        lex = self.lexicon
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
        if ("19" in text or "20" in text) and (year := _NAMED_YEAR.search(text)):
            found.setdefault("past", {})[year.group()] = 1.0  # "2023 me", "March 2022": a named year is the past
        # "murder 2 saal pehle": an old case, its P1 words are not danger now
        p1_hits = [] if "past" in found else [p for p, w in found.get("p1", {}).items() if w >= 2]
        # an urgent call for help ("jaldi police bhejo", "please come"); not about a standing pattern
        urgent = "p1_urgency" in found and "p1_help" in found and "habitual" not in found
        shouted = _shouted(text)
        if "police_actor" in found and "police_conduct" in scores:
            scores["police_conduct"] += 3  # the police are the ones complained about
        question = "?" in text
        if question:
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
        # What the model weighs besides the words: the rules' verdict and the signals behind it
        signals = [
            "~rule_" + (priority or "noise"),
            "~rule_cat_" + category if is_complaint else "~rule_cat_none",
            *("~set_" + name for name in found if name[:4] != "cat:"),
            "~len_" + ("0" if not words else "3" if len(words) <= 3 else "8" if len(words) <= 8 else "20"),
        ]
        if len(words) > 20:
            signals.append("~len_long")
        flags = (
            ("~p1_word", bool(p1_hits)),
            ("~p1_life", any(found["p1"][p] >= 3 for p in p1_hits)),
            ("~shouted", shouted),
            ("~urgent", urgent),
            ("~missing_child", missing_child),
            ("~child_age", age is not None and age < 18),
            ("~adult_age", age is not None and age >= 18),
            ("~violent_now", violent_now),
            ("~happening_now", happening_now),
            ("~link", "http" in text or "www." in text),
            ("~question", question),
            ("~district_handle", district_handle),
            ("~noise_words", noise_score > complaint_score),
            ("~retweet", text[:4] == "RT @"),
            ("~emoji_sos", len(words) <= 4 and not text.isascii() and any(e in text for e in _SOS_EMOJI)),
        )
        signals += [name for name, on in flags if on]
        if not text.isascii():
            signals += [f"~emoji_{e}" for e in _EMOJI_SIGNALS if e in text]
        return RuleReading(
            is_complaint,
            category,
            priority,
            reasons,
            found,
            scores,
            hits_by_category,
            p1_hits,
            shouted,
            complaint_score,
            noise_score,
            signals,
        )

    def _weighed(self, words: list[str], raw_text: str) -> list[WeighedHit]:
        return self.gazetteer.weigh(self.gazetteer.find_words(words), words, raw_text) if words else []


_AGE = re.compile(
    r"(?<![\d.,])(\d{1,2})\s*(?:-\s*)?(?:saal|sal|year|years|yr|yrs|yo|varsh|varshiya|baris|baras|barsa|बरस|बरिस|वर्ष|वर्षीय|साल|سال|برس)"
    r"(?![a-z])(?!\s*(?:pehle|pahle|pahile|ago|se\b|baad|bad\b|puran|tak\b|पहले|पहिले|से|बाद|पुरान|तक|پہلے|سے|بعد|پران))"
    r"|(?:aged|age|umar|umra|उम्र|आयु|عمر)\s*:?\s*(\d{1,2})(?!\d)"
    r"|\((\d{1,2})\)"  # "mera bhai (19)"
    r"|(?:son|daughter|nephew|niece|brother|sister|cousin|boy|girl),\s*(\d{1,2})\s*[,.]",  # "my nephew, 16, left"
    re.IGNORECASE,
)


# the words that may state an age, as tokens see them (folded: "वर्षीय" has no halant there)
_AGE_WORDS = frozenset(
    word
    for spelling in [
        "saal",
        "sal",
        "year",
        "years",
        "yr",
        "yrs",
        "yo",
        "varsh",
        "varshiya",
        "baris",
        "baras",
        "barsa",
        "aged",
        "age",
        "umar",
        "umra",
        "वर्ष",
        "वर्षीय",
        "साल",
        "बरस",
        "बरिस",
        "उम्र",
        "आयु",
    ]
    for word in (*tokens(spelling), "" if spelling.isascii() else consonant_skeleton(spelling))
    if word
)
# Ages written in words, as tokens see them ("पांच बरस कै", "bees saal ka", Urdu "پانچ سال"): the units after them
_AGE_UNITS = frozenset(
    [
        "saal",
        "sal",
        "baris",
        "baras",
        "barsa",
        "varsh",
        "साल",
        "बरस",
        "बरिस",
        "वर्ष",
        *map(consonant_skeleton, ["साल", "बरस"]),
    ]
)
_TIME_AFTER = frozenset(
    ["pehle", "pahle", "pahile", "se", "bad", "tak", "पहले", "पहिले", "से", "बाद", "तक"]
    + [consonant_skeleton(w) for w in ("पहले", "से", "बाद", "तक")]
)
_NUMBER_WORDS = {
    word: number
    for number, spellings in {
        1: "ek एक",
        2: "do दो",
        3: "teen tin तीन",
        4: "char chaar चार",
        5: "panch paanch पांच पाँच",
        6: "chhe chah छह छः",
        7: "saat सात",
        8: "aath आठ",
        9: "nau नौ",
        10: "das दस",
        11: "gyarah ग्यारह",
        12: "barah baarah बारह",
        13: "terah तेरह",
        14: "chaudah चौदह",
        15: "pandrah pandrah पंद्रह पन्द्रह",
        16: "solah सोलह",
        17: "satrah सत्रह",
        18: "atharah athara अठारह",
        19: "unnis उन्नीस",
        20: "bees bis बीस",
        22: "bais baais बाईस",
        25: "pachis pachees pachchis पचीस पच्चीस",
        30: "tees तीस",
        35: "paintis पैंतीस",
        40: "chalis chaalis चालीस",
        50: "pachas pachaas पचास",
        60: "saath साठ",
        70: "sattar सत्तर",
    }.items()
    for spelling in spellings.split()
    for word in (*tokens(spelling), "" if spelling.isascii() else consonant_skeleton(spelling))
    if word
}


def _age(text: str, words: list[str]) -> int | None:
    """A person's stated age ("7 year old", "23 saal ka", "aged 72", "उम्र 5", "पांच बरस कै", "my nephew, 16,"):
    the youngest, if several."""
    if _AGE_WORDS.isdisjoint(words) and "(" not in text and "," not in text and _AGE_UNITS.isdisjoint(words):
        return None
    ages = [int(next(g for g in m.groups() if g)) for m in _AGE.finditer(text)]
    for i, word in enumerate(words[1:-1], 1):  # "do saal pehle", "teen saal se": a time, not an age
        if word in _AGE_UNITS and words[i - 1] in _NUMBER_WORDS and words[i + 1] not in _TIME_AFTER:
            ages.append(_NUMBER_WORDS[words[i - 1]])
    return min(ages) if ages else None


def _shouted(text: str) -> bool:
    """HELP, help!, SOS, BACHAO, बचाओ, बचाय लेव, بچاؤ — checked cheaply before the regex (this runs on every tweet)."""
    english = "HELP" in text or "help" in text or "SOS" in text or "BACHAO" in text or "बचाओ" in text or "🆘" in text
    if english and _SHOUTED_HELP.search(text) is not None:
        return True
    if "बचा" in text or "بچا" in text or "ach" in text or "ACH" in text:
        return _CRY_FOR_HELP.search(text) is not None
    return False


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _mentions(tweet: dict[str, Any], text: str) -> list[str]:
    names = [n for n in mentioned_usernames(tweet) if isinstance(n, str)]
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


def rules_triager(registry_path: str | None = None) -> Triager:
    """Triage by the rules alone (no model): what the model is trained on top of."""
    with open(DATA / "gazetteer.json", encoding="utf-8") as fh:
        gazetteer = Gazetteer.from_document(json.load(fh))
    with open(DATA / "triage_lexicon.json", encoding="utf-8") as fh:
        lexicon = Lexicon.from_document(json.load(fh))
    review = ReviewPolicy()
    if (DATA / "triage_review.json").exists():
        with open(DATA / "triage_review.json", encoding="utf-8") as fh:
            doc = json.load(fh)
        review = ReviewPolicy(float(doc["confidence_below"]), float(doc["p1_probability_above"]))
    return Triager(load_registry(registry_path), gazetteer, lexicon, None, review)


@cache
def default_triager(registry_path: str | None = None) -> Triager:
    """The shipped triage, loaded once per container: rules, model and review policy."""
    triager = rules_triager(registry_path)
    if (DATA / "triage_model.json").exists():
        with open(DATA / "triage_model.json", encoding="utf-8") as fh:
            triager.model = TriageModel.from_document(json.load(fh))
    return triager


def classify(tweet: Any, author: Any = None, place: Any = None, registry_path: str | None = None) -> Triage:
    return default_triager(registry_path).classify(tweet, author, place)

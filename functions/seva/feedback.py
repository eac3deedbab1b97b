"""A citizen's answer to "resolved": not resolved (reopen), or thanks / a 1-5 rating (close). Pure.

English, Hindi, Hinglish and Urdu. An objection wins over thanks in the same post ("thanks for nothing, still
not resolved"): reopening a complaint that was in fact done costs an officer a look; closing one that was not
costs a citizen their complaint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seva.textnorm import normalise

_NOT_RESOLVED = re.compile(
    r"not\s+(?:yet\s+)?(?:been\s+)?(?:resolved|solved|fixed|done|sorted)|unresolved|nothing\s+(?:has\s+)?happened"
    r"|no\s+action|still\s+(?:waiting|not|no\b|the\s+same|happening|continu)|thanks\s+for\s+nothing|problem\s+persists"
    r"|(?:kuch|koi)\s+(?:bhi\s+)?(?:nahi|nahin|nhi|nai)|(?:samadhan|samaadhan|hal|solve|resolve)\s+(?:abhi\s+tak\s+)?"
    r"(?:nahi|nahin|nhi|nai)|abhi\s+tak\s+(?:kuch\s+)?(?:nahi|nahin|nhi)|(?:karwai|karyavahi|action)\s+(?:nahi|nhi)"
    r"|समाधान\s*नहीं|हल\s*नहीं|कुछ\s*(?:भी\s*)?नहीं\s*हुआ|कोई\s*(?:भी\s*)?कार्(?:य|र)वाई\s*नहीं|अभी\s*तक\s*(?:कुछ\s*)?नहीं"
    r"|حل\s*نہیں|کچھ\s*نہیں\s*ہوا|کوئی\s*کارروائی\s*نہیں",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"\b(?:thanks?|thank\s+you|thx|ty|dhanyavaa?d|dhanyawaa?d|shukriya|shukria|grateful|resolved\s+now|problem\s+solved)\b"
    r"|धन्यवाद|शुक्रिया|आभार|شکریہ",
    re.IGNORECASE,
)
_RATING = re.compile(r"(?:^|[\s:(])([1-5])\s*(/\s*5|stars?|⭐|\*)?(?=$|[\s.,!)])|^(⭐{1,5})", re.IGNORECASE)
_RATING_WORD = re.compile(r"\b(?:rating|rate|rated|score|marks?|ank|ankh?)\b|अंक|रेटिंग", re.IGNORECASE)
SHORT = 5  # words: a bare number in a post this short is a rating ("5", "4 thank you sir")
_MENTION = re.compile(r"@\w+")


@dataclass(frozen=True)
class Verdict:
    reopen: bool = False
    close: bool = False
    rating: int | None = None


def citizen_verdict(text: str) -> Verdict:
    """What the citizen's post in a resolved complaint's thread says (neither: an ordinary follow-up)."""
    plain = _MENTION.sub(" ", normalise(text)).strip()
    if _NOT_RESOLVED.search(plain):
        return Verdict(reopen=True)
    rating = None
    if match := _RATING.search(plain):
        marked = bool(match.group(2) or match.group(3)) or bool(_RATING_WORD.search(plain))
        if marked or len(plain.split()) <= SHORT:  # "5 लोग फिर आए ..." is a count, not a rating
            rating = int(match.group(1)) if match.group(1) else len(match.group(3))
    if rating is not None or _THANKS.search(plain):
        return Verdict(close=True, rating=rating)
    return Verdict()

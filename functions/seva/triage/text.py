"""Text normalisation shared by the gazetteer and the lexicon, so both sides of every match agree.

Devanagari spellings vary: with and without nukta (ज़/ज), halant (्), chandrabindu/anusvara (ँ/ं); these
are folded. Latin text is case-folded with diacritics removed. URLs and @mentions are dropped from the
words; hashtags keep their word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from seva.textnorm import normalise

_NUKTA_LETTERS = {
    "\u0958": "\u0915",  # क़ → क
    "\u0959": "\u0916",
    "\u095a": "\u0917",
    "\u095b": "\u091c",
    "\u095c": "\u0921",
    "\u095d": "\u0922",
    "\u095e": "\u092b",
    "\u095f": "\u092f",
}
_FOLD = str.maketrans(
    {
        **_NUKTA_LETTERS,
        "\u093c": None,  # nukta
        "\u094d": None,  # halant
        "\u0901": "\u0902",  # chandrabindu → anusvara
        "\u200c": None,
        "\u200d": None,
    }
)
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
# Perso-Arabic letters, harakat and digits as Urdu writes them (not its punctuation ، ؟ ۔)
_URDU_LETTERS = "\u0620-\u065f\u066e\u066f\u0670-\u06d3\u06d5\u06f0-\u06f9\u0660-\u0669"
_TOKEN = re.compile(rf"[a-z0-9]+|[\u0900-\u0963\u0966-\u097f]+|[{_URDU_LETTERS}]+")
_LATIN_TOKEN = re.compile(r"[a-z0-9]+")
_TOKEN_OR_MENTION = re.compile(rf"[a-z0-9]+|[\u0900-\u0963\u0966-\u097f]+|[{_URDU_LETTERS}]+|(?<![\w@])@\w{{1,15}}")
_LATIN_TOKEN_OR_MENTION = re.compile(r"[a-z0-9]+|(?<![\w@])@\w{1,15}")
_LATIN_MARKS = re.compile(r"[\u0300-\u036f]")
_ACCENTED = re.compile(r"[\u00c0-\u024f]")


def fold(text: str) -> str:
    """Case- and spelling-fold a string (no tokenising)."""
    if text.isascii():
        return text.lower()
    text = normalise(text).translate(_FOLD).casefold()
    if _ACCENTED.search(text):
        text = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text))
        text = unicodedata.normalize("NFC", text)
    return text


# Texting shorthand in romanised Hindi ("chori ho gyi h", "ghr ni aayi", "jldi kro"): spelled out, so the
# lexicon needs one spelling
_SHORTHAND = {
    "h": "hai",
    "hn": "hain",
    "ni": "nahi",
    "nhi": "nahi",
    "nahin": "nahi",
    "nai": "nahi",
    "kr": "kar",
    "kro": "karo",
    "kre": "kare",
    "krne": "karne",
    "krke": "karke",
    "krte": "karte",
    "krta": "karta",
    "rha": "raha",
    "rhe": "rahe",
    "rhi": "rahi",
    "gya": "gaya",
    "gyi": "gayi",
    "gye": "gaye",
    "ghr": "ghar",
    "larki": "ladki",
    "larka": "ladka",
    "larke": "ladke",
    "larkiyon": "ladkiyon",
    "parosi": "padosi",
    "k": "ke",
    "jldi": "jaldi",
    "jaldi": "jaldi",
    "mdd": "madad",
    "mje": "mujhe",
    "mjhe": "mujhe",
    "muje": "mujhe",
    "lgi": "lagi",
    "lga": "laga",
    "lgta": "lagta",
    "kch": "kuch",
    "sb": "sab",
    "pr": "par",
    "tk": "tak",
    "abi": "abhi",
    "hm": "hum",
    "plz": "please",
    "pls": "please",
    "plzz": "please",
    "plss": "please",
    "msg": "message",
    "msgs": "messages",
    "pics": "photos",
    "bcoz": "because",
    "coz": "because",
    "cuz": "because",
    "u": "you",
    "ur": "your",
    "thnx": "thanks",
}


# Romanised Hindi has no fixed spelling ("jaldi/jaldee", "zameen/jameen", "chhed/ched", "rishwat/rishvat",
# "Sitapur/Sitapoor"): both the text and the lexicon and gazetteer are reduced to one skeleton spelling.
# "ee"/"oo" are folded only at a word's end (and "-poor" in names): inside English words they carry meaning
# ("goon"/"gun", "shoot"/"shut").
_SKELETON = (("chh", "ch"), ("ph", "f"), ("z", "j"), ("w", "v"), ("q", "k"))
_DOUBLED = re.compile(r"([aiu])\1+")  # "aa", "ii", "uu"; doubled consonants stay: "accident", "Patti"


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """One spelling for the variants of a romanised word (Devanagari and numbers unchanged)."""
    if not word.isascii() or not word.isalpha():
        return word
    for variant, canonical in _SKELETON:
        if variant in word:
            word = word.replace(variant, canonical)
    word = _DOUBLED.sub(r"\1", word)
    if word.endswith(("ee", "oo")):
        word = word[:-2] + ("i" if word[-1] == "e" else "u")  # "jaldee", "rahee", "kee"
    elif len(word) > 5 and word.endswith("poor"):
        word = word[:-4] + "pur"  # "Sitapoor", "Jaunpoor"
    elif word.endswith("gadh"):
        word = word[:-4] + "garh"  # "Aligadh", "Azamgadh": ड़ written d or r
    if len(word) > 3 and word[-1] == "h" and word[-2] in "aeiou":
        word = word[:-1]  # "Etah"/"Etaa", "Shah"
    return word


# Urdu (Perso-Arabic script) and Hindi (Devanagari) write one spoken language in two scripts. Urdu leaves
# short vowels unwritten and spells one sound with several letters (س ص ث, ز ذ ض ظ). Both are folded to one
# *skeleton*: "_", the consonants in Devanagari (aspirates kept: Urdu writes them, چوری "chori" is not
# چھری "chhuri"), ा for a long a (alif), अ for a word-initial vowel, other vowels and the semivowels y/v
# dropped (Urdu writes و ی where Hindi has a short u, i), a vowel after a vowel marked (ؤ ئ, ओ ए):
# بچاؤ and बचाओ both read "_बचाओ", پولیس and पुलिस "_पलस", اغوا and अगवा "_अगा".
# Urdu words are read only in this form; Devanagari lexicon entries are indexed in it too.
# Place names meet in a coarser form (``coarse_skeleton``: no vowels, no aspiration, dental = retroflex)
# that romanised names reach as well ("Hazratganj", हजरतगंज, حضرت گنج: "_हजरतगनज").
# A table of our own: the libraries that read Urdu (aksharamukha) take milliseconds a tweet, pull in dozens
# of packages and leave letters unconverted; indic-transliteration has no Urdu scheme.
_SKELETON_MARK = "_"
_LONG_A = "ा"
_INITIAL_VOWEL = "अ"
_DEVANAGARI_VOWELS = "अआइईउऊऋऌऍऎएऐऑऒओऔॠॡ"
_DEVANAGARI_SKELETON = str.maketrans(
    {
        **dict.fromkeys("अऋऌऍऑॠॡिीुूृॄॅॆेैॉॊोौॢॣॕॖॗःऽॐयव\u094d\u093c", None),
        # a vowel written as a letter after another vowel (Urdu: ؤ ئ) keeps a mark: बचाओ is not बच्चा
        "आ": _LONG_A,
        **dict.fromkeys("इईएऐऎ", "ए"),
        **dict.fromkeys("उऊओऔऒ", "ओ"),
        "ं": "न",
        "ँ": "न",
        "ण": "न",
        "ञ": "न",
        "ङ": "न",
        "ऩ": "न",
        "ष": "श",
        "ळ": "ल",
        "ऴ": "ल",
        "ऱ": "र",
    }
)
_URDU_ASPIRATES = re.compile("([کگچجٹتڈدپبڑ])\u06be")
_URDU_ASPIRATED = dict(zip("کگچجٹتڈدپبڑ", "खघछझठथढधफभढ", strict=True))
_URDU_INITIAL_VOWELS = frozenset("اآأإٱع")
_URDU_FINAL_VOWEL_H = frozenset("ہۂهة")
_URDU_SKELETON = str.maketrans(
    {
        **dict.fromkeys("عءویےيىٰھ\u0654\u0655", None),  # ain, hamza, waw/yeh as vowels, aspiration alone
        "ؤ": "ओ",
        "ئ": "ए",
        "ۓ": "ए",
        **dict.fromkeys([chr(c) for c in range(0x064B, 0x0654)], None),  # harakat: zabar, zer, pesh, shadda …
        **{chr(0x06F0 + d): str(d) for d in range(10)},
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **dict.fromkeys("اآأإٱ", _LONG_A),
        **dict(zip("بپتٹطثسصجزذضظژچحہۂهةخکكقدڈڑرشغگفلمنں", "बपतटतसससजजजजजजचहहहहहखकककदडडरशगगफलमनन", strict=True)),
    }
)
_LATIN_SOUNDS = re.compile(r"kh|gh|ch|jh|th|dh|ph|bh|sh|[a-z]")
_LATIN_CONSONANTS = {
    **dict(zip("kcqgjztdnpfbmrlsh", "कककगजजतदनपपबमरलसह", strict=True)),
    **dict.fromkeys("aeiouyvw", ""),
    "x": "कस",
    "kh": "क",
    "gh": "ग",
    "ch": "च",
    "jh": "ज",
    "th": "त",
    "dh": "द",
    "ph": "प",
    "bh": "ब",
    "sh": "श",
}
_COARSE = str.maketrans(
    {
        **dict.fromkeys([_LONG_A, _INITIAL_VOWEL, "ए", "ओ"], None),
        **dict(zip("खघछझठटथढडधफभ", "कगचजतततदददपब", strict=True)),
    }
)
_REPEATED = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def consonant_skeleton(word: str) -> str:
    """The script-independent form of a Devanagari or Urdu word ("_बचा"); "" when nothing is left; digits
    written in Urdu come back as ASCII digits."""
    if not word or word.isascii():
        return ""
    first = word[0]
    if "\u0600" <= first <= "\u06ff":
        initial = _INITIAL_VOWEL if first in _URDU_INITIAL_VOWELS else ""
        body = word[1:] if initial else word
        if "\u06be" in body:
            body = _URDU_ASPIRATES.sub(lambda m: _URDU_ASPIRATED[m.group(1)], body)
        folded = initial + body.translate(_URDU_SKELETON)
        if folded[-1:] == "ह" and word[-1] in _URDU_FINAL_VOWEL_H:
            folded = folded[:-1]  # a final gol he is a vowel: آگرہ "Agra", کہ "ki"
    else:
        initial = _INITIAL_VOWEL if first in _DEVANAGARI_VOWELS else ""
        folded = initial + (word[1:] if initial else word).translate(_DEVANAGARI_SKELETON)
    if not folded or folded.isascii():
        return folded  # only vowels; or a number
    return _SKELETON_MARK + _REPEATED.sub(r"\1", folded)


@lru_cache(maxsize=65536)
def coarse_skeleton(word: str) -> str:
    """The form place names meet in: a skeleton ("_लखनऊ" → "_लकन") without vowels, aspiration or retroflexes,
    also from a romanised word ("lucknow" → "_लकन")."""
    if word[:1] == _SKELETON_MARK:
        folded = word[1:].translate(_COARSE)
    elif word.isascii():
        if not word.isalpha():
            return ""
        folded = "".join(_LATIN_CONSONANTS.get(s, "") for s in _LATIN_SOUNDS.findall(word))
    else:
        folded = consonant_skeleton(word)[1:].translate(_COARSE)
    return _SKELETON_MARK + _REPEATED.sub(r"\1", folded) if folded and not folded.isascii() else ""


def is_urdu(word: str) -> bool:
    return "\u0600" <= word[0] <= "\u06ff"


@lru_cache(maxsize=65536)
def _normal(word: str) -> str:
    """A token as the lexicon and gazetteer see it: shorthand spelled out, one skeleton spelling, Urdu as its
    consonant skeleton; "" for an @mention."""
    if word[0] == "@":
        return ""
    if "\u0600" <= word[0] <= "\u06ff":
        return consonant_skeleton(word)
    return skeleton(_SHORTHAND.get(word, word))


def tokens(text: str, *, drop_mentions: bool = True) -> list[str]:
    if "http" in text or "www." in text or "WWW." in text or "HTTP" in text:
        text = _URL.sub(" ", text)
    folded = fold(text)
    if drop_mentions and "@" in folded:
        found = (_LATIN_TOKEN_OR_MENTION if folded.isascii() else _TOKEN_OR_MENTION).findall(folded)
        return [n for w in found if (n := _normal(w))]
    if folded.isascii():
        return list(map(_normal, _LATIN_TOKEN.findall(folded)))
    return [n for w in _TOKEN.findall(folded) if (n := _normal(w))]


_DEVANAGARI = re.compile(r"[\u0900-\u097f]")


def has_devanagari(text: str) -> bool:
    return _DEVANAGARI.search(text) is not None


_URDU = re.compile(r"[\u0620-\u064a\u066e-\u06d3]")


def has_urdu(text: str) -> bool:
    return _URDU.search(text) is not None


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from snowballstemmer.english_stemmer import EnglishStemmer  # only the English stemmer: small import

    return EnglishStemmer()


# Words whose stem would merge two meanings: "firing" (shots) must not match "fire" (flames)
_UNSTEMMED = frozenset({"firing", "fired"})
_ENGLISH_ENDINGS = (
    "s",
    "ed",
    "ing",
    "ly",
    "er",
    "ied",
    "ion",
    "ment",
    "ness",
    "ful",
    "able",
    "ive",
    "ous",
    "ity",
    "ize",
    "ise",
    "al",
    "ent",
    "ence",
    "ance",
    "ant",
    "ate",
    "est",
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """English (Snowball) stem of a Latin word, so 'fired', 'firing', 'fires' all match 'fire'."""
    if len(word) < 4 or not word.isascii() or not word.isalpha() or word in _UNSTEMMED:
        return word
    if not word.endswith(_ENGLISH_ENDINGS):
        return word  # romanised Hindi ("akeli", "mahine") must not lose endings an English stemmer strips
    return _stemmer().stemWord(word)


def leading_parts(keys: Iterable[str]) -> frozenset[str]:
    """Every proper leading part of the multi-word keys ("gomti" of "gomti nagar"): a scan grows an n-gram only
    while it can still become a key."""
    parts: set[str] = set()
    for key in keys:
        words = key.split(" ")
        parts.update(" ".join(words[:n]) for n in range(1, len(words)))
    return frozenset(parts)


def stems(words: list[str]) -> list[str]:
    return list(map(stem, words))

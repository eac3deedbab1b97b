"""A post's length as X counts it: twitter-text v3 weighting (``seva/data/tweet_weighting.json``). Pure.

Text is NFC-normalised; a URL counts 23 whatever its length; an emoji sequence (keycap, flag, tag sequence,
modifier, ZWJ sequence: UTS #51's grammar) counts as one character of the default weight; any other code point
weighs what its range says (U+0000–U+10FF, Devanagari included, 1; CJK and astral code points 2).

Written here rather than taken from ``twitter-text-parser`` (the one Python port): it imports ``pkg_resources``
(setuptools in the Lambda artefact, ~0.2 s on the reply path) and we need only the weighted length. Checked
against twitter-text's conformance suite (``tests/unit/test_tweetlength.py``). Where this differs from X it
counts more, never less, except for emoji: a bare domain counts as a link whenever its last label looks like a
TLD (X counts only TLDs on its list: ``file.txt`` is 8 on X, 23 here); a ZWJ sequence counts as one emoji even
when it is not a recommended (RGI) sequence (X counts those by their parts). Seva's replies carry neither.
"""

from __future__ import annotations

import json
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "tweet_weighting.json"
INVALID = frozenset("\ufffe\ufeff\uffff")

# A URL: an optional http(s) scheme, dotted labels, an optional port, path and query. Labels are runs of anything
# but ASCII punctuation, spaces, general punctuation and variation selectors ("-" and "_" inside a label).
_EXCLUDED = r"\s\u00a0-\u00bf\u2000-\u206f\u3000-\u303f\ufe00-\ufe0f\ufeff\ufff0-\uffff"
_CH = rf"[^{_EXCLUDED}!-/:-@\[-`{{-~]"
_INNER = rf"[^{_EXCLUDED}!-,./:-@\[-^`{{-~]"
_LABEL = rf"{_CH}(?:{_INNER}*{_CH})?"
_URL = re.compile(
    r"(?:(?<![A-Za-z0-9@＠$#＃])(?P<scheme>https?://)|(?<![A-Za-z0-9@＠$#＃\-_./]))"
    rf"(?P<host>{_LABEL}(?:\.{_LABEL})+)"
    r"(?P<tail>(?::[0-9]+)?(?:/[A-Za-z0-9\u00c0-\u024f\u0400-\u04ff!*';:=+,.$/%#\[\]\-\u2013_~@|&()]*)?"
    r"(?:\?[A-Za-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*)?)",
    re.IGNORECASE,
)
_ASCII_LABEL = re.compile(r"[A-Za-z0-9\u00c0-\u024f](?:[A-Za-z0-9\u00c0-\u024f\-_]*[A-Za-z0-9\u00c0-\u024f])?")
_ENDING = re.compile(r"[A-Za-z0-9\u00c0-\u024f\u0400-\u04ff=_#/+&\-]")


@dataclass(frozen=True)
class Config:
    max_weighted_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    emoji_parsing: bool
    range_starts: tuple[int, ...]
    range_ends: tuple[int, ...]
    range_weights: tuple[int, ...]
    pictographic: str  # regex character classes
    modifier_base: str


@dataclass(frozen=True)
class TweetLength:
    weighted_length: int
    valid: bool  # 1..max weighted characters and no invalid character (U+FFFE, U+FEFF, U+FFFF)
    permillage: int  # of the maximum


def _char_class(ranges: list[str]) -> str:
    parts = []
    for item in ranges:
        first, _, last = item.partition("-")
        parts.append(f"\\U{int(first, 16):08x}" + (f"-\\U{int(last, 16):08x}" if last else ""))
    return "[" + "".join(parts) + "]"


@cache
def load_config(path: str | None = None) -> Config:
    doc = json.loads(Path(path or DATA).read_text(encoding="utf-8"))
    ranges = sorted(doc["ranges"], key=lambda r: r["start"])
    return Config(
        max_weighted_length=doc["max_weighted_length"],
        scale=doc["scale"],
        default_weight=doc["default_weight"],
        transformed_url_length=doc["transformed_url_length"],
        emoji_parsing=doc["emoji_parsing"],
        range_starts=tuple(r["start"] for r in ranges),
        range_ends=tuple(r["end"] for r in ranges),
        range_weights=tuple(r["weight"] for r in ranges),
        pictographic=_char_class(doc["extended_pictographic"]),
        modifier_base=_char_class(doc["emoji_modifier_base"]),
    )


@cache
def _emoji(config: Config) -> re.Pattern[str]:
    element = rf"(?:{config.modifier_base}[\U0001f3fb-\U0001f3ff]|{config.pictographic}\ufe0f?)"
    return re.compile(
        r"\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"  # tag sequence (subdivision flags)
        r"|[0-9#*]\ufe0f?\u20e3"  # keycap
        r"|[\U0001f1e6-\U0001f1ff]{2}"  # flag: a pair of regional indicators
        rf"|{element}(?:\u200d{element})*"
    )


def _url_end(match: re.Match[str]) -> int | None:
    """Where a URL candidate ends, or None when X would not count it as a URL."""
    host = match["host"]
    labels = host.split(".")
    tld = labels[-1]
    if any(c.isdigit() for c in tld) or (tld.isascii() and len(tld) < 2):
        return None
    for label in labels:
        encoded = label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        if len(encoded) > 63:
            return None
    if not match["scheme"] and not all(_ASCII_LABEL.fullmatch(label) for label in labels[:-1]):
        return None  # without a scheme, X links only ASCII (and Latin) domains
    tail = match["tail"]
    while tail and not _ENDING.match(tail[-1]):
        if tail[-1] == ")" and tail.count("(") >= tail.count(")"):
            break
        tail = tail[:-1]
    return match.start("host") + len(host) + len(tail)


def parse(text: str, config: Config | None = None) -> TweetLength:
    """twitter-text's ``parseTweet``: the weighted length, whether X accepts it and how full it is (‰)."""
    config = config or load_config()
    text = unicodedata.normalize("NFC", text)
    entities: dict[int, tuple[int, int]] = {}  # start → (end, weight)
    for match in _URL.finditer(text):
        end = _url_end(match)
        if end is not None:
            entities[match.start()] = (end, config.transformed_url_length * config.scale)
    if config.emoji_parsing:
        for match in _emoji(config).finditer(text):
            entities.setdefault(match.start(), (match.end(), config.default_weight))
    total, i = 0, 0
    while i < len(text):
        if i in entities:
            i, weight = entities[i]
            total += weight
            continue
        code = ord(text[i])
        k = bisect_right(config.range_starts, code) - 1
        total += config.range_weights[k] if k >= 0 and code <= config.range_ends[k] else config.default_weight
        i += 1
    weighted = total // config.scale
    valid = 0 < weighted <= config.max_weighted_length and not INVALID.intersection(text)
    return TweetLength(weighted, valid, weighted * 1000 // config.max_weighted_length)


def weighted_length(text: str) -> int:
    return parse(text).weighted_length

"""SMS bodies for officers: DLT-registered templates filled with sanitised values, kept within two segments.

Pure logic. Segments follow GSM 03.38 / 3GPP TS 23.038: a GSM-7 body takes 160 septets in one segment and 153 per
part when concatenated (an extension-table character is ESC + code: two septets); anything else is UCS-2: 70 UTF-16
code units, 67 per part (a character outside the BMP is a surrogate pair: two). A part never ends between the two
septets of an escape sequence or the two units of a surrogate pair (a handset would show garbage), so a count can
exceed ``ceil(units / 153)``. Devanagari is always UCS-2. (Checked against the ``gsm0338`` codec in the tests.)
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from seva.textnorm import normalise

DATA = Path(__file__).resolve().parent / "data" / "sms_templates.json"
VAR = "{#var#}"
URL = "{#url#}"  # a link, on a domain whitelisted on the DLT portal
VAR_MAX = 30  # DLT's limit for one variable
URL_MAX = 100
MAX_SEGMENTS = 2
MIN_EXCERPT = 12

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = set("^{}\\[~]|€\f")
# A link on any top-level domain ("evil.xyz/pay", "pay-now.police-up.online"), not only a known list: an SMS
# app makes each of these tappable, under the police sender id. Honorifics written without a space
# ("Mr.Sharma", "Dr.Singh") are not links.
_URL = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+"
    r"|(?<![\w@.-])(?!(?:mr|mrs|ms|dr|sh|shri|smt|sri|st|no|vs|er|prof|rs|km)\.)(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[\w-]{1,59})\b(?:[/?#]\S*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w])\+?\d(?:[\s\-().]*\d){6,}")
_VARIABLE_MARK = re.compile(r"\{#|#\}|[{}]")  # DLT's {#var#}, {#url#}, ...: no value may carry one
_SPACE = re.compile(r"\s+")
_SLOT = re.compile(r"\{#var#\}|\{#url#\}")


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text)


def parts(text: str) -> list[str]:
    """The body as the parts an SMS centre sends: one segment when it fits (160 septets / 70 UCS-2 units), else
    parts of at most 153 septets / 67 units, each character whole in one part (an escape sequence or a surrogate
    pair is never split)."""
    if is_gsm7(text):
        single, size = 160, 153
        costs = [2 if ch in _GSM_EXTENSION else 1 for ch in text]
    else:
        single, size = 70, 67
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    if sum(costs) <= single:
        return [text]
    out: list[str] = []
    start = used = 0
    for i, cost in enumerate(costs):
        if used + cost > size:
            out.append(text[start:i])
            start, used = i, 0
        used += cost
    out.append(text[start:])
    return out


def segments(text: str) -> int:
    return len(parts(text))


def sanitise(text: str) -> str:
    """Citizen text made safe to forward: folded first (NFKC, no zero-width or format characters, so a number
    or a link cannot hide behind them), then no links, email addresses, phone numbers, control characters or
    DLT variable marks."""
    text = normalise(text)
    text = _EMAIL.sub("[email]", text)
    text = _URL.sub("[link]", text)
    text = _PHONE.sub("[number]", text)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    text = _VARIABLE_MARK.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Template:
    key: str
    dlt_template_id: str
    language: str
    text: str

    @property
    def slots(self) -> list[str]:
        """The template's variables in order: VAR or URL."""
        return _SLOT.findall(self.text)

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = [re.escape(p) for p in _SLOT.split(self.text)]
        groups = [f"(.{{0,{VAR_MAX}}}?)" if slot == VAR else f"(https?://\\S{{1,{URL_MAX}}}?)" for slot in self.slots]
        body = parts[0] + "".join(g + p for g, p in zip(groups, parts[1:], strict=True))
        return re.compile("^" + body + "$", re.DOTALL)

    def fill(self, values: list[str]) -> str:
        """The template with each slot filled once, in order. A value is never scanned again (a value that
        held "{#var#}" would otherwise receive the next value), and carries no variable mark."""
        parts, slots = _SLOT.split(self.text), self.slots
        if len(values) != len(slots):
            raise ValueError(f"{self.key}: {len(slots)} values expected, got {len(values)}")
        out = [parts[0]]
        for value, slot, after in zip(values, slots, parts[1:], strict=True):
            if slot == VAR:
                value = _VARIABLE_MARK.sub(" ", value)
                if len(value) > VAR_MAX:
                    raise ValueError(f"{self.key}: value longer than {VAR_MAX}: {value!r}")
            elif (
                not value.startswith(("https://", "http://")) or len(value) > URL_MAX or any(c.isspace() for c in value)
            ):
                raise ValueError(f"{self.key}: not a link for a URL slot: {value!r}")
            out += [value, after]
        return "".join(out)

    def matches(self, body: str) -> bool:
        return self.pattern.match(body) is not None


@dataclass(frozen=True)
class Registry:
    entity_id: str
    sender_id: str
    templates: dict[str, Template]
    category_names: dict[str, dict[str, str]]

    def category_name(self, category: str, language: str) -> str:
        names = self.category_names.get(category, {})
        return names.get(language) or names.get("en") or category.replace("_", " ")

    def template(self, kind: str, language: str) -> Template:
        return self.templates.get(f"{kind}_{language}") or self.templates[f"{kind}_en"]


@cache
def load_templates(path: str | None = None) -> Registry:
    doc = json.loads(Path(path or DATA).read_text(encoding="utf-8"))
    templates = {k: Template(k, v["dlt_template_id"], v["language"], v["text"]) for k, v in doc["templates"].items()}
    return Registry(doc["entity_id"], doc["sender_id"], templates, doc.get("category_names", {}))


def clip(value: str, limit: int) -> str:
    value = value.strip()
    if len(value) <= limit:
        return value
    return value[: max(0, limit - 3)].rstrip() + "..."


def _value(value: str, limit: int | None) -> str:
    """A template value: whole (a link: ``limit`` None), else clipped to ``limit`` characters ("-" at 0)."""
    if limit is None:
        return value
    return clip(value, limit) if limit > 0 else "-"


def _fit(
    template: Template,
    values: list[str],
    excerpt_at: int,
    excerpt: str,
    excerpt_slots: int = 1,
    shrink: tuple[int, ...] = (),
    link_at: int | None = None,
) -> str:
    """Fill ``template``, the excerpt (sanitised, over ``excerpt_slots`` consecutive slots) as long as two
    segments allow. When even no excerpt does not fit (long place names in a UCS-2 body), the ``shrink`` values
    (indexes into ``values``, in that order: names, never the reference, priority, deadline or link) are cut, down
    to "-". Only a link too long for the template (``LinkBaseUrl``: see docs/deploy.md) can still exceed two."""
    text = sanitise(excerpt)
    limit = VAR_MAX * excerpt_slots
    cuts: dict[int, int | None] = {**dict.fromkeys(shrink, VAR_MAX), **({link_at: None} if link_at is not None else {})}
    while True:
        # a stub of a few characters ("मे...") tells the officer nothing: below a dozen, none
        clipped = clip(text, limit) if limit >= MIN_EXCERPT or len(text) <= limit else ""
        chunks = [clipped[i : i + VAR_MAX] for i in range(0, VAR_MAX * excerpt_slots, VAR_MAX)]
        filled = [_value(v, cuts.get(i, VAR_MAX)) for i, v in enumerate(values)]
        filled[excerpt_at:excerpt_at] = chunks
        body = template.fill(filled)
        if segments(body) <= MAX_SEGMENTS:
            return body
        if limit > 0:
            limit -= 5
            continue
        for i in shrink:
            cut = cuts[i] or 0
            if cut and values[i].strip() not in ("", "-"):
                length = min(cut, len(values[i].strip()))
                cuts[i] = length - 3 if length - 3 >= 4 else 0  # "सेक्टर 18 अट्टा..." ... then "-"
                break
        else:
            return body


def followup_sms(
    template: Template, *, reference: str, priority: str, changes: str, excerpt: str, tweet_id: str
) -> str:
    """The follow-up template: what changed, and the citizen's new words."""
    return _fit(template, [reference, priority, changes, tweet_id], 3, excerpt, shrink=(2,))


def escalation_sms(
    template: Template, *, reference: str, priority: str, district: str, stage: str, deadline: str, link: str
) -> str:
    """The escalation template: which complaint is overdue, for what, since when, and the officer's link."""
    if template.language == "hi":
        return template.fill([clip(reference, VAR_MAX), priority, clip(district, VAR_MAX), deadline, stage, link])
    return template.fill([clip(reference, VAR_MAX), priority, clip(district, VAR_MAX), stage, deadline, link])


def reopened_sms(template: Template, *, reference: str, priority: str, deadline: str, link: str) -> str:
    return template.fill([clip(reference, VAR_MAX), priority, deadline, link])


def complaint_sms(
    template: Template,
    *,
    reference: str,
    priority: str,
    category: str,
    district: str,
    locality: str,
    deadline: str,
    excerpt: str,
    link: str,
) -> str:
    """The complaint template: what an officer needs to act (reference, priority, category, district and
    locality, the deadline), as much of the citizen's words as two segments allow, and the action link."""
    fixed = [reference, priority, category, district, locality or "-", deadline]
    excerpt_slots = len(template.slots) - len(fixed) - 1
    # when even no excerpt fits: the locality first, then the category and district names
    return _fit(template, [*fixed, link], len(fixed), excerpt, excerpt_slots, shrink=(4, 2, 3), link_at=len(fixed))

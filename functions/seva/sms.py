"""SMS bodies for officers: DLT-registered templates filled with sanitised values, kept within two segments.

Pure logic. Segments follow GSM 03.38: GSM-7 bodies take 160 characters in one segment and 153 per part when
concatenated (extension characters count twice); anything else is UCS-2: 70 UTF-16 units, 67 per part.
Devanagari is always UCS-2.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "sms_templates.json"
VAR = "{#var#}"
VAR_MAX = 30  # DLT's limit for one variable
MAX_SEGMENTS = 2

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = set("^{}\\[~]|€\f")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|in|ly|co|org|net|me|io|gl)(?:/\S*)?\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w])\+?\d(?:[\s\-().]*\d){6,}")
_SPACE = re.compile(r"\s+")


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text)


def segments(text: str) -> int:
    if is_gsm7(text):
        length = sum(2 if ch in _GSM_EXTENSION else 1 for ch in text)
        return 1 if length <= 160 else math.ceil(length / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def sanitise(text: str) -> str:
    """Citizen text made safe to forward: no control characters, links or phone numbers."""
    text = _URL.sub("[link]", text)
    text = _PHONE.sub("[number]", text)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Template:
    key: str
    dlt_template_id: str
    language: str
    text: str

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = [re.escape(p) for p in self.text.split(VAR)]
        return re.compile("^" + f"(.{{0,{VAR_MAX}}}?)".join(parts) + "$", re.DOTALL)

    def fill(self, values: list[str]) -> str:
        if len(values) != self.text.count(VAR):
            raise ValueError(f"{self.key}: {self.text.count(VAR)} values expected, got {len(values)}")
        out = self.text
        for value in values:
            if len(value) > VAR_MAX:
                raise ValueError(f"{self.key}: value longer than {VAR_MAX}: {value!r}")
            out = out.replace(VAR, value, 1)
        return out

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


def complaint_sms(
    template: Template, *, reference: str, priority: str, category: str, district: str, excerpt: str, tweet_id: str
) -> str:
    """Fill the complaint template; shorten the excerpt until the body fits in two segments."""
    limit = VAR_MAX
    while True:
        values = [reference, priority, category, district, clip(sanitise(excerpt), limit), tweet_id]
        body = template.fill([clip(v, VAR_MAX) for v in values])
        if segments(body) <= MAX_SEGMENTS or limit <= 0:
            return body
        limit -= 5

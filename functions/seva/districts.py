"""The districts Seva routes to: LGD code, English and Hindi names, the abbreviation in reference numbers.

Read from the gazetteer's district entries (``seva/data/gazetteer.json``) without loading triage: notify,
reply and the API need names, not the place-name index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "gazetteer.json"
HQ = "HQ"  # the state cell's queue: complaints whose district is unknown


@dataclass(frozen=True, slots=True)
class District:
    code: int
    name: str
    hindi: str
    abbr: str


@dataclass(frozen=True)
class Districts:
    by_code: dict[int, District]

    def get(self, code: int | None) -> District | None:
        return self.by_code.get(code) if code is not None else None

    def name(self, code: int | None, language: str = "en") -> str | None:
        district = self.get(code)
        if district is None:
            return None
        return district.hindi if language == "hi" else district.name

    def abbreviation(self, code: int | None) -> str:
        """For reference numbers: UP-LKO-…; HQ when the district is unknown."""
        district = self.get(code)
        return district.abbr if district else HQ


@cache
def load_districts(path: str | None = None) -> Districts:
    document = json.loads(Path(path or DATA).read_text(encoding="utf-8"))
    return Districts(
        {
            int(d["code"]): District(int(d["code"]), d["name"], (d.get("hi") or [d["name"]])[0], d["abbr"])
            for d in document["districts"]
        }
    )

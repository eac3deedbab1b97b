"""The handle registry: which X accounts belong to the police and where they route.

Data, not code: ``seva/data/handles.json`` (``infra/data`` in the repository). Adding a handle is an edit of
that file; the poller re-packs its queries and carries its cursors over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEFAULT_REGISTRY = Path(__file__).parent / "data" / "handles.json"


@dataclass(frozen=True, slots=True)
class Handle:
    username: str
    name: str
    kind: str  # state | district | commissionerate | zone | range | unit
    district_code: int | None = None
    district: str | None = None


@dataclass(frozen=True)
class HandleRegistry:
    handles: tuple[Handle, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for handle in self.handles:
            key = handle.username.lower()
            if key in seen:
                raise ValueError(f"handle registered twice: @{handle.username}")
            seen.add(key)

    @property
    def usernames(self) -> list[str]:
        return [h.username for h in self.handles]

    def get(self, username: str | None) -> Handle | None:
        if not username:
            return None
        return self._by_lower().get(username.lower())

    def is_registered(self, username: str | None) -> bool:
        return self.get(username) is not None

    def _by_lower(self) -> dict[str, Handle]:
        cached: dict[str, Handle] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {h.username.lower(): h for h in self.handles}
            object.__setattr__(self, "_index", cached)
        return cached


def parse_registry(document: dict) -> HandleRegistry:
    handles = []
    for raw in document.get("handles", []):
        username = str(raw["username"]).lstrip("@")
        if not username or len(username) > 15 or not username.replace("_", "").isalnum():
            raise ValueError(f"not an X username: {raw['username']!r}")
        handles.append(
            Handle(
                username=username,
                name=str(raw.get("name") or username),
                kind=str(raw.get("kind") or "district"),
                district_code=int(raw["district_code"]) if raw.get("district_code") is not None else None,
                district=raw.get("district"),
            )
        )
    return HandleRegistry(tuple(handles))


@cache
def load_registry(path: str | None = None) -> HandleRegistry:
    """Load (and cache per warm container) the registry file."""
    with open(path or DEFAULT_REGISTRY, encoding="utf-8") as fh:
        return parse_registry(json.load(fh))

"""Pack registered handles into as few X recent-search queries as the query length allows.

A query is ``(@a OR @b OR …) -is:retweet``. Packing is deterministic for a given registry, and each query is
keyed by its handle set, so cursors survive unrelated registry edits only where the packing is unchanged;
``polling.derive_cursor`` carries positions over where it is not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SUFFIX = " -is:retweet"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    handles: tuple[str, ...]  # lower-case usernames, sorted

    @property
    def text(self) -> str:
        return render(self.handles)

    @property
    def key(self) -> str:
        digest = hashlib.sha256(",".join(self.handles).encode()).hexdigest()[:16]
        return f"q-{digest}"


def render(handles: tuple[str, ...] | list[str]) -> str:
    inner = " OR ".join(f"@{h}" for h in handles)
    return f"({inner}){SUFFIX}" if len(handles) > 1 else f"{inner}{SUFFIX}"


def pack_queries(usernames: list[str], max_length: int = 512) -> list[SearchQuery]:
    """First-fit decreasing bin packing of handles into queries of at most ``max_length`` characters."""
    names = sorted({u.lower().lstrip("@") for u in usernames})
    names.sort(key=lambda u: (-len(u), u))
    bins: list[list[str]] = []
    lengths: list[int] = []
    base = len("()") + len(SUFFIX)
    for name in names:
        cost = len(name) + 1  # "@name"
        if base + cost > max_length:
            raise ValueError(f"handle too long for a query: @{name}")
        for i, used in enumerate(lengths):
            if used + len(" OR ") + cost <= max_length:
                bins[i].append(name)
                lengths[i] = used + len(" OR ") + cost
                break
        else:
            bins.append([name])
            lengths.append(base + cost)
    queries = [SearchQuery(tuple(sorted(b))) for b in bins]
    for q in queries:
        assert len(q.text) <= max_length, q.text
    return sorted(queries, key=lambda q: q.handles)

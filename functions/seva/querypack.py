"""Pack registered handles into as few X recent-search queries as the query length allows.

A mention query is ``(@a OR @b OR …) -is:retweet``: citizens writing to the police. A response query is
``(from:a OR from:b OR …) is:reply``: the police answering in a thread by hand (a first response to a
complaint, measured like a link's acknowledgement). Packing is deterministic for a given registry, and each query is
keyed by its handle set, so cursors survive unrelated registry edits only where the packing is unchanged;
``polling.derive_cursor`` carries positions over where it is not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MENTIONS, RESPONSES = "mentions", "responses"
_FORM = {MENTIONS: ("@", " -is:retweet"), RESPONSES: ("from:", " is:reply")}
SUFFIX = _FORM[MENTIONS][1]


@dataclass(frozen=True, slots=True)
class SearchQuery:
    handles: tuple[str, ...]  # lower-case usernames, sorted
    kind: str = MENTIONS

    @property
    def text(self) -> str:
        return render(self.handles, self.kind)

    @property
    def key(self) -> str:
        digest = hashlib.sha256(",".join(self.handles).encode()).hexdigest()[:16]
        return f"q-{digest}" if self.kind == MENTIONS else f"r-{digest}"


def render(handles: tuple[str, ...] | list[str], kind: str = MENTIONS) -> str:
    prefix, suffix = _FORM[kind]
    inner = " OR ".join(f"{prefix}{h}" for h in handles)
    return f"({inner}){suffix}" if len(handles) > 1 else f"{inner}{suffix}"


def pack_queries(usernames: list[str], max_length: int = 512, kind: str = MENTIONS) -> list[SearchQuery]:
    """First-fit decreasing bin packing of handles into queries of at most ``max_length`` characters."""
    names = sorted({u.lower().lstrip("@") for u in usernames})
    names.sort(key=lambda u: (-len(u), u))
    bins: list[list[str]] = []
    lengths: list[int] = []
    prefix, suffix = _FORM[kind]
    base = len("()") + len(suffix)
    for name in names:
        cost = len(name) + len(prefix)
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
    queries = [SearchQuery(tuple(sorted(b)), kind) for b in bins]
    for q in queries:
        assert len(q.text) <= max_length, q.text
    return sorted(queries, key=lambda q: q.handles)

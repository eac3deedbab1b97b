"""Demo scenarios: JSON Lines, one published tweet per line:
``{"at": <seconds from start>, "tweet": <X v2 Tweet>, "author": <X v2 User>, "place": <X v2 Place, optional>}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sevalocal.fakex import is_retweet, mentions_of

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "default.jsonl"


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class ScenarioTweet:
    at: float
    tweet: dict[str, Any]
    author: dict[str, Any]
    place: dict[str, Any] | None = None
    indexed_after: float | None = None  # X seconds until recent search finds it (default: the fake X's lag)

    @property
    def id(self) -> str:
        return str(self.tweet["id"])


def _lines(fh: Any, path: str | Path) -> Any:
    try:
        yield from fh
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not UTF-8 text") from None


def load_scenario(path: str | Path) -> list[ScenarioTweet]:
    items: list[ScenarioTweet] = []
    seen: set[str] = set()
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 (closed below; open errors named as the scenario's)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it ({type(exc).__name__})") from None
    with fh:
        for lineno, line in enumerate(_lines(fh, path), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                at = float(raw["at"])
                tweet, author = dict(raw["tweet"]), dict(raw["author"])
                tweet_id = str(tweet["id"])
                if not tweet_id.isdigit():
                    raise ValueError(f"tweet id must be numeric, got {tweet_id!r}")
                for key in ("id", "username", "name"):
                    if not author.get(key):
                        raise ValueError(f"author.{key} is required")
                if "text" not in tweet:
                    raise ValueError("tweet.text is required")
            except json.JSONDecodeError as exc:
                raise ScenarioError(f"{path}:{lineno}: not JSON ({exc})") from None
            except KeyError as exc:
                raise ScenarioError(f"{path}:{lineno}: {exc} is required") from None
            except (ValueError, TypeError) as exc:
                raise ScenarioError(f"{path}:{lineno}: {exc}") from None
            if at < 0:
                raise ScenarioError(f"{path}:{lineno}: 'at' must be >= 0")
            if tweet_id in seen:
                raise ScenarioError(f"{path}:{lineno}: tweet {tweet_id} published twice")
            seen.add(tweet_id)
            tweet["id"], author["id"] = tweet_id, str(author["id"])
            tweet.setdefault("author_id", author["id"])
            indexed_after = raw.get("indexed_after")
            items.append(
                ScenarioTweet(at, tweet, author, raw.get("place"), float(indexed_after) if indexed_after else None)
            )
    items.sort(key=lambda s: (s.at, int(s.id)))
    return items


def matching_ids(items: list[ScenarioTweet], registered: set[str]) -> set[str]:
    """Ground truth: tweets the poller must ingest (mention a registered handle in any letter case, not a
    retweet, not authored by a registered handle)."""
    lower = {u.lower() for u in registered}
    return {
        s.id
        for s in items
        if not is_retweet(s.tweet)
        and s.author["username"].lower() not in lower
        and any(m in lower for m in mentions_of(s.tweet))
    }


def check_authors(items: list[ScenarioTweet], handle_ids: dict[str, str], path: str | Path = "scenario") -> None:
    """A scenario author must not take a registered handle's X user id under another username (nor a handle's
    username under another id): X ids are unique, and the poller tells the police's own posts by them."""
    by_id = {user_id: username.lower() for username, user_id in handle_ids.items()}
    by_name = {username.lower(): user_id for username, user_id in handle_ids.items()}
    for item in items:
        author_id, username = str(item.author["id"]), str(item.author["username"]).lower()
        if author_id in by_id and by_id[author_id] != username:
            raise ScenarioError(
                f"{path}: tweet {item.id}: author id {author_id} (@{item.author['username']}) is the user id of the "
                f"registered handle @{by_id[author_id]}: give the author another id"
            )
        if username in by_name and by_name[username] != author_id:
            raise ScenarioError(
                f"{path}: tweet {item.id}: author @{item.author['username']} is a registered handle, whose user id "
                f"is {by_name[username]}, not {author_id}"
            )

"""Pure helpers over X API v2 payloads (Tweet, User, Place objects as the API returns them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TWEET_FIELDS = [
    "created_at",
    "author_id",
    "lang",
    "entities",
    "conversation_id",
    "referenced_tweets",
    "in_reply_to_user_id",
    "geo",
]
EXPANSIONS = ["author_id", "geo.place_id", "referenced_tweets.id", "in_reply_to_user_id"]
USER_FIELDS = ["username", "name", "location"]
PLACE_FIELDS = ["full_name", "name", "country_code", "place_type", "geo"]


@dataclass(slots=True)
class TweetEnvelope:
    """A tweet with its expanded author and place, as stored and as the demo scenario writes it."""

    tweet: dict[str, Any]
    author: dict[str, Any] | None = None
    place: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return str(self.tweet["id"])

    @property
    def author_username(self) -> str | None:
        return (self.author or {}).get("username")


@dataclass(slots=True)
class SearchPage:
    envelopes: list[TweetEnvelope]
    newest_id: int | None
    oldest_id: int | None
    next_token: str | None
    rate_limit_remaining: int | None = None
    rate_limit_reset: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # posts in the page that were not usable (no numeric id)


class NotAPage(ValueError):
    """A 200 whose body is not a search page."""


def _id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


def page_from_response(body: Any) -> SearchPage:
    """Join ``data`` with ``includes`` (users, places) into envelopes. Posts without a usable id are skipped
    (and counted); a page's newest/oldest ids come from ``meta``, or from its posts when ``meta`` lacks them."""
    if not isinstance(body, dict) or not isinstance(body.get("meta", {}), dict):
        raise NotAPage(f"not a search page: {str(body)[:80]!r}")
    if "meta" not in body and "data" not in body:
        raise NotAPage("a search page without meta or data")
    includes: dict[str, Any] = body["includes"] if isinstance(body.get("includes"), dict) else {}
    users = {u.get("id"): u for u in includes.get("users") or [] if isinstance(u, dict)}
    places = {p.get("id"): p for p in includes.get("places") or [] if isinstance(p, dict)}
    envelopes, skipped = [], 0
    data: list[Any] = body["data"] if isinstance(body.get("data"), list) else []
    for tweet in data:
        if not isinstance(tweet, dict) or _id(tweet.get("id")) is None:
            skipped += 1
            continue
        place_id = (tweet.get("geo") or {}).get("place_id") if isinstance(tweet.get("geo"), dict) else None
        envelopes.append(TweetEnvelope(tweet, users.get(tweet.get("author_id")), places.get(place_id)))
    meta = body.get("meta") or {}
    ids = [int(e.id) for e in envelopes]
    return SearchPage(
        envelopes=envelopes,
        newest_id=_id(meta.get("newest_id")) or (max(ids) if ids else None),
        oldest_id=_id(meta.get("oldest_id")) or (min(ids) if ids else None),
        next_token=meta.get("next_token") if isinstance(meta.get("next_token"), str) else None,
        errors=list(body.get("errors") or []) if isinstance(body.get("errors"), list) else [],
        skipped=skipped,
    )


def is_retweet(tweet: dict[str, Any]) -> bool:
    return any(ref.get("type") == "retweeted" for ref in tweet.get("referenced_tweets") or [])


def replied_to(tweet: dict[str, Any]) -> str | None:
    """The post this one answers, if it is a reply."""
    for ref in tweet.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to" and ref.get("id"):
            return str(ref["id"])
    return None


def is_reply(tweet: dict[str, Any]) -> bool:
    return replied_to(tweet) is not None


def mentioned_usernames(tweet: dict[str, Any]) -> list[str]:
    mentions = (tweet.get("entities") or {}).get("mentions") or []
    return [m["username"] for m in mentions if isinstance(m, dict) and m.get("username")]


def parse_created_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None

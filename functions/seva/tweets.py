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


def page_from_response(body: dict[str, Any]) -> SearchPage:
    """Join ``data`` with ``includes`` (users, places) into envelopes."""
    includes = body.get("includes") or {}
    users = {u.get("id"): u for u in includes.get("users") or []}
    places = {p.get("id"): p for p in includes.get("places") or []}
    envelopes = []
    for tweet in body.get("data") or []:
        place_id = (tweet.get("geo") or {}).get("place_id")
        envelopes.append(TweetEnvelope(tweet, users.get(tweet.get("author_id")), places.get(place_id)))
    meta = body.get("meta") or {}
    return SearchPage(
        envelopes=envelopes,
        newest_id=int(meta["newest_id"]) if meta.get("newest_id") else None,
        oldest_id=int(meta["oldest_id"]) if meta.get("oldest_id") else None,
        next_token=meta.get("next_token"),
        errors=list(body.get("errors") or []),
    )


def is_retweet(tweet: dict[str, Any]) -> bool:
    return any(ref.get("type") == "retweeted" for ref in tweet.get("referenced_tweets") or [])


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

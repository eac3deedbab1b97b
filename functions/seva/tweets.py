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
    "edit_history_tweet_ids",  # an edited post arrives with a new id: its first id is the original's
    "note_tweet",  # a long post (> 280 characters): ``text`` is truncated, ``note_tweet.text`` is whole
]
EXPANSIONS = ["author_id", "geo.place_id", "referenced_tweets.id", "in_reply_to_user_id"]
USER_FIELDS = ["username", "location"]
STORED_USER_FIELDS = ("id", "username", "location")
"""What is kept of an author (triage reads the profile's location; nothing else of a profile is needed)."""
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
    """Mentions of the post and, for a long post, of its whole text (the truncated ``text`` may lose some)."""
    note = tweet.get("note_tweet")
    note = note if isinstance(note, dict) else {}
    names: list[str] = []
    for entities in (tweet.get("entities"), note.get("entities")):
        mentions = (entities or {}).get("mentions") if isinstance(entities, dict) else None
        if isinstance(mentions, list):
            names += [m["username"] for m in mentions if isinstance(m, dict) and isinstance(m.get("username"), str)]
    return list(dict.fromkeys(names))


def full_text(tweet: dict[str, Any]) -> str:
    """The post's whole text: a long post's ``note_tweet.text`` (its ``text`` is cut at 280 characters)."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
        return note["text"]
    text = tweet.get("text")
    return text if isinstance(text, str) else ""


def original_id(tweet: dict[str, Any]) -> str | None:
    """The first post of an edited post's chain, when this post is an edit of it (else None)."""
    history = tweet.get("edit_history_tweet_ids")
    if not isinstance(history, list) or not history:
        return None
    first = str(history[0])
    return first if first.isdigit() and first != str(tweet.get("id")) else None


def minimal_author(author: dict[str, Any] | None) -> dict[str, Any] | None:
    """The author as kept: id, username and the profile's location (no name, description or other profile)."""
    if not isinstance(author, dict):
        return None
    return {k: author[k] for k in STORED_USER_FIELDS if author.get(k) is not None}


def parse_created_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


def deleted_ids(body: Any, asked: list[str]) -> set[str]:
    """The asked posts a ``GET /2/tweets?ids=`` answer reports as not found (deleted on X since). A post withheld
    or of a protected or suspended account (an ``Authorization Error``) is not reported: it may come back."""
    if not isinstance(body, dict):
        raise NotAPage(f"not a look-up answer: {str(body)[:80]!r}")
    wanted = set(asked)
    found = {str(t.get("id")) for t in body.get("data") or [] if isinstance(t, dict)}
    gone = set()
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        post = str(error.get("resource_id") or error.get("value") or "")
        not_found = error.get("type") == NOT_FOUND or error.get("title") == "Not Found Error"
        if not_found and error.get("resource_type", "tweet") == "tweet" and post in wanted and post not in found:
            gone.add(post)
    return gone

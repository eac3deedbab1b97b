"""X API v2 through tweepy.

tweepy hard-codes ``https://api.twitter.com``; when ``X_API_BASE_URL`` is set (local cloud, or an egress
proxy) a transport adapter rewrites that prefix. Every request gets a timeout (requests has none by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

from seva.tweets import EXPANSIONS, PLACE_FIELDS, TWEET_FIELDS, USER_FIELDS, SearchPage, page_from_response

if TYPE_CHECKING:
    import tweepy

X_HOST = "https://api.twitter.com"


class _XAdapter(HTTPAdapter):
    def __init__(self, base_url: str | None, timeout: float):
        super().__init__(max_retries=0)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def send(self, request, **kwargs):  # type: ignore[override]
        if self.base_url and request.url and request.url.startswith(X_HOST):
            request.url = self.base_url + request.url[len(X_HOST) :]
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        return super().send(request, **kwargs)


def make_client(
    *, bearer_token: str | None = None, base_url: str | None = None, timeout: float = 10.0, **user_auth: str
) -> tweepy.Client:
    import tweepy  # heavy (~0.2 s): imported only by the functions that talk to X

    client = tweepy.Client(
        bearer_token=bearer_token, return_type=requests.Response, wait_on_rate_limit=False, **user_auth
    )
    client.session.mount(X_HOST, _XAdapter(base_url, timeout))
    return client


def _header_int(response: Any, name: str) -> int | None:
    value = getattr(response, "headers", {}).get(name) if response is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class XSearch:
    """Recent search with every X answer mapped to what the poll cycle does about it: 429 → RateLimited (or
    UsageCapped), 403 or a second 401 in a row → CredentialsRejected, a 400 about the cursor → CursorTooOld,
    another 400 → BadQuery, 5xx/network and a 200 that is not a page → bounded retries, then XUnavailable /
    MalformedAnswer."""

    def __init__(
        self,
        client: tweepy.Client,
        *,
        max_retries: int = 2,
        retry_base_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = client
        self.max_retries = max_retries
        self.retry_base_seconds = retry_base_seconds
        self.sleep = sleep

    def search(
        self,
        query: str,
        *,
        since_id: int | None,
        until_id: int | None,
        start_time: datetime | None,
        end_time: datetime | None = None,
        next_token: str | None,
    ) -> SearchPage:
        import tweepy

        from seva.polling import (
            BadQuery,
            CredentialsRejected,
            CursorTooOld,
            MalformedAnswer,
            RateLimited,
            UsageCapped,
            XUnavailable,
        )
        from seva.tweets import NotAPage

        params: dict[str, Any] = {
            "max_results": 100,
            "tweet_fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user_fields": USER_FIELDS,
            "place_fields": PLACE_FIELDS,
        }
        if since_id is not None:
            params["since_id"] = since_id
        elif start_time is not None:
            params["start_time"] = start_time
        if until_id is not None:
            params["until_id"] = until_id
        if end_time is not None:
            params["end_time"] = end_time
        if next_token:
            params["next_token"] = next_token
        for attempt in range(self.max_retries + 1):
            try:
                response = self.client.search_recent_tweets(query, **params)
                page = page_from_response(response.json())
            except tweepy.TooManyRequests as exc:
                if "usagecap" in _detail(exc).replace(" ", "") or "usage-capped" in _detail(exc):
                    raise UsageCapped(_detail(exc)) from exc
                raise RateLimited(_header_int(exc.response, "x-rate-limit-reset")) from exc
            except tweepy.Unauthorized as exc:
                # Tried once more at once: a token that is really wrong or revoked fails again, while one stray
                # 401 must not stop every search for the credentials pause (minutes in which an SOS goes unread)
                if attempt >= 1:
                    raise CredentialsRejected(_detail(exc)) from exc
                self.sleep(self.retry_base_seconds)
                continue
            except tweepy.Forbidden as exc:
                raise CredentialsRejected(_detail(exc)) from exc
            except tweepy.BadRequest as exc:
                cursor_words = ("since_id", "until_id", "start_time")
                if any(word in _detail(exc) or word in str(getattr(exc, "api_errors", "")) for word in cursor_words):
                    raise CursorTooOld(_detail(exc)) from exc
                raise BadQuery(_detail(exc)) from exc
            except (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.max_retries:
                    raise XUnavailable(str(exc)[:200]) from exc
                self.sleep(self.retry_base_seconds * (2**attempt))
                continue
            except (ValueError, NotAPage) as exc:  # a 200 that is not a page (truncated, not JSON)
                if attempt == self.max_retries:
                    raise MalformedAnswer(str(exc)[:200]) from exc
                self.sleep(self.retry_base_seconds * (2**attempt))
                continue
            page.rate_limit_remaining = _header_int(response, "x-rate-limit-remaining")
            page.rate_limit_reset = _header_int(response, "x-rate-limit-reset")
            return page
        raise AssertionError("unreachable")


class XLookup:
    """``GET /2/tweets?ids=`` (app auth): which of the asked posts X no longer has (deleted by their authors)."""

    BATCH = 100  # ids per request (X's limit)

    def __init__(self, client: tweepy.Client):
        self.client = client

    def deleted(self, ids: list[str]) -> set[str]:
        """Raises ``XLookupFailed`` on any error answer: a post is never taken for deleted on a failure."""
        import tweepy

        from seva.tweets import NotAPage, deleted_ids

        gone: set[str] = set()
        for start in range(0, len(ids), self.BATCH):
            batch = ids[start : start + self.BATCH]
            try:
                response = self.client.get_tweets(batch, tweet_fields=["id"], user_auth=False)
                gone |= deleted_ids(response.json(), batch)
            except (tweepy.TweepyException, requests.RequestException, ValueError, NotAPage) as exc:
                raise XLookupFailed(f"{type(exc).__name__}: {str(exc)[:160]}") from exc
        return gone


class XLookupFailed(Exception):
    """X did not answer a look-up usably (rate limit, credentials, outage, a malformed answer)."""


class XPoster:
    """Replies as the mentioned handle (OAuth 1.0a user context), and finds a reply already posted. Every X
    answer is mapped to one of ``seva.replying``'s outcomes; credentials are read through ``credentials()``
    (a cached secret with a bounded age), so a token set or rotated after the container started is used."""

    def __init__(
        self,
        *,
        credentials: Callable[[], dict[str, dict[str, str]]],
        bearer_token: Callable[[], str],
        base_url: str | None,
        timeout: float = 10.0,
    ):
        self.credentials, self.bearer_token = credentials, bearer_token
        self.base_url, self.timeout = base_url, timeout
        self._clients: dict[tuple[str, str], tweepy.Client] = {}

    def _client(self, handle: str) -> tweepy.Client:
        from seva.replying import CredentialsRejected

        creds = {k.lower(): v for k, v in self.credentials().items()}.get(handle.lower())
        if not creds or not all(creds.get(k) for k in ("consumer_key", "consumer_secret", "access_token")):
            raise CredentialsRejected(f"no credentials for @{handle}")
        key = (handle.lower(), creds["access_token"])
        if key not in self._clients:
            self._clients[key] = make_client(base_url=self.base_url, timeout=self.timeout, **creds)
        return self._clients[key]

    def post_reply(self, handle: str, text: str, in_reply_to: str) -> str:
        import tweepy

        from seva.replying import (
            BadRequest,
            CredentialsRejected,
            DuplicateContent,
            NotAllowed,
            PostRateLimited,
            PostUnavailable,
        )

        client = self._client(handle)
        try:
            response = client.create_tweet(text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True)
        except tweepy.Forbidden as exc:
            detail = _detail(exc)
            if "duplicate" in detail:
                raise DuplicateContent(detail) from exc
            if "not been mentioned" in detail or "not allowed because" in detail or "engaged" in detail:
                raise NotAllowed(detail) from exc
            raise CredentialsRejected(f"403 {detail}") from exc  # app not enrolled, account locked, ...
        except tweepy.Unauthorized as exc:
            raise CredentialsRejected(f"401 {_detail(exc)}") from exc
        except (tweepy.BadRequest, tweepy.NotFound) as exc:
            raise BadRequest(_detail(exc)) from exc
        except tweepy.TooManyRequests as exc:
            raise PostRateLimited(_header_int(exc.response, "x-rate-limit-reset")) from exc
        except (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout) as exc:
            raise PostUnavailable(str(exc)[:200]) from exc
        except tweepy.HTTPException as exc:  # any other status: not ours to decide, retry with backoff
            raise PostUnavailable(f"unexpected {getattr(exc.response, 'status_code', '?')}: {_detail(exc)}") from exc
        try:
            return str(response.json()["data"]["id"])
        except (ValueError, KeyError, TypeError) as exc:
            # Posted or not? Retrying is safe: a second copy is refused as a duplicate, and then found
            raise PostUnavailable(f"malformed answer to a post ({response.status_code})") from exc

    def find_reply(self, handle: str, reference: str, text: str) -> str | None:
        import tweepy

        client = make_client(bearer_token=self.bearer_token(), base_url=self.base_url, timeout=self.timeout)
        try:
            response = client.search_recent_tweets(f'from:{handle} "{reference}"', max_results=10)
            data = response.json().get("data") or []
        except (tweepy.TweepyException, requests.RequestException, ValueError):
            return None
        # The same text (the reference alone would also match this complaint's other answers)
        same = [t for t in data if isinstance(t, dict) and t.get("text") == text and t.get("id")]
        return str(same[0]["id"]) if same else None


def _detail(exc: Any) -> str:
    return " ".join([*getattr(exc, "api_messages", []), str(exc)]).lower()[:200]

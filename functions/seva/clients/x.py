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

from seva.polling import RateLimited, XUnavailable
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
    """Recent search with X's failure modes mapped: 429 → RateLimited, 5xx/network → bounded retries."""

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
        next_token: str | None,
    ) -> SearchPage:
        import tweepy

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
        if next_token:
            params["next_token"] = next_token
        for attempt in range(self.max_retries + 1):
            try:
                response = self.client.search_recent_tweets(query, **params)
            except tweepy.TooManyRequests as exc:
                raise RateLimited(_header_int(exc.response, "x-rate-limit-reset")) from exc
            except (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.max_retries:
                    raise XUnavailable(str(exc)) from exc
                self.sleep(self.retry_base_seconds * (2**attempt))
                continue
            page = page_from_response(response.json())
            page.rate_limit_remaining = _header_int(response, "x-rate-limit-remaining")
            page.rate_limit_reset = _header_int(response, "x-rate-limit-reset")
            return page
        raise AssertionError("unreachable")


class XPoster:
    """Replies as the mentioned handle (OAuth 1.0a user context), and finds a reply already posted."""

    def __init__(
        self, *, credentials: dict[str, dict[str, str]], bearer_token: str, base_url: str | None, timeout: float = 10.0
    ):
        self.credentials = {k.lower(): v for k, v in credentials.items()}
        self.bearer_token, self.base_url, self.timeout = bearer_token, base_url, timeout
        self._clients: dict[str, tweepy.Client] = {}

    def _client(self, handle: str) -> tweepy.Client:
        key = handle.lower()
        if key not in self._clients:
            creds = self.credentials.get(key)
            if not creds:
                from seva.replying import NotAllowed

                raise NotAllowed(f"no credentials for @{handle}")
            self._clients[key] = make_client(base_url=self.base_url, timeout=self.timeout, **creds)
        return self._clients[key]

    def post_reply(self, handle: str, text: str, in_reply_to: str) -> str:
        import tweepy

        from seva.replying import DuplicateContent, NotAllowed, PostRateLimited, PostUnavailable

        try:
            response = self._client(handle).create_tweet(text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True)
        except tweepy.Forbidden as exc:
            detail = " ".join([*getattr(exc, "api_messages", []), str(exc)]).lower()
            if "duplicate" in detail:
                raise DuplicateContent(detail[:200]) from exc
            raise NotAllowed(detail[:200]) from exc
        except tweepy.TooManyRequests as exc:
            raise PostRateLimited(_header_int(exc.response, "x-rate-limit-reset")) from exc
        except (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout) as exc:
            raise PostUnavailable(str(exc)[:200]) from exc
        return str(response.json()["data"]["id"])

    def find_reply(self, handle: str, reference: str) -> str | None:
        import tweepy

        client = make_client(bearer_token=self.bearer_token, base_url=self.base_url, timeout=self.timeout)
        try:
            response = client.search_recent_tweets(f'from:{handle} "{reference}"', max_results=10)
        except (tweepy.TweepyException, requests.RequestException):
            return None
        data = response.json().get("data") or []
        return str(data[0]["id"]) if data else None

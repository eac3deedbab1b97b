"""A fake X API v2 server, following the official OpenAPI spec for the endpoints Seva uses.

- ``GET /2/tweets/search/recent``: query operators ``@user``, ``from:``, ``to:``, ``is:retweet``,
  ``is:reply``, ``is:quote``, keywords, ``-`` negation, ``OR``, parentheses, implicit AND; ``since_id``,
  ``until_id``, ``start_time``, ``end_time``, ``max_results`` (10–100), ``next_token``; 7-day window; fields and
  expansions.
- ``GET /2/tweets?ids=``: look-up by id (1-100); a deleted (or never published) post is a ``Not Found Error`` in
  ``errors`` (how X answers for a post deleted since), the others in ``data``.
- Long posts: a text over 280 characters is published as X publishes it, ``text`` cut to 280 with an ellipsis and
  the whole text (with its mentions) in ``note_tweet``, returned when ``tweet.fields`` asks for it.
- Edits (``edit``): a new version with a new id; every version's ``edit_history_tweet_ids`` is the chain, oldest
  first. ``delete`` removes a post (search no longer finds it, look-up answers Not Found).
- ``GET /2/users/by/username/:username``.
- ``POST /2/tweets``: replies (user context), duplicate-content and not-mentioned 403s, recorded.
- Bearer / OAuth header checks, X's ``x-rate-limit-*`` headers, 429s; injected 429/503 faults.

Published tweets become visible at their publish time (wall clock), so a scenario unfolds in real time.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sevalocal.faults import FaultPlan

SEARCH = "GET /2/tweets/search/recent"
USER_BY_NAME = "GET /2/users/by/username/:username"
CREATE_TWEET = "POST /2/tweets"
LOOKUP = "GET /2/tweets"
LONG_POST = 280  # characters of a post's ``text``; a longer one carries the whole text in ``note_tweet``
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})", re.UNICODE)

# (limit, window seconds in X time)
LIMITS = {SEARCH: (450, 900), USER_BY_NAME: (300, 900), CREATE_TWEET: (100, 900), LOOKUP: (300, 900)}


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def mention_entities(text: str) -> list[dict[str, Any]]:
    """Mentions as X computes them (code-point indices, end exclusive)."""
    return [{"start": m.start(), "end": m.end(), "username": m.group(1)} for m in MENTION_RE.finditer(text)]


def mentions_of(tweet: dict[str, Any]) -> list[str]:
    """A post's mentions, a long post's whole text included (search matches the whole text)."""
    ents = (tweet.get("entities") or {}).get("mentions")
    if ents is None:
        ents = mention_entities(tweet.get("text") or "")
    note = tweet.get("note_tweet") or {}
    ents = [*ents, *((note.get("entities") or {}).get("mentions") or [])]
    return list(dict.fromkeys(m["username"].lower() for m in ents if m.get("username")))


def whole_text(tweet: dict[str, Any]) -> str:
    return str((tweet.get("note_tweet") or {}).get("text") or tweet.get("text") or "")


def is_retweet(tweet: dict[str, Any]) -> bool:
    return any(r.get("type") == "retweeted" for r in tweet.get("referenced_tweets") or [])


# --- query language -------------------------------------------------------------------------------------


class QueryError(ValueError):
    pass


_TOKEN = re.compile(r'\s*(\(|\)|"[^"]*"|-?[^\s()"]+)')


def _tokens(query: str) -> list[str]:
    pos, out = 0, []
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m:
            if query[pos:].strip():
                raise QueryError(f"cannot parse query at {pos}")
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def compile_query(query: str):  # type: ignore[no-untyped-def]
    """Compile a query into a predicate over (tweet, author_username)."""
    toks = _tokens(query)
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> str:
        nonlocal pos
        if pos >= len(toks):
            raise QueryError("unexpected end of query")
        pos += 1
        return toks[pos - 1]

    def term(tok: str):  # type: ignore[no-untyped-def]
        neg = tok.startswith("-") and len(tok) > 1
        body = tok[1:] if neg else tok
        low = body.lower()
        if low.startswith("@"):
            name = low[1:]
            pred = lambda t, a: name in mentions_of(t)  # noqa: E731
        elif low.startswith("from:"):
            name = low[5:].lstrip("@")
            pred = lambda t, a: (a or "").lower() == name  # noqa: E731
        elif low.startswith("to:"):
            name = low[3:].lstrip("@")
            pred = lambda t, a: bool(t.get("in_reply_to_user_id")) and name in mentions_of(t)[:1]  # noqa: E731
        elif low == "is:retweet":
            pred = lambda t, a: is_retweet(t)  # noqa: E731
        elif low == "is:reply":
            pred = lambda t, a: any(r.get("type") == "replied_to" for r in t.get("referenced_tweets") or [])  # noqa: E731
        elif low == "is:quote":
            pred = lambda t, a: any(r.get("type") == "quoted" for r in t.get("referenced_tweets") or [])  # noqa: E731
        elif ":" in low and not low.startswith("http"):
            raise QueryError(f"unsupported operator: {body}")
        else:
            word = low.strip('"')
            pred = lambda t, a: word in whole_text(t).lower()  # noqa: E731
        return (lambda t, a: not pred(t, a)) if neg else pred

    def atom():  # type: ignore[no-untyped-def]
        tok = take()
        if tok == "(":
            inner = expr()
            if peek() != ")":
                raise QueryError("unbalanced parentheses")
            take()
            return inner
        if tok in (")", "OR"):
            raise QueryError(f"unexpected {tok!r}")
        return term(tok)

    def conj():  # type: ignore[no-untyped-def]
        parts = [atom()]
        while peek() not in (None, ")", "OR"):
            parts.append(atom())
        return lambda t, a: all(p(t, a) for p in parts)

    def expr():  # type: ignore[no-untyped-def]
        parts = [conj()]
        while peek() == "OR":
            take()
            parts.append(conj())
        return lambda t, a: any(p(t, a) for p in parts)

    if not toks:
        raise QueryError("empty query")
    predicate = expr()
    if pos != len(toks):
        raise QueryError("trailing tokens in query")
    return predicate


# --- state ----------------------------------------------------------------------------------------------


@dataclass
class Published:
    tweet: dict[str, Any]
    author: dict[str, Any]
    place: dict[str, Any] | None
    visible_at: float  # wall clock: when it was posted (its created_at)
    indexed_at: float = 0.0  # wall clock: when recent search finds it (X indexes with a delay)


@dataclass
class UserCredentials:
    user_id: str
    username: str
    consumer_key: str
    access_token: str


@dataclass
class FakeX:
    bearer_token: str = "local-bearer-token"
    speed: float = 60.0  # X-time seconds per wall second (rate-limit windows shrink accordingly)
    faults: FaultPlan = field(default_factory=FaultPlan)
    clock: Any = time.time
    tweets: dict[int, Published] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> user
    credentials: dict[str, UserCredentials] = field(default_factory=dict)  # access_token -> creds
    replies: list[dict[str, Any]] = field(default_factory=list)
    requests: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # requests over X's rate limit (answered 429)
    # What X bills reads by: "posts" (a post returned twice in a UTC day is billed once), "posts_returned" (every
    # post in every answer), "users" returned
    returned: Counter = field(default_factory=Counter)
    _billed_posts: set[tuple[str, str]] = field(default_factory=set)
    request_log: list[dict[str, Any]] = field(default_factory=list)
    keep_request_log: bool = False
    limits: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(LIMITS))
    scripted: list[int | str] = field(default_factory=list)  # answers to give next, for tests (see _scripted)
    index_lag: tuple[float, float] = (0.0, 0.0)  # X seconds between posting and being searchable (min, max)
    _windows: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _next_id: int = 0
    app_posts: list[dict[str, Any]] = field(default_factory=list)  # posted in the X app by people (officers)

    # -- seeding --
    def add_user(self, user: dict[str, Any]) -> None:
        with self._lock:
            self.users[str(user["id"])] = dict(user)

    def publish(
        self,
        tweet: dict[str, Any],
        author: dict[str, Any],
        place: dict[str, Any] | None,
        visible_at: float,
        indexed_after: float | None = None,
    ) -> None:
        tweet = dict(tweet)
        tweet["id"] = str(tweet["id"])
        tweet.setdefault("author_id", str(author["id"]))
        tweet.setdefault("edit_history_tweet_ids", [tweet["id"]])
        tweet.setdefault("conversation_id", tweet["id"])
        text = str(tweet.get("text") or "")
        if len(text) > LONG_POST and "note_tweet" not in tweet:
            # A long post: X cuts `text` and gives the whole text (and its entities) in note_tweet
            note: dict[str, Any] = {"text": text}
            if mention_entities(text):
                note["entities"] = {"mentions": mention_entities(text)}
            tweet["note_tweet"] = note
            tweet["text"] = text[: LONG_POST - 1] + "…"
        ents = dict(tweet.get("entities") or {})
        if "mentions" not in ents and mention_entities(tweet.get("text") or ""):
            ents["mentions"] = mention_entities(tweet["text"])
        if ents:
            tweet["entities"] = ents
        if indexed_after is None:
            low, high = self.index_lag
            indexed_after = random.Random(tweet["id"]).uniform(low, high) if high > 0 else 0.0
        with self._lock:
            self.add_user(author)
            self.tweets[int(tweet["id"])] = Published(
                tweet, author, place, visible_at, visible_at + indexed_after / self.speed
            )
            self._next_id = max(self._next_id, int(tweet["id"]) + 1)

    def post_from_app(self, username: str, text: str, reply_to: str, user_id: str | None = None) -> str | None:
        """A person posts a reply in the X app (not through the API): searchable like any post, and not one of
        the API's replies (``replies``). None when the handle or the post does not exist."""
        with self._lock:
            user = self.users.get(user_id) if user_id else None  # usernames need not be unique in a scenario
            user = user or next((u for u in self.users.values() if u["username"].lower() == username.lower()), None)
            target = self.tweets.get(int(reply_to)) if reply_to.isdigit() else None
            if user is None or target is None:
                return None
            self._next_id = max(self._next_id + 1, snowflake(datetime.now(UTC)))
            tweet_id, now = str(self._next_id), self.clock()
            tweet: dict[str, Any] = {
                "id": tweet_id,
                "text": text,
                "edit_history_tweet_ids": [tweet_id],
                "author_id": str(user["id"]),
                "created_at": iso(datetime.fromtimestamp(now, UTC)),
                "conversation_id": target.tweet.get("conversation_id", target.tweet["id"]),
                "in_reply_to_user_id": str(target.author["id"]),
                "referenced_tweets": [{"type": "replied_to", "id": target.tweet["id"]}],
            }
            if mention_entities(text):
                tweet["entities"] = {"mentions": mention_entities(text)}
            self.app_posts.append(tweet)
            self.tweets[int(tweet_id)] = Published(tweet, user, None, now)
            return tweet_id

    def edit(self, tweet_id: str, text: str, at: float | None = None) -> str:
        """The author edits a post: a new version (a new id) whose edit history is the chain, oldest first; the
        earlier versions' histories name it too (as X returns them)."""
        with self._lock:
            old = self.tweets[int(tweet_id)]
            at = self.clock() if at is None else at
            self._next_id = max(self._next_id + 1, snowflake(datetime.fromtimestamp(at, UTC)))
            new_id = str(self._next_id)
            chain = [*[str(i) for i in old.tweet.get("edit_history_tweet_ids") or [tweet_id]], new_id]
            for version in chain[:-1]:
                if int(version) in self.tweets:
                    self.tweets[int(version)].tweet["edit_history_tweet_ids"] = chain
            keep = {k: v for k, v in old.tweet.items() if k not in ("id", "text", "entities", "note_tweet")}
            self.publish(
                {**keep, "id": new_id, "text": text, "edit_history_tweet_ids": chain}, old.author, old.place, at
            )
            return new_id

    def delete(self, tweet_id: str) -> bool:
        """The author deletes a post: search no longer finds it, and a look-up answers Not Found."""
        with self._lock:
            return self.tweets.pop(int(tweet_id), None) is not None

    def visible(self, now: float | None = None) -> list[Published]:
        """What recent search finds now: posted and indexed."""
        now = self.clock() if now is None else now
        with self._lock:
            return [p for p in self.tweets.values() if max(p.visible_at, p.indexed_at) <= now]

    def user_by_name(self, username: str) -> dict[str, Any] | None:
        low = username.lower()
        with self._lock:
            return next((u for u in self.users.values() if u["username"].lower() == low), None)

    # -- HTTP --
    def wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        method, path = request.method, request.path
        if method == "GET" and path == "/2/tweets/search/recent":
            endpoint = SEARCH
        elif method == "GET" and path.startswith("/2/users/by/username/"):
            endpoint = USER_BY_NAME
        elif method == "POST" and path == "/2/tweets":
            endpoint = CREATE_TWEET
        elif method == "GET" and path == "/2/tweets":
            endpoint = LOOKUP
        else:
            return _problem(404, "Not Found Error", f"no route {method} {path}", "about:blank")
        with self._lock:
            self.requests[endpoint] += 1
            if self.keep_request_log:
                self.request_log.append(
                    {
                        "endpoint": endpoint,
                        "method": method,
                        "path": path,
                        "query": request.query_string.decode(),
                        "body": request.get_data(as_text=True),
                        "headers": dict(request.headers),
                    }
                )
        auth = request.headers.get("Authorization", "")
        principal = self._authenticate(endpoint, auth)
        if isinstance(principal, Response):
            return principal
        scripted = self.scripted.pop(0) if self.scripted else None
        if scripted is not None:
            answer = self._scripted(scripted)
            if answer is not None:
                return answer
        drop_id = scripted == "missing_id"  # a page with one post that has no id
        fault = self.faults.draw("x")
        if self.faults.in_burst("x:503"):
            self.faults.record("x_503")
            return _problem(503, "Service Unavailable", "Service Unavailable (outage)")
        malformed = False
        if fault is not None:
            kind = fault.random()
            if kind < 0.25:
                self.faults.record("x_429")
                reset = math.ceil(self.clock() + 60 / self.speed)
                return self._with_limits(_problem(429, "Too Many Requests", "Too Many Requests"), 0, 0, reset)
            if kind < 0.6:
                self.faults.record("x_503")
                self.faults.burst("x:503", fault)  # an outage: some longer than the client's retry budget
                return _problem(503, "Service Unavailable", "Service Unavailable (injected)")
            if kind < 0.75:
                self.faults.record("x_401")
                return _problem(401, "Unauthorized", "Unauthorized (injected)")
            # The request is carried out; its answer arrives mangled
            malformed = True
            self.faults.record("x_malformed")
        limit, remaining, reset = self._consume(endpoint, principal)
        if remaining < 0:
            self.refused[endpoint] += 1
            return self._with_limits(_problem(429, "Too Many Requests", "Too Many Requests"), limit, 0, reset)
        if endpoint == SEARCH:
            response = self._search(request)
        elif endpoint == USER_BY_NAME:
            response = self._user_by_name(path.rsplit("/", 1)[-1], request)
        elif endpoint == LOOKUP:
            response = self._lookup(request)
        else:
            response = self._create_tweet(request, principal)
        if drop_id and response.status_code == 200:
            body = json.loads(response.get_data())
            if body.get("data"):
                body["data"][0].pop("id", None)
                response = _json(200, body)
        if malformed and response.status_code < 300:
            response = Response(
                response.get_data()[: max(1, len(response.get_data()) // 3)],
                status=response.status_code,
                content_type="application/json",
            )
        return self._with_limits(response, limit, max(remaining, 0), reset)

    def _scripted(self, what: int | str) -> Response | None:
        """A scripted answer (tests): 429, usage_cap, 401, 403, 400, 503 (any 5xx), or malformed (a 200 whose
        body is not JSON); None lets the request through."""
        reset = math.ceil(self.clock() + 60 / self.speed)
        if what == 429:
            return self._with_limits(_problem(429, "Too Many Requests", "Too Many Requests"), 0, 0, reset)
        if what == "usage_cap":
            return _problem(
                429,
                "UsageCapExceeded",
                "Usage cap exceeded: Monthly product cap",
                "https://api.twitter.com/2/problems/usage-capped",
            )
        if what == 401:
            return _problem(401, "Unauthorized", "Unauthorized")
        if what == 403:
            return _problem(
                403,
                "Client Forbidden",
                "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a "
                "Twitter developer App that is attached to a Project.",
                "https://api.twitter.com/2/problems/client-forbidden",
            )
        if what == 400:
            return _invalid("query", "scripted invalid request")
        if what == "malformed":
            return Response("<html>upstream error</html>", status=200, content_type="text/html")
        if what == "since_id_too_old":
            return _invalid("since_id", "Invalid 'since_id'. 'since_id' must be a tweet id created after ...")
        if isinstance(what, int) and what >= 500:
            return _problem(what, "Service Unavailable", "Service Unavailable (scripted)")
        return None

    def _authenticate(self, endpoint: str, auth: str) -> str | Response:
        if auth.startswith("Bearer "):
            if endpoint == CREATE_TWEET:
                return _problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
                    "https://api.twitter.com/2/problems/unsupported-authentication",
                )
            if auth[7:] != self.bearer_token:
                return _problem(401, "Unauthorized", "Unauthorized")
            return "app"
        if auth.startswith("OAuth "):
            params = dict(parse_qsl(auth[6:].replace(", ", "&").replace(",", "&").replace('"', "")))
            creds = self.credentials.get(params.get("oauth_token", ""))
            if not creds or params.get("oauth_consumer_key") != creds.consumer_key or "oauth_signature" not in params:
                return _problem(401, "Unauthorized", "Unauthorized")
            return f"user:{creds.user_id}"
        return _problem(401, "Unauthorized", "Unauthorized")

    def _consume(self, endpoint: str, principal: str) -> tuple[int, int, int]:
        limit, window = self.limits[endpoint]
        wall_window = window / self.speed
        now = self.clock()
        with self._lock:
            start, used = self._windows.get((endpoint, principal), (now, 0))
            if now >= start + wall_window:
                start, used = now, 0
            used += 1
            self._windows[(endpoint, principal)] = (start, used)
        return limit, limit - used, math.ceil(start + wall_window)

    @staticmethod
    def _with_limits(response: Response, limit: int, remaining: int, reset: int) -> Response:
        response.headers["x-rate-limit-limit"] = str(limit)
        response.headers["x-rate-limit-remaining"] = str(remaining)
        response.headers["x-rate-limit-reset"] = str(reset)
        return response

    # -- endpoints --
    def _search(self, request: Request) -> Response:
        args = request.args
        query = args.get("query", "")
        if not query or len(query) > 512:
            return _invalid("query", f"query must be 1 to 512 characters (was {len(query)})")
        try:
            predicate = compile_query(query)
        except QueryError as exc:
            return _invalid("query", str(exc))
        try:
            max_results = int(args.get("max_results", 10))
        except ValueError:
            return _invalid("max_results", "not an integer")
        if not 10 <= max_results <= 100:
            return _invalid("max_results", "must be between 10 and 100")
        now = self.clock()
        window_start = now - 7 * 86400
        since_id = _int_arg(args.get("since_id"))
        until_id = _int_arg(args.get("until_id"))
        start_time = _time_arg(args.get("start_time"))
        end_time = _time_arg(args.get("end_time"))
        if start_time is not None and start_time < window_start - 60:
            return _invalid("start_time", "start_time must be within the last 7 days")
        if end_time is not None and end_time > now - 10 / self.speed:
            return _invalid("end_time", "end_time must be a minimum of 10 seconds prior to the request time")
        for name, value in (("since_id", since_id), ("until_id", until_id)):
            if value is not None and snowflake_moment(value) < window_start:
                return _invalid(
                    name,
                    f"Invalid '{name}':'{value}'. '{name}' must be a tweet id created after "
                    f"{iso(datetime.fromtimestamp(window_start, UTC))}.",
                )
        before: int | None = None
        token = args.get("next_token") or args.get("pagination_token")
        if token:
            try:
                before = int(json.loads(base64.urlsafe_b64decode(token.encode()))["before"])
            except (ValueError, KeyError):
                return _invalid("next_token", "invalid next_token")
        hits = []
        for pub in self.visible(now):
            tid = int(pub.tweet["id"])
            created = pub.visible_at
            if (since_id is not None and tid <= since_id) or (until_id is not None and tid >= until_id):
                continue
            if (before is not None and tid >= before) or created < window_start:
                continue
            # start_time is inclusive, end_time exclusive (X's recent search)
            if (start_time is not None and created < start_time) or (end_time is not None and created >= end_time):
                continue
            if predicate(pub.tweet, pub.author.get("username")):
                hits.append(pub)
        hits.sort(key=lambda p: int(p.tweet["id"]), reverse=True)
        page, rest = hits[:max_results], hits[max_results:]
        meta: dict[str, Any] = {"result_count": len(page)}
        body: dict[str, Any] = {}
        with self._lock:
            day = datetime.fromtimestamp(self.clock(), UTC).date().isoformat()
            billed = {(day, str(p.tweet["id"])) for p in page} - self._billed_posts
            self._billed_posts |= billed
            self.returned["posts"] += len(billed)
            self.returned["posts_returned"] += len(page)
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0].tweet["id"], page[-1].tweet["id"]
            body["data"] = [self._render_tweet(p, args) for p in page]
            includes = self._includes(page, args)
            if includes:
                body["includes"] = includes
        if rest:
            meta["next_token"] = base64.urlsafe_b64encode(
                json.dumps({"before": page[-1].tweet["id"]}).encode()
            ).decode()
        body["meta"] = meta
        return _json(200, body)

    def _lookup(self, request: Request) -> Response:
        """``GET /2/tweets?ids=``: the posts found in ``data``, each missing one a Not Found problem in ``errors``."""
        args = request.args
        ids = _csv(args.get("ids"))
        if not 1 <= len(ids) <= 100 or not all(i.isdigit() and len(i) <= 19 for i in ids):
            return _invalid("ids", "ids must be 1 to 100 comma-separated post ids")
        now = self.clock()
        found, errors = [], []
        for tweet_id in dict.fromkeys(ids):
            pub = self.tweets.get(int(tweet_id))
            if pub is not None and pub.visible_at <= now:
                found.append(pub)
                continue
            errors.append(
                {
                    "value": tweet_id,
                    "detail": f"Could not find tweet with ids: [{tweet_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": tweet_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            )
        body: dict[str, Any] = {}
        if found:
            body["data"] = [self._render_tweet(p, args) for p in found]
            includes = self._includes(found, args)
            if includes:
                body["includes"] = includes
        if errors:
            body["errors"] = errors
        return _json(200, body)

    def _render_tweet(self, pub: Published, args) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        wanted = set(DEFAULT_TWEET_FIELDS) | set(_csv(args.get("tweet.fields")))
        tweet = dict(pub.tweet)
        tweet["created_at"] = iso(datetime.fromtimestamp(pub.visible_at, UTC))
        return {k: v for k, v in tweet.items() if k in wanted}

    def _render_user(self, user: dict[str, Any], args) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        wanted = {"id", "name", "username"} | set(_csv(args.get("user.fields")))
        return {k: v for k, v in user.items() if k in wanted}

    def _includes(self, page: list[Published], args) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        expansions = set(_csv(args.get("expansions")))
        users: dict[str, dict[str, Any]] = {}
        places: dict[str, dict[str, Any]] = {}
        tweets: dict[str, dict[str, Any]] = {}
        for pub in page:
            if "author_id" in expansions:
                users[str(pub.author["id"])] = self._render_user(pub.author, args)
            if "in_reply_to_user_id" in expansions and pub.tweet.get("in_reply_to_user_id"):
                user = self.users.get(str(pub.tweet["in_reply_to_user_id"]))
                if user:
                    users[user["id"]] = self._render_user(user, args)
            if "geo.place_id" in expansions and pub.place:
                wanted = {"id", "full_name"} | set(_csv(args.get("place.fields")))
                places[pub.place["id"]] = {k: v for k, v in pub.place.items() if k in wanted}
            if "referenced_tweets.id" in expansions:
                for ref in pub.tweet.get("referenced_tweets") or []:
                    target = self.tweets.get(int(ref["id"])) if str(ref.get("id", "")).isdigit() else None
                    if target and target.visible_at <= self.clock():
                        tweets[target.tweet["id"]] = self._render_tweet(target, args)
        out: dict[str, Any] = {}
        if users:
            out["users"] = list(users.values())
        if places:
            out["places"] = list(places.values())
        if tweets:
            out["tweets"] = list(tweets.values())
        return out

    def _user_by_name(self, username: str, request: Request) -> Response:
        user = self.user_by_name(username)
        if not user:
            return _json(
                200,
                {
                    "errors": [
                        {
                            "value": username,
                            "detail": f"Could not find user with username: [{username}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "username",
                            "resource_id": username,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            )
        with self._lock:
            self.returned["users"] += 1
        return _json(200, {"data": self._render_user(user, request.args)})

    def _create_tweet(self, request: Request, principal: str) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return _invalid("body", "not JSON")
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return _invalid("text", "text is required")
        user_id = principal.split(":", 1)[1]
        user = self.users[user_id]
        reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        with self._lock:
            if any(r["author_id"] == user_id and r["text"] == text for r in self.replies):
                return _problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            target = None
            if reply_to:
                target = self.tweets.get(int(reply_to)) if reply_to.isdigit() else None
                if target is None:
                    return _invalid("reply.in_reply_to_tweet_id", f"tweet {reply_to} does not exist")
                engaged = user["username"].lower() in mentions_of(target.tweet) or str(target.author["id"]) == user_id
                if not engaged:
                    return _problem(
                        403,
                        "Forbidden",
                        "Reply to this conversation is not allowed because you have not been mentioned or "
                        "otherwise engaged by the author of the post you are replying to.",
                    )
            self._next_id = max(self._next_id + 1, snowflake(datetime.now(UTC)))
            tweet_id = str(self._next_id)
            now = self.clock()
            tweet: dict[str, Any] = {
                "id": tweet_id,
                "text": text,
                "edit_history_tweet_ids": [tweet_id],
                "author_id": user_id,
                "created_at": iso(datetime.fromtimestamp(now, UTC)),
            }
            if target is not None:
                tweet["conversation_id"] = target.tweet.get("conversation_id", target.tweet["id"])
                tweet["in_reply_to_user_id"] = str(target.author["id"])
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": target.tweet["id"]}]
                tweet["entities"] = {"mentions": mention_entities(text)} if mention_entities(text) else {}
            self.replies.append({**tweet, "posted_at": now, "in_reply_to_tweet_id": reply_to or None})
            self.tweets[int(tweet_id)] = Published(tweet, user, None, now)
        return _json(201, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}})


def _csv(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _int_arg(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _time_arg(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _json(status: int, body: dict[str, Any], content_type: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=content_type)


def _problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Response:
    return _json(
        status,
        {"title": title, "detail": detail, "type": type_, "status": status},
        "application/problem+json",
    )


def _invalid(parameter: str, message: str) -> Response:
    return _json(
        400,
        {
            "errors": [{"parameters": {parameter: []}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
            "status": 400,
        },
        "application/problem+json",
    )


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass


class ServerThread:
    """A WSGI app served on loopback from a daemon thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):  # type: ignore[no-untyped-def]
        self.server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def snowflake_moment(tweet_id: int) -> float:
    """When a snowflake id was made (epoch seconds)."""
    return ((tweet_id >> 22) + 1288834974657) / 1000


def snowflake(at: datetime, seq: int = 0) -> int:
    """A Twitter snowflake id for a time (ids sort by time, as since_id relies on)."""
    twepoch = 1288834974657
    return ((int(at.timestamp() * 1000) - twepoch) << 22) | (seq & 0x3FFFFF)


__all__ = ["FakeX", "ServerThread", "compile_query", "snowflake", "timedelta"]

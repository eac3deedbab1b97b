"""What API Gateway's HTTP API does at run time, for the local cloud: match a request to a route of the template,
check its JWT authorizer (the token verified against the user pool's JWKS, which moto's cognito-idp serves), and
invoke the route's function with a payload-format-2.0 event, mapping its answer back to HTTP.

Requests arrive on a server thread; invocations are handed to the emulator's loop (``pending``), which runs
the function's pool, and the server thread waits for the result."""

from __future__ import annotations

import base64
import json
import queue
import re
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from sevalocal.template import ACCOUNT, HttpApiSpec, HttpRoute

REGION = "ap-south-1"


class _Call:
    def __init__(self, function: str, event: dict[str, Any]):
        self.function, self.event = function, event
        self.done = threading.Event()
        self.result: Any = None


class HttpApiGateway:
    def __init__(self, spec: HttpApiSpec, aws_endpoint: str, timeout_s: float = 30.0):
        self.spec, self.aws_endpoint, self.timeout_s = spec, aws_endpoint, timeout_s
        self.pending: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self.routes = [(route, _pattern(route.path)) for route in spec.routes]
        self._keys: dict[str, Any] = {}
        self.requests = 0

    # -- the emulator's side ------------------------------------------------------------------------------------
    def pump(self, submit: Callable[[str, dict[str, Any], Callable[[Any], None]], None]) -> None:
        while not self.pending.empty():
            call = self.pending.get_nowait()

            def finish(result: Any, call: _Call = call) -> None:
                call.result = result
                call.done.set()

            submit(call.function, call.event, finish)

    # -- HTTP ---------------------------------------------------------------------------------------------------
    def wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        self.requests += 1
        matched = self._route(request.method, request.path)
        if matched is None:
            return _json(404, {"message": "Not Found"})
        route, params = matched
        claims: dict[str, Any] | None = None
        if route.authorizer:
            claims = self._authorize(route.authorizer, request.headers.get("Authorization", ""))
            if claims is None:
                return _json(401, {"message": "Unauthorized"})
        call = _Call(route.function, self._event(request, route, params, claims))
        self.pending.put(call)
        if not call.done.wait(self.timeout_s):
            return _json(504, {"message": "Endpoint request timed out"})
        return _response(call.result)

    def _route(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for route, pattern in self.routes:
            m = pattern.fullmatch(path)
            if m and route.method in (method, "ANY"):
                return route, m.groupdict()
        return None

    def _authorize(self, name: str, header: str) -> dict[str, Any] | None:
        """The JWT authorizer: a bearer token signed by the issuer's key, not expired, for one of the audiences."""
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        config = self.spec.authorizers[name]
        token = header[7:] if header.lower().startswith("bearer ") else header
        if not token:
            return None
        issuer = str(config["issuer"])
        if issuer not in self._keys:
            pool_id = issuer.rsplit("/", 1)[-1]
            with urllib.request.urlopen(f"{self.aws_endpoint}/{pool_id}/.well-known/jwks.json", timeout=10) as r:
                self._keys[issuer] = KeySet.import_key_set(json.loads(r.read()))
        try:
            claims = jwt.decode(token, self._keys[issuer]).claims
        except (JoseError, ValueError):
            return None
        audience = claims.get("aud") or claims.get("client_id")
        if claims.get("iss") != issuer or audience not in config["audience"]:
            return None
        if float(claims.get("exp", 0)) < time.time():
            return None
        return claims

    def _event(
        self, request: Request, route: HttpRoute, params: dict[str, str], claims: dict[str, Any] | None
    ) -> dict[str, Any]:
        body = request.get_data()
        text = body.decode("utf-8", "replace") if body else None
        now = datetime.now(UTC)
        context: dict[str, Any] = {
            "accountId": ACCOUNT,
            "apiId": self.spec.api_id,
            "domainName": request.host,
            "domainPrefix": self.spec.api_id,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        }
        if claims is not None:
            # API Gateway passes claims as strings; a list becomes "[a b]"
            flat = {k: (f"[{' '.join(map(str, v))}]" if isinstance(v, list) else str(v)) for k, v in claims.items()}
            context["authorizer"] = {"jwt": {"claims": flat, "scopes": None}}
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": f"{route.method} {route.path}",
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }
        if request.cookies:
            event["cookies"] = [f"{k}={v}" for k, v in request.cookies.items()]
        if request.args:
            event["queryStringParameters"] = {k: ",".join(request.args.getlist(k)) for k in request.args}
        if params:
            event["pathParameters"] = params
        if text is not None:
            event["body"] = text
        return event


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(f"(?P<{p[1:-1].rstrip('+')}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(regex)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _response(result: Any) -> Response:
    """Payload format 2.0's answer: a dict with statusCode (else the whole value is a JSON body)."""
    ok = getattr(result, "ok", True)
    payload = getattr(result, "payload", result)
    if not ok:
        return _json(500, {"message": "Internal Server Error"})
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return _json(200, payload)
    body = payload.get("body") or ""
    raw = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
    response = Response(raw, status=int(payload["statusCode"]))
    for key, value in (payload.get("headers") or {}).items():
        response.headers[key] = str(value)
    for cookie in payload.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response

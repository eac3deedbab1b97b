"""The API function's handler in-process on the deployed template: what an officer and the public do, with every
AWS call checked against the API's role (the ``stack`` fixture)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Context
from tests.integration.test_route_handler import Stream, invoke, item, store

STATE_CELL = {"cognito:username": "cell1", "cognito:groups": "[state_cell]"}


@pytest.fixture
def api_env(stack, monkeypatch):
    spec = next(f for f in stack.functions if f.logical_id == "ApiFunction")
    return spec


def call(method: str, path: str, route: str, params: dict[str, str], claims: dict[str, Any] | None = None, **kw):
    from api.app import handler

    context: dict[str, Any] = {"http": {"method": method, "path": path, "sourceIp": "127.0.0.1"}, "requestId": "r1"}
    context |= {"routeKey": f"{method} {route}", "stage": "$default"}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in kw.get("query", {}).items()),
        "headers": {"content-type": "application/json"},
        "requestContext": context,
        "pathParameters": params,
        "isBase64Encoded": False,
        **({"queryStringParameters": kw["query"]} if kw.get("query") else {}),
        **({"body": json.dumps(kw["body"])} if "body" in kw else {}),
    }
    response = handler(event, Context())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def test_lookup_queue_detail_and_an_action_use_only_what_the_api_role_allows(stack, monkeypatch):
    # Given a routed complaint (the route function's environment, then the API's)
    route = next(f for f in stack.functions if f.logical_id == "RouteFunction")
    for key, value in route.env.items():
        monkeypatch.setenv(key, value)
    stream = Stream(stack)
    store(stack, "1301", "@lucknowpolice my bike was stolen in Hazratganj")
    assert invoke(stream.inserts()) == {"batchItemFailures": []}
    reference = item(stack, "1301")["reference"]["S"]
    api = next(f for f in stack.functions if f.logical_id == "ApiFunction")
    for key, value in api.env.items():
        monkeypatch.setenv(key, value)
    # When the public looks it up, the state cell reads the district queue and the complaint, and acknowledges it
    status, body = call(
        "GET", f"/public/complaints/{reference}", "/public/complaints/{reference}", {"reference": reference}
    )
    assert status == 200 and body["reference"] == reference
    status, body = call("GET", "/api/queue", "/api/queue", {}, STATE_CELL, query={"district": "162"})
    assert status == 200 and [c["reference"] for c in body["complaints"]] == [reference], body
    status, body = call("GET", "/api/complaints/1301", "/api/complaints/{tweet_id}", {"tweet_id": "1301"}, STATE_CELL)
    assert status == 200
    status, body = call(
        "POST",
        "/api/complaints/1301/actions",
        "/api/complaints/{tweet_id}/actions",
        {"tweet_id": "1301"},
        STATE_CELL,
        body={"action": "acknowledge"},
    )
    # Then each answers, the complaint is acknowledged, and (the fixture) every AWS call was allowed
    assert status == 200, body
    assert item(stack, "1301")["status"]["S"] == "ACKNOWLEDGED"

"""The fake X server and Seva's requests both conform to the official X API v2 OpenAPI spec."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
from seva.clients.x import XSearch, make_client
from seva.querypack import pack_queries
from seva.registry import load_registry
from sevalocal.fakex import FakeX, ServerThread, snowflake
from sevalocal.scenario import DEFAULT_SCENARIO, load_scenario

from tests.conftest import shared_file

SPEC_SERVER = "https://api.x.com"


@pytest.fixture(scope="module")
def openapi():
    from openapi_core import Config, OpenAPI

    # X answers errors as RFC 7807 problems; openapi-core needs to be told that media type is JSON.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_file_path(str(shared_file("x-api", "openapi.json")), config=config)


@pytest.fixture
def x_server():
    x = FakeX(keep_request_log=True)
    now = datetime.now(UTC).timestamp()
    for item in load_scenario(DEFAULT_SCENARIO):
        x.publish(item.tweet, item.author, item.place, now - 1)
    place = {"id": "p162", "full_name": "Lucknow, India", "name": "Lucknow", "country_code": "IN", "place_type": "city"}
    tid = str(snowflake(datetime.now(UTC)))
    x.publish(
        {"id": tid, "text": "@Uppolice theft in Hazratganj", "geo": {"place_id": "p162"}},
        {"id": "42", "username": "ravi", "name": "Ravi", "location": "Lucknow"},
        place,
        now - 1,
    )
    x.add_user({"id": "900", "username": "Uppolice", "name": "UP Police"})
    with ServerThread(x.wsgi) as server:
        yield x, server.url


def _spec_request(method: str, path: str, query: str, headers: dict, body: str | None):
    from openapi_core.contrib.requests import RequestsOpenAPIRequest

    url = f"{SPEC_SERVER}{path}" + (f"?{query}" if query else "")
    prepared = requests.Request(method, url, headers=headers, data=body or None).prepare()
    return RequestsOpenAPIRequest(prepared)


def _spec_response(response: requests.Response):
    from openapi_core.contrib.requests import RequestsOpenAPIResponse

    return RequestsOpenAPIResponse(response)


def test_poller_requests_and_fake_responses_validate_against_the_spec(openapi, x_server):
    x, url = x_server
    # Given the real poll client talking to the fake server
    search = XSearch(make_client(bearer_token=x.bearer_token, base_url=url), max_retries=0)
    query = pack_queries(load_registry().usernames)[0].text
    page = search.search(query, since_id=None, until_id=None, start_time=None, next_token=None)
    assert page.envelopes, "the scenario should have tweets for the first query"
    # Then every request tweepy sent is valid for the spec
    for logged in x.request_log:
        openapi.validate_request(
            _spec_request(logged["method"], logged["path"], logged["query"], logged["headers"], None)
        )
    # And the responses (data, includes, meta, paging) are valid for the spec
    for logged in list(x.request_log):
        response = requests.get(
            f"{url}{logged['path']}?{logged['query']}", headers={"Authorization": f"Bearer {x.bearer_token}"}
        )
        assert response.status_code == 200
        request = _spec_request("GET", logged["path"], logged["query"], {"Authorization": "Bearer t"}, None)
        openapi.validate_response(request, _spec_response(response))


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (
            "/2/tweets/search/recent",
            {
                "query": "@Uppolice",
                "max_results": "10",
                "expansions": "author_id,geo.place_id",
                "place.fields": "full_name,country_code",
                "user.fields": "location",
            },
            200,
        ),
        ("/2/tweets/search/recent", {"query": "(@Uppolice", "max_results": "10"}, 400),
        ("/2/users/by/username/Uppolice", {}, 200),
        ("/2/users/by/username/nobody_here", {}, 200),
    ],
)
def test_endpoint_responses_match_the_spec(openapi, x_server, path, params, status):
    x, url = x_server
    response = requests.get(f"{url}{path}", params=params, headers={"Authorization": f"Bearer {x.bearer_token}"})
    assert response.status_code == status
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(response.headers)
    request = _spec_request(
        "GET", path, requests.models.RequestEncodingMixin._encode_params(params), {"Authorization": "Bearer t"}, None
    )
    openapi.validate_response(request, _spec_response(response))


def test_rate_limited_and_unauthorised_answers_are_problems(openapi, x_server):
    x, url = x_server
    unauthorised = requests.get(
        f"{url}/2/tweets/search/recent", params={"query": "@a"}, headers={"Authorization": "Bearer wrong"}
    )
    assert unauthorised.status_code == 401
    x.scripted = [429]
    limited = requests.get(
        f"{url}/2/tweets/search/recent", params={"query": "@a"}, headers={"Authorization": f"Bearer {x.bearer_token}"}
    )
    assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
    for response in (unauthorised, limited):
        request = _spec_request("GET", "/2/tweets/search/recent", "query=%40a", {"Authorization": "Bearer t"}, None)
        openapi.validate_response(request, _spec_response(response))
        assert json.loads(response.text)["title"]


def test_long_posts_edits_and_lookups_of_deleted_posts_match_the_spec(openapi, x_server):
    # Given on the fake X: a long post, an edited post and a deleted post
    from seva.clients.x import XLookup

    x, url = x_server
    now = datetime.now(UTC).timestamp() - 1
    author = {"id": "43", "username": "sita", "name": "Sita", "location": "Agra"}
    long_id, first, deleted = (str(snowflake(datetime.now(UTC), n)) for n in (1, 2, 3))
    x.publish({"id": long_id, "text": "@Uppolice " + "a long story about our lane, " * 12 + "help"}, author, None, now)
    x.publish({"id": first, "text": "@Uppolice good morning"}, author, None, now)
    edited = x.edit(first, "@Uppolice my purse was snatched in Agra", at=now)
    x.publish({"id": deleted, "text": "@Uppolice a post I will delete"}, author, None, now)
    x.delete(deleted)
    x.request_log.clear()
    # When the poller searches and the deleted-posts check looks the posts up, with the real clients
    search = XSearch(make_client(bearer_token=x.bearer_token, base_url=url), max_retries=0)
    page = search.search("@Uppolice", since_id=None, until_id=None, start_time=None, next_token=None)
    gone = XLookup(make_client(bearer_token=x.bearer_token, base_url=url)).deleted([long_id, edited, deleted])
    # Then the long post comes with its whole text, the edit with its chain, and only the deleted post is gone
    by_id = {e.id: e.tweet for e in page.envelopes}
    assert len(by_id[long_id]["text"]) <= 280 and by_id[long_id]["note_tweet"]["text"].endswith("help")
    assert by_id[edited]["edit_history_tweet_ids"] == [first, edited] and deleted not in by_id
    assert gone == {deleted}
    # And every request and answer is valid for the spec (GET /2/tweets with a Not Found problem included)
    assert {logged["path"] for logged in x.request_log} == {"/2/tweets/search/recent", "/2/tweets"}
    for logged in list(x.request_log):
        request = _spec_request(logged["method"], logged["path"], logged["query"], logged["headers"], None)
        openapi.validate_request(request)
        response = requests.get(
            f"{url}{logged['path']}?{logged['query']}", headers={"Authorization": f"Bearer {x.bearer_token}"}
        )
        openapi.validate_response(request, _spec_response(response))

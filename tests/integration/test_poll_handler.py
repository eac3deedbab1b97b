"""The poll function's handler over real HTTP: tweepy → fake X, PynamoDB/boto3 → moto server."""

from __future__ import annotations

import json
import time

import pytest
from sevalocal.fakex import SEARCH

from tests.integration.conftest import cursors, invoke_poll, stored_ids


def test_burst_of_3000_tweets_between_two_polls_is_ingested_completely(poll_env, stack, publish, fake_x):
    # Given a first poll has set the cursors
    first = [publish.tweet(f"@lucknowpolice first {i}") for i in range(5)]
    assert invoke_poll(publish)["ingested"] == 5
    requests_before = fake_x.requests[SEARCH]
    # When 3,000 tweets arrive before the next poll
    burst = [publish.tweet(f"@{['agrapolice', 'Uppolice', 'LUCKNOWPOLICE'][i % 3]} burst {i}") for i in range(3000)]
    report = invoke_poll(publish)
    # Then every one is stored once, in one cycle of ~1 request per 100 tweets
    assert report["stopped"] is None
    ids = stored_ids(stack)
    assert sorted(ids) == sorted(first + burst)
    assert len(ids) == len(set(ids))
    assert 30 <= fake_x.requests[SEARCH] - requests_before <= 32
    # And the cursor stands past the newest tweet: at the end of the window (a whole second before now - settle)
    assert max(int(i) for i in burst) <= max(cursors(stack).values())


def test_redelivered_poll_stores_nothing_twice(poll_env, stack, publish):
    ids = [publish.tweet(f"@agrapolice theft report {i}") for i in range(7)]
    assert invoke_poll(publish)["ingested"] == 7
    # When the same schedule event is delivered again (Lambda retry, EventBridge at-least-once)
    again = invoke_poll(publish)
    # Then nothing new is stored
    assert again["ingested"] == 0
    assert sorted(stored_ids(stack)) == sorted(ids)


def test_rate_limit_ends_the_cycle_cleanly_and_later_cycles_catch_up(poll_env, stack, publish, fake_x):
    # Given X allows 3 searches per (shrunk) window and 550 tweets wait: 6 pages on one query
    fake_x.speed = 90.0  # the 15-minute window lasts 10 s of wall time (longer than a cycle on a loaded machine)
    fake_x.limits[SEARCH] = (3, 900)
    ids = [publish.tweet(f"@Uppolice complaint {i}") for i in range(550)]
    # When polled
    first = invoke_poll(publish)
    # Then the cycle stops at the limit without a single 429, storing what it paged
    assert first["stopped"] == "rate_limited"
    assert 0 < len(stored_ids(stack)) < 550
    # And a cycle before the reset makes no request at all (no sleeping in Lambda)
    before = fake_x.requests[SEARCH]
    assert invoke_poll(publish)["stopped"] == "rate_limited"
    assert fake_x.requests[SEARCH] == before
    # And later cycles catch up (polled with a deadline)
    deadline = time.time() + 60
    while len(stored_ids(stack)) < 550 and time.time() < deadline:
        invoke_poll(publish)
    assert sorted(stored_ids(stack)) == sorted(ids)


def test_429_from_x_ends_the_cycle_and_the_next_cycle_resumes(poll_env, stack, publish, fake_x):
    fake_x.speed = 3600.0  # the injected 429's reset is one X minute away = ~17 ms
    ids = [publish.tweet(f"@agrapolice item {i}") for i in range(250)]
    fake_x.scripted = [429]  # the very first search is refused
    first = invoke_poll(publish)
    assert first["stopped"] == "rate_limited" and first["ingested"] == 0
    deadline = time.time() + 20
    while len(stored_ids(stack)) < 250 and time.time() < deadline:
        invoke_poll(publish)
    assert sorted(stored_ids(stack)) == sorted(ids)


def test_5xx_gets_bounded_retries_then_a_clean_stop(poll_env, stack, publish, fake_x):
    ids = [publish.tweet(f"@lucknowpolice x {i}") for i in range(3)]
    fake_x.scripted = [503, 503, 503]
    before = fake_x.requests[SEARCH]
    report = invoke_poll(publish)
    assert list(report["query_errors"].values()) == ["x_unavailable"] and report["stopped"] is None
    # one try + X_MAX_RETRIES (2) for the mentions query; the police-replies query goes on regardless
    assert fake_x.requests[SEARCH] - before == 3 + 1
    assert [key for key in cursors(stack) if key.startswith("q-")] == []  # the failed query's cursor stays put
    assert invoke_poll(publish)["query_errors"] == {}
    assert sorted(stored_ids(stack)) == sorted(ids)


def test_own_tweets_and_retweets_are_not_complaints(poll_env, stack, publish):
    complaint = publish.tweet("@Uppolice my phone was stolen")
    publish.tweet("@Uppolice road safety week starts today", author="LucknowPolice")  # a registered handle
    publish.tweet("RT @someone: @Uppolice help", referenced_tweets=[{"type": "retweeted", "id": complaint}])
    publish.tweet("@DelhiPolice not ours")
    report = invoke_poll(publish)
    assert stored_ids(stack) == [complaint]
    assert report["skipped_self"] >= 1


def test_a_police_handles_reply_in_a_thread_is_stored_for_routing_as_a_response(poll_env, stack, publish):
    # Given a complaint and the district handle answering it by hand in the X app
    complaint = publish.tweet("@lucknowpolice my phone was stolen in Aliganj")
    answer = publish.tweet(
        "@citizen a team is on its way",
        author="lucknowpolice",
        conversation_id=complaint,
        referenced_tweets=[{"type": "replied_to", "id": complaint}],
        in_reply_to_user_id="10001",
    )
    publish.tweet("Road safety week starts today", author="lucknowpolice")  # not a reply: not ours to store
    # When polled (the police-replies query runs in the first cycle of each invocation)
    report = invoke_poll(publish)
    # Then the complaint and the police's answer are stored (the answer for routing to record), nothing else
    assert sorted(stored_ids(stack)) == sorted([complaint, answer])
    assert report["queries"] == 2


def test_registry_change_loses_and_doubles_nothing(poll_env, stack, publish, registry_file, monkeypatch):
    # Given polling with a small registry
    ids = [publish.tweet(f"@agrapolice a{i}") for i in range(20)]
    invoke_poll(publish)
    # When the registry gains handles (new packing) while tweets keep coming, including to the new handle
    doc = json.loads(registry_file.read_text())
    doc["handles"] += [{"username": f"newhandle{i:02d}", "name": "n", "kind": "unit"} for i in range(40)]
    bigger = registry_file.with_name("bigger.json")
    bigger.write_text(json.dumps(doc))
    monkeypatch.setenv("HANDLE_REGISTRY_PATH", str(bigger))
    early_to_new = publish.tweet("@newhandle07 written before the handle was registered")
    ids += [publish.tweet(f"@{['agrapolice', 'newhandle03', 'Uppolice'][i % 3]} b{i}") for i in range(30)]
    invoke_poll(publish)
    invoke_poll(publish)
    # Then every tweet to a registered handle is stored exactly once
    stored = stored_ids(stack)
    assert sorted(stored) == sorted([*ids, early_to_new])


def _set_cursors(stack, since_id):
    import boto3

    ddb = boto3.client("dynamodb")
    for key in cursors(stack):
        ddb.update_item(
            TableName=stack.tables["StateTable"],
            Key={"pk": {"S": "cursor#search"}, "sk": {"S": key}},
            UpdateExpression="SET since_id = :s",
            ExpressionAttributeValues={":s": {"N": str(since_id)}},
        )


def _gaps(stack):
    import boto3

    return boto3.client("dynamodb").query(
        TableName=stack.tables["StateTable"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "gap#search"}},
        ConsistentRead=True,
    )["Items"]


def test_an_8_day_outage_resumes_from_the_edge_of_recent_search_with_a_recorded_gap(poll_env, stack, publish, clock):
    from datetime import UTC, datetime, timedelta

    from sevalocal.fakex import snowflake

    # Given a poller whose cursor was set 8 days ago (X down, or the query silent, for 8 days)
    publish.tweet("@agrapolice first")
    invoke_poll(publish)
    eight_days_ago = datetime.fromtimestamp(clock(), UTC) - timedelta(days=8)
    _set_cursors(stack, snowflake(eight_days_ago))
    # And mentions posted 3 days ago that X still has
    three_days_ago = clock() - 3 * 86400
    old = str(snowflake(datetime.fromtimestamp(three_days_ago, UTC)))
    publish.x.publish(
        {"id": old, "text": "@agrapolice 3 days ago"}, {"id": "9", "username": "c9", "name": "C"}, None, three_days_ago
    )
    # When the poller runs again
    report = invoke_poll(publish)
    # Then it re-anchored at the edge of the searchable window, recorded the gap, and took what X has
    assert report["gaps"] == len(cursors(stack)) and report["query_errors"] == {}
    gaps = _gaps(stack)
    assert gaps and all("since_id" in g and "searchable_from" in g["details"]["S"] for g in gaps)
    assert old in stored_ids(stack)
    assert invoke_poll(publish)["gaps"] == 0  # and from then on the cursor is young


@pytest.mark.parametrize(
    ("answer", "stopped"),
    [(["usage_cap"], "usage_capped"), ([401, 401], "x_credentials"), ([403], "x_credentials")],
)
def test_limits_of_the_whole_app_are_states_and_later_cycles_make_no_request(
    poll_env, stack, publish, fake_x, answer, stopped
):
    publish.tweet("@agrapolice theft")
    fake_x.scripted = list(answer)
    assert invoke_poll(publish)["stopped"] == stopped
    before = fake_x.requests[SEARCH]
    assert invoke_poll(publish)["stopped"] == stopped  # remembered: no request until it may lift
    assert fake_x.requests[SEARCH] == before


def test_one_stray_401_is_tried_again_and_searching_goes_on(poll_env, stack, publish, fake_x):
    # Given X answering 401 once (then the token works again)
    tweet = publish.tweet("@agrapolice theft")
    fake_x.scripted = [401]
    # When the poller runs
    report = invoke_poll(publish)
    # Then the search was tried again at once: no credentials pause, the tweet is stored
    assert report["stopped"] is None and tweet in stored_ids(stack)


def test_x_refusing_a_cursor_with_400_reanchors_it(poll_env, stack, publish, fake_x):
    publish.tweet("@agrapolice first")
    invoke_poll(publish)
    later = publish.tweet("@agrapolice second")
    fake_x.scripted = ["since_id_too_old"]
    report = invoke_poll(publish)
    assert report["gaps"] == 1 and later in stored_ids(stack)


def test_a_page_that_is_not_json_or_a_tweet_without_an_id_does_not_wedge_the_poller(poll_env, stack, publish, fake_x):
    # Given X answering garbage three times in a row (one try + 2 retries) to the first query
    ids = [publish.tweet(f"@agrapolice item {i}") for i in range(3)]
    fake_x.scripted = ["malformed"] * 3
    report = invoke_poll(publish)
    assert list(report["query_errors"].values()) == ["malformed_answer"]
    # And a page with a post without an id: that post is skipped, the rest stored
    more = [publish.tweet(f"@agrapolice more {i}") for i in range(3)]
    fake_x.scripted = ["missing_id"]
    report = invoke_poll(publish)
    assert report["skipped_malformed"] == 1 and report["query_errors"] == {}
    assert len(set(stored_ids(stack)) & set(ids + more)) == 5

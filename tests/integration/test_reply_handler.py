"""Reply handler and sweep over real HTTP: tweepy (OAuth 1.0a) → fake X, PynamoDB → moto server."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from seva.settings import ReplySettings
from sevalocal.fakex import CREATE_TWEET, UserCredentials, snowflake

HANDLES = {"uppolice": "900000001", "lucknowpolice": "900000002"}


@pytest.fixture
def reply_env(stack, fake_x, poll_env, monkeypatch):
    spec = next(f for f in stack.functions if f.logical_id == "ReplyFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("X_API_BASE_URL", fake_x.url)
    handles = {}
    for name, user_id in HANDLES.items():
        fake_x.add_user({"id": user_id, "username": name, "name": name})
        creds = {
            "consumer_key": "ck",
            "consumer_secret": "cs",
            "access_token": f"{user_id}-at",
            "access_token_secret": "ats",
        }
        fake_x.credentials[creds["access_token"]] = UserCredentials(user_id, name, "ck", creds["access_token"])
        handles[name] = creds
    boto3.client("secretsmanager").put_secret_value(
        SecretId=stack.secrets["XUserCredentialsSecret"], SecretString=json.dumps({"handles": handles})
    )
    return spec


def citizen_tweet(fake_x, text, tweet_id=None):
    tweet_id = tweet_id or str(snowflake(__import__("datetime").datetime.now(__import__("datetime").UTC)))
    fake_x.publish({"id": tweet_id, "text": text}, {"id": "5", "username": "citizen", "name": "C"}, None, time.time())
    return tweet_id


def routed_image(stack, tweet_id, reference, handles, language="en"):
    ddb = boto3.client("dynamodb")
    item = {
        "tweet_id": {"S": tweet_id},
        "status": {"S": "ROUTED"},
        "reference": {"S": reference},
        "priority": {"S": "P2"},
        "language": {"S": language},
        "district_code": {"N": "162"},
        "district": {"S": "Lucknow"},
        "mentioned_handles": {"L": [{"S": h} for h in handles]},
    }
    ddb.put_item(TableName=stack.tables["ComplaintsTable"], Item=item)
    return {
        "tweet_id": tweet_id,
        "status": "ROUTED",
        "reference": reference,
        "priority": "P2",
        "language": language,
        "district_code": 162,
        "district": "Lucknow",
        "mentioned_handles": handles,
    }


def complaint(stack, tweet_id):
    return boto3.client("dynamodb").get_item(
        TableName=stack.tables["ComplaintsTable"], Key={"tweet_id": {"S": tweet_id}}, ConsistentRead=True
    )["Item"]


def service():
    from seva.service import ReplyService

    return ReplyService(ReplySettings.load())


def test_replies_once_from_the_mentioned_district_handle_even_after_a_crash(stack, fake_x, reply_env):
    tid = citizen_tweet(fake_x, "@Uppolice @lucknowpolice my bike was stolen")
    image = routed_image(stack, tid, "UP-LKO-2026-000001", ["Uppolice", "lucknowpolice"], language="hi")
    svc = service()
    assert svc.handle_image(image).status == "REPLIED"
    reply = fake_x.replies[-1]
    assert reply["author_id"] == HANDLES["lucknowpolice"] and reply["in_reply_to_tweet_id"] == tid
    assert "UP-LKO-2026-000001" in reply["text"] and "दर्ज" in reply["text"] and "@" not in reply["text"]
    # A crash between posting and recording: the record is lost, X still has the reply
    boto3.client("dynamodb").update_item(
        TableName=stack.tables["ComplaintsTable"],
        Key={"tweet_id": {"S": tid}},
        UpdateExpression="REMOVE reply_status, reply_tweet_id",
    )
    assert svc.handle_image(image).status == "REPLIED"
    assert len([r for r in fake_x.replies if r["in_reply_to_tweet_id"] == tid]) == 1
    assert complaint(stack, tid)["reply_tweet_id"]["S"] == reply["id"]


def test_x_refusing_the_reply_is_a_final_state(stack, fake_x, reply_env):
    tid = citizen_tweet(fake_x, "@DelhiPolice not our handle")  # @lucknowpolice is not mentioned: X refuses
    image = routed_image(stack, tid, "UP-LKO-2026-000002", ["lucknowpolice"])
    assert service().handle_image(image).status == "REPLY_NOT_ALLOWED"
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_NOT_ALLOWED"


def test_429_leaves_the_reply_pending_and_the_sweep_posts_it(stack, fake_x, reply_env, monkeypatch):
    fake_x.speed = 3600.0  # the 429's reset is one X minute away
    tid = citizen_tweet(fake_x, "@lucknowpolice chain snatching")
    image = routed_image(stack, tid, "UP-LKO-2026-000003", ["lucknowpolice"])
    fake_x.scripted = [429]
    svc = service()
    assert svc.handle_image(image).status == "REPLY_PENDING"
    deadline = time.time() + 20
    while complaint(stack, tid)["reply_status"]["S"] != "REPLIED" and time.time() < deadline:
        svc.sweep()
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLIED"


def test_5xx_ends_in_reply_failed_and_the_failure_queue(stack, fake_x, reply_env, monkeypatch):
    monkeypatch.setenv("MAX_REPLY_ATTEMPTS", "2")
    tid = citizen_tweet(fake_x, "@lucknowpolice help")
    image = routed_image(stack, tid, "UP-LKO-2026-000004", ["lucknowpolice"])
    fake_x.scripted = [503] * 5
    svc = service()
    assert svc.handle_image(image).status == "REPLY_PENDING"
    boto3.client("dynamodb").update_item(  # make the retry due now instead of in 2 minutes
        TableName=stack.tables["StateTable"],
        Key={"pk": {"S": "reply#pending"}, "sk": {"S": tid}},
        UpdateExpression="SET next_at = :z",
        ExpressionAttributeValues={":z": {"N": "0"}},
    )
    svc.sweep()
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_FAILED"
    queue = stack.queues["ReplyFailureQueue"]
    body = json.loads(boto3.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["tweet_id"] == tid


def test_a_burst_of_500_to_one_handle_is_answered_within_the_posting_limit(stack, fake_x, reply_env, monkeypatch):
    fake_x.speed = 300.0  # X's 15-minute window lasts 3 s here
    monkeypatch.setenv("USER_WINDOW_SECONDS", "3")
    images = [
        routed_image(
            stack, citizen_tweet(fake_x, f"@lucknowpolice complaint {i}"), f"UP-LKO-2026-{i:06d}", ["lucknowpolice"]
        )
        for i in range(100, 600)
    ]
    svc = service()
    for image in images:
        svc.handle_image(image)
    deadline = time.time() + 120
    while len(fake_x.replies) < 500 and time.time() < deadline:
        svc.sweep()
    assert len(fake_x.replies) == 500
    assert len({r["in_reply_to_tweet_id"] for r in fake_x.replies}) == 500
    assert fake_x.refused[CREATE_TWEET] == 0  # never above X's limit


def test_a_routed_complaint_is_answered_even_if_its_reply_record_is_lost(stack, fake_x, reply_env):
    from tests.integration.test_route_handler import Stream
    from tests.integration.test_route_handler import invoke as route

    # Given a complaint the route function numbers (and so puts in the reply outbox)
    stream = Stream(stack)
    tid = citizen_tweet(fake_x, "@lucknowpolice my phone was snatched in Aminabad")
    from datetime import UTC, datetime

    from seva.dal.complaints import DynamoComplaintStore
    from seva.tweets import TweetEnvelope

    envelope = TweetEnvelope(
        {"id": tid, "text": "@lucknowpolice my phone was snatched in Aminabad", "author_id": "5"},
        {"id": "5", "username": "citizen", "name": "C"},
    )
    DynamoComplaintStore(stack.tables["ComplaintsTable"], "ap-south-1").add(
        envelope, ["lucknowpolice"], datetime.now(UTC)
    )
    route(stream.inserts())
    # When the reply function's stream record never arrives (lost to its on-failure queue), and time passes
    boto3.client("dynamodb").update_item(
        TableName=stack.tables["StateTable"],
        Key={"pk": {"S": "reply#pending"}, "sk": {"S": tid}},
        UpdateExpression="SET next_at = :z",
        ExpressionAttributeValues={":z": {"N": "0"}},
    )
    service().sweep()
    # Then the sweep answered it, once, and the outbox is empty
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLIED"
    assert [r["in_reply_to_tweet_id"] for r in fake_x.replies] == [tid]
    pending = boto3.client("dynamodb").query(
        TableName=stack.tables["StateTable"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "reply#pending"}},
    )["Items"]
    assert pending == []

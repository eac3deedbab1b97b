"""Reply handler and sweep over real HTTP: tweepy (OAuth 1.0a) → fake X, PynamoDB → moto server."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from seva.settings import ReplySettings
from sevalocal.fakex import CREATE_TWEET, UserCredentials, snowflake

from tests.integration.conftest import Context, Lanes

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


def routed(stack, fake_x, text, author="5", language=None):
    """A citizen's tweet as X has it, stored and routed (the route handler on the real stream)."""
    from datetime import UTC, datetime

    from seva.dal.complaints import DynamoComplaintStore
    from seva.tweets import TweetEnvelope

    from tests.integration.test_route_handler import Stream
    from tests.integration.test_route_handler import invoke as route

    stream = Stream(stack)
    tweet_id = str(snowflake(datetime.now(UTC), int(time.time() * 1000) % 4096))
    author_doc = {"id": author, "username": f"citizen{author}", "name": "C"}
    tweet = {"id": tweet_id, "text": text, "author_id": author, **({"lang": language} if language else {})}
    fake_x.publish(tweet, author_doc, None, time.time())
    mentioned = [h for h in ("Uppolice", "lucknowpolice") if f"@{h.lower()}" in text.lower()]
    DynamoComplaintStore(stack.tables["ComplaintsTable"], "ap-south-1").add(
        TweetEnvelope(tweet, author_doc), mentioned, datetime.now(UTC)
    )
    route(stream.inserts())
    return tweet_id


def complaint(stack, tweet_id):
    return boto3.client("dynamodb").get_item(
        TableName=stack.tables["ComplaintsTable"], Key={"tweet_id": {"S": tweet_id}}, ConsistentRead=True
    )["Item"]


def reply(records):
    from reply.app import handler

    return handler({"Records": records}, Context())


def sweep():
    from reply.app import handler
    from sevalocal.emulator import scheduled_event

    event = scheduled_event("arn:aws:events:ap-south-1:123456789012:rule/retry", __import__("datetime").datetime.now())
    return handler(event, Context())


def make_due(stack, tweet_id, kind="ack"):
    """Time passes: the pending reply is due now."""
    boto3.client("dynamodb").update_item(
        TableName=stack.tables["StateTable"],
        Key={"pk": {"S": "reply#pending"}, "sk": {"S": f"{tweet_id}#{kind}"}},
        UpdateExpression="SET next_at = :z",
        ExpressionAttributeValues={":z": {"N": "0"}},
    )


def test_replies_once_from_the_mentioned_district_handle_even_after_a_crash(stack, fake_x, reply_env):
    lanes = Lanes(stack, "ReplyFunction")
    tid = routed(stack, fake_x, "@Uppolice @lucknowpolice meri bike chori ho gayi Aliganj me", language="hi")
    records = lanes.records()
    assert reply(records) == {"batchItemFailures": []}
    answer = fake_x.replies[-1]
    assert answer["author_id"] == HANDLES["lucknowpolice"] and answer["in_reply_to_tweet_id"] == tid
    reference = complaint(stack, tid)["reference"]["S"]
    assert reference in answer["text"] and "दर्ज" in answer["text"] and "@" not in answer["text"]
    # A crash between posting and recording: the record is lost (and the claim's lease has passed); X still
    # has the reply. The redelivered event finds it instead of posting again.
    ddb = boto3.client("dynamodb")
    ddb.update_item(
        TableName=stack.tables["ComplaintsTable"],
        Key={"tweet_id": {"S": tid}},
        UpdateExpression="REMOVE reply_status, reply_tweet_id",
    )
    ddb.delete_item(TableName=stack.tables["StateTable"], Key={"pk": {"S": f"reply#{tid}"}, "sk": {"S": "ack"}})
    assert reply(records) == {"batchItemFailures": []}
    assert len([r for r in fake_x.replies if r["in_reply_to_tweet_id"] == tid]) == 1
    assert complaint(stack, tid)["reply_tweet_id"]["S"] == answer["id"]


def test_x_refusing_the_reply_is_a_final_state(stack, fake_x, reply_env):
    lanes = Lanes(stack, "ReplyFunction")
    tid = routed(stack, fake_x, "@lucknowpolice theft in Aliganj")
    fake_x.tweets[int(tid)].tweet["text"] = "edited: no mention left"  # X sees no mention of the handle
    fake_x.tweets[int(tid)].tweet.pop("entities", None)
    reply(lanes.records())
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_NOT_ALLOWED"


@pytest.mark.parametrize("answer", [401, 403, "malformed"])
def test_rejected_credentials_and_broken_answers_leave_the_reply_pending_then_it_goes(stack, fake_x, reply_env, answer):
    lanes = Lanes(stack, "ReplyFunction")
    tid = routed(stack, fake_x, "@lucknowpolice chain snatching in Aliganj")
    fake_x.scripted = [answer]
    reply(lanes.records())
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_PENDING"
    make_due(stack, tid)
    sweep()
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLIED"
    assert len([r for r in fake_x.replies if r["in_reply_to_tweet_id"] == tid]) == 1


def test_a_token_set_after_the_container_started_is_used_without_a_redeploy(stack, fake_x, reply_env, monkeypatch):
    # Given a warm container that read the credentials before @lucknowpolice's token was set
    monkeypatch.setenv("CREDENTIALS_MAX_AGE_SECONDS", "0")
    secrets = boto3.client("secretsmanager")
    arn = stack.secrets["XUserCredentialsSecret"]
    full = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"handles": {}}))
    lanes = Lanes(stack, "ReplyFunction")
    tid = routed(stack, fake_x, "@lucknowpolice chain snatching in Aliganj")
    reply(lanes.records())
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_PENDING"
    # When the infra team puts the token in, then the next retry uses it
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(full))
    make_due(stack, tid)
    sweep()
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLIED"


def test_429_leaves_the_reply_pending_and_the_sweep_posts_it(stack, fake_x, reply_env):
    fake_x.speed = 3600.0  # the 429's reset is one X minute away
    lanes = Lanes(stack, "ReplyFunction")
    tid = routed(stack, fake_x, "@lucknowpolice chain snatching in Aliganj")
    fake_x.scripted = [429]
    reply(lanes.records())
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_PENDING"
    deadline = time.time() + 20
    while complaint(stack, tid)["reply_status"]["S"] != "REPLIED" and time.time() < deadline:
        sweep()
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLIED"


def test_5xx_ends_in_reply_failed_and_the_failure_queue(stack, fake_x, reply_env, monkeypatch):
    monkeypatch.setenv("MAX_REPLY_ATTEMPTS", "2")
    lanes = Lanes(stack, "ReplyFunction")
    tid = routed(stack, fake_x, "@lucknowpolice help, theft in Aliganj")
    fake_x.scripted = [503] * 5
    reply(lanes.records())
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_PENDING"
    make_due(stack, tid)
    sweep()
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLY_FAILED"
    queue = stack.queues["ReplyFailureQueue"]
    body = json.loads(boto3.client("sqs").receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["tweet_id"] == tid


def test_a_burst_of_500_to_one_handle_is_answered_within_the_posting_limit(stack, fake_x, reply_env, monkeypatch):
    from datetime import UTC, datetime

    from seva.bootstrap import reply_desk
    from seva.dal.complaints import DynamoComplaints

    fake_x.speed = 300.0  # X's 15-minute window lasts 3 s here
    monkeypatch.setenv("USER_WINDOW_SECONDS", "3")
    desk = reply_desk(ReplySettings.load())
    repo = DynamoComplaints(stack.tables["ComplaintsTable"], stack.tables["AuditTable"], "ap-south-1")
    ddb = boto3.client("dynamodb")
    complaints = []
    for i in range(500):
        tid = str(snowflake(datetime.now(UTC), i))
        fake_x.publish(
            {"id": tid, "text": f"@lucknowpolice complaint {i}"},
            {"id": "5", "username": "c", "name": "C"},
            None,
            time.time(),
        )
        ddb.put_item(
            TableName=stack.tables["ComplaintsTable"],
            Item={
                "tweet_id": {"S": tid},
                "status": {"S": "ROUTED"},
                "version": {"N": "1"},
                "text": {"S": "x"},
                "raw": {"S": "{}"},
                "reference": {"S": f"UP-LKO-2026-{i:06d}"},
                "priority": {"S": "P2"},
                "language": {"S": "en"},
                "district_code": {"N": "162"},
                "mentioned_handles": {"L": [{"S": "lucknowpolice"}]},
                "tweet_created_at": {"S": "2026-12-01T00:00:00.000000+0000"},
                "ingested_at": {"S": "2026-12-01T00:00:00.000000+0000"},
            },
        )
        complaints.append(repo.get(tid))
    for c in complaints:
        desk.replier.reply(c, "ack")
    deadline = time.time() + 120
    while len(fake_x.replies) < 500 and time.time() < deadline:
        desk.sweep(500)
    assert len(fake_x.replies) == 500
    assert len({r["in_reply_to_tweet_id"] for r in fake_x.replies}) == 500
    assert fake_x.refused[CREATE_TWEET] == 0  # never above X's limit


def test_a_routed_complaint_is_answered_even_if_its_lane_event_is_lost(stack, fake_x, reply_env):
    # Given a complaint the route function numbers (and so puts in the reply outbox), whose lane event is lost
    tid = routed(stack, fake_x, "@lucknowpolice my phone was snatched in Aminabad")
    # When time passes
    make_due(stack, tid)
    sweep()
    # Then the sweep answered it, once, and the outbox is empty
    assert complaint(stack, tid)["reply_status"]["S"] == "REPLIED"
    assert [r["in_reply_to_tweet_id"] for r in fake_x.replies] == [tid]
    pending = boto3.client("dynamodb").query(
        TableName=stack.tables["StateTable"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "reply#pending"}},
    )["Items"]
    assert pending == []

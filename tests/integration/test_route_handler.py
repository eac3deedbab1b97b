"""The route function's handler on real DynamoDB stream records (moto server), in-process."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from seva.dal.complaints import DynamoComplaintStore
from seva.tweets import TweetEnvelope
from sevalocal.emulator import to_lambda_record

from tests.integration.conftest import Context


@pytest.fixture
def route_env(stack, monkeypatch):
    spec = next(f for f in stack.functions if f.logical_id == "RouteFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    return spec


class Stream:
    """Reads the complaints table's stream as Lambda's event source mapping would (INSERTs only)."""

    def __init__(self, stack):
        self.client = boto3.client("dynamodbstreams")
        self.arn = stack.attributes[("ComplaintsTable", "StreamArn")]
        shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def inserts(self) -> list[dict]:
        out = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = out["NextShardIterator"]
        return [to_lambda_record(r, self.arn) for r in out["Records"] if r["eventName"] == "INSERT"]


def store(stack, tweet_id, text, author="111", conversation=None, **tweet):
    envelope = TweetEnvelope(
        {"id": tweet_id, "text": text, "author_id": author, "conversation_id": conversation or tweet_id, **tweet},
        {"id": author, "username": f"user{author}", "name": "Citizen"},
    )
    DynamoComplaintStore(stack.tables["ComplaintsTable"], "ap-south-1").add(envelope, ["Uppolice"], datetime.now(UTC))


def item(stack, tweet_id):
    return boto3.client("dynamodb").get_item(
        TableName=stack.tables["ComplaintsTable"], Key={"tweet_id": {"S": tweet_id}}, ConsistentRead=True
    )["Item"]


def audit(stack, tweet_id):
    return boto3.client("dynamodb").query(
        TableName=stack.tables["AuditTable"],
        KeyConditionExpression="complaint_id = :c",
        ExpressionAttributeValues={":c": {"S": tweet_id}},
        ConsistentRead=True,
    )["Items"]


def invoke(records):
    from route.app import handler

    return handler({"Records": records}, Context())


def test_a_complaint_is_routed_with_reference_sla_and_evidence(stack, route_env):
    stream = Stream(stack)
    store(stack, "1001", "@lucknowpolice HELP firing in Hazratganj right now")
    store(stack, "1002", "@Uppolice my bike was stolen in Kanpur")
    result = invoke(stream.inserts())
    assert result == {"batchItemFailures": []}
    first, second = item(stack, "1001"), item(stack, "1002")
    year = datetime.now(UTC).year
    assert first["status"]["S"] == "ROUTED" and first["reference"]["S"] == f"UP-LKO-{year}-000001"
    assert (first["district_code"]["N"], first["priority"]["S"], first["category"]["S"]) == (
        "162",
        "P1",
        "violent_crime",
    )
    routed_at = datetime.strptime(first["routed_at"]["S"], "%Y-%m-%dT%H:%M:%S.%f%z")
    due = datetime.strptime(first["ack_due_at"]["S"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert round((due - routed_at).total_seconds()) == 15 * 60
    assert first["queue"]["S"] == "162#OPEN" and first["version"]["N"] == "1"
    assert "handle" in first["evidence"]["S"]
    # And the transition was written with its audit event, in the same transaction
    (event,) = audit(stack, "1001")
    assert (event["action"]["S"], event["from_status"]["S"], event["to_status"]["S"], event["priority"]["S"]) == (
        "ROUTE",
        "RECEIVED",
        "ROUTED",
        "P1",
    )
    assert event["actor_id"]["S"] == "route" and event["kind"]["S"] == "transition"
    assert second["reference"]["S"] == f"UP-KNP-{year}-000001" and second["priority"]["S"] == "P2"


def test_redelivery_changes_nothing_and_wastes_no_number(stack, route_env):
    stream = Stream(stack)
    store(stack, "2001", "@Uppolice chain snatching in Agra")
    records = stream.inserts()
    invoke(records)
    before = item(stack, "2001")
    invoke(records)  # the same batch again (retry / redelivery)
    assert item(stack, "2001") == before
    store(stack, "2002", "@Uppolice another theft in Agra")
    invoke(stream.inserts())
    year = datetime.now(UTC).year
    assert item(stack, "2002")["reference"]["S"] == f"UP-AGR-{year}-000002"


def test_noise_is_kept_but_not_numbered(stack, route_env):
    stream = Stream(stack)
    store(stack, "3001", "@Uppolice great work, proud of UP police")
    invoke(stream.inserts())
    noise = item(stack, "3001")
    assert noise["status"]["S"] == "NOISE" and "reference" not in noise


def test_the_complainants_follow_up_is_attached_and_others_replies_are_not(stack, route_env):
    stream = Stream(stack)
    store(stack, "4001", "@Uppolice my phone was stolen in Meerut", author="111")
    invoke(stream.inserts())
    reply = {"referenced_tweets": [{"type": "replied_to", "id": "4001"}]}
    store(stack, "4002", "@Uppolice still no action, 3 hours now", author="111", conversation="4001", **reply)
    store(
        stack, "4003", "@Uppolice bachao, someone is attacking me in Meerut", author="222", conversation="4001", **reply
    )
    invoke(stream.inserts())
    parent, mine, theirs = item(stack, "4001"), item(stack, "4002"), item(stack, "4003")
    assert mine["status"]["S"] == "ATTACHED" and mine["parent_tweet_id"]["S"] == "4001"
    assert "updates" not in parent  # follow-ups are items of their own, recorded on the trail
    follow_up = [e for e in audit(stack, "4001") if e["action"]["S"] == "FOLLOW_UP"]
    assert json.loads(follow_up[0]["details"]["S"])["follow_up"] == "4002"
    assert theirs["status"]["S"] == "ROUTED" and theirs["priority"]["S"] == "P1"


def test_a_record_it_cannot_process_is_reported_and_the_rest_proceed(stack, route_env):
    stream = Stream(stack)
    boto3.client("dynamodb").put_item(
        TableName=stack.tables["ComplaintsTable"],
        Item={"tweet_id": {"S": "not-a-tweet"}, "status": {"S": "RECEIVED"}, "raw": {"S": "{broken"}},
    )
    store(stack, "5001", "@Uppolice theft in Jhansi")
    records = stream.inserts()
    result = invoke(records)
    bad_sequence = records[0]["dynamodb"]["SequenceNumber"]
    assert result == {"batchItemFailures": [{"itemIdentifier": bad_sequence}]}
    assert item(stack, "5001")["status"]["S"] == "ROUTED"


def test_two_routers_racing_on_one_complaint_write_one_transition(stack, route_env):
    # Given one stored tweet and two invocations routing it at the same moment (a redelivery overlapping)
    import threading

    from seva.bootstrap import router
    from seva.settings import RouteSettings

    store(stack, "6001", "@Uppolice my bike was stolen in Agra")
    routers = [router(RouteSettings.load()) for _ in range(2)]
    outcomes = []
    threads = [threading.Thread(target=lambda r=r: outcomes.append(r.route("6001").status)) for r in routers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly one transition and one audit event were written
    assert sorted(outcomes) == ["ROUTED", "SKIPPED"]
    assert [e["action"]["S"] for e in audit(stack, "6001")] == ["ROUTE"]


def test_the_runbooks_reroute_payload_routes_a_complaint_left_received(stack, route_env):
    # Given a stored complaint whose stream batch went to RouteFailureQueue (never routed: still RECEIVED)
    store(stack, "1201", "@lucknowpolice my phone was stolen in Hazratganj")
    assert item(stack, "1201")["status"]["S"] == "RECEIVED"
    # When the operator invokes the route function with the README runbook's INSERT record for it
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    payload = json.loads(re.search(r'`(\{"Records": \[\{"eventID".*?\}\]\})`', readme).group(1))  # type: ignore[union-attr]
    payload["Records"][0]["dynamodb"]["NewImage"]["tweet_id"]["S"] = "1201"
    from route.app import handler

    result = handler(payload, Context())
    # Then it is routed like any new complaint
    assert result == {"batchItemFailures": []}
    assert item(stack, "1201")["status"]["S"] == "ROUTED"


def test_an_sos_sent_ahead_by_the_poller_is_routed_from_the_express_lane_and_the_stream_finds_it_done(
    poll_env, stack, publish, monkeypatch
):
    from seva.settings import PollSettings
    from sevalocal.emulator import to_sqs_record

    from tests.integration.conftest import invoke_poll

    # Given an SOS and a routine complaint, polled (the poller stores both and sends the SOS ahead)
    stream = Stream(stack)
    sos = publish.tweet("@lucknowpolice HELP firing in Hazratganj right now")
    routine = publish.tweet("@lucknowpolice my bike was stolen in Hazratganj")
    report = invoke_poll(publish)
    assert (report["ingested"], report["expressed"], report["express_failed"]) == (2, 1, 0)
    url = PollSettings.load().route_express_queue_url
    assert url == stack.queues["RouteExpressQueue"]
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"tweet_id": sos}]
    # When the express route function takes it, with the environment the template gives it
    spec = next(f for f in stack.functions if f.logical_id == "RouteExpressFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    from route.app import express_handler

    arn = stack.attributes[("RouteExpressQueue", "Arn")]
    assert express_handler({"Records": [to_sqs_record(m, arn) for m in messages]}, Context()) == {
        "batchItemFailures": []
    }
    # Then the SOS is routed as P1 before the stream's turn comes
    year = datetime.now(UTC).year
    routed = item(stack, sos)
    assert (routed["status"]["S"], routed["priority"]["S"]) == ("ROUTED", "P1")
    assert item(stack, routine)["status"]["S"] == "RECEIVED"
    # And when the stream delivers both, the SOS is found done (no second transition, no number taken)
    assert invoke(stream.inserts()) == {"batchItemFailures": []}
    assert [e["action"]["S"] for e in audit(stack, sos)] == ["ROUTE"]
    assert routed["reference"]["S"] == f"UP-LKO-{year}-000001"
    assert item(stack, routine)["reference"]["S"] == f"UP-LKO-{year}-000002"


def test_an_unusable_express_message_is_dropped_with_one_error_line(stack, monkeypatch, caplog):
    # Given the express function and a message without a tweet id (the stream routes every stored tweet anyway)
    spec = next(f for f in stack.functions if f.logical_id == "RouteExpressFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    from route.app import express_handler

    record = {"messageId": "m1", "receiptHandle": "r", "body": '{"tweet": 1}', "attributes": {}}
    record |= {"messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:ap-south-1:1:q"}
    # When it is delivered, then it is not retried, and one error line says why
    assert express_handler({"Records": [record]}, Context()) == {"batchItemFailures": []}
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == ["express message unusable; dropped"]

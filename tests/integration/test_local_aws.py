"""The local cloud's AWS (moto behind sevalocal.aws): the shortcuts it takes answer as DynamoDB and SQS do."""

from __future__ import annotations

import time
import uuid

import boto3
from sevalocal.aws import CREDENTIALS, REGION


def _client(service: str, url: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=url, region_name=REGION, **CREDENTIALS)


def _table(ddb, name: str) -> None:  # type: ignore[no-untyped-def]
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "due", "AttributeType": "S"},
            {"AttributeName": "at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-due",
                "KeySchema": [{"AttributeName": "due", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _all_pages(ddb, **query):  # type: ignore[no-untyped-def]
    items, start = [], None
    while True:
        page = ddb.query(**query, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def test_a_query_reads_its_partition_in_key_order_and_an_index_query_pages_through_every_match(aws_url):
    # Given a table with three partitions, written out of order, and an index whose keys repeat
    ddb, name = _client("dynamodb", aws_url), f"t{uuid.uuid4().hex[:8]}"
    _table(ddb, name)
    for pk in ("b", "a", "c"):
        for n in (3, 1, 2, 0):
            ddb.put_item(
                TableName=name,
                Item={"pk": {"S": pk}, "sk": {"S": f"{n}"}, "due": {"S": "SLA"}, "at": {"S": f"{n % 2}"}},
            )

    # When a partition is queried (forward and backward, one item a page) and the index is paged two at a time
    forward = _all_pages(
        ddb, TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}, Limit=1
    )
    backward = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "c"}},
        ScanIndexForward=False,
    )["Items"]
    ranged = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p AND sk >= :s",
        ExpressionAttributeValues={":p": {"S": "b"}, ":s": {"S": "2"}},
    )["Items"]
    indexed = _all_pages(
        ddb,
        TableName=name,
        IndexName="by-due",
        KeyConditionExpression="due = :d",
        ExpressionAttributeValues={":d": {"S": "SLA"}},
        Limit=2,
    )
    missing = ddb.query(
        TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "zz"}}
    )["Items"]

    # Then each answer is DynamoDB's: its partition only, sorted by the sort key; the index pages through all
    # twelve items, each once, in index-key order
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in forward] == [("a", "0"), ("a", "1"), ("a", "2"), ("a", "3")]
    assert [i["sk"]["S"] for i in backward] == ["3", "2", "1", "0"]
    assert [i["sk"]["S"] for i in ranged] == ["2", "3"]
    assert len(indexed) == 12
    assert len({(i["pk"]["S"], i["sk"]["S"]) for i in indexed}) == 12
    assert [i["at"]["S"] for i in indexed] == sorted(i["at"]["S"] for i in indexed)
    assert missing == []
    # And a scan still sees every partition
    assert ddb.scan(TableName=name)["Count"] == 12


def test_sqs_still_delivers_messages_within_their_retention_and_drops_expired_ones(aws_url):
    # Given a queue holding 30 messages
    sqs = _client("sqs", aws_url)
    url = sqs.create_queue(QueueName=f"q{uuid.uuid4().hex[:8]}", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    for n in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))

    # When they are received ten at a time
    received: list[str] = []
    deadline = time.time() + 10
    while len(received) < 30 and time.time() < deadline:
        received += [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]

    # Then every one arrives once
    assert sorted(received, key=int) == [str(n) for n in range(30)]


def test_sqs_counts_visible_in_flight_and_delayed_messages(aws_url):
    # Given a queue with 12 messages and one delayed by a minute, of which 5 were received and not deleted
    sqs = _client("sqs", aws_url)
    url = sqs.create_queue(QueueName=f"q{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=60)["Messages"]) == 5

    # When the queue's counts are asked for
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    # Then they are SQS's: 7 visible, 5 in flight, 1 delayed
    assert counts["ApproximateNumberOfMessages"] == "7"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "5"
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"

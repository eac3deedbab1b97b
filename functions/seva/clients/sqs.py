"""SQS: the failure queues (a message per piece of work that finally failed) and the express route lane."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any


def _client(region: str) -> Any:
    return _sqs(region, os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _sqs(region: str, endpoint: str | None) -> Any:
    import boto3

    return boto3.client("sqs", region_name=region)


class FailureQueue:
    def __init__(self, url: str | None, region: str):
        self.url, self.region = url, region

    def send(self, message: dict[str, Any]) -> None:
        if self.url:
            _client(self.region).send_message(QueueUrl=self.url, MessageBody=json.dumps(message, default=str))


@cache
def _impatient_sqs(region: str, endpoint: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # The poller waits on this send: a slow SQS must cost it a second or two, not the SDK's 60 s and retries
    config = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2})
    return boto3.client("sqs", region_name=region, config=config)


class ExpressQueue:
    """The express route lane: a tweet id per message (the route function reads the tweet from the table)."""

    def __init__(self, url: str, region: str):
        self.url, self.region = url, region

    def send(self, tweet_id: str) -> None:
        client = _impatient_sqs(self.region, os.environ.get("AWS_ENDPOINT_URL"))
        client.send_message(QueueUrl=self.url, MessageBody=json.dumps({"tweet_id": tweet_id}))

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


class ExpressQueue:
    """The express route lane: a tweet id per message (the route function reads the tweet from the table)."""

    def __init__(self, url: str, region: str):
        self.url, self.region = url, region

    def send(self, tweet_id: str) -> None:
        _client(self.region).send_message(QueueUrl=self.url, MessageBody=json.dumps({"tweet_id": tweet_id}))

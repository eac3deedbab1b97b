"""Handlers in-process against a moto server and the fake X server, both over real HTTP on loopback."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from sevalocal.aws import moto_app
from sevalocal.emulator import scheduled_event
from sevalocal.fakex import FakeX, ServerThread, snowflake
from sevalocal.faults import FaultPlan
from sevalocal.template import Deployment, deploy

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Context:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:ap-south-1:123456789012:function:test-function"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture(scope="session")
def aws_server():
    app = moto_app(FaultPlan())
    with ServerThread(app) as server:
        yield server.url, app


@pytest.fixture(scope="session")
def aws_url(aws_server):
    return aws_server[0]


@pytest.fixture
def stack(aws_url, monkeypatch) -> Deployment:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_url)
    return deploy(ROOT / "template.yaml", aws_url, stack=f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def fake_x():
    x = FakeX(speed=60.0)
    with ServerThread(x.wsgi) as server:
        x.url = server.url  # type: ignore[attr-defined]
        yield x


@pytest.fixture
def registry_file(tmp_path) -> Path:
    handles = [
        {"username": "Uppolice", "name": "UP Police", "kind": "state"},
        {"username": "lucknowpolice", "name": "Lucknow", "kind": "district", "district_code": 162},
        {"username": "agrapolice", "name": "Agra", "kind": "district", "district_code": 118},
    ]
    path = tmp_path / "handles.json"
    path.write_text(json.dumps({"handles": handles}))
    return path


@pytest.fixture
def poll_env(stack, fake_x, registry_file, monkeypatch, aws_url):
    """The PollFunction's environment exactly as the template declares it, pointed at the local cloud."""
    spec = next(f for f in stack.functions if f.logical_id == "PollFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("X_API_BASE_URL", fake_x.url)
    monkeypatch.setenv("HANDLE_REGISTRY_PATH", str(registry_file))
    monkeypatch.setenv("X_RETRY_BASE_SECONDS", "0.01")
    for handle in json.loads(registry_file.read_text())["handles"]:
        fake_x.add_user(
            {"id": str(abs(hash(handle["username"])) % 10**9), "username": handle["username"], "name": handle["name"]}
        )
    sm = boto3.client("secretsmanager", endpoint_url=aws_url)
    sm.put_secret_value(
        SecretId=stack.secrets["XApiSecret"], SecretString=json.dumps({"bearer_token": fake_x.bearer_token})
    )
    return spec


class Publisher:
    def __init__(self, x: FakeX):
        self.x = x
        self.seq = 0

    def tweet(self, text: str, author: str = "citizen", **extra: Any) -> str:
        self.seq += 1
        from datetime import UTC, datetime

        tid = str(snowflake(datetime.now(UTC), self.seq))
        user = {"id": str(10_000 + abs(hash(author)) % 10**6), "username": author, "name": author.title()}
        self.x.publish({"id": tid, "text": text, "lang": "en", **extra}, user, None, time.time())
        return tid


@pytest.fixture
def publish(fake_x) -> Publisher:
    return Publisher(fake_x)


def invoke_poll() -> dict[str, Any]:
    from poll.app import handler

    event = scheduled_event("arn:aws:events:ap-south-1:123456789012:rule/test", __import__("datetime").datetime.now())
    return handler(event, Context())


def stored_ids(stack: Deployment) -> list[str]:
    ddb = boto3.client("dynamodb")
    ids: list[str] = []
    for page in ddb.get_paginator("scan").paginate(TableName=stack.tables["ComplaintsTable"], ConsistentRead=True):
        ids += [item["tweet_id"]["S"] for item in page["Items"]]
    return ids


def cursors(stack: Deployment) -> dict[str, int]:
    ddb = boto3.client("dynamodb")
    out = ddb.query(
        TableName=stack.tables["StateTable"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "cursor#search"}},
        ConsistentRead=True,
    )
    return {i["sk"]["S"]: int(i["since_id"]["N"]) for i in out["Items"] if "since_id" in i}

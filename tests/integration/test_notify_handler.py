"""Notify handler over moto (real HTTP), and `seva officers` against the same tables."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest

from tests.integration.conftest import ROOT, Context
from tests.integration.test_route_handler import Stream, store
from tests.integration.test_route_handler import invoke as route


@pytest.fixture
def notify_env(stack, monkeypatch, aws_url, tmp_path):
    for name in ("RouteFunction", "NotifyFunction"):
        spec = next(f for f in stack.functions if f.logical_id == name)
        for key, value in spec.env.items():
            monkeypatch.setenv(key, value)
    env = {
        **spec.env,
        "AWS_ENDPOINT_URL": aws_url,
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "ap-south-1",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT}/functions:{ROOT}/infra",
    }
    officers = {
        "officers": [
            {
                "district": "162",
                "officer_id": "lko-cr",
                "name": "CR",
                "role": "control_room",
                "phone": "+44 7700 900001",
                "email": "cr@example.org",
                "language": "hi",
                "priorities": ["P1"],
            },
            {
                "district": "162",
                "officer_id": "lko-sp",
                "name": "SP",
                "role": "sp",
                "phone": "+447700900002",
                "email": "sp@example.org",
            },
            {"district": "HQ", "officer_id": "hq", "name": "HQ", "role": "hq_cell", "phone": "+447700900003"},
        ]
    }
    path = tmp_path / "officers.json"
    path.write_text(json.dumps(officers))
    out = subprocess.run(
        [sys.executable, "-m", "sevalocal.cli", "officers", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "imported 3 officers" in out.stdout
    return env


def modifies(stream: Stream) -> list[dict]:
    from sevalocal.emulator import to_lambda_record

    out = stream.client.get_records(ShardIterator=stream.iterator)
    stream.iterator = out["NextShardIterator"]
    return [to_lambda_record(r, stream.arn) for r in out["Records"] if r["eventName"] == "MODIFY"]


def notify(records):
    from notify.app import handler

    return handler({"Records": records}, Context())


def test_routed_complaints_notify_their_officers_once(stack, notify_env, aws_server):
    _, middleware = aws_server
    stream = Stream(stack)
    store(stack, "9001", "@lucknowpolice bachao, firing in Hazratganj")
    store(stack, "9002", "@Uppolice my bike was stolen")  # no district: state HQ cell
    route(stream.inserts())
    routed = [r for r in modifies(stream) if r["dynamodb"]["NewImage"]["status"]["S"] == "ROUTED"]
    before = len(middleware.published)
    assert notify(routed) == {"batchItemFailures": []}
    sent = middleware.published[before:]
    sms = [p for p in sent if p["phone"]]
    assert sorted(p["phone"] for p in sms) == ["+447700900001", "+447700900002", "+447700900003"]
    assert all(
        p["attributes"]["AWS.SNS.SMS.SMSType"] == "Transactional" and p["attributes"]["AWS.MM.SMS.TemplateId"]
        for p in sms
    )
    assert sum(1 for p in sent if p["topic"] == stack.topics["SosTopic"]) == 1
    emails = sorted(p["attributes"]["officer_id"] for p in sent if p["topic"] == stack.topics["OfficerEmailTopic"])
    assert emails == ["lko-cr", "lko-sp"]
    # When the same records are delivered again, nothing more is sent
    assert notify(routed) == {"batchItemFailures": []}
    assert len(middleware.published) == before + len(sent)
    item = boto3.client("dynamodb").get_item(TableName=stack.tables["ComplaintsTable"], Key={"tweet_id": {"S": "9001"}})
    assert len(json.loads(item["Item"]["deliveries"]["S"])) == 5  # 2 SMS, 2 email, 1 SOS


def test_officers_cli_lists_masked_and_rejects_invalid(stack, notify_env):
    cli = [sys.executable, "-m", "sevalocal.cli", "officers"]
    listed = subprocess.run([*cli, "list"], env=notify_env, capture_output=True, text=True, check=True).stdout
    assert "lko-sp" in listed and "+447700900002" not in listed
    bad = subprocess.run(
        [*cli, "add", "--district", "162", "--id", "x", "--name", "X", "--role", "sp", "--phone", "12345"],
        env=notify_env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "phone" in bad.stderr
    removed = subprocess.run(
        [*cli, "remove", "--district", "162", "--id", "lko-sp"], env=notify_env, capture_output=True, text=True
    )
    assert removed.returncode == 0

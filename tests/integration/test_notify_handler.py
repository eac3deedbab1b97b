"""Notify handler over moto (real HTTP), and `seva officers` against the same tables."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.conftest import ROOT, Context, Lanes
from tests.integration.test_route_handler import Stream, audit, item, store
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


def notify(records):
    from notify.app import handler

    return handler({"Records": records}, Context())


def test_routed_complaints_notify_their_officers_once(stack, notify_env, aws_server):
    _, middleware = aws_server
    stream, lanes = Stream(stack), Lanes(stack, "NotifyFunction")
    store(stack, "9001", "@lucknowpolice bachao, firing in Hazratganj")
    store(stack, "9002", "@Uppolice my bike was stolen")  # no district: state HQ cell
    route(stream.inserts())
    records = lanes.records()
    assert {json.loads(r["body"])["detail"]["dynamodb"]["NewImage"]["action"]["S"] for r in records} == {"ROUTE"}
    assert sorted(r["eventSourceARN"].rsplit(":", 1)[-1] for r in records) == ["NotifyP1Queue", "NotifyQueue"]
    before = len(middleware.published)
    assert notify(records) == {"batchItemFailures": []}
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
    assert notify(records) == {"batchItemFailures": []}
    assert len(middleware.published) == before + len(sent)
    # And each delivery is on the complaint's audit trail, and the complaint says it was notified
    deliveries = [e for e in audit(stack, "9001") if e["kind"]["S"] == "delivery"]
    assert sorted(json.loads(e["details"]["S"])["to"] for e in deliveries) == [
        "lko-cr",
        "lko-cr",
        "lko-sp",
        "lko-sp",
        "sos-topic",
    ]
    assert "notified_at" in item(stack, "9001")


def test_two_invocations_guarding_one_citizen_at_once_never_both_admit(stack, notify_env):
    # Given one citizen's complaints decided by several invocations at the same moment
    import threading
    from datetime import UTC, datetime, timedelta

    from seva.dal.ledger import DynamoAuthorGuard

    guard = DynamoAuthorGuard(stack.tables["StateTable"], "ap-south-1")
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    decisions: dict[str, str] = {}

    def decide(ids):
        for i in ids:
            decisions[str(i)] = guard.decide("spammer", str(i), start + timedelta(seconds=i), "P2", 5, ["lko-sp"]).kind

    threads = [threading.Thread(target=decide, args=(range(k, 12, 3),)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then exactly the limit got SMS and one a digest
    assert sorted(decisions.values()).count("sms") == 5
    assert sorted(decisions.values()).count("digest") == 1


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


def test_an_invalid_officer_row_is_skipped_counted_and_never_stops_the_district(
    stack, notify_env, aws_server, capsys, monkeypatch
):
    import boto3
    from notify.app import logger

    # the handler's log stream is fixed when the module is imported (maybe under another test's capture)
    monkeypatch.setattr(logger.registered_handler, "stream", sys.stdout)

    _, middleware = aws_server
    # Given district 162's directory with a broken row among its good officers (a phone that is no number)
    boto3.client("dynamodb").put_item(
        TableName=stack.tables["OfficersTable"],
        Item={
            "district": {"S": "162"},
            "officer_id": {"S": "lko-broken"},
            "name": {"S": "Broken"},
            "role": {"S": "sho"},
            "phone": {"S": "+91 98765 4321"},
            "language": {"S": "en"},
            "priorities": {"L": [{"S": "P1"}]},
            "categories": {"L": [{"S": "*"}]},
        },
    )
    stream, lanes = Stream(stack), Lanes(stack, "NotifyFunction")
    store(stack, "9101", "@lucknowpolice bachao, firing in Hazratganj")
    route(stream.inserts())
    capsys.readouterr()
    before = len(middleware.published)
    # When the complaint is notified
    assert notify(lanes.records()) == {"batchItemFailures": []}
    # Then the good officers are told as always
    sms = [p["phone"] for p in middleware.published[before:] if p["phone"]]
    assert sorted(sms) == ["+447700900001", "+447700900002"]
    # And the broken row is logged by district and id, counted for the OfficerRowInvalid alarm, its number masked
    out = capsys.readouterr().out
    logged = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    skipped = [e for e in logged if e.get("message") == "officer row skipped: invalid"]
    assert skipped and skipped[0]["officer_id"] == "lko-broken" and "phone" in " ".join(skipped[0]["problems"])
    assert any(e.get("OfficerRowInvalid") == [1.0] or e.get("OfficerRowInvalid") == 1.0 for e in logged)
    assert "98765" not in out

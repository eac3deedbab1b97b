"""SLA clock handler over moto (real HTTP): overdue complaints found through the due-time index (no scan),
escalated once per level under concurrent invocations, the escalation delivered to the chosen officers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sevalocal.emulator import scheduled_event

from tests.integration.conftest import Context, Lanes
from tests.integration.test_notify_handler import notify, notify_env  # noqa: F401  (fixture)
from tests.integration.test_route_handler import Stream, audit, item, store
from tests.integration.test_route_handler import invoke as route


@pytest.fixture
def sla_env(stack, notify_env, monkeypatch):  # noqa: F811
    spec = next(f for f in stack.functions if f.logical_id == "SlaFunction")
    for key, value in spec.env.items():
        monkeypatch.setenv(key, value)
    return spec


def run_clocks(at: datetime, invocations: int = 1) -> list[dict]:
    """``invocations`` scheduled invocations at once, each seeing the clock at ``at``."""
    import seva.bootstrap
    from sla.app import handler

    seva.bootstrap.utcnow = lambda: at  # type: ignore[assignment]
    results: list[dict] = []
    event = scheduled_event("arn:aws:events:ap-south-1:123456789012:rule/sla", datetime.now(UTC))
    threads = [threading.Thread(target=lambda: results.append(handler(event, Context()))) for _ in range(invocations)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def escalations(stack, tweet_id):
    return [json.loads(e["details"]["S"]) for e in audit(stack, tweet_id) if e.get("action", {}).get("S") == "ESCALATE"]


def test_an_overdue_p1_is_escalated_once_per_level_by_concurrent_invocations(stack, sla_env, aws_server, monkeypatch):
    import seva.bootstrap

    monkeypatch.setattr(seva.bootstrap, "utcnow", seva.bootstrap.utcnow)  # restored after the test
    _, middleware = aws_server
    stream, lanes = Stream(stack), Lanes(stack, "NotifyFunction")
    # Given a routed P1 nobody acknowledges (Lucknow: control room and SP; the state cell above)
    store(stack, "9101", "@lucknowpolice bachao, firing in Hazratganj")
    route(stream.inserts())
    routed = item(stack, "9101")
    due = datetime.fromisoformat(routed["ack_due_at"]["S"].replace("+0000", "+00:00"))
    assert routed["clock_key"]["S"] == "SLA#P1"
    # When four invocations run at once a second before the deadline, then at it, then twice more at it
    assert all(r == {} for r in run_clocks(due - timedelta(seconds=1), 4))
    at_due = run_clocks(due + timedelta(seconds=1), 4)
    again = run_clocks(due + timedelta(seconds=2), 2)
    # Then exactly one escalation (level 1 has nobody in Lucknow: the SP, level 2), the others raced or found
    # nothing due
    assert sum(r.get("escalated", 0) for r in at_due + again) == 1
    (first,) = escalations(stack, "9101")
    assert (first["level"], first["to"], first["stage"]) == (2, ["lko-sp"], "acknowledge")
    # When the state cell's time comes (two steps after the deadline), with four invocations again
    step = timedelta(minutes=15) * 0.5
    run_clocks(due + 2 * step + timedelta(seconds=1), 4)
    assert [e["to"] for e in escalations(stack, "9101")] == [["lko-sp"], ["hq"]]
    assert "clock_key" not in item(stack, "9101")  # the chain has run out: the clock left the index
    # And the notify lanes deliver each escalation to the officers it names, once
    before = len(middleware.published)
    records = [r for r in lanes.records() if "ESCALATE" in r["body"]]
    assert len(records) == 2 and notify(records) == {"batchItemFailures": []}
    assert notify(records) == {"batchItemFailures": []}
    sms = sorted(p["phone"] for p in middleware.published[before:] if p["phone"])
    assert sms == ["+447700900002", "+447700900003"]


def test_acknowledging_stops_the_clock(stack, sla_env, monkeypatch):
    import seva.bootstrap
    from seva.dal.complaints import DynamoComplaints
    from seva.lifecycle import Action, Actor, ActorKind, Channel

    monkeypatch.setattr(seva.bootstrap, "utcnow", seva.bootstrap.utcnow)
    stream = Stream(stack)
    store(stack, "9102", "@lucknowpolice my bike was stolen in Aliganj")
    route(stream.inserts())
    repo = DynamoComplaints(stack.tables["ComplaintsTable"], stack.tables["AuditTable"], "ap-south-1")
    complaint = repo.get("9102")
    repo.apply(
        complaint, Action.ACKNOWLEDGE, actor=Actor(ActorKind.OFFICER, "lko-sp"), via=Channel.LINK, now=datetime.now(UTC)
    )
    assert complaint.ack_due_at is not None
    run_clocks(complaint.ack_due_at + timedelta(hours=1), 2)
    assert escalations(stack, "9102") == []
    after = item(stack, "9102")
    assert after["clock_due_at"]["S"].startswith(complaint.resolve_due_at.strftime("%Y-%m-%dT%H:%M"))


def test_an_acknowledged_complaint_not_resolved_in_time_is_escalated_for_the_resolve_stage(stack, sla_env, monkeypatch):
    import seva.bootstrap
    from seva.bootstrap import desk
    from seva.settings import ApiSettings

    monkeypatch.setattr(seva.bootstrap, "utcnow", seva.bootstrap.utcnow)
    for key, value in next(f for f in stack.functions if f.logical_id == "ApiFunction").env.items():
        monkeypatch.setenv(key, value)
    stream = Stream(stack)
    store(stack, "9103", "@lucknowpolice my bike was stolen in Aliganj")
    route(stream.inserts())
    # Given the SP acknowledged it through the API (as a link or the dashboard does)
    from seva.desk import Identity

    officer = Identity(username="sp", groups=("officer",), district="162", officer_id="lko-sp")
    desk(ApiSettings.load()).act(officer, "9103", {"action": "acknowledge"})
    after_ack = item(stack, "9103")
    resolve_due = datetime.fromisoformat(after_ack["resolve_due_at"]["S"].replace("+0000", "+00:00"))
    # When the resolve deadline passes
    run_clocks(resolve_due + timedelta(seconds=1), 2)
    # Then the resolve stage is escalated (level 1 has nobody in Lucknow: the SP's level, 2)
    assert [(e["stage"], e["level"]) for e in escalations(stack, "9103")] == [("resolve", 2)]


def test_due_clocks_come_p1_first_however_many_routine_ones_are_older(stack, sla_env):
    import boto3
    from seva.dal.complaints import DynamoComplaints

    stream = Stream(stack)
    # Given three routine complaints whose clocks fell due an hour ago, and a P1 due a minute ago
    for tweet_id, text in [
        ("9111", "@lucknowpolice street light not working in Aliganj"),
        ("9112", "@lucknowpolice noise from a wedding band in Gomti Nagar every night"),
        ("9113", "@lucknowpolice my bike was stolen in Aliganj"),
        ("9114", "@lucknowpolice bachao, firing in Hazratganj"),
    ]:
        store(stack, tweet_id, text)
    route(stream.inserts())
    now = datetime.now(UTC) + timedelta(days=1)
    table = boto3.resource("dynamodb", region_name="ap-south-1").Table(stack.tables["ComplaintsTable"])
    for tweet_id in ("9111", "9112", "9113", "9114"):
        ago = timedelta(minutes=1) if tweet_id == "9114" else timedelta(hours=1)
        table.update_item(
            Key={"tweet_id": tweet_id},
            UpdateExpression="SET clock_due_at = :at",
            ExpressionAttributeValues={":at": (now - ago).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
        )
    assert item(stack, "9114")["priority"]["S"] == "P1"
    assert {item(stack, i)["priority"]["S"] for i in ("9111", "9112", "9113")} == {"P2", "P3"}
    # When the clock function asks for the due clocks, with room for two
    due = DynamoComplaints(stack.tables["ComplaintsTable"], stack.tables["AuditTable"], "ap-south-1").due(now, 2)
    # Then the P1 is first
    assert due[0] == "9114"

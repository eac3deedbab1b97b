"""The figures function's handler over moto (real HTTP), in-process: the transitions of a routed, acknowledged
complaint, delivered by the figures lane (and delivered again), counted once; the schedule writes the public page's
snapshot to the web bucket. Every AWS call it makes is checked against FiguresRole (tests/integration/iam.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from sevalocal.emulator import scheduled_event

from tests.integration.conftest import Context, Lanes
from tests.integration.test_route_handler import Stream, store
from tests.integration.test_route_handler import invoke as route

REGION = "ap-south-1"


@pytest.fixture
def figures_env(stack, monkeypatch):
    for name in ("RouteFunction", "FiguresFunction"):
        spec = next(f for f in stack.functions if f.logical_id == name)
        for key, value in spec.env.items():
            monkeypatch.setenv(key, value)
    return spec


def figures(event: dict) -> dict:
    from figures.app import handler

    return handler(event, Context())


def test_the_lane_counts_each_transition_once_and_the_schedule_writes_the_public_snapshot(stack, figures_env):
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.figures import DynamoFigures
    from seva.figures import summary
    from seva.lifecycle import Action, Actor, ActorKind, Channel

    # Given a complaint routed and then acknowledged by an officer, as the figures lane delivers the transitions
    stream, lanes = Stream(stack), Lanes(stack, "FiguresFunction")
    store(stack, "9301", "@lucknowpolice my bike was stolen in Aliganj")
    route(stream.inserts())
    repo = DynamoComplaints(stack.tables["ComplaintsTable"], stack.tables["AuditTable"], REGION)
    complaint = repo.get("9301")
    assert complaint is not None
    repo.apply(
        complaint, Action.ACKNOWLEDGE, actor=Actor(ActorKind.OFFICER, "lko-sp"), via=Channel.LINK, now=datetime.now(UTC)
    )
    records = lanes.records()
    assert len(records) == 2
    # When the figures function gets them, and then the same batch again (a redelivery)
    assert figures({"Records": records}) == {"batchItemFailures": []}
    assert figures({"Records": records}) == {"batchItemFailures": []}
    # Then the state's figures count one received and one acknowledged within the SLA
    now = datetime.now(UTC)
    first, last = (now - timedelta(days=1)).date().isoformat(), (now + timedelta(days=1)).date().isoformat()
    totals = summary(DynamoFigures(stack.tables["FiguresTable"], REGION).rows(None, first, last))
    assert (totals["received"], totals["acknowledged"], totals["ack_within"]) == (1, 1, 1)
    # When the schedule runs
    result = figures(scheduled_event("arn:aws:events:ap-south-1:123456789012:rule/figures", now))
    # Then the public page's snapshot is in the web bucket, with the count and no reference or tweet id
    assert result["districts"] >= 1
    obj = boto3.client("s3", region_name=REGION).get_object(
        Bucket=stack.buckets["WebBucket"], Key="data/public-figures.json"
    )
    snapshot = json.loads(obj["Body"].read())
    assert snapshot["state"]["received"] == 1
    assert "9301" not in json.dumps(snapshot)

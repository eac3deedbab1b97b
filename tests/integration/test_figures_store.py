"""The figures table on a moto server over HTTP: each lifecycle event counted once under redelivery and concurrent
deliveries, read back by district, for the state and per district, and the public snapshot written to the web
bucket without personal data."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import boto3
from seva.clients.s3 import JsonObject
from seva.dal.figures import DynamoFigures
from seva.districts import load_districts
from seva.figures import FiguresKeeper, contribution, district_names, summary
from seva.lifecycle import Action, Actor, ActorKind, Channel, Event, Priority, Status
from seva.sla import DEFAULT_POLICY

REGION = "ap-south-1"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def event(complaint: str, n: int, action: Action, minutes: float, district: int | None = 162, **details) -> Event:  # type: ignore[no-untyped-def]
    actor = Actor.system("route") if action == Action.ROUTE else Actor(ActorKind.OFFICER, "lko-sp")
    frm, to = {
        Action.ROUTE: (Status.RECEIVED, Status.ROUTED),
        Action.ACKNOWLEDGE: (Status.ROUTED, Status.ACKNOWLEDGED),
        Action.RESOLVE: (Status.ACKNOWLEDGED, Status.RESOLVED),
        Action.REOPEN: (Status.RESOLVED, Status.REOPENED),
        Action.CLOSE: (Status.RESOLVED, Status.CLOSED),
    }.get(action, (None, None))
    return Event(
        complaint_id=complaint,
        event_id=f"{complaint}-e{n}",
        kind="transition",
        at=T0 + timedelta(minutes=minutes),
        actor=actor,
        via=Channel.API,
        action=action,
        from_status=frm,
        to_status=to,
        priority=Priority.P2,
        district_code=district,
        details=details,
    )


def test_each_event_counts_once_under_redelivery_and_concurrent_deliveries(stack):
    # Given the figures table and one routing event delivered by 8 invocations at once, then again
    store = DynamoFigures(stack.tables["FiguresTable"], REGION)
    route = event("5001", 0, Action.ROUTE, 0)
    c = contribution(route, [route], "theft", DEFAULT_POLICY)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        results.append(store.add(route, c, datetime.now(UTC)))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    results.append(store.add(route, c, datetime.now(UTC)))
    # Then exactly one delivery counted it, and every view reads 1
    assert sorted(results) == [False] * 8 + [True]
    # (the day is India's: read a range around it)
    first, last = (T0 - timedelta(days=1)).date().isoformat(), (T0 + timedelta(days=1)).date().isoformat()
    assert summary(store.rows("162", first, last))["received"] == 1
    assert summary(store.rows(None, first, last))["received"] == 1
    assert [(r["district"], r["received"]) for r in store.district_rows(first, last)] == [("162", 1)]


def test_the_figures_read_back_by_district_with_latencies_reopenings_and_ratings(stack):
    store = DynamoFigures(stack.tables["FiguresTable"], REGION)
    now = datetime.now(UTC)
    trails = {
        "6001": [
            event("6001", 0, Action.ROUTE, 0),
            event("6001", 1, Action.ACKNOWLEDGE, 10),  # P2: within the 4-hour deadline
            event("6001", 2, Action.RESOLVE, 100),
            event("6001", 3, Action.REOPEN, 120),
        ],
        "6002": [
            event("6002", 0, Action.ROUTE, 0, district=118),
            event("6002", 1, Action.ACKNOWLEDGE, 300, district=118),  # late
            event("6002", 2, Action.RESOLVE, 330, district=118),
            event("6002", 3, Action.CLOSE, 400, district=118, rating=4),
        ],
    }
    for trail in trails.values():
        for e in trail:
            assert store.add(e, contribution(e, trail, "theft", DEFAULT_POLICY), now)
    first, last = (T0 - timedelta(days=1)).date().isoformat(), (T0 + timedelta(days=1)).date().isoformat()
    state = summary(store.rows(None, first, last))
    assert (state["received"], state["acknowledged"], state["resolved"]) == (2, 2, 2)
    assert state["ack_sla_pct"] == 50.0 and state["reopen_rate_pct"] == 50.0 and state["satisfaction"] == 4.0
    assert 7 * 60 <= state["ack_p50_s"] <= 15 * 60 and state["ack_p95_s"] > 3 * 3600
    lucknow = summary(store.rows("162", first, last))
    assert (lucknow["received"], lucknow["reopened"], lucknow["closed"]) == (1, 1, 0)
    assert {r["district"] for r in store.district_rows(first, last)} == {"162", "118"}


def test_the_public_snapshot_goes_to_the_web_bucket_without_personal_data(stack):
    store = DynamoFigures(stack.tables["FiguresTable"], REGION)
    bucket = stack.buckets["WebBucket"]
    keeper = FiguresKeeper(
        complaints=None,  # type: ignore[arg-type]  # the snapshot reads the figures only
        store=store,
        policy=DEFAULT_POLICY,
        now=lambda: datetime.now(UTC),
        names=district_names(load_districts()),
        publish=JsonObject(bucket, "data/public-figures.json", REGION),
    )
    e = event("7001", 0, Action.ROUTE, 0)
    store.add(e, contribution(e, [e], "theft", DEFAULT_POLICY), datetime.now(UTC))
    keeper.public_snapshot()
    s3 = boto3.client("s3", region_name=REGION)
    obj = s3.get_object(Bucket=bucket, Key="data/public-figures.json")
    snapshot = json.loads(obj["Body"].read())
    assert obj["ContentType"].startswith("application/json")
    lucknow = next(d for d in snapshot["districts"] if d["code"] == "162")
    assert lucknow["name"] == "Lucknow" and lucknow["received"] >= 1 and snapshot["state"]["received"] >= 1
    allowed = {"code", "name", "hindi", "received", "acknowledged", "acknowledged_within_sla_pct", "resolved"}
    allowed |= {"median_response_s", "median_resolution_s"}
    assert all(set(d) <= allowed for d in snapshot["districts"])
    assert "7001" not in json.dumps(snapshot)

"""`seva demo` end to end on the local cloud: real handlers, real HTTP, ground-truth report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sevalocal.cli import main as seva
from sevalocal.demo import DemoOptions, run_demo
from sevalocal.scenario import ScenarioError, load_scenario
from sevalocal.scenario_gen import generate

REPORT_KEYS = {
    "tweets",
    "complaints",
    "notifications",
    "replies",
    "dlq",
    "x_requests",
    "aws_requests",
    "latency_s",
    "wall_s",
}


def write_scenario(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_bundled_demo_ingests_every_matching_tweet_once(tmp_path, capsys):
    # When `seva demo` runs the bundled scenario
    status = seva(["demo", "--report", str(tmp_path / "report.json")])
    report = json.loads((tmp_path / "report.json").read_text())
    # Then it exits 0 with nothing lost and nothing doubled, from ground truth
    assert status == 0
    assert set(report) >= REPORT_KEYS
    tweets = report["tweets"]
    assert tweets["published"] == 160 and tweets["matching"] > 100
    assert tweets["ingested"] == tweets["matching"] and tweets["lost"] == 0 and tweets["unexpected"] == 0
    assert report["complaints"]["duplicates"] == 0
    # And every poll cycle made exactly the minimum of search requests: 5 queries for 122 handles (no cycle
    # here has more than 100 new tweets for one query)
    assert set(report["poll"]["cycles_detail"]) == {5}
    assert report["x_requests"]["GET /2/tweets/search/recent"] == 5 * report["poll"]["cycles"]
    out = capsys.readouterr().out
    assert "Summary" in out and "lost 0" in out


@pytest.mark.parametrize("seed", [7, 11])
def test_demo_with_faults_loses_nothing_and_doubles_nothing(tmp_path, seed):
    scenario = write_scenario(tmp_path / "s.jsonl", generate(tweets=40, minutes=3, seed=11))
    report, status = run_demo(
        DemoOptions(scenario=scenario, faults=0.2, seed=seed, quiet=True, log_dir=tmp_path / "logs")
    )
    assert status == 0
    assert report["tweets"]["lost"] == 0 and report["tweets"]["ingested"] == report["tweets"]["matching"]
    assert report["complaints"]["duplicates"] == 0
    assert report["complaints"]["duplicate_references"] == 0
    assert report["notifications"]["duplicates"] == 0
    # every complaint replied or visibly failed (with a reason on the item), none doubled
    replies, complaints = report["replies"], report["complaints"]
    assert replies["duplicates"] == 0
    assert complaints["replied"] + replies["failed"] == complaints["routed"]
    assert replies["pending"] == replies["unanswered"] == 0
    injected = report["faults_injected"]
    assert injected.get("x_429", 0) + injected.get("x_503", 0) > 0
    assert injected.get("aws_throttle", 0) + injected.get("aws_5xx", 0) > 0


def test_demo_reports_loss_and_exits_nonzero(tmp_path):
    # Given a scenario that breaks X's id order: a tweet published late with an id below the cursor
    records = generate(tweets=10, minutes=2, seed=1)
    late = json.loads(json.dumps(records[0]))
    late["at"] = 300.0  # several poll cycles after the first tweet, whatever the cold starts cost
    late["tweet"]["id"] = str(int(records[0]["tweet"]["id"]) - 1)
    late["tweet"]["text"] = "@Uppolice published late with an old id"
    late["tweet"]["entities"] = {"mentions": [{"start": 0, "end": 9, "username": "Uppolice"}]}
    late["author"] = {"id": "77", "username": "late_author", "name": "Late"}
    records[0]["at"] = 0.0
    records[0]["tweet"]["text"] = "@Uppolice first"
    records[0]["tweet"]["entities"] = {"mentions": [{"start": 0, "end": 9, "username": "Uppolice"}]}
    records[0]["tweet"].pop("referenced_tweets", None)
    records[0]["author"] = {"id": "78", "username": "early_author", "name": "Early"}
    scenario = write_scenario(tmp_path / "s.jsonl", [*records, late])
    report, status = run_demo(
        DemoOptions(scenario=scenario, quiet=True, settle_minutes=3, grace_s=3, log_dir=tmp_path / "logs")
    )
    # Then the ground truth notices the lost tweet
    assert report["tweets"]["lost"] == 1
    assert status == 1


def test_bad_scenario_lines_are_rejected_with_their_line_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"at": 1, "tweet": {"id": "1", "text": "x"}, "author": {"id": "2", "username": "a", "name": "A"}}\n'
        '{"at": 2, "tweet": {"text": "no id"}, "author": {}}\n'
    )
    with pytest.raises(ScenarioError, match=r"bad.jsonl:2"):
        load_scenario(path)


def test_bundled_demo_routes_and_numbers_every_complaint(tmp_path):
    report, status = run_demo(DemoOptions(quiet=True, log_dir=tmp_path / "logs"))
    c = report["complaints"]
    assert status == 0
    assert c["routed"] > 50 and c["noise"] > 5 and c["attached"] > 0
    assert c["routed"] + c["noise"] + c["attached"] == c["total"] and c["unrouted"] == 0
    assert c["duplicate_references"] == 0
    assert set(c["by_priority"]) == {"P1", "P2", "P3"}
    assert report["routed_sample"][0]["priority"] == "P1"
    assert report["latency_s"]["ingested_to_routed"]["max"] > 0
    # and every routed complaint's officers were notified once, by registered DLT templates
    n = report["notifications"]
    assert c["notified"] == c["routed"]
    assert n["sms"] >= c["routed"] and n["email"] >= c["routed"] and n["sos"] == c["by_priority"]["P1"]
    assert n["duplicates"] == 0
    assert n["sms_not_matching_a_registered_template"] == 0 and n["sms_without_dlt_attributes"] == 0
    # and every routed complaint got exactly one reply on X
    r = report["replies"]
    assert r["posted"] == c["replied"] == c["routed"] and r["duplicates"] == 0
    assert r["unanswered"] == r["pending"] == r["refused_by_x_rate_limit"] == 0
    assert report["latency_s"]["ingested_to_replied"]["p50"] > 0


def test_a_poison_record_goes_to_the_on_failure_queue_without_blocking_the_shard(tmp_path):
    import os
    from datetime import UTC, datetime

    from seva.dal.complaints import DynamoComplaintStore
    from seva.tweets import TweetEnvelope
    from sevalocal.demo import LocalCloud

    scenario = write_scenario(tmp_path / "empty.jsonl", [])
    cloud = LocalCloud(DemoOptions(scenario=scenario, quiet=True, log_dir=tmp_path / "logs"))
    try:
        cloud.emulator.wait_ready()
        table = cloud.deployment.tables["ComplaintsTable"]
        # Given a record the route function cannot process, followed by a good complaint
        cloud.ddb.put_item(
            TableName=table, Item={"tweet_id": {"S": "poison"}, "status": {"S": "RECEIVED"}, "raw": {"S": "not json"}}
        )
        os.environ["AWS_ENDPOINT_URL"] = cloud.aws.url
        envelope = TweetEnvelope(
            {"id": "77", "text": "@agrapolice bike stolen in Tajganj", "author_id": "5"},
            {"id": "5", "username": "c", "name": "C"},
        )
        DynamoComplaintStore(table, "ap-south-1").add(envelope, ["agrapolice"], datetime.now(UTC))

        def settled() -> bool:
            good = cloud.ddb.get_item(TableName=table, Key={"tweet_id": {"S": "77"}})["Item"]
            return good["status"]["S"] == "ROUTED" and cloud.dlq_depth() == 1

        # When the emulator runs the stream mapping (bisect, 3 retries, on-failure destination)
        assert cloud.emulator.run_until(settled, timeout=60)
        # Then the poison record is in the route function's failure queue, and the good one was routed
        queue = cloud.deployment.queues["RouteFailureQueue"]
        body = json.loads(cloud.sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
        # (the range starts at the poison record; records after it in that batch were processed already)
        assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert body["DDBStreamBatchInfo"]["batchSize"] >= 1
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        cloud.close()

"""`seva demo` end to end on the local cloud: real handlers, real HTTP, ground-truth report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from seva.querypack import RESPONSES, pack_queries
from sevalocal.cli import main as seva
from sevalocal.demo import DemoOptions, run_demo
from sevalocal.scenario import ScenarioError, load_scenario
from sevalocal.scenario_gen import generate

HANDLES = Path(__file__).parents[2] / "infra" / "data" / "handles.json"
REPORT_KEYS = {
    "tweets",
    "complaints",
    "notifications",
    "replies",
    "dlq",
    "x_requests",
    "aws_requests",
    "cost_usd_per_1000_complaints",
    "latency_s",
    "wall_s",
    "verdict",
    "drained",
}


def write_scenario(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_bundled_demo_ingests_routes_notifies_and_answers_every_complaint(tmp_path, capsys):
    # When `seva demo` runs the bundled scenario
    status = seva(["demo", "--report", str(tmp_path / "report.json")])
    report = json.loads((tmp_path / "report.json").read_text())
    # Then it exits 0 with nothing lost and nothing doubled, from ground truth
    assert status == 0, _why(report)
    assert set(report) >= REPORT_KEYS
    tweets = report["tweets"]
    assert tweets["published"] == 184 and tweets["matching"] > 100
    assert tweets["ingested"] == tweets["matching"] and tweets["lost"] == 0 and tweets["unexpected"] == 0
    assert report["complaints"]["duplicates"] == 0
    # And every poll cycle made the minimum of search requests: 5 mention queries for 122 handles, no extra page,
    # plus the queries for the handles' own replies (first responses) once an invocation
    handles = [h["username"] for h in json.loads(HANDLES.read_text())["handles"]]
    mentions, responses = len(pack_queries(handles)), len(pack_queries(handles, kind=RESPONSES))
    assert mentions == 5 and report["poll"]["cycles"] > 0
    assert set(report["poll"]["cycles_detail"]) <= {0, mentions, mentions + responses}
    assert report["x_requests"]["GET /2/tweets/search/recent"] >= sum(report["poll"]["cycles_detail"])
    # And every complaint was routed and numbered; follow-ups attached
    c = report["complaints"]
    assert c["routed"] > 50 and c["noise"] > 5 and c["attached"] >= 6
    assert c["routed"] + c["noise"] + c["attached"] == c["total"] and c["unrouted"] == 0
    assert c["duplicate_references"] == 0 and set(c["by_priority"]) == {"P1", "P2", "P3"}
    assert report["routed_sample"][0]["priority"] == "P1"
    # And every officer the directory names was told (SMS, email, SOS), once, by registered DLT templates; the
    # flooding citizen's routine complaints went past the hourly limit as one digest per officer, never a P1
    n = report["notifications"]
    assert n["missing"] == 0 and n["duplicates"] == 0 and n["guard_violations"] == 0
    assert n["held_by_guard"] > 0 and n["digest"] >= 1 and n["followup"] > 0
    assert n["sos"] == c["by_priority"]["P1"]
    assert n["sms_not_matching_a_registered_template"] == 0
    # And the simulated officers' work is in the lifecycle: every state as they left it, every step audited
    lc = report["lifecycle"]
    assert lc["audit_missing"] == 0 and lc["state_mismatches"] == 0
    assert lc["officer_actions"] > 50 and lc["previews"] > 0
    assert lc["by_state"].get("RESOLVED", 0) > 0 and lc["by_state"].get("ROUTED", 0) > 0  # some never act
    assert set(lc["median_ack_s_by_priority"]) == {"P1", "P2", "P3"}
    # And the SLA clocks acted as the ground truth says: overdue complaints escalated once per level, never one
    # acknowledged in time; every escalated officer told; citizens' answers reopened or closed, silence closed
    assert lc["escalated"] > 0 and lc["escalations_expected"] > 0 and lc["escalations_wrong"] == 0
    assert lc["escalation_messages_missing"] == 0
    assert lc["resolution_replies"] > 0 and lc["reopened"] > 0 and sum(lc["closed"].values()) > 0
    assert lc["closing_wrong"] == 0
    # And every citizen was answered once on X
    r = report["replies"]
    assert r["acknowledgements"] == c["routed"] and r["duplicates"] == 0 and r["unanswered"] == 0
    assert set(report["latency_s"]["by_priority"]) == {"P1", "P2", "P3"}
    out = capsys.readouterr().out
    assert "Summary" in out and "OK: nothing lost" in out


@pytest.mark.parametrize("seed", [7])
def test_demo_with_faults_loses_nothing_doubles_nothing_and_tells_every_officer(tmp_path, seed):
    # Given 100+ tweets with SOS, threads whose follow-ups raise the priority or name the district, and one
    # citizen sending 12 complaints in a minute; 20% of X and AWS calls and invocations failing
    records = generate(tweets=100, minutes=3, seed=seed, escalations=4, flood=12)
    scenario = write_scenario(tmp_path / "s.jsonl", records)
    report, status = run_demo(
        # Intake and delivery under faults, alone (nothing else sends or posts); the officers' side under the
        # same faults is the next test
        DemoOptions(
            scenario=scenario,
            faults=0.2,
            seed=seed,
            quiet=True,
            log_dir=tmp_path / "logs",
            officers_act=False,
            sla_minutes={k: 10_000.0 for k in DemoOptions().sla_minutes},
        )
    )
    # Then it exits 0: nothing lost or doubled, every delivery the directory calls for was accepted by SNS
    assert status == 0, _why(report)
    assert report["tweets"]["lost"] == 0 and report["tweets"]["ingested"] == report["tweets"]["matching"]
    assert report["complaints"]["duplicates"] == report["complaints"]["duplicate_references"] == 0
    n, r = report["notifications"], report["replies"]
    assert n["missing"] == 0 and n["duplicates"] == 0 and n["guard_violations"] == 0
    assert r["unanswered"] == 0 and r["duplicates"] == 0
    assert report["complaints"]["unrouted"] == 0
    # And the faults that matter were there: SNS outages beyond the SDK's retries, X 429/503/401/mangled
    # answers, crashes right after a request, timeouts in the middle of a batch
    injected = report["faults_injected"]
    assert injected.get("aws_outage_sns", 0) > 0
    assert all(injected.get(k, 0) > 0 for k in ("x_429", "x_503", "crash"))
    assert injected.get("x_401", 0) + injected.get("x_malformed", 0) > 0


@pytest.mark.timeout(1500)  # the drain budget grows with the fault rate (≈ 13 minutes here); runs take ≈ 8
def test_demo_with_faults_and_officers_acting_records_every_step_as_it_happened(tmp_path):
    # Given the fault demo's scenario (SOS, escalating threads, a citizen sending 12 complaints in a minute) with
    # 20% of X and AWS calls and invocations failing, and officers, citizens and SLA clocks acting on it
    records = generate(tweets=100, minutes=3, seed=11, escalations=4, flood=12)
    scenario = write_scenario(tmp_path / "s.jsonl", records)
    report, status = run_demo(
        DemoOptions(scenario=scenario, faults=0.2, seed=11, quiet=True, log_dir=tmp_path / "logs", officers_act=True)
    )
    # Then it exits 0: nothing lost or doubled, every officer told, every citizen answered
    assert status == 0, _why(report)
    n, r = report["notifications"], report["replies"]
    assert n["missing"] == 0 and n["duplicates"] == 0 and n["guard_violations"] == 0
    assert r["unanswered"] == 0 and r["duplicates"] == 0 and report["complaints"]["unrouted"] == 0
    # And every officer's step is in the audit trail, every complaint in the state its officers and citizens
    # left it, every escalation and closing as the ground truth says
    lc = report["lifecycle"]
    assert lc["officer_actions"] > 50 and lc["audit_missing"] == 0 and lc["state_mismatches"] == 0
    assert lc["escalated"] > 0 and lc["escalations_wrong"] == 0 and lc["escalation_messages_missing"] == 0
    assert lc["reopened"] > 0 and sum(lc["closed"].values()) > 0 and lc["closing_wrong"] == 0
    assert report["faults_injected"].get("crash", 0) > 0 and report["faults_injected"].get("aws_outage_sns", 0) > 0


def test_demo_reports_a_lost_tweet_and_exits_nonzero(tmp_path):
    # Given a tweet X indexes ten minutes after it was posted (far beyond the poller's settle lag)
    records = generate(tweets=10, minutes=2, seed=1)
    late = json.loads(json.dumps(records[0]))
    late["tweet"]["id"] = str(int(records[-1]["tweet"]["id"]) + 1)
    late["tweet"]["text"] = "@Uppolice indexed very late"
    late["tweet"]["entities"] = {"mentions": [{"start": 0, "end": 9, "username": "Uppolice"}]}
    late["tweet"].pop("referenced_tweets", None)
    late["author"] = {"id": "77", "username": "late_author", "name": "Late"}
    late["at"], late["indexed_after"] = 30.0, 600.0
    scenario = write_scenario(tmp_path / "s.jsonl", [*records, late])
    report, status = run_demo(DemoOptions(scenario=scenario, quiet=True, grace_s=5, log_dir=tmp_path / "logs"))
    # Then the ground truth notices the lost tweet and the verdict names it
    assert report["tweets"]["lost"] == 1 and status == 1
    assert report["verdict"].startswith("FAILED: 1 matching tweets lost")


def test_work_left_undone_when_the_budget_runs_out_fails_the_demo(tmp_path):
    # Given X refusing every handle's credentials (no citizen can be answered)
    scenario = write_scenario(tmp_path / "s.jsonl", generate(tweets=12, minutes=1, seed=3))
    report, status = run_demo(
        DemoOptions(scenario=scenario, quiet=True, grace_s=5, log_dir=tmp_path / "logs", x_users={})
    )
    # Then the demo does not say OK: citizens went unanswered and the drain budget ran out
    assert status == 1
    assert report["replies"]["unanswered"] > 0 and not report["drained"]
    assert "citizens unanswered" in report["verdict"] and "drain budget ran out" in report["verdict"]


def test_bad_scenario_lines_are_rejected_with_their_line_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"at": 1, "tweet": {"id": "1", "text": "x"}, "author": {"id": "2", "username": "a", "name": "A"}}\n'
        '{"at": 2, "tweet": {"text": "no id"}, "author": {}}\n'
    )
    with pytest.raises(ScenarioError, match=r"bad.jsonl:2"):
        load_scenario(path)


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

        queue = cloud.deployment.queues["RouteFailureQueue"]

        def settled() -> bool:
            # this queue's own depth: the good complaint's reply may fail into another failure queue meanwhile
            # (tweet 77 is not on the fake X), which the demo's total DLQ count would mistake for the poison
            good = cloud.ddb.get_item(TableName=table, Key={"tweet_id": {"S": "77"}})["Item"]
            depth = cloud.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
            return good["status"]["S"] == "ROUTED" and depth["Attributes"]["ApproximateNumberOfMessages"] == "1"

        # When the emulator runs the stream mapping (bisect, 10 retries, on-failure destination)
        assert cloud.emulator.run_until(settled, timeout=120)
        # Then the poison record is in the route function's failure queue, and the good one was routed
        body = json.loads(cloud.sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
        # (the range starts at the poison record; records after it in that batch were processed already)
        assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert body["DDBStreamBatchInfo"]["batchSize"] >= 1
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        cloud.close()


def _why(report: dict) -> str:
    """What a failing demo's report says about it (the report file is gone with the CI machine)."""
    n, lc = report["notifications"], report.get("lifecycle") or {}
    keep = {
        "verdict": report["verdict"],
        "waiting_on": report.get("waiting_on"),
        "duplicate_sample": n.get("duplicate_sample"),
        "missing_detail": n.get("missing_detail"),
        "slowest_publish_s": n.get("slowest_publish_s"),
        "duplicate_detail": n.get("duplicate_detail"),
        "crashes_after_a_publish": n.get("crashes_after_a_publish"),
        "duplicate_references": report["complaints"].get("duplicate_references"),
        "unanswered": report["replies"].get("unanswered_detail"),
        "faults": report.get("faults_injected"),
        "longest_ms": {k: v for k, v in report.get("functions", {}).items() if "longest" in k or "timeouts" in k},
        "lifecycle_wrong": {k: lc.get(k) for k in lc if k.endswith("_sample") and lc.get(k)},
    }
    return json.dumps(keep, ensure_ascii=False, default=str)[:6000]

"""Signals for the operators, read from template.yaml (run by `make lint`).

Given the template, then every failure queue and DLQ has a depth alarm, every lane queue an age alarm, every
function error and throttle alarms and a log group with retention, each alarm on an app metric names a metric the
code emits, every alarm reaches the ops topic, the dashboard is JSON that shows every alarm, and SMS may only go to
India.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.policy.test_iam import FUNCTIONS, RESOURCES, TEMPLATE, as_list

ROOT = Path(__file__).resolve().parents[2]
# Metrics an alarm watches before any code emits them (none now; the SLA function emits SlaBreached)
PENDING_METRICS: set[str] = set()

ALARMS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def getatt(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        a, b = target if isinstance(target, list) else target.split(".", 1)
        return a, b
    return None


def ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def alarms_on(metric: str, dimension_value: Any) -> list[dict[str, Any]]:
    return [
        a
        for a in ALARMS.values()
        if a.get("MetricName") == metric and any(d["Value"] == dimension_value for d in a.get("Dimensions") or [])
    ]


def failure_queues() -> set[str]:
    """Queues that hold what finally failed: redrive targets, on-failure destinations, pipe DLQs, the queues the
    functions send failures to."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                att = getatt(v) if k in ("deadLetterTargetArn", "Destination", "Arn") else None
                if (
                    att
                    and RESOURCES[att[0]]["Type"] == "AWS::SQS::Queue"
                    and key in ("RedrivePolicy", "OnFailure", "DLC")
                ):
                    found.add(att[0])
                walk(v, "DLC" if k == "DeadLetterConfig" else k if k in ("RedrivePolicy", "OnFailure") else key)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(RESOURCES)
    for res in RESOURCES.values():
        env = ((res.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        found |= {ref(v) for k, v in env.items() if k.endswith("_FAILURE_QUEUE_URL") and ref(v)}  # type: ignore[misc]
    return found


def test_the_failure_queues_are_found() -> None:
    # Guards the walk above: these exist today, and each must keep an alarm
    assert {"PollFailureQueue", "RouteFailureQueue", "NotifyFailureQueue", "ReplyFailureQueue"} <= failure_queues()
    assert {"LifecyclePipeDLQ", "NotifyP1DLQ", "NotifyDLQ", "ReplyP1DLQ", "ReplyDLQ"} <= failure_queues()


@pytest.mark.parametrize("queue", sorted(failure_queues()))
def test_every_failure_queue_alarms_on_its_first_message(queue: str) -> None:
    (alarm,) = alarms_on("ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": [queue, "QueueName"]})
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize(
    "queue", sorted(k for k, v in RESOURCES.items() if (v.get("Properties") or {}).get("RedrivePolicy"))
)
def test_every_lane_queue_alarms_on_its_oldest_message(queue: str) -> None:
    assert alarms_on("ApproximateAgeOfOldestMessage", {"Fn::GetAtt": [queue, "QueueName"]})


def test_the_stream_consumer_alarms_on_its_iterator_age() -> None:
    assert alarms_on("IteratorAge", {"Ref": "RouteFunction"})


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_alarms_on_errors_and_throttles(function: str) -> None:
    assert alarms_on("Errors", {"Ref": function}) and alarms_on("Throttles", {"Ref": function})


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_logs_to_a_log_group_with_retention(function: str) -> None:
    group = ref(RESOURCES[function]["Properties"]["LoggingConfig"]["LogGroup"])
    assert group and RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_log_group_has_retention() -> None:
    groups = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::Logs::LogGroup"]
    assert groups and all(g.get("RetentionInDays") for g in groups)


def emitted_metric_names() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "functions").rglob("*.py"))


@pytest.mark.parametrize("alarm", sorted(k for k, v in ALARMS.items() if v.get("Namespace") == "Seva"))
def test_app_metric_alarms_name_a_metric_the_code_emits(alarm: str) -> None:
    props = ALARMS[alarm]
    name = props["MetricName"]
    assert props["Dimensions"] == [{"Name": "service", "Value": "seva"}]  # powertools adds service=<service name>
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "seva"
    code = emitted_metric_names()
    prefix, _, suffix = name.partition("_")
    emitted = f'"{name}"' in code or (suffix and re.search(rf'f"{prefix}_\{{', code) is not None)
    if name in PENDING_METRICS:
        assert not emitted, f"{name} is emitted now: take it off PENDING_METRICS"
    else:
        assert emitted, f"{alarm}: no code emits {name}"


def test_every_alarm_notifies_the_operators() -> None:
    assert len(ALARMS) >= 30
    for name, props in ALARMS.items():
        assert {"Ref": "OpsTopic"} in as_list(props.get("AlarmActions")), name
    sub = RESOURCES["OpsEmail"]
    assert sub["Condition"] == "HasOperatorEmail" and sub["Properties"]["Endpoint"] == {"Ref": "OperatorEmail"}


def test_sms_spend_alarm_uses_the_parameter() -> None:
    (alarm,) = [a for a in ALARMS.values() if a["MetricName"] == "SMSMonthToDateSpentUSD"]
    assert alarm["Namespace"] == "AWS/SNS" and alarm["Threshold"] == {"Ref": "SmsSpendAlarmUsd"}


def test_the_dashboard_is_json_and_shows_every_alarm() -> None:
    (dashboard,) = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::CloudWatch::Dashboard"]
    body = dashboard["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}]+)\}", body))
    for name in names:
        logical = name.split(".")[0]
        assert logical.startswith("AWS::") or logical in RESOURCES, name
    parsed = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    (alarm_widget,) = [w for w in parsed["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(ALARMS)
    assert {f"{a}.Arn" for a in ALARMS} <= names


def test_sms_can_only_go_to_india() -> None:
    import phonenumbers

    (config,) = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::SMSVOICE::ProtectConfiguration"]
    rules = {r["CountryCode"]: r["ProtectStatus"] for r in config["CountryRuleSet"]["SMS"]}
    assert rules.pop("IN") == "ALLOW"
    assert set(rules.values()) == {"BLOCK"}
    assert set(rules) == {r for r in phonenumbers.SUPPORTED_REGIONS if r != "IN"}

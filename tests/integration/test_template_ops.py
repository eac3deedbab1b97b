"""The template's operator signals, deployed to the local cloud by the emulator (which reads template.yaml)."""

from __future__ import annotations

import json

import boto3


def client(service: str, url: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=url, region_name="ap-south-1")


def test_deployed_stack_has_alarms_log_groups_and_a_dashboard(stack, aws_url) -> None:
    # Given the template deployed by the emulator
    cloudwatch, logs = client("cloudwatch", aws_url), client("logs", aws_url)
    # When the local cloud is asked what it holds
    alarms = {
        a["AlarmName"]: a
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"{stack.stack}-")
        for a in page["MetricAlarms"]
    }
    groups = {
        g["logGroupName"]: g
        for g in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{stack.stack}-")["logGroups"]
    }
    dashboard = cloudwatch.get_dashboard(DashboardName=f"{stack.stack}-ops")
    # Then each failure queue has its depth alarm, on the queue's real name, to the ops topic
    depth = alarms[f"{stack.stack}-RouteFailureQueueDepth"]
    assert depth["Dimensions"] == [{"Name": "QueueName", "Value": f"{stack.stack}-route-failures"}]
    assert depth["AlarmActions"] == [stack.topics["OpsTopic"]]
    assert len(alarms) >= 30
    # and every function its log group with the retention parameter's default
    assert {f"/aws/lambda/{stack.stack}-{f}" for f in ("poll", "route", "notify", "reply", "api")} <= set(groups)
    assert {g["retentionInDays"] for g in groups.values()} == {int(stack.parameters["LogRetentionDays"])}
    # and the dashboard names the stack's own resources
    body = json.loads(dashboard["DashboardBody"])
    assert f"{stack.stack}-PollFunction" in json.dumps(body)


def test_routes_get_the_apis_default_authorizer_unless_they_say_none(stack) -> None:
    # Given the template's HTTP API (DefaultAuthorizer OfficersJwt; the public routes say Authorizer: NONE)
    (api,) = stack.http_apis.values()
    # Then the emulator authenticates exactly the officers' routes
    assert api.default_authorizer == "OfficersJwt"
    auth = {f"{r.method} {r.path}": r.authorizer for r in api.routes}
    assert {k for k, v in auth.items() if v is None} == {
        "GET /a/{token}",
        "POST /a/{token}",
        "GET /public/complaints/{reference}",
    }
    assert {v for v in auth.values() if v is not None} == {"OfficersJwt"}

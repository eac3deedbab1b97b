"""Least privilege, read straight from template.yaml (run by `make lint`).

Given the template, when every IAM statement is read, then no action or resource is a wildcard where a narrower
one exists, every function has a role of its own (SAM's generated roles carry AWS managed policies on "*"), and
each function may do on each table exactly what its code does (reviewed from seva/dal, listed below), with its
state-table key prefixes pinned by ``dynamodb:LeadingKeys``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Actions that have no resource-level permissions in IAM: "*" is the narrowest resource there is.
NO_RESOURCE_LEVEL = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
# SMS to a phone number has no ARN: sns:Publish outside any topic is granted with NotResource on topic ARNs
# (countries are limited by the SMS protect configuration and by the officer directory's validation).
SMS_SID = "SmsToPhoneNumbers"
NEVER = frozenset({"dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DeleteTable"})

# What each function's code does on each table (from seva/dal and the service wiring in seva/bootstrap.py).
# PynamoDB: get/refresh -> GetItem, save -> PutItem, update -> UpdateItem, delete -> DeleteItem, query/count ->
# Query; a TransactWrite needs the action of each of its items. "<Table>/<index>" is a GSI.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "PollFunction": {
        "ComplaintsTable": {"PutItem"},  # DynamoComplaintStore.add
        "StateTable": {"GetItem", "PutItem", "UpdateItem", "Query"},  # DynamoCursorStore
    },
    "RouteFunction": {
        "ComplaintsTable": {"GetItem", "UpdateItem"},  # get, write (transaction)
        "ComplaintsTable/by_conversation": {"Query"},  # in_conversation
        "AuditTable": {"PutItem"},  # write's audit events
        "StateTable": {"UpdateItem", "PutItem", "Query"},  # reference counter, reply outbox, replies.posted
    },
    "RouteExpressFunction": {  # the same routing, for the SOS the poller sends ahead
        "ComplaintsTable": {"GetItem", "UpdateItem"},
        "ComplaintsTable/by_conversation": {"Query"},
        "AuditTable": {"PutItem"},
        "StateTable": {"UpdateItem", "PutItem", "Query"},
    },
    "NotifyFunction": {
        "ComplaintsTable": {"GetItem", "UpdateItem"},  # get, set_notified
        "AuditTable": {"PutItem"},  # ledger.complete's delivery event
        "StateTable": {"GetItem", "PutItem", "UpdateItem"},  # DynamoLeases, DynamoAuthorGuard
        "OfficersTable": {"Query"},  # for_district
    },
    "ReplyFunction": {
        "ComplaintsTable": {"GetItem", "UpdateItem"},  # get, replied/_outcome
        "AuditTable": {"PutItem"},  # replied's event
        "StateTable": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},  # DynamoReplyRepo, budget
    },
    "SlaFunction": {
        "ComplaintsTable": {"GetItem", "UpdateItem"},  # get, retime, apply
        "ComplaintsTable/by_clock": {"Query"},  # due
        "AuditTable": {"PutItem"},  # apply's audit events
        "OfficersTable": {"Query"},  # the district's escalation chain
    },
    "FiguresFunction": {
        "ComplaintsTable": {"GetItem"},  # get (the event's category)
        "AuditTable": {"Query"},  # events (the trail a deadline is recomputed from)
        # add (one transaction: the seen marker, the ADDs, a label), district_rows (the public snapshot)
        "FiguresTable": {"PutItem", "UpdateItem", "Query"},
    },
    "ApiFunction": {
        "ComplaintsTable": {"GetItem", "UpdateItem"},  # get, write
        "ComplaintsTable/by_queue": {"Query"},  # a district's live queue
        "ComplaintsTable/by_reference": {"Query"},
        "ComplaintsTable/by_status": {"Query"},  # in_status: the state's live queue, review queue, CSV export
        "AuditTable": {"PutItem", "Query"},  # write, events
        "StateTable": {"UpdateItem"},  # reference counter (reopen of a noise item)
        "OfficersTable": {"Query"},
        "FiguresTable": {"Query"},  # DynamoFigures.rows, district_rows, labels (the dashboard's figures, exports)
    },
}
# The state table is shared: each function only under its own key prefixes (seva/dal: cursors, ledger, replies).
LEADING_KEYS: dict[str, set[str]] = {
    "PollFunction": {"cursor#search", "gap#search", "ratelimit"},
    "RouteFunction": {"counter#reference", "reply#*"},
    "RouteExpressFunction": {"counter#reference", "reply#*"},
    "NotifyFunction": {"notify#*", "sms#author"},
    "ReplyFunction": {"reply#*", "xbudget"},
    "ApiFunction": {"counter#reference"},
}


def load() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return json.loads(json.dumps(cfn_yaml.load(str(ROOT / "template.yaml"))))


TEMPLATE = load()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = sorted(k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(doc: Any) -> list[dict[str, Any]]:
    return [s for s in as_list((doc or {}).get("Statement") or []) if isinstance(s, dict)]


def all_statements() -> list[tuple[str, dict[str, Any]]]:
    """Every permission statement in the template (identity and resource policies; trust policies aside)."""
    out = []
    for logical, res in RESOURCES.items():
        props = res.get("Properties") or {}
        kind = res["Type"]
        if kind == "AWS::IAM::Role":
            for policy in props.get("Policies") or []:
                out += [(logical, s) for s in statements(policy.get("PolicyDocument"))]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            out += [(logical, s) for s in statements(props.get("PolicyDocument"))]
        elif kind == "AWS::Serverless::Function":
            for policy in as_list(props.get("Policies") or []):
                if isinstance(policy, dict) and "Statement" in policy:
                    out += [(logical, s) for s in statements(policy)]
    return out


def literal_strings(value: Any) -> list[str]:
    """The literal text of a resource: a plain string, or the template of a !Sub."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return [sub if isinstance(sub, str) else sub[0]]
    if isinstance(value, list):
        return [s for v in value for s in literal_strings(v)]
    return []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_its_own_role_and_no_sam_policy_templates(function: str) -> None:
    # Without Role SAM generates one with AWSLambdaBasicExecutionRole, AWSLambdaDynamoDBExecutionRole,
    # AWSLambdaSQSQueueExecutionRole (all on "*"), and templates like DynamoDBCrudPolicy grant Scan/Delete/BatchWrite.
    props = RESOURCES[function]["Properties"]
    assert "Role" in props, f"{function}: no Role (SAM would attach managed policies on Resource '*')"
    assert not props.get("Policies"), f"{function}: Policies (SAM templates/managed policies) next to its Role"


def test_no_wildcard_action() -> None:
    bad = [
        (logical, action)
        for logical, s in all_statements()
        for action in as_list(s.get("Action") or [])
        if isinstance(action, str) and "*" in action
    ]
    bad += [(logical, "NotAction") for logical, s in all_statements() if "NotAction" in s]
    assert not bad, f"wildcard actions: {bad}"


def test_no_wildcard_resource_where_a_narrower_one_exists() -> None:
    bad = []
    for logical, s in all_statements():
        if s.get("Effect") != "Allow":
            continue
        actions = set(as_list(s.get("Action") or []))
        if "NotResource" in s:
            if not (s.get("Sid") == SMS_SID and actions == {"sns:Publish"}):
                bad.append((logical, s.get("Sid"), "NotResource"))
            continue
        for text in literal_strings(s.get("Resource")):
            if text == "*":
                if not actions <= NO_RESOURCE_LEVEL:
                    bad.append((logical, s.get("Sid"), sorted(actions - NO_RESOURCE_LEVEL)))
            elif "*" in text.split("/", 1)[0]:  # a wildcard service, region, account or resource type
                bad.append((logical, s.get("Sid"), text))
    assert not bad, f"wildcard resources where a narrower one exists: {bad}"


def role_of(function: str) -> str:
    role = RESOURCES[function]["Properties"].get("Role")
    if not (isinstance(role, dict) and "Fn::GetAtt" in role):
        pytest.fail(f"{function}: Role is not !GetAtt <role>.Arn of a role in this template")
    target = role["Fn::GetAtt"]
    return (target if isinstance(target, list) else target.split("."))[0]


def table_target(resource: Any) -> str | None:
    """ComplaintsTable for !GetAtt ComplaintsTable.Arn, ComplaintsTable/by_queue for its index."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        logical, attr = (
            resource["Fn::GetAtt"]
            if isinstance(resource["Fn::GetAtt"], list)
            else (resource["Fn::GetAtt"].split(".", 1))
        )
        return logical if attr == "Arn" and RESOURCES[logical]["Type"] == "AWS::DynamoDB::Table" else None
    for text in literal_strings(resource):
        if text.startswith("${") and ".Arn}/index/" in text:
            return text[2:].split(".Arn}", 1)[0] + "/" + text.split("/index/", 1)[1]
    return None


def dynamodb_grants(function: str) -> tuple[dict[str, set[str]], dict[str, list[Any]]]:
    grants: dict[str, set[str]] = defaultdict(set)
    conditions: dict[str, list[Any]] = defaultdict(list)
    props = RESOURCES[role_of(function)]["Properties"]
    for policy in props.get("Policies") or []:
        for s in statements(policy["PolicyDocument"]):
            actions = [a for a in as_list(s.get("Action") or []) if a.startswith("dynamodb:")]
            item_actions = [a for a in actions if a.split(":")[1] not in STREAM_ACTIONS]
            if not item_actions:
                continue
            for resource in as_list(s.get("Resource")):
                target = table_target(resource)
                assert target, f"{function}: dynamodb actions on {resource!r}, not a table of this template"
                grants[target] |= {a.split(":")[1] for a in item_actions}
                conditions[target].append(s.get("Condition"))
    return grants, conditions


STREAM_ACTIONS = {"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"}


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_function_may_do_on_each_table_what_its_code_does(function: str) -> None:
    grants, _ = dynamodb_grants(function)
    assert dict(grants) == EXPECTED[function]
    assert not {f"dynamodb:{a}" for actions in grants.values() for a in actions} & NEVER


@pytest.mark.parametrize("function", sorted(LEADING_KEYS))
def test_state_table_only_under_the_function_key_prefixes(function: str) -> None:
    _, conditions = dynamodb_grants(function)
    for condition in conditions["StateTable"]:
        keys = ((condition or {}).get("ForAllValues:StringLike") or {}).get("dynamodb:LeadingKeys")
        assert keys is not None, f"{function}: a StateTable grant without a dynamodb:LeadingKeys condition"
        assert set(as_list(keys)) == LEADING_KEYS[function]


def test_every_function_in_the_expectations() -> None:
    assert set(FUNCTIONS) == set(EXPECTED)


def test_routes_are_authenticated_unless_they_say_none() -> None:
    # SAM accepts Authorizer: NONE only when the API has a DefaultAuthorizer (else the transform fails at deploy);
    # with one, a route that forgets its Auth is authenticated rather than public.
    for logical, res in RESOURCES.items():
        if res["Type"] != "AWS::Serverless::HttpApi":
            continue
        default = res["Properties"]["Auth"].get("DefaultAuthorizer")
        assert default in res["Properties"]["Auth"]["Authorizers"], f"{logical}: no DefaultAuthorizer"

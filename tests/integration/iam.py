"""Every AWS call a handler makes, checked against its role in template.yaml (the local cloud enforces no IAM).

While a handler runs in-process, each botocore call is recorded with the function it was made for; after the test,
each one must be allowed by an Allow statement of that function's role: the action, the resource (the table, its
index, the queue, topic, secret or S3 object ARN as deployed; an SMS has no ARN) and ``dynamodb:LeadingKeys``
conditions (the partition key values the call touches). What ``tests/policy`` reads from the template, this sees in use.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from sevalocal.template import Deployment, load_template

from tests.policy.test_iam import ROOT, as_list, statements


@dataclass
class Call:
    function: str
    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN, or "" when the request has none (an SMS)
    leading_keys: list[str] = field(default_factory=list)


class Recorder:
    def __init__(self) -> None:
        self.function: str | None = None
        self.calls: list[tuple[str, str, str, dict[str, Any]]] = []  # function, service, operation, params


def patch(monkeypatch: Any, recorder: Recorder) -> None:
    import importlib

    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if recorder.function:
            recorder.calls.append((recorder.function, client.meta.service_model.signing_name, operation, params))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    for module_name, name, logical in (
        ("poll.app", "handler", "PollFunction"),
        ("route.app", "handler", "RouteFunction"),
        ("route.app", "express_handler", "RouteExpressFunction"),
        ("notify.app", "handler", "NotifyFunction"),
        ("reply.app", "handler", "ReplyFunction"),
        ("sla.app", "handler", "SlaFunction"),
        ("figures.app", "handler", "FiguresFunction"),
        ("api.app", "handler", "ApiFunction"),
    ):
        module = importlib.import_module(module_name)
        monkeypatch.setattr(module, name, _wrap(getattr(module, name), logical, recorder))


def _wrap(handler: Any, logical: str, recorder: Recorder) -> Any:
    def wrapped(event: Any, context: Any) -> Any:
        recorder.function = logical
        try:
            return handler(event, context)
        finally:
            recorder.function = None

    return wrapped


class Policy:
    """The template's function roles, resolved against a deployment."""

    def __init__(self, stack: Deployment):
        self.stack = stack
        self.resources = load_template(ROOT / "template.yaml")["Resources"]
        self.table_logical = {name: logical for logical, name in stack.tables.items()}
        self.queue_logical = {url: logical for logical, url in stack.queues.items()}
        self.hash_keys = {
            logical: next(k["AttributeName"] for k in res["Properties"]["KeySchema"] if k["KeyType"] == "HASH")
            for logical, res in self.resources.items()
            if res["Type"] == "AWS::DynamoDB::Table"
        }

    def resolve(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return self.stack.physical[value["Ref"]]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            logical, attr = target if isinstance(target, list) else target.split(".")
            return self.stack.attributes[(logical, attr)]
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]

            def sub(m: re.Match[str]) -> str:
                name = m.group(1)
                if name == "AWS::Partition":
                    return "aws"
                if "." in name:
                    return self.stack.attributes[tuple(name.split(".", 1))]  # type: ignore[index]
                return self.stack.physical[name]

            return re.sub(r"\$\{([^}]+)\}", sub, text)
        raise ValueError(f"cannot resolve {value!r}")

    def statements(self, function: str) -> list[dict[str, Any]]:
        role = self.resources[function]["Properties"]["Role"]["Fn::GetAtt"]
        role = role[0] if isinstance(role, list) else role.split(".")[0]
        return [s for p in self.resources[role]["Properties"]["Policies"] for s in statements(p["PolicyDocument"])]

    def allowed(self, call: Call) -> bool:
        for s in self.statements(call.function):
            if s.get("Effect") != "Allow" or call.action not in as_list(s["Action"]):
                continue
            if "NotResource" in s:
                if any(fnmatch.fnmatchcase(call.resource, self.resolve(r)) for r in as_list(s["NotResource"])):
                    continue
            elif not any(fnmatch.fnmatchcase(call.resource, self.resolve(r)) for r in as_list(s["Resource"])):
                continue
            keys = ((s.get("Condition") or {}).get("ForAllValues:StringLike") or {}).get("dynamodb:LeadingKeys")
            if keys is not None and not all(
                any(fnmatch.fnmatchcase(k, pattern) for pattern in as_list(keys)) for k in call.leading_keys
            ):
                continue
            return True
        return False

    # What a request asks IAM for ------------------------------------------------------------------------------

    def calls(self, function: str, service: str, operation: str, params: dict[str, Any]) -> list[Call]:
        if service == "dynamodb" and operation == "TransactWriteItems":
            out = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind, kind + "Item")
                out += self.calls(function, service, action, body)
            return out
        if service == "dynamodb":
            table = self.table_logical[params["TableName"]]
            arn = self.stack.attributes[(table, "Arn")]
            if params.get("IndexName"):
                arn += f"/index/{params['IndexName']}"
            return [Call(function, f"dynamodb:{operation}", arn, self._leading_keys(table, params))]
        if service == "sqs":
            queue = self.queue_logical[params["QueueUrl"]]
            return [Call(function, f"sqs:{operation}", self.stack.attributes[(queue, "Arn")])]
        if service == "sns":
            return [Call(function, f"sns:{operation}", params.get("TopicArn") or params.get("TargetArn") or "")]
        if service == "s3":  # an object's ARN (the bucket's, for a request on the bucket)
            key = f"/{params['Key']}" if params.get("Key") else ""
            return [Call(function, f"s3:{operation}", f"arn:aws:s3:::{params['Bucket']}{key}")]
        if service == "secretsmanager":
            secret_id = params["SecretId"]
            arn = next((a for a in self.stack.secrets.values() if secret_id in (a, a.split(":")[-1])), secret_id)
            return [Call(function, f"secretsmanager:{operation}", arn)]
        return [Call(function, f"{service}:{operation}", "?")]

    def _leading_keys(self, table: str, params: dict[str, Any]) -> list[str]:
        hash_key = self.hash_keys[table]
        for source in ("Key", "Item"):
            if source in params:
                return [next(iter(params[source][hash_key].values()))]
        expression = params.get("KeyConditionExpression")
        if expression:
            names = params.get("ExpressionAttributeNames") or {}
            for name, value in re.findall(r"(#?\w+)\s*=\s*(:\w+)", expression):
                if names.get(name, name) == hash_key:
                    return [next(iter(params["ExpressionAttributeValues"][value].values()))]
        return []

    def denied(self, recorder: Recorder) -> list[Call]:
        out = []
        for function, service, operation, params in recorder.calls:
            out += [c for c in self.calls(function, service, operation, params) if not self.allowed(c)]
        return out

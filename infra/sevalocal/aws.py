"""AWS on loopback: a moto server behind a WSGI middleware that counts requests per ``service.Operation``
(ground truth for the demo report) and injects throttling / 5xx faults into the handlers' traffic.

The local cloud's own clients (emulator, demo) identify themselves with ``INFRA_AGENT`` in the User-Agent:
their requests are counted apart and never faulted, as AWS's own event-source pollers are not part of the
function's bill.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from typing import Any, ClassVar
from urllib.parse import parse_qs

import boto3
from botocore.config import Config

from sevalocal.faults import FaultPlan

INFRA_AGENT = "seva-localcloud"
CONTROL_PATH = "/_seva/state"
REGION = "ap-south-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_TARGET_PREFIX = {
    "DynamoDB_20120810": "dynamodb",
    "DynamoDBStreams_20120810": "dynamodbstreams",
    "secretsmanager": "secretsmanager",
    "AmazonSQS": "sqs",
}
_JSON_SERVICES = {"dynamodb", "dynamodbstreams", "secretsmanager", "sqs"}


class AwsMiddleware:
    def __init__(self, app, faults: FaultPlan):  # type: ignore[no-untyped-def]
        self.app = app
        self.faults = faults
        self.requests: Counter = Counter()
        self.infra_requests: Counter = Counter()
        self.published: list[dict] = []
        self._lock = threading.Lock()
        # moto's backends are not thread-safe (a conditional write is a read and a write): requests are
        # served one at a time, as DynamoDB applies each write to an item atomically. A long poll waits
        # outside (moto's queues have their own lock), or it would stall everything else.
        self._serial = threading.Lock()

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO", "").startswith(CONTROL_PATH):
            return self._control(environ, start_response)
        service, operation = self._identify(environ)
        infra = INFRA_AGENT in environ.get("HTTP_USER_AGENT", "")
        with self._lock:
            (self.infra_requests if infra else self.requests)[f"{service}.{operation}"] += 1
        if not infra:
            stream = f"aws:{service}"
            if self.faults.in_burst(stream):  # an outage in progress (SNS: outlasting the SDK's retries)
                self.faults.record(f"aws_outage_{service}")
                return self._error(service, False, start_response)
            fault = self.faults.draw(stream)
            if fault is not None:
                throttle = fault.random() < 0.5
                self.faults.record("aws_throttle" if throttle else "aws_5xx")
                if not throttle:
                    self.faults.burst(stream, fault)
                return self._error(service, throttle, start_response)
        if service == "sqs" and operation == "ReceiveMessage":
            return self.app(environ, start_response)
        arrived = time.time()
        with self._serial:
            if service == "sns" and operation == "Publish":
                return list(self._recording_publish(environ, start_response, arrived))
            return list(self.app(environ, start_response))

    def _recording_publish(self, environ, start_response, arrived: float):  # type: ignore[no-untyped-def]
        """Keep what SNS accepted: ground truth for notifications (phone/topic, body, attributes)."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        status: list[str] = []

        def capture(status_line, headers, exc_info=None):  # type: ignore[no-untyped-def]
            status.append(status_line)
            return start_response(status_line, headers, exc_info)

        result = self.app(environ, capture)
        if status and status[0].startswith("200"):
            attributes = {}
            for key, value in form.items():
                if key.startswith("MessageAttributes.entry.") and key.endswith(".Name"):
                    prefix = key[: -len(".Name")]
                    attributes[value] = form.get(f"{prefix}.Value.StringValue")
            with self._lock:
                self.published.append(
                    {
                        "phone": form.get("PhoneNumber"),
                        "topic": form.get("TopicArn"),
                        "message": form.get("Message", ""),
                        "subject": form.get("Subject"),
                        "attributes": attributes,
                        "at": time.time(),
                        # how long the caller waited (requests queue for moto): one that outlasts the SDK's read
                        # timeout was given up on by its sender, and may be sent again
                        "waited_s": round(time.time() - arrived, 3),
                    }
                )
        return result

    def _control(self, environ, start_response):  # type: ignore[no-untyped-def]
        """The local cloud's own view of what happened (ground truth), for a server in another process."""
        since = int(parse_qs(environ.get("QUERY_STRING", "")).get("since", ["0"])[0])
        with self._lock:
            body = json.dumps(
                {
                    "requests": dict(self.requests),
                    "infra_requests": dict(self.infra_requests),
                    "injected": dict(self.faults.injected),
                    "published": self.published[since:],
                }
            ).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _identify(environ) -> tuple[str, str]:  # type: ignore[no-untyped-def]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if "." in target:
            prefix, op = target.split(".", 1)
            return _TARGET_PREFIX.get(prefix, prefix.lower()), op
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = "unknown"
        if "Credential=" in auth:
            scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            if len(scope) >= 4:
                service = scope[3]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if not action:
            action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", ["?"])[0]
        return service, action

    @staticmethod
    def _error(service: str, throttle: bool, start_response):  # type: ignore[no-untyped-def]
        if service in _JSON_SERVICES:
            code = "ThrottlingException" if throttle else "InternalServerError"
            body = json.dumps(
                {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected fault"}
            ).encode()
            headers = [("Content-Type", "application/x-amz-json-1.0")]
        else:
            code = "Throttling" if throttle else "InternalFailure"
            kind = "Sender" if throttle else "Receiver"
            body = (
                f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected fault</Message></Error>"
                "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            ).encode()
            headers = [("Content-Type", "text/xml")]
        status = "400 Bad Request" if throttle else "500 Internal Server Error"
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


def _transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    """DynamoDB's TransactWriteItems: every condition is checked first, then every write is applied — or none.

    moto's own implementation deep-copies each table it touches for a rollback (a whole table per
    transaction: minutes once the audit trail grows) and may lose writes made meanwhile; here the requests are
    serialised (``AwsMiddleware``), so checking first and then writing is atomic."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, Any]] = []
    ops = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        unique = (op["TableName"], str(dict(sorted(key.items()))))
        if unique in seen:
            raise MultipleTransactionsException()
        seen.add(unique)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        if condition is not None:
            expression = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not expression.expr(current):
                errors.append(("ConditionalCheckFailed", "The conditional request failed", None))
                continue
        errors.append((None, None, None))
        ops.append((op_type, op, key))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for op_type, op, key in ops:
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        if op_type == "Put":
            self.put_item(
                op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
            )
        elif op_type == "Delete":
            self.delete_item(op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values)
        elif op_type == "Update":
            self.update_item(
                op["TableName"],
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=names,
                expression_attribute_values=values,
            )


PENDING = "PendingConfirmation"
EMAIL_PROTOCOLS = ("email", "email-json")


def _confirmation_required(subscribe):  # type: ignore[no-untyped-def]
    """SNS's Subscribe for an email address: the subscription waits for the owner's confirmation (the link in the
    email SNS sends; 48 hours, then it is deleted). Until then ListSubscriptions(ByTopic) show its ARN as
    ``PendingConfirmation`` and its attributes say ``PendingConfirmation: true`` (moto confirms at once)."""

    def wrapped(self, topic_arn: str, endpoint: str, protocol: str):  # type: ignore[no-untyped-def]
        known = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = subscribe(self, topic_arn, endpoint, protocol)
        if known is None and protocol in EMAIL_PROTOCOLS:
            subscription.subscription_arn = PENDING
            subscription.attributes["PendingConfirmation"] = True
        return subscription

    return wrapped


def _confirm_subscription(self):  # type: ignore[no-untyped-def]
    """ConfirmSubscription(TopicArn, Token): what the link in SNS's confirmation email does. On the local cloud
    the token is the last part of the subscription's ARN (SNS mails a random one)."""
    from moto.core.responses import ActionResult
    from moto.sns.exceptions import SNSInvalidParameter

    arn = f"{self._get_param('TopicArn')}:{self._get_param('Token')}"
    subscription = self.backend.subscriptions.get(arn)
    if subscription is None:
        raise SNSInvalidParameter("Invalid token")
    subscription.subscription_arn = subscription.arn
    subscription.attributes["PendingConfirmation"] = False
    subscription.confirmed = True
    return ActionResult({"SubscriptionArn": subscription.arn})


_WHOLE_TABLE = object()


def _query_within_scope(query):  # type: ignore[no-untyped-def]
    """Table.query, reading only what DynamoDB would: a base-table query its own partition, an index query
    every item unsorted (moto sorts the matches itself). moto builds a sorted list of the whole table for each
    query — seconds per query once the audit trail holds tens of thousands of items, which made the local cloud,
    not Seva, the bottleneck of a burst. Requests are served one at a time (``AwsMiddleware``), so the scope
    set here is the running query's."""

    def scoped(self, hash_key, *args, **kwargs):  # type: ignore[no-untyped-def]
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        self._seva_scope = _WHOLE_TABLE if index_name or hash_key is None else hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            self._seva_scope = None

    return scoped


def _items_in_scope(all_items):  # type: ignore[no-untyped-def]
    def items(self):  # type: ignore[no-untyped-def]
        scope = getattr(self, "_seva_scope", None)
        if scope is None:  # a scan or an export: moto's sorted order (its pagination relies on it)
            return all_items(self)
        if scope is _WHOLE_TABLE:
            partitions = list(self.items.values())
        else:
            partitions = [self.items[scope]] if scope in self.items else []
        if not self.range_key_attr:
            return partitions
        return [item for partition in partitions for item in partition.values()]

    return items


def _retention_check(self, queue_name: str, message) -> bool:  # type: ignore[no-untyped-def]
    """SQS's retention check, reading the queue's retention period. moto computes every queue attribute for it
    (three passes over all its messages) once per message received: quadratic in a backlog's depth."""
    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > time.time()


def _count_messages_in_one_pass(queue_class) -> None:  # type: ignore[no-untyped-def]
    """SQS's message counts with one clock reading per count. moto reads the clock twice per message, for each of
    three counts, and computes every count on each SendMessage (it looks up one attribute through all of them):
    a deep queue made each message EventBridge put on a lane cost milliseconds per message already there."""
    from moto.core.utils import unix_time_millis

    def messages(self):  # type: ignore[no-untyped-def]
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(self) -> int:  # type: ignore[no-untyped-def]
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self) -> int:  # type: ignore[no-untyped-def]
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    queue_class.messages = property(messages)
    queue_class.approximate_number_of_messages_delayed = property(delayed)
    queue_class.approximate_number_of_messages_not_visible = property(not_visible)


def _parse_each_path_once() -> None:
    """EventBridge's input paths, parsed once: moto builds a JSONPath parser (its grammar tables included) for
    each path of each target of each event."""
    import functools

    import jsonpath_ng.ext

    if not hasattr(jsonpath_ng.ext.parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def moto_app(faults: FaultPlan) -> AwsMiddleware:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.server import DomainDispatcherApplication, create_backend_app
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse
    from moto.sqs.models import Queue, SQSBackend

    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    if not getattr(Table.query, "scoped", False):
        Table.query = _query_within_scope(Table.query)  # type: ignore[method-assign]
        Table.query.scoped = True  # type: ignore[attr-defined]
        Table.all_items = _items_in_scope(Table.all_items)  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = _retention_check  # type: ignore[method-assign]
    _count_messages_in_one_pass(Queue)
    _parse_each_path_once()
    if not getattr(SNSBackend.subscribe, "confirms", False):
        SNSBackend.subscribe = _confirmation_required(SNSBackend.subscribe)  # type: ignore[method-assign]
        SNSBackend.subscribe.confirms = True  # type: ignore[attr-defined]
        SNSResponse.confirm_subscription = _confirm_subscription  # type: ignore[method-assign]

    class Dispatcher(DomainDispatcherApplication):
        """moto's dispatcher, with the host → backend lookup (a directory listing per request) cached."""

        _hosts: ClassVar[dict[str | None, Any]] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._hosts:
                self._hosts[host] = super().get_backend_for_host(host)
            return self._hosts[host]

    return AwsMiddleware(Dispatcher(create_backend_app), faults)


def infra_client(service: str, endpoint: str):  # type: ignore[no-untyped-def]
    """A boto3 client for the local cloud's own use (never faulted, counted apart)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(user_agent_extra=INFRA_AGENT, retries={"mode": "standard", "max_attempts": 5}),
        **CREDENTIALS,
    )


def _serve(conn, rate: float, seed: int) -> None:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    from sevalocal.fakex import _QuietHandler

    server = make_server("127.0.0.1", 0, moto_app(FaultPlan(rate, seed)), threaded=True, request_handler=_QuietHandler)
    conn.send(server.server_port)
    server.serve_forever()


class MotoProcess:
    """The moto server (and its fault-injecting, request-counting middleware) in a process of its own: AWS
    answers on another core than the emulator's event loop, as it would. What happened there is read over
    HTTP (``/_seva/state``): requests per operation, injected faults, what SNS accepted."""

    def __init__(self, faults: FaultPlan):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, faults.rate, faults.seed), daemon=True)
        self.process.start()
        if not parent.poll(60):
            raise RuntimeError("the moto server did not start")
        self.url = f"http://127.0.0.1:{parent.recv()}"
        self._published: list[dict] = []
        self._state: dict[str, Any] = {"requests": {}, "infra_requests": {}, "injected": {}}
        self._refreshing = threading.Lock()  # the demo's judge and the simulated officers read it from two threads

    def refresh(self) -> None:
        import urllib.request

        with self._refreshing:
            url = f"{self.url}{CONTROL_PATH}?since={len(self._published)}"
            with urllib.request.urlopen(url, timeout=30) as response:
                state = json.loads(response.read())
            self._published += state.pop("published")
            self._state = state

    @property
    def published(self) -> list[dict]:
        self.refresh()
        return self._published

    @property
    def requests(self) -> Counter:
        self.refresh()
        return Counter(self._state["requests"])

    @property
    def injected(self) -> Counter:
        self.refresh()
        return Counter(self._state["injected"])

    def close(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)

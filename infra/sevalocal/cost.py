"""What a run cost, per 1,000 complaints, at list prices (``infra/data/prices.json``: every price, its source
and the date it was read). Pure: ``cost_per_1000_complaints`` takes counts and prices and returns dollars;
``Usage`` is filled from ground truth by the demo (posts the fake X returned and received, SMS segments SNS
accepted, the handlers' AWS calls, the emulator's invocations and events)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRICES = Path(__file__).resolve().parents[1] / "data" / "prices.json"


def load_prices(path: str | Path = PRICES) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Usage:
    complaints: int  # complaints routed (given a reference): the denominator
    # posts returned by search, every query (response queries read Seva's and officers' posts), once a UTC day
    x_posts_read: int = 0
    x_users_read: int = 0  # users returned by user lookups
    x_posts_created: int = 0  # Seva's posts without a URL (replies)
    x_posts_created_with_url: int = 0
    sms_segments: int = 0  # message parts of every SMS SNS accepted
    sns_topic_publishes: int = 0
    sns_email_deliveries: int = 0
    aws_requests: dict[str, int] = field(default_factory=dict)  # the handlers' calls, "service.Operation" -> count
    lambda_invocations: int = 0
    pipe_events: int = 0  # events the pipe put on the bus (each a Pipes request and an EventBridge event)
    sqs_lane_requests: int = 0  # sends, receives and deletes of the lane queues


def _usd(prices: dict[str, Any], *path: str) -> float:
    node: Any = prices
    for key in path:
        node = node[key]
    return float(node["usd"])


def cost_per_1000_complaints(usage: Usage, prices: dict[str, Any]) -> dict[str, Any]:
    """Dollars per 1,000 complaints, in total and by part (x_reads, x_posts, sms, aws), and the run's totals.
    The handlers' SNS publishes are priced from what SNS accepted (SMS by segment, topic publishes, email
    deliveries), not again as requests; an AWS operation with no price is listed under ``unpriced``."""
    aws = prices["aws"]
    units = aws["dynamodb_units_per_request"]
    wru, rru = _usd(prices, "aws", "dynamodb_write_request_unit"), _usd(prices, "aws", "dynamodb_read_request_unit")
    reads = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
    requests_usd = 0.0
    unpriced: dict[str, int] = {}
    for key, count in sorted(usage.aws_requests.items()):
        service, _, operation = key.partition(".")
        if service == "dynamodb" and operation in units:
            requests_usd += count * units[operation] * (rru if operation in reads else wru)
        elif service == "dynamodb" and operation.startswith("Describe"):
            continue  # control-plane reads are not billed
        elif service == "sqs":
            requests_usd += count * _usd(prices, "aws", "sqs_request")
        elif service == "secretsmanager":
            requests_usd += count * _usd(prices, "aws", "secretsmanager_api_call")
        elif service == "sns" and operation == "Publish":
            continue  # priced below, from what SNS accepted
        else:
            unpriced[key] = count
    aws_usd = (
        requests_usd
        + usage.lambda_invocations * _usd(prices, "aws", "lambda_request")
        + usage.pipe_events * (_usd(prices, "aws", "pipes_request") + _usd(prices, "aws", "eventbridge_event"))
        + usage.sqs_lane_requests * _usd(prices, "aws", "sqs_request")
        + usage.sns_topic_publishes * _usd(prices, "aws", "sns_publish")
        + usage.sns_email_deliveries * _usd(prices, "aws", "sns_email_delivery")
    )
    parts = {
        "x_reads": usage.x_posts_read * _usd(prices, "x", "post_read")
        + usage.x_users_read * _usd(prices, "x", "user_read"),
        "x_posts": usage.x_posts_created * _usd(prices, "x", "post_create")
        + usage.x_posts_created_with_url * _usd(prices, "x", "post_create_with_url"),
        "sms": usage.sms_segments * _usd(prices, "sms", "india_dlt_segment"),
        "aws": aws_usd,
    }
    scale = 1000 / usage.complaints if usage.complaints else 0.0
    return {
        "total": round(sum(parts.values()) * scale, 6),
        **{name: round(value * scale, 6) for name, value in parts.items()},
        "run_total_usd": round(sum(parts.values()), 6),
        "complaints": usage.complaints,
        "unpriced": unpriced,
    }

"""Poll function: each scheduled invocation runs a few poll cycles, ~15 s apart, ingesting new tweets to the
registered handles."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.settings import PollSettings

logger = Logger()
metrics = Metrics()


def _log_ingested(envelope: Any) -> None:
    logger.set_correlation_id(envelope.id)
    logger.info("tweet ingested", extra={"tweet_id": envelope.id, "lang": envelope.tweet.get("lang")})


def _express_failed(tweet_id: str, exc: Exception) -> None:
    metrics.add_metric(name="ExpressSendFailed", unit=MetricUnit.Count, value=1)
    logger.warning(
        "express route lane not reached (triage or send failed); the stream routes the tweet in its turn",
        extra={"tweet_id": tweet_id, "error": f"{type(exc).__name__}: {exc}"[:300]},
    )


def _count(report: Any) -> None:
    metrics.add_metric(name="TweetsIngested", unit=MetricUnit.Count, value=report.ingested)
    metrics.add_metric(name="SearchRequests", unit=MetricUnit.Count, value=report.requests)
    metrics.add_metric(name="SearchPages", unit=MetricUnit.Count, value=report.pages)
    metrics.add_metric(name="PollLagSeconds", unit=MetricUnit.Seconds, value=report.max_lag_s)
    if report.expressed:
        metrics.add_metric(name="SosExpressed", unit=MetricUnit.Count, value=report.expressed)
    if report.gaps:
        metrics.add_metric(name="PollGaps", unit=MetricUnit.Count, value=report.gaps)
        logger.error("a query's cursor aged out of recent search: gap recorded", extra={"gaps": report.gaps})
    for reason in report.query_errors.values():
        metrics.add_metric(name=f"PollQueryFailed_{reason}", unit=MetricUnit.Count, value=1)
    if report.stopped:
        metrics.add_metric(name=f"PollStopped_{report.stopped}", unit=MetricUnit.Count, value=1)
        logger.warning("cycle stopped early; next cycle resumes from the cursors", extra={"reason": report.stopped})
    logger.info("poll cycle done", extra={k: v for k, v in report.as_dict().items() if k != "ingested_ids"})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from seva.bootstrap import poll_cycle
    from seva.polling import run_cycles

    schedule = parse(event=event, model=EventBridgeModel)
    logger.append_keys(schedule_time=schedule.time.isoformat())
    settings = PollSettings.load()
    reports = run_cycles(
        # the police's own replies (first responses) are searched in the first cycle of each minute
        lambda n: poll_cycle(settings, on_ingested=_log_ingested, responses=n == 0, on_express_failed=_express_failed),
        cycles=settings.cycles_per_invocation,
        interval=timedelta(seconds=settings.poll_interval_seconds),
        clock=time.time,
        sleep=time.sleep,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    logger.set_correlation_id(None)
    for report in reports:
        _count(report)
    return {"cycles": [r.as_dict() for r in reports]}

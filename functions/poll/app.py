"""Poll function: every minute (EventBridge schedule), ingest new tweets to registered handles."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.service import poll_once
from seva.settings import PollSettings
from seva.tweets import TweetEnvelope

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Seva")


def _log_ingested(envelope: TweetEnvelope) -> None:
    logger.set_correlation_id(envelope.id)
    logger.info("tweet ingested", extra={"tweet_id": envelope.id, "lang": envelope.tweet.get("lang")})


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    schedule = parse(event=event, model=EventBridgeModel)
    logger.append_keys(schedule_time=schedule.time.isoformat())
    report = poll_once(PollSettings.load(), on_ingested=_log_ingested)
    logger.set_correlation_id(None)

    metrics.add_metric(name="TweetsIngested", unit=MetricUnit.Count, value=report.ingested)
    metrics.add_metric(name="SearchRequests", unit=MetricUnit.Count, value=report.requests)
    metrics.add_metric(name="SearchPages", unit=MetricUnit.Count, value=report.pages)
    metrics.add_metric(name="PollLagSeconds", unit=MetricUnit.Seconds, value=report.max_lag_s)
    if report.stopped:
        metrics.add_metric(name=f"PollStopped_{report.stopped}", unit=MetricUnit.Count, value=1)
        logger.warning("cycle stopped early; next cycle resumes from the cursor", extra={"reason": report.stopped})
    logger.info("poll cycle done", extra={k: v for k, v in report.as_dict().items() if k != "ingested_ids"})
    return report.as_dict()

"""Reply function: answer each routed complaint on X from the handle the citizen mentioned; a schedule retries
replies left pending by a 429, an exhausted posting budget or an X outage."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.service import ReplyService
from seva.settings import ReplySettings

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Seva")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_services: dict[ReplySettings, ReplyService] = {}


def _log(outcome: Any) -> None:
    metrics.add_metric(name=f"Replies_{outcome.status}", unit=MetricUnit.Count, value=1)
    logger.info("reply", extra={k: v for k, v in outcome.__dict__.items() if v is not None})


def _reply(service: ReplyService, record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else {}
    logger.set_correlation_id(str(image.get("tweet_id")))
    _log(service.handle_image(image))


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    settings = ReplySettings.load()
    service = _services.get(settings) or _services.setdefault(settings, ReplyService(settings))
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=partial(_reply, service), processor=processor, context=context
        )
    outcomes = service.sweep()  # EventBridge schedule
    for outcome in outcomes:
        _log(outcome)
    return {"retried": len(outcomes)}

"""Notify function: each newly routed complaint → SMS and email to its district's officers (SNS), P1 also to
the control room and the SOS topic. Exactly once per officer, complaint and channel."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.service import NotifyService
from seva.settings import NotifySettings

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Seva")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_services: dict[NotifySettings, NotifyService] = {}


def _notify(service: NotifyService, record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else {}
    logger.set_correlation_id(str(image.get("tweet_id")))
    deliveries = service.handle(image)
    sent = [d for d in deliveries if d.status == "SENT"]
    for channel in ("sms", "email", "sos", "digest"):
        count = sum(1 for d in sent if d.channel == channel)
        if count:
            metrics.add_metric(name=f"Notifications_{channel}", unit=MetricUnit.Count, value=count)
    logger.info("officers notified", extra={"sent": len(sent), "already": len(deliveries) - len(sent)})


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    settings = NotifySettings.load()
    service = _services.get(settings) or _services.setdefault(settings, NotifyService(settings))
    return process_partial_response(
        event=event, record_handler=partial(_notify, service), processor=processor, context=context
    )

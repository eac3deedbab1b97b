"""Route function: new complaints from the table's stream (INSERT only) → district, category, priority,
reference number, SLA — or noise, or a follow-up attached to the citizen's open complaint."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.routing import Router, StoredComplaint
from seva.service import make_router
from seva.settings import RouteSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Seva")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_routers: dict[RouteSettings, Router] = {}  # per warm container: data files are loaded once


def _route(router: Router, record: DynamoDBRecord) -> None:
    complaint = StoredComplaint.from_image(record.dynamodb.new_image if record.dynamodb else {})
    logger.set_correlation_id(complaint.tweet_id)
    outcome = router.route(complaint)
    metrics.add_metric(name=f"Complaints{outcome.status.title()}", unit=MetricUnit.Count, value=1)
    logger.info("complaint routed", extra={k: v for k, v in outcome.__dict__.items() if v is not None})


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    settings = RouteSettings.load()
    router = _routers.get(settings) or _routers.setdefault(settings, make_router(settings))
    return process_partial_response(
        event=event, record_handler=partial(_route, router), processor=processor, context=context
    )

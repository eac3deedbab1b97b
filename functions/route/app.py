"""Route function: new tweets from the complaints table's stream (INSERT only) → district, category, priority,
reference number and deadlines — or noise, or a follow-up in the thread of the citizen's complaint."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.settings import RouteSettings

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_routers: dict[RouteSettings, Any] = {}  # per warm container: data files are loaded once


def _route(router: Any, record: DynamoDBRecord) -> None:
    tweet_id = (record.dynamodb.new_image if record.dynamodb else {}).get("tweet_id")
    logger.set_correlation_id(str(tweet_id))
    outcome = router.route(tweet_id)
    metrics.add_metric(name=f"Complaints{outcome.status.title()}", unit=MetricUnit.Count, value=1)
    logger.info("complaint routed", extra={k: v for k, v in outcome.__dict__.items() if v})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from seva.bootstrap import router

    settings = RouteSettings.load()
    routing = _routers.get(settings) or _routers.setdefault(settings, router(settings))
    return process_partial_response(
        event=event, record_handler=partial(_route, routing), processor=processor, context=context
    )

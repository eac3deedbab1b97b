"""Route function: new tweets from the complaints table's stream (INSERT only) → district, category, priority,
reference number and deadlines — or noise, or a follow-up in the thread of the citizen's complaint.

``express_handler`` (RouteExpressFunction) routes the same way the tweets the poller sent ahead as SOS, from the
express lane's queue, so an SOS never waits behind the stream's backlog; whichever comes second finds it done."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.errors import BadRecord
from seva.settings import RouteSettings

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
express_processor = BatchProcessor(event_type=EventType.SQS)
_routers: dict[RouteSettings, Any] = {}  # per warm container: data files are loaded once


def _route(router: Any, tweet_id: Any) -> None:
    logger.set_correlation_id(str(tweet_id))
    outcome = router.route(tweet_id)
    metrics.add_metric(name=f"Complaints{outcome.status.title()}", unit=MetricUnit.Count, value=1)
    logger.info("complaint routed", extra={k: v for k, v in outcome.__dict__.items() if v})


def _route_new(router: Any, record: DynamoDBRecord) -> None:
    _route(router, (record.dynamodb.new_image if record.dynamodb else {}).get("tweet_id"))


def _route_expressed(router: Any, record: SQSRecord) -> None:
    try:
        tweet_id = json.loads(record.body)["tweet_id"]
        if not isinstance(tweet_id, str) or not tweet_id.isdigit():
            raise BadRecord("no valid tweet_id")
    except (BadRecord, ValueError, KeyError, TypeError) as exc:
        # Not retried: the stream routes every stored tweet (and sends a bad one to RouteFailureQueue)
        logger.error(
            "express message unusable; dropped", extra={"message_id": record.message_id, "error": str(exc)[:200]}
        )
        return
    _route(router, tweet_id)


def _router(settings: RouteSettings) -> Any:
    from seva.bootstrap import router

    return _routers.get(settings) or _routers.setdefault(settings, router(settings))


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    routing = _router(RouteSettings.load())
    return process_partial_response(
        event=event, record_handler=partial(_route_new, routing), processor=processor, context=context
    )


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def express_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    routing = _router(RouteSettings.load())
    return process_partial_response(
        event=event, record_handler=partial(_route_expressed, routing), processor=express_processor, context=context
    )

"""Notify function: lifecycle events from the notify lanes (SQS: a P1 lane and a normal lane) → SMS and email to
the complaint's officers, P1 also to the SOS topic. At least once per officer, complaint and channel."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.settings import NotifySettings

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
_services: dict[NotifySettings, Any] = {}


def _notify(service: Any, record: SQSRecord) -> None:
    from seva.dal.complaints import event_from_message
    from seva.errors import BadRecord
    from seva.notify import NotificationsPending, summarise

    try:
        event = event_from_message(record.body)
    except BadRecord as exc:
        logger.error("not a lifecycle event: sent to the failure queue", extra={"error": str(exc)})
        service.failures.send({"bad_record": record.body[:2000], "error": str(exc)})
        return
    logger.set_correlation_id(event.complaint_id)
    try:
        results = service.handle(event)
    except NotificationsPending as pending:
        # Retried when the message is visible again (the queue's visibility timeout outlasts any claim)
        _count(summarise(pending.results))
        logger.warning("deliveries pending a retry", extra={"event": event.event_id, "pending": str(pending)})
        raise
    _count(summarise(results))
    logger.info("officers notified", extra={"event": event.event_id, "action": str(event.action), **summarise(results)})


def _invalid_officer(row: Any) -> None:
    """A directory row that is not a valid officer: skipped, one line (no phone number), a metric to alarm on."""
    logger.error(
        "officer row skipped: invalid",
        extra={"district": row.district, "officer_id": row.officer_id, "problems": list(row.problems)},
    )
    metrics.add_metric(name="OfficerRowInvalid", unit=MetricUnit.Count, value=1)


def _count(outcomes: dict[str, int]) -> None:
    for name, value in outcomes.items():
        metrics.add_metric(name=f"Notifications_{name}", unit=MetricUnit.Count, value=value)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from seva.bootstrap import Invocation, notify_service

    Invocation.start(context.get_remaining_time_in_millis())
    settings = NotifySettings.load()
    service = _services.get(settings) or _services.setdefault(settings, notify_service(settings, _invalid_officer))
    return process_partial_response(
        event=event, record_handler=partial(_notify, service), processor=processor, context=context
    )

"""Reply function: lifecycle events from the reply lanes (SQS, P1 and normal) → an answer to the citizen on X
from the handle they mentioned; a schedule retries replies left pending (429, posting budget, X outage)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.settings import ReplySettings

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
_desks: dict[ReplySettings, Any] = {}


def _log(outcome: Any) -> None:
    if outcome is None:
        return
    metrics.add_metric(name=f"Replies_{outcome.status}", unit=MetricUnit.Count, value=1)
    logger.info("reply", extra={k: v for k, v in outcome.__dict__.items() if v is not None})


def _reply(desk: Any, record: SQSRecord) -> None:
    from seva.dal.complaints import event_from_message
    from seva.errors import BadRecord

    try:
        event = event_from_message(record.body)
    except BadRecord as exc:
        logger.error("not a lifecycle event: sent to the failure queue", extra={"error": str(exc)})
        desk.failures.send({"bad_record": record.body[:2000], "error": str(exc)})
        return
    logger.set_correlation_id(event.complaint_id)
    _log(desk.on_event(event))


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    from seva.bootstrap import Invocation, reply_desk

    Invocation.start(context.get_remaining_time_in_millis())
    settings = ReplySettings.load()
    desk = _desks.get(settings) or _desks.setdefault(
        settings, reply_desk(settings, log=lambda message, extra: logger.warning(message, extra=extra))
    )
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=partial(_reply, desk), processor=processor, context=context
        )
    outcomes = desk.sweep(settings.sweep_batch, Invocation.time_left)  # EventBridge schedule
    for outcome in outcomes:
        _log(outcome)
    return {"retried": len(outcomes)}

"""Figures function: every lifecycle transition from the figures lane (SQS, fed by the event bus) is counted once
into the aggregates the dashboard reads; on a schedule, the public page's snapshot is written to the web bucket."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.settings import FiguresSettings

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
_keepers: dict[FiguresSettings, Any] = {}


def _count(keeper: Any, record: SQSRecord) -> None:
    from seva.dal.complaints import event_from_message
    from seva.errors import BadRecord

    try:
        event = event_from_message(record.body)
    except BadRecord as exc:
        logger.error("not a lifecycle event: dropped", extra={"error": str(exc)})
        metrics.add_metric(name="FiguresBadRecords", unit=MetricUnit.Count, value=1)
        return
    outcome = keeper.count(event)
    metrics.add_metric(name=f"Figures_{outcome}", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from seva.bootstrap import figures_keeper

    settings = FiguresSettings.load()
    keeper = _keepers.get(settings) or _keepers.setdefault(settings, figures_keeper(settings))
    if "Records" in event:
        return dict(
            process_partial_response(
                event=event, record_handler=partial(_count, keeper), processor=processor, context=context
            )
        )
    snapshot = keeper.public_snapshot()  # the schedule: the public page's figures
    logger.info("public figures written", extra={"districts": len(snapshot["districts"]), "to": snapshot["to"]})
    return {"districts": len(snapshot["districts"]), "from": snapshot["from"], "to": snapshot["to"]}

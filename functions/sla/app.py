"""SLA clock function: once a minute, escalates every complaint whose stage deadline has passed without its
action (up the district's chain, once per level) and closes resolved complaints nobody objected to."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.settings import SlaSettings

logger = Logger()
metrics = Metrics()

METRICS = {
    "escalated": "SlaBreached",
    "chain_exhausted": "SlaChainExhausted",
    "closed": "AutoClosed",
    "failed": "SlaClockFailed",
}


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from seva.bootstrap import clock_service

    schedule = parse(event=event, model=EventBridgeModel)
    logger.append_keys(schedule_time=schedule.time.isoformat())
    done = clock_service(SlaSettings.load()).run(lambda: context.get_remaining_time_in_millis() / 1000)
    for outcome, metric in METRICS.items():
        if done.get(outcome):
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=done[outcome])
    if done.get("failed"):
        logger.warning("some clocks failed; they stay due and are tried again next minute", extra=done)
    if done.get("chain_exhausted"):
        logger.error("an overdue complaint has nobody left to escalate to", extra={"count": done["chain_exhausted"]})
    logger.info("clocks done", extra=done)
    return done

"""Composition: build the real adapters for each function from its settings (called at invoke time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from seva.polling import CycleReport, PollCycle
from seva.routing import Router
from seva.settings import NotifySettings, PollSettings, ReplySettings, RouteSettings
from seva.tweets import TweetEnvelope

SEARCH_ENDPOINT = "GET /2/tweets/search/recent"


def poll_once(settings: PollSettings, on_ingested: Callable[[TweetEnvelope], None] | None = None) -> CycleReport:
    from seva.clients.secrets import get_json_secret
    from seva.clients.x import XSearch, make_client
    from seva.dal.complaints import DynamoComplaintStore
    from seva.dal.cursors import DynamoCursorStore
    from seva.registry import load_registry

    cursors = DynamoCursorStore(settings.state_table, settings.aws_region)
    blocked_until = cursors.rate_limited_until(SEARCH_ENDPOINT)
    if blocked_until and blocked_until > time.time():
        # Never sleep in Lambda waiting for a reset: skip this cycle, the cursor keeps our place.
        return CycleReport(stopped="rate_limited", rate_limit_reset=blocked_until)
    secret = get_json_secret(settings.x_secret_name)
    client = make_client(
        bearer_token=secret["bearer_token"],
        base_url=settings.x_api_base_url,
        timeout=settings.x_timeout_seconds,
    )
    cycle = PollCycle(
        registry=load_registry(settings.handle_registry_path),
        searcher=XSearch(client, max_retries=settings.x_max_retries, retry_base_seconds=settings.x_retry_base_seconds),
        store=DynamoComplaintStore(settings.complaints_table, settings.aws_region),
        cursors=cursors,
        now=lambda: datetime.now(UTC),
        backfill=timedelta(minutes=settings.backfill_minutes),
        max_pages=settings.max_pages_per_cycle,
        max_query_length=settings.max_query_length,
        on_ingested=on_ingested,
    )
    report = cycle.run()
    if report.stopped == "rate_limited":
        # Unknown reset: X's window is 15 minutes.
        cursors.set_rate_limited_until(SEARCH_ENDPOINT, report.rate_limit_reset or int(time.time()) + 900)
    return report


def make_router(settings: RouteSettings) -> Router:
    from seva.dal.complaints import DynamoRoutingRepo
    from seva.dal.cursors import DynamoReferenceCounter
    from seva.triage import default_triager

    triager = default_triager(settings.handle_registry_path)
    districts = triager.gazetteer.districts

    def abbreviation(code: int | None) -> str:
        district = districts.get(code) if code is not None else None
        return district.abbr if district else "HQ"

    return Router(
        repo=DynamoRoutingRepo(
            settings.complaints_table, settings.aws_region, settings.state_table, settings.reply_outbox_delay_seconds
        ),
        counter=DynamoReferenceCounter(settings.state_table, settings.aws_region),
        classify=triager.classify,
        abbreviation=abbreviation,
        sla_minutes=settings.sla_minutes,
        now=lambda: datetime.now(UTC),
        prefix=settings.reference_prefix,
    )


class NotifyService:
    """Wires the notifier to DynamoDB and SNS for one warm container."""

    def __init__(self, settings: NotifySettings):
        from seva.clients.sns import SnsSender
        from seva.dal.ledger import DynamoAuthorGuard, DynamoLedger
        from seva.dal.officers import DynamoOfficerDirectory
        from seva.notify import Notifier
        from seva.sms import load_templates
        from seva.triage import default_triager

        self.settings = settings
        self.directory = DynamoOfficerDirectory(settings.officers_table, settings.aws_region)
        self.ledger = DynamoLedger(settings.state_table, settings.aws_region)
        districts = default_triager().gazetteer.districts
        self.hindi_name = lambda code: districts[code].hindi if code in districts else None
        self.notifier = Notifier(
            ledger=self.ledger,
            guard=DynamoAuthorGuard(settings.state_table, settings.aws_region),
            sender=SnsSender(settings.officer_email_topic_arn, settings.sos_topic_arn, settings.aws_region),
            templates=load_templates(),
            now=lambda: datetime.now(UTC),
            sms_per_author_per_hour=settings.sms_per_author_per_hour,
        )

    def handle(self, image: dict) -> list:
        from seva.dal.complaints import record_deliveries
        from seva.notify import RoutedComplaint
        from seva.officers import district_key

        complaint = RoutedComplaint.from_image(image, self.hindi_name)
        officers = self.directory.for_district(district_key(complaint.district_code))
        if not officers and complaint.district_code is not None:
            officers = self.directory.for_district("HQ")  # no one registered for the district: state HQ cell
        deliveries = self.notifier.notify(complaint, officers)
        ledger = [
            {
                "officer_id": e.sk.split("#")[0],
                "channel": e.sk.split("#")[1],
                "message_id": e.message_id,
                "at": e.updated_at.isoformat() if e.updated_at else None,
            }
            for e in self.ledger.entries(complaint.tweet_id)
        ]
        record_deliveries(
            self.settings.complaints_table, self.settings.aws_region, complaint.tweet_id, ledger, datetime.now(UTC)
        )
        return deliveries


class ReplyService:
    """Wires the replier to X (per-handle credentials), DynamoDB and the failure queue."""

    def __init__(self, settings: ReplySettings):
        from seva.clients.secrets import get_json_secret
        from seva.clients.x import XPoster
        from seva.dal.replies import DynamoPostingBudget, DynamoReplyRepo
        from seva.registry import load_registry
        from seva.replying import Replier
        from seva.replytext import reply_text
        from seva.triage import default_triager

        self.settings = settings
        districts = default_triager(settings.handle_registry_path).gazetteer.districts
        self.hindi_name = lambda code: districts[code].hindi if code in districts else None
        self.repo = DynamoReplyRepo(settings.complaints_table, settings.state_table, settings.aws_region)
        users = get_json_secret(settings.x_user_secret_name).get("handles", {})
        poster = XPoster(
            credentials=users,
            bearer_token=get_json_secret(settings.x_secret_name)["bearer_token"],
            base_url=settings.x_api_base_url,
            timeout=settings.x_timeout_seconds,
        )
        budget = DynamoPostingBudget(
            settings.state_table,
            settings.aws_region,
            user_limit=settings.user_post_limit,
            user_window_s=settings.user_window_seconds,
            app_limit=settings.app_post_limit,
            app_window_s=settings.app_window_seconds,
        )
        self.replier = Replier(
            registry=load_registry(settings.handle_registry_path),
            poster=poster,
            budget=budget,
            repo=self.repo,
            compose=lambda job: reply_text(
                reference=job.reference,
                language=job.language,
                district=job.district,
                district_hindi=job.district_hindi,
                priority=job.priority,
            ),
            now=lambda: datetime.now(UTC),
            max_attempts=settings.max_reply_attempts,
        )

    def handle_image(self, image: dict) -> Any:
        from seva.replying import ReplyJob

        return self._settle(ReplyJob.from_image(image, self.hindi_name))

    def sweep(self) -> list:
        """Retry replies whose time has come (after a 429, an exhausted budget or an X outage)."""
        from seva.replying import ReplyJob

        outcomes = []
        for tweet_id in self.repo.due(datetime.now(UTC), self.settings.sweep_batch):
            item = self.repo.get(tweet_id)
            if item is None or not item.reference or item.status != "ROUTED":
                self.repo.clear_pending(tweet_id)  # nothing to answer (noise, attached, gone)
                continue
            image = {
                "tweet_id": item.tweet_id,
                "reference": item.reference,
                "priority": item.priority,
                "language": item.language,
                "district_code": item.district_code,
                "district": item.district,
                "mentioned_handles": list(item.mentioned_handles or []),
                "reply_status": item.reply_status,
                "reply_attempts": item.reply_attempts,
            }
            outcomes.append(self._settle(ReplyJob.from_image(image, self.hindi_name)))
        return outcomes

    def _settle(self, job: Any) -> Any:
        import json

        from seva.replying import ALREADY_SETTLED, FAILED

        outcome = self.replier.reply(job)
        if outcome.status == FAILED and outcome.reason != ALREADY_SETTLED and self.settings.reply_failure_queue_url:
            import boto3

            boto3.client("sqs", region_name=self.settings.aws_region).send_message(
                QueueUrl=self.settings.reply_failure_queue_url,
                MessageBody=json.dumps(
                    {"tweet_id": job.tweet_id, "reference": job.reference, "reason": outcome.reason}
                ),
            )
        return outcome

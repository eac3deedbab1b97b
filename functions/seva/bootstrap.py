"""Composition: the real adapters for each function, built from its settings. Wiring only: every rule lives in
the domain modules (polling, routing, notify, replying, lifecycle)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from seva.settings import (
    ApiSettings,
    EraseSettings,
    FiguresSettings,
    NotifySettings,
    PollSettings,
    ReplySettings,
    RouteSettings,
    SlaSettings,
)

if TYPE_CHECKING:
    from seva.clocks import ClockService
    from seva.dal.complaints import DynamoComplaints
    from seva.dashboard import Dashboard
    from seva.desk import Desk
    from seva.figures import FiguresKeeper
    from seva.notify import NotifyService
    from seva.officers import InvalidOfficer
    from seva.polling import ExpressLane, PollCycle
    from seva.replying import ReplyDesk
    from seva.routing import Router
    from seva.tweets import TweetEnvelope


def utcnow() -> datetime:
    return datetime.now(UTC)


def poll_cycle(
    settings: PollSettings,
    on_ingested: Callable[[TweetEnvelope], None] | None = None,
    responses: bool = True,
    on_express_failed: Callable[[str, Exception], None] = lambda tweet_id, exc: None,
) -> PollCycle:
    from seva.clients.secrets import get_json_secret
    from seva.clients.x import XSearch, make_client
    from seva.dal.complaints import DynamoComplaintStore
    from seva.dal.cursors import DynamoCursorStore
    from seva.polling import PollCycle, snowflake_at, snowflake_time
    from seva.registry import load_registry

    def searcher() -> XSearch:
        client = make_client(
            bearer_token=get_json_secret(settings.x_secret_name)["bearer_token"],
            base_url=settings.x_api_base_url,
            timeout=settings.x_timeout_seconds,
        )
        return XSearch(client, max_retries=settings.x_max_retries, retry_base_seconds=settings.x_retry_base_seconds)

    return PollCycle(
        registry=load_registry(settings.handle_registry_path),
        searcher=searcher(),
        store=DynamoComplaintStore(settings.complaints_table, settings.aws_region),
        cursors=DynamoCursorStore(settings.state_table, settings.aws_region),
        now=utcnow,
        backfill=timedelta(minutes=settings.backfill_minutes),
        max_pages=settings.max_pages_per_cycle,
        max_query_length=settings.max_query_length,
        settle=timedelta(seconds=settings.settle_seconds),
        credentials_retry=timedelta(seconds=settings.credentials_retry_seconds),
        id_at=snowflake_at,
        time_of=snowflake_time,
        on_ingested=on_ingested,
        store_concurrency=settings.store_concurrency,
        express=express_lane(settings, on_express_failed) if settings.route_express_queue_url else None,
        responses=responses,
    )


def express_lane(settings: PollSettings, on_failed: Callable[[str, Exception], None]) -> ExpressLane:
    from seva.clients.sqs import ExpressQueue
    from seva.polling import ExpressLane
    from seva.tweets import minimal_author

    assert settings.route_express_queue_url
    queue = ExpressQueue(settings.route_express_queue_url, settings.aws_region)

    def urgent(envelope: TweetEnvelope) -> bool:
        # The route function's own triage, on the tweet as it is stored: loaded on the first tweet, not at import
        from seva.triage import default_triager

        triager = default_triager(settings.handle_registry_path)
        return triager.classify(envelope.tweet, minimal_author(envelope.author), envelope.place).priority == "P1"

    return ExpressLane(urgent=urgent, send=queue.send, on_failed=on_failed)


def router(settings: RouteSettings) -> Router:
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.cursors import DynamoReferenceCounter
    from seva.dal.replies import DynamoReplyRepo
    from seva.districts import load_districts
    from seva.lifecycle import Complaint
    from seva.registry import load_registry
    from seva.replying import ReplyKind
    from seva.replytext import reply_text
    from seva.routing import Numbering, Router
    from seva.triage import default_triager

    triager = default_triager(settings.handle_registry_path)
    districts = load_districts()
    registry = load_registry(settings.handle_registry_path)
    replies = DynamoReplyRepo(
        settings.complaints_table, settings.state_table, settings.audit_table, settings.aws_region
    )

    def ours(complaint: Complaint, post: Complaint) -> bool:
        """One of Seva's replies: recorded as posted, or (posted just before a crash) word for word a text
        Seva sends for this complaint."""
        if post.tweet_id in replies.posted(complaint.tweet_id):
            return True
        return post.text in {reply_text(complaint, kind, districts) for kind in ReplyKind}

    return Router(
        repo=DynamoComplaints(
            settings.complaints_table,
            settings.audit_table,
            settings.aws_region,
            settings.state_table,
            retention=settings.retention(),
            sla=settings.sla_policy(),
        ),
        number=Numbering(
            DynamoReferenceCounter(settings.state_table, settings.aws_region), districts, settings.reference_prefix
        ),
        classify=triager.classify,
        districts=districts,
        sla=settings.sla_policy(),
        now=utcnow,
        reply_outbox_delay=timedelta(seconds=settings.reply_outbox_delay_seconds),
        is_police=registry.is_registered,
        ours=ours,
        replied_with=lambda complaint: replies.posted(complaint.tweet_id),
    )


class Invocation:
    """The running invocation's deadline (handlers set it; services built once per container read it)."""

    deadline: float = 0.0

    @classmethod
    def start(cls, remaining_ms: int) -> None:
        cls.deadline = time.time() + remaining_ms / 1000

    @classmethod
    def time_left(cls) -> float:
        """Seconds until the running invocation's deadline (a long time when no handler set one)."""
        return cls.deadline - time.time() if cls.deadline else 900.0

    @classmethod
    def lease_until(cls, margin: float) -> Callable[[], float]:
        """A claim is held until the claiming invocation's deadline: it cannot be sending after that."""
        return lambda: (cls.deadline or time.time() + 900) + margin


def notify_service(
    settings: NotifySettings, on_invalid_officer: Callable[[InvalidOfficer], None] | None = None
) -> NotifyService:
    from seva.clients.sns import SnsSender
    from seva.clients.sqs import FailureQueue
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.ledger import DynamoAuthorGuard, DynamoLeases
    from seva.dal.officers import DynamoOfficerDirectory
    from seva.districts import load_districts
    from seva.notify import Notifier, NotifyService, tweet_link
    from seva.sms import load_templates

    complaints = DynamoComplaints(
        settings.complaints_table, settings.audit_table, settings.aws_region, retention=settings.retention()
    )
    link: Callable[[Any, Any], str] = tweet_link
    if settings.link_key_secret_name and settings.public_base_url:
        link = action_link(settings.link_key_secret_name, settings.public_base_url.rstrip("/"))
    return NotifyService(
        complaints=complaints,
        directory=DynamoOfficerDirectory(settings.officers_table, settings.aws_region, on_invalid_officer),
        notifier=Notifier(
            ledger=DynamoLeases(
                settings.state_table, settings.aws_region, "notify", complaints, settings.max_send_attempts
            ),
            guard=DynamoAuthorGuard(settings.state_table, settings.aws_region),
            sender=SnsSender(settings.officer_email_topic_arn, settings.sos_topic_arn, settings.aws_region),
            templates=load_templates(),
            districts=load_districts(),
            now=utcnow,
            lease_until=Invocation.lease_until(settings.lease_margin_seconds),
            time_left=Invocation.time_left,
            sms_per_author_per_hour=settings.sms_per_author_per_hour,
            concurrency=settings.send_concurrency,
            pause=time.sleep,
            link=link,
        ),
        failures=FailureQueue(settings.notify_failure_queue_url, settings.aws_region),
    )


def action_link(secret_name: str, base_url: str) -> Callable[[Any, Any], str]:
    """An officer's one-tap link for a complaint: signed with the current key, valid until a day after the
    complaint should be resolved (at least three days)."""
    from seva.clients.secrets import get_json_secret
    from seva.links import LinkKeys, link_expiry, make_token

    def link(complaint: Any, officer: Any) -> str:
        keys = LinkKeys.from_secret(get_json_secret(secret_name))
        expires = link_expiry(utcnow(), complaint.resolve_due_at)
        return f"{base_url}/a/{make_token(keys, complaint.tweet_id, officer.officer_id, expires)}"

    return link


def reply_desk(settings: ReplySettings, log: Callable[[str, dict], None] = lambda message, extra: None) -> ReplyDesk:
    from seva.clients.secrets import get_json_secret
    from seva.clients.sqs import FailureQueue
    from seva.clients.x import XPoster
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.replies import DynamoPostingBudget, DynamoReplyRepo
    from seva.districts import load_districts
    from seva.registry import load_registry
    from seva.replying import Replier, ReplyDesk
    from seva.replytext import reply_text

    districts = load_districts()
    repo = DynamoReplyRepo(settings.complaints_table, settings.state_table, settings.audit_table, settings.aws_region)
    age = settings.credentials_max_age_seconds
    poster = XPoster(
        credentials=lambda: get_json_secret(settings.x_user_secret_name, max_age=age).get("handles", {}),
        bearer_token=lambda: get_json_secret(settings.x_secret_name, max_age=age)["bearer_token"],
        base_url=settings.x_api_base_url,
        timeout=settings.x_timeout_seconds,
    )
    replier = Replier(
        registry=load_registry(settings.handle_registry_path),
        poster=poster,
        budget=DynamoPostingBudget(
            settings.state_table,
            settings.aws_region,
            user_limit=settings.user_post_limit,
            user_window_s=settings.user_window_seconds,
            app_limit=settings.app_post_limit,
            app_window_s=settings.app_window_seconds,
        ),
        repo=repo,
        compose=lambda complaint, kind: reply_text(complaint, kind, districts),
        now=utcnow,
        lease_until=Invocation.lease_until(settings.lease_margin_seconds),
        max_attempts=settings.max_reply_attempts,
        retry_base=timedelta(seconds=settings.reply_retry_base_seconds),
        credentials_wait=timedelta(seconds=settings.credentials_wait_seconds),
        rate_wait=timedelta(seconds=settings.rate_wait_seconds),
    )
    return ReplyDesk(
        replier=replier,
        complaints=DynamoComplaints(
            settings.complaints_table, settings.audit_table, settings.aws_region, retention=settings.retention()
        ),
        pending=repo,
        failures=FailureQueue(settings.reply_failure_queue_url, settings.aws_region),
        log=log,
    )


def desk(settings: ApiSettings) -> Desk:
    from seva.actions import ActionDesk
    from seva.clients.secrets import get_json_secret
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.cursors import DynamoReferenceCounter
    from seva.dal.officers import DynamoOfficerDirectory
    from seva.desk import Desk
    from seva.districts import load_districts
    from seva.links import LinkKeys
    from seva.routing import Numbering

    districts = load_districts()
    repo = DynamoComplaints(
        settings.complaints_table,
        settings.audit_table,
        settings.aws_region,
        settings.state_table,
        retention=settings.retention(),
        sla=settings.sla_policy(),
    )
    counter = DynamoReferenceCounter(settings.state_table, settings.aws_region)
    return Desk(
        repo=repo,
        directory=DynamoOfficerDirectory(settings.officers_table, settings.aws_region),
        actions=ActionDesk(
            repo=repo,
            districts=districts,
            sla=settings.sla_policy(),
            now=utcnow,
            number=Numbering(counter, districts, settings.reference_prefix),
        ),
        districts=districts,
        keys=lambda: LinkKeys.from_secret(get_json_secret(settings.link_key_secret_name)),
        now=utcnow,
    )


def figures_keeper(settings: FiguresSettings) -> FiguresKeeper:
    from seva.clients.s3 import JsonObject
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.figures import DynamoFigures
    from seva.districts import load_districts
    from seva.figures import FiguresKeeper, district_names

    publish = None
    if settings.web_bucket:
        publish = JsonObject(settings.web_bucket, settings.public_figures_key, settings.aws_region)
    return FiguresKeeper(
        complaints=DynamoComplaints(settings.complaints_table, settings.audit_table, settings.aws_region),
        store=DynamoFigures(settings.figures_table, settings.aws_region),
        policy=settings.sla_policy(),
        now=utcnow,
        names=district_names(load_districts()),
        publish=publish,
        public_days=settings.public_days,
    )


def dashboard(settings: ApiSettings) -> Dashboard:
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.figures import DynamoFigures
    from seva.dashboard import Dashboard
    from seva.districts import load_districts

    if not settings.figures_table:
        raise ValueError("FIGURES_TABLE is not set")
    return Dashboard(
        repo=DynamoComplaints(settings.complaints_table, settings.audit_table, settings.aws_region),
        figures=DynamoFigures(settings.figures_table, settings.aws_region),
        districts=load_districts(),
        now=utcnow,
    )


def erasure(settings: EraseSettings) -> tuple[DynamoComplaints, Callable[[], Any]]:
    """The erasure tool's complaints (with the stack's retention) and, on demand, X's look-up (``deleted``)."""
    from seva.dal.complaints import DynamoComplaints

    complaints = DynamoComplaints(
        settings.complaints_table, settings.audit_table, settings.aws_region, retention=settings.retention()
    )

    def deleted() -> Callable[[list[str]], set[str]]:
        from seva.clients.secrets import get_json_secret
        from seva.clients.x import XLookup, make_client

        if not settings.x_secret_name:
            raise ValueError("set X_SECRET_NAME (the stack's X API secret) to ask X which posts were deleted")
        client = make_client(
            bearer_token=get_json_secret(settings.x_secret_name)["bearer_token"],
            base_url=settings.x_api_base_url,
            timeout=settings.x_timeout_seconds,
        )
        return XLookup(client).deleted

    return complaints, deleted


def clock_service(settings: SlaSettings) -> ClockService:
    from seva.clocks import ClockService
    from seva.dal.complaints import DynamoComplaints
    from seva.dal.officers import DynamoOfficerDirectory

    policy = settings.sla_policy()
    return ClockService(
        store=DynamoComplaints(
            settings.complaints_table,
            settings.audit_table,
            settings.aws_region,
            sla=policy,
            retention=settings.retention(),
        ),
        directory=DynamoOfficerDirectory(settings.officers_table, settings.aws_region),
        policy=policy,
        now=utcnow,
        batch=settings.clock_batch,
    )

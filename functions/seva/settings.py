"""Typed settings per function, read from the environment at invoke time (never at import).

pydantic models filled from environment variables named like their fields (any letter case), as pydantic-settings
does; not pydantic-settings itself: its import (its sources for .env files, secrets directories and three clouds'
vaults, python-dotenv) weighed about a third of `import boto3` on every cold start, for a dozen lines used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from seva.retention import Retention
    from seva.sla import SlaPolicy


class _Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)  # as pydantic-settings

    aws_region: str = Field(default="ap-south-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    complaints_table: str
    state_table: str
    complaint_retention_days: int = Field(default=365, ge=1, le=3650)
    """Days a RESOLVED or CLOSED complaint is kept (template parameter ``ComplaintRetentionDays``); then TTL."""
    noise_retention_days: int = Field(default=30, ge=1, le=3650)
    """Days a tweet triaged as NOISE is kept (a person may turn it into a complaint meanwhile); then TTL."""

    def retention(self) -> Retention:
        from seva.retention import Retention

        return Retention(complaint_days=self.complaint_retention_days, noise_days=self.noise_retention_days)

    @classmethod
    def load(cls) -> Self:
        """Read the environment now (at invoke time); a missing or invalid variable raises a clear error."""
        environ = {name.lower(): value for name, value in os.environ.items()}
        values: dict[str, str] = {}
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            choices = [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else [str(alias or name)]
            found = next((c for c in choices if c.lower() in environ), None)
            if found is not None:
                values[found] = environ[found.lower()]
        return cls.model_validate(values)


class PollSettings(_Settings):
    """Settings of the poll function (EventBridge schedule)."""

    x_secret_name: str
    """Secrets Manager name/ARN of the JSON secret holding ``bearer_token``."""
    x_api_base_url: str | None = None
    """Only for the local cloud or a proxy: rewrite ``https://api.twitter.com`` to this base URL."""
    handle_registry_path: str | None = None
    """Override the bundled handle registry (defaults to ``seva/data/handles.json``)."""
    backfill_minutes: int = Field(default=1440, ge=1, le=7 * 24 * 60 - 5)
    """How far back a query that has never been polled looks (X recent search covers 7 days)."""
    max_pages_per_cycle: int = Field(default=300, ge=1)
    """Bounds one invocation; a window left open is resumed from its cursor next cycle."""
    x_max_retries: int = Field(default=2, ge=0, le=5)
    x_retry_base_seconds: float = Field(default=0.5, ge=0)
    x_timeout_seconds: float = Field(default=10.0, gt=0)
    max_query_length: int = Field(default=512, ge=64)
    settle_seconds: float = Field(default=40, gt=0)
    """A search window ends this long before now: X indexes recent posts with a delay (~30 s)."""
    poll_interval_seconds: float = Field(default=15, gt=0)
    credentials_retry_seconds: float = Field(default=300, gt=0)
    """After X rejects the app's token (401/403), searching stops this long (the secret may be fixed meanwhile)."""
    cycles_per_invocation: int = Field(default=4, ge=1, le=10)
    """Cycles one scheduled invocation runs, ``poll_interval_seconds`` apart (a cycle every 15 s)."""
    store_concurrency: int = Field(default=1, ge=1, le=10)
    """Conditional puts of one search page in flight at once (at most botocore's 10 pooled connections). 1 until
    measured in AWS: locally the faster ingest only moved the 3,000 burst's backlog downstream (README, Figures)."""
    route_express_queue_url: str | None = None
    """The express route lane: a tweet triage reads as an SOS is sent there too, ahead of the stream's backlog."""


class _SlaSettings(_Settings):
    """The SLA policy (template parameters): minutes to acknowledge and to resolve, per priority."""

    sla_p1_minutes: float = Field(default=15, gt=0)
    sla_p2_minutes: float = Field(default=240, gt=0)
    sla_p3_minutes: float = Field(default=72 * 60, gt=0)
    sla_p1_resolve_minutes: float = Field(default=240, gt=0)
    sla_p2_resolve_minutes: float = Field(default=48 * 60, gt=0)
    sla_p3_resolve_minutes: float = Field(default=14 * 24 * 60, gt=0)
    auto_close_days: float = Field(default=7, gt=0)
    """A resolved complaint nobody objected to closes after this (template parameter AutoCloseDays)."""

    def sla_policy(self) -> SlaPolicy:
        from seva.sla import SlaPolicy

        return SlaPolicy.from_minutes(
            acknowledge={"P1": self.sla_p1_minutes, "P2": self.sla_p2_minutes, "P3": self.sla_p3_minutes},
            resolve={
                "P1": self.sla_p1_resolve_minutes,
                "P2": self.sla_p2_resolve_minutes,
                "P3": self.sla_p3_resolve_minutes,
            },
            auto_close_minutes=self.auto_close_days * 24 * 60,
        )


class RouteSettings(_SlaSettings):
    """Settings of the route function (complaints table stream, INSERT)."""

    audit_table: str
    reference_prefix: str = "UP"
    reply_outbox_delay_seconds: float = Field(default=600, gt=0)
    """After this, the reply sweep answers a routed complaint the reply lanes have not."""
    handle_registry_path: str | None = None


class NotifySettings(_Settings):
    """Settings of the notify function (the notify lanes: SQS queues fed by the lifecycle pipe)."""

    audit_table: str
    officers_table: str
    officer_email_topic_arn: str
    sos_topic_arn: str
    sms_per_author_per_hour: int = Field(default=5, ge=1)
    notify_failure_queue_url: str | None = None
    max_send_attempts: int = Field(default=5, ge=1)
    lease_margin_seconds: float = Field(default=5, ge=0)
    send_concurrency: int = Field(default=4, ge=1, le=10)
    """Deliveries of one event published at once (at most botocore's 10 pooled connections)."""
    link_key_secret_name: str | None = None
    """The HMAC key of officers' action links (Secrets Manager); without it, messages link to the tweet."""
    public_base_url: str | None = None
    """Where action links point (the HTTP API, or LinkBaseUrl: a domain whitelisted for DLT)."""


class ReplySettings(_Settings):
    """Settings of the reply function (the reply lanes, and a schedule that retries pending replies)."""

    audit_table: str
    x_secret_name: str  # app bearer token (to find a reply already posted)
    x_user_secret_name: str  # {"handles": {"<username>": {consumer_key, consumer_secret, access_token, ...}}}
    x_api_base_url: str | None = None
    x_timeout_seconds: float = Field(default=10.0, gt=0)
    handle_registry_path: str | None = None
    user_post_limit: int = Field(default=100, ge=1)
    user_window_seconds: float = Field(default=900, gt=0)
    app_post_limit: int = Field(default=10_000, ge=1)
    app_window_seconds: float = Field(default=86_400, gt=0)
    max_reply_attempts: int = Field(default=12, ge=1)
    """Tries before a reply is FAILED (failure queue): backoff 2, 4, … 30 minutes, so X may be down 4 hours."""
    reply_retry_base_seconds: float = Field(default=60, gt=0)
    reply_failure_queue_url: str | None = None
    sweep_batch: int = Field(default=150, ge=1)
    credentials_wait_seconds: float = Field(default=600, gt=0)
    """After X rejects a handle's credentials, its reply waits this long (the token may be fixed meanwhile)."""
    rate_wait_seconds: float = Field(default=900, gt=0)
    """After a 429 that says no reset time: X's window."""
    credentials_max_age_seconds: int = Field(default=60, ge=0)
    """Reply credentials are read again after this (a token set or rotated is used without a redeploy)."""
    lease_margin_seconds: float = Field(default=5, ge=0)


class SlaSettings(_SlaSettings):
    """Settings of the SLA clock function (a schedule every minute)."""

    audit_table: str
    officers_table: str
    clock_batch: int = Field(default=500, ge=1)


class ApiSettings(_SlaSettings):
    """Settings of the API function (links, the officers' and state cell's API, the public lookup)."""

    audit_table: str
    officers_table: str
    link_key_secret_name: str
    reference_prefix: str = "UP"
    figures_table: str | None = None
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None
    cognito_endpoint_url: str | None = None
    """Where browsers sign in (default: Cognito's public endpoint of the region; the local cloud sets its own)."""


class FiguresSettings(_SlaSettings):
    """Settings of the figures function (the figures lane: every lifecycle transition; and a schedule that writes
    the public page's snapshot to the web bucket)."""

    audit_table: str
    figures_table: str
    web_bucket: str | None = None
    public_figures_key: str = "data/public-figures.json"
    public_days: int = Field(default=30, ge=1, le=366)


class EraseSettings(_Settings):
    """Settings of the erasure tool (``seva erase``: an operator's command, run with the stack's table names)."""

    audit_table: str
    x_secret_name: str | None = None
    """For ``--deleted-on-x``: the Secrets Manager secret holding the app's ``bearer_token``."""
    x_api_base_url: str | None = None
    x_timeout_seconds: float = Field(default=10.0, gt=0)

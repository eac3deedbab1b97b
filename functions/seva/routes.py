"""The dashboard's routes of the API function (powertools Router, included by ``api.app``): the live queue, the
review queue, figures, exports, and the public figures, districts and sign-in configuration. Each maps HTTP to one
call of ``seva.dashboard.Dashboard``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    NotFoundError,
    ServiceError,
    UnauthorizedError,
)

from seva.settings import ApiSettings

router = Router()
_dashboards: dict[ApiSettings, Any] = {}
CSV = "text/csv; charset=utf-8"


def dashboard() -> Any:
    from seva.bootstrap import dashboard as build

    settings = ApiSettings.load()
    return _dashboards.get(settings) or _dashboards.setdefault(settings, build(settings))


def identity() -> Any:
    from seva.desk import Identity

    event: Any = router.current_event  # an HTTP API (payload 2.0) event
    claims = event.request_context.authorizer.jwt_claim or {}
    if not claims:
        raise UnauthorizedError("Sign in first.")
    return Identity.from_claims(claims)


def query() -> dict[str, str]:
    return {k: v for k, v in (router.current_event.query_string_parameters or {}).items() if isinstance(v, str)}


def call(work: Any) -> Any:
    """Run one dashboard call, its refusals mapped to HTTP (403, 404, 400)."""
    from seva.dashboard import BadQuery
    from seva.desk import Forbidden, NotFound

    try:
        return work()
    except Forbidden as exc:
        raise ServiceError(403, str(exc)) from exc
    except NotFound as exc:
        raise NotFoundError(str(exc)) from exc
    except BadQuery as exc:
        raise BadRequestError(str(exc)) from exc


def download(name_and_body: tuple[str, str], content_type: str = CSV) -> Response:
    name, body = name_and_body
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(200, content_type, body, headers=headers)


@router.get("/api/queue")
def live_queue() -> dict[str, Any]:
    return call(lambda: dashboard().live_queue(identity(), query()))


@router.get("/api/review")
def review_queue() -> dict[str, Any]:
    return call(lambda: dashboard().review_queue(identity(), query()))


@router.get("/api/figures")
def figures() -> Any:
    if query().get("format") == "csv":
        return download(call(lambda: dashboard().figures_csv(identity(), query())))
    return call(lambda: dashboard().figures_view(identity(), query()))


@router.get("/api/export/complaints")
def export_complaints() -> Response:
    return download(call(lambda: dashboard().complaints_csv(identity(), query())))


@router.get("/api/export/labels")
def export_labels() -> Response:
    return download(call(lambda: dashboard().labels_jsonl(identity(), query())), "application/x-ndjson")


@router.get("/public/figures")
def public_figures() -> Response:
    body = call(lambda: dashboard().public(query()))
    return Response(200, content_types.APPLICATION_JSON, body, headers={"Cache-Control": "public, max-age=60"})


@router.get("/public/districts")
def districts() -> Response:
    body = dashboard().district_list()
    return Response(200, content_types.APPLICATION_JSON, body, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/public/config")
def sign_in_config() -> dict[str, Any]:
    """Where the dashboard signs in: the user pool's client (USER_PASSWORD_AUTH or SRP) — no secrets."""
    s = ApiSettings.load()
    return {
        "region": s.aws_region,
        "userPoolId": s.user_pool_id,
        "clientId": s.user_pool_client_id,
        "cognitoEndpoint": s.cognito_endpoint_url or f"https://cognito-idp.{s.aws_region}.amazonaws.com/",
    }

"""API function (API Gateway HTTP API): the one-tap links officers get by SMS and email, the authenticated API for
officers and the state cell (JWT authorizer on the Cognito user pool), the dashboard's routes (``seva.routes``),
and the public reference lookup and figures."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError, UnauthorizedError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from seva.routes import router
from seva.settings import ApiSettings

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()
app.include_router(router)  # the dashboard's routes: queues, figures, exports, public figures
_desks: dict[ApiSettings, Any] = {}
HTML = "text/html; charset=utf-8"


def desk() -> Any:
    from seva.bootstrap import desk as build

    settings = ApiSettings.load()
    return _desks.get(settings) or _desks.setdefault(settings, build(settings))


def identity() -> Any:
    from seva.desk import Identity

    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    if not claims:
        raise UnauthorizedError("Sign in first.")
    return Identity.from_claims(claims)


@app.get("/a/<token>")
def open_link(token: str) -> Response:
    status, page = desk().link_page(token)  # showing the complaint changes nothing (previews fetch links)
    return Response(status, HTML, page, headers={"Cache-Control": "no-store"})


@app.post("/a/<token>")
def confirm_link(token: str) -> Response:
    form = dict(parse_qsl(app.current_event.decoded_body or ""))
    status, page = desk().confirm(token, form)
    metrics.add_metric(name=f"LinkActions_{status}", unit=MetricUnit.Count, value=1)
    return Response(status, HTML, page, headers={"Cache-Control": "no-store"})


@app.get("/public/complaints/<reference>")
def lookup(reference: str) -> dict[str, Any]:
    from seva.desk import NotFound

    try:
        return desk().lookup(reference)
    except NotFound as exc:
        raise NotFoundError(str(exc)) from exc


@app.get("/api/complaints/<tweet_id>")
def complaint(tweet_id: str) -> dict[str, Any]:
    return _call(lambda: desk().complaint(identity(), tweet_id))


@app.post("/api/complaints/<tweet_id>/actions")
def act(tweet_id: str) -> Any:
    from seva.actions import ActionRefused

    body = app.current_event.json_body or {}
    if not isinstance(body, dict) or not body.get("action"):
        raise BadRequestError('Send JSON like {"action": "acknowledge"}.')
    try:
        result = _call(lambda: desk().act(identity(), tweet_id, body))
    except ActionRefused as exc:
        return Response(409, content_types.APPLICATION_JSON, {"message": str(exc)})
    metrics.add_metric(name=f"ApiActions_{body['action']}", unit=MetricUnit.Count, value=1)
    return result


def _call(work: Any) -> Any:
    from seva.desk import Forbidden, NotFound

    try:
        return work()
    except Forbidden as exc:
        return _raise_forbidden(str(exc))
    except NotFound as exc:
        raise NotFoundError(str(exc)) from exc


def _raise_forbidden(message: str) -> Any:
    from aws_lambda_powertools.event_handler.exceptions import ServiceError

    raise ServiceError(403, message)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

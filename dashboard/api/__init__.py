"""The JSON API: write reports, read the event log. Errors are JSON with a clear message."""

from __future__ import annotations

import uuid
from typing import Any

import flask
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from dashboard.access import AccessError, viewer_from_claims
from dashboard.app import current_store
from dashboard.feeds.base import validation_reason
from dashboard.model import Report
from dashboard.store import StoreError

api = flask.Blueprint("api", __name__, url_prefix="/api/v1")

SOURCE = "api"
KEY_NAMESPACE = uuid.UUID("5a1e7f0c-3b6d-4c1e-9f0a-51720000a9e1")
MAX_EVENTS_PAGE = 5000


class ApiError(Exception):
    """An error the client can fix; carries its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@api.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return flask.jsonify(error=str(exc)), exc.status


@api.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):
    limit = flask.current_app.config.get("MAX_CONTENT_LENGTH")
    return flask.jsonify(error=f"the body is larger than the limit of {limit} bytes"), 413


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return flask.jsonify(error=exc.description or exc.name), exc.code


def _viewer():
    """The viewer a request states (X-Sitroom-Agency / X-Sitroom-Clearance headers)."""
    try:
        return viewer_from_claims(flask.request.headers.get("X-Sitroom-Agency"),
                                  flask.request.headers.get("X-Sitroom-Clearance"))
    except AccessError as exc:
        raise ApiError(400, f"viewer {exc}") from None


@api.post("/reports")
def post_report():
    """A responder's or partner's report, as a GeoJSON Feature with marking and agency.

    With an Idempotency-Key header, a retried request creates nothing new and gets the same
    answer as the first.
    """
    if not flask.request.is_json:
        raise ApiError(415, "send a GeoJSON Feature with Content-Type: application/json")
    body = flask.request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "the body is not valid JSON")
    key = flask.request.headers.get("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 200 and key.isprintable()):
        raise ApiError(400, "Idempotency-Key must be 1 to 200 printable characters")
    record = _report_from_feature(body, key)
    try:
        result = current_store().write(record, actor=f"api:{record.agency}",
                                       idempotency_key=key)
    except StoreError as exc:
        raise ApiError(409, str(exc)) from None
    response = flask.jsonify(seq=result.seq, id=result.entity_id, action=result.action.value)
    response.status_code = 201
    if result.duplicate:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _report_from_feature(body: Any, key: str | None) -> Report:
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise ApiError(422, "expected a GeoJSON Feature ({\"type\": \"Feature\", ...})")
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise ApiError(422, "properties: must be an object with at least marking and agency")
    for required in ("marking", "agency"):
        if properties.get(required) in (None, ""):
            raise ApiError(422, f"properties.{required}: required")
    if body.get("geometry") is None:
        raise ApiError(422, "geometry: a report needs a location")
    allowed = {"title", "category", "severity", "status", "description", "reporter",
               "marking", "agency", "time", "version", "id"}
    unknown = sorted(set(properties) - allowed)
    if unknown:
        raise ApiError(422, f"properties: unknown field(s) {', '.join(unknown)}")
    source_id = properties.get("id") or (
        str(uuid.uuid5(KEY_NAMESPACE, key)) if key else str(uuid.uuid4()))
    fields = {k: v for k, v in properties.items() if k not in ("id",)}
    try:
        return Report(source=SOURCE, source_id=str(source_id), geometry=body["geometry"],
                      **fields)
    except ValidationError as exc:
        raise ApiError(422, validation_reason(exc)) from None


@api.get("/events")
def get_events():
    """The event log after a seq, as the viewer may see it: catch-up and replay."""
    after = _int_arg("after", 0, minimum=0)
    limit = _int_arg("limit", 1000, minimum=1, maximum=MAX_EVENTS_PAGE)
    events = current_store().events_after(_viewer(), after, limit=limit)
    return flask.jsonify(
        events=[e.model_dump(mode="json") for e in events],
        next_after=events[-1].seq if events else after,
        more=len(events) == limit,
    )


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise ApiError(400, f"{name} must be {bound}, got {value}")
    return value


@api.get("/feeds")
def get_feeds():
    """Every feed's health, as the feeds page shows it."""
    return flask.jsonify(feeds=current_store().feed_health())


@api.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    """Anything else under the API is a JSON 404, not the web app's page."""
    raise ApiError(404, f"no such endpoint: /api/v1/{rest}")

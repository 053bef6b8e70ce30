"""GET /api/v1/layers/<key>: one layer's features for a view, as GeoJSON.

The browser loads the geodata layers from here; other systems (and tests) get exactly what a
screen with the same URL would draw. The view comes from the same URL parameters as a screen's
(window, filters, bbox), the viewer from the same claims (agency, clearance).
"""

from __future__ import annotations

from dataclasses import replace

import flask

from dashboard.access import AccessError, viewer_from_claims
from dashboard.app import current_store
from dashboard.layers.registry import BY_KEY
from dashboard.layers.view import view_from_query
from dashboard.model import utcnow

layers_api = flask.Blueprint("layers", __name__, url_prefix="/api/v1/layers")


@layers_api.get("/<key>")
def layer_features(key: str) -> flask.Response | tuple[flask.Response, int]:
    layer = BY_KEY.get(key)
    if layer is None:
        return flask.jsonify(error=f"no such layer: {key} (one of {', '.join(BY_KEY)})"), 404
    args = flask.request.args
    try:
        viewer = viewer_from_claims(args.get("agency"), args.get("clearance"))
    except AccessError as exc:
        return flask.jsonify(error=f"viewer {exc}"), 400
    view = view_from_query(args)
    if args.get("bbox"):
        try:
            west, south, east, north = (float(v) for v in args["bbox"].split(","))
        except ValueError:
            return flask.jsonify(error="bbox: four numbers west,south,east,north"), 400
        view = replace(view, bbox=(west, south, east, north))
    features = layer.features(current_store(), viewer, view, utcnow())
    response = flask.jsonify(type="FeatureCollection", features=features)
    if not layer.live:
        response.cache_control.max_age = 3600
    return response

"""The common operating picture: the map, the incident list and counts, for one viewer.

The viewer comes from the URL (?agency=police&clearance=TLP:AMBER), so a link reproduces a
screen; without one, the page shows what a room with visitors may see (TLP:CLEAR).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import dash
import dash_leaflet as dl
from dash import Input, Output, State, dcc, html
from dash_extensions.javascript import Namespace
from pydantic import ValidationError

from dashboard.app import current_store
from dashboard.layers.features import SEVERITY_ORDER, feature_collection
from dashboard.model import Kind, Marking, Viewer
from dashboard.store import Query

dash.register_page(__name__, path="/", title="Sitroom: common operating picture")

HELSINKI = (60.175, 24.95)
REFRESH_MS = 2000
LIST_LENGTH = 60
SEVERITY_COLOURS = {"extreme": "#7b1fa2", "severe": "#d32f2f", "moderate": "#f57c00",
                    "minor": "#fbc02d", "unknown": "#9e9e9e"}
js = Namespace("sitroom", "map")


def viewer_from(agency: str | None, clearance: str | None) -> Viewer:
    """The viewer a URL asks for; anything unreadable falls back to the public view."""
    try:
        return Viewer(agency=agency or "public", clearance=clearance or Marking.CLEAR)
    except ValidationError:
        return Viewer(agency="public")


def layout(agency: str | None = None, clearance: str | None = None, **_query: Any) -> html.Div:
    viewer = viewer_from(agency, clearance)
    return html.Div(className="cop", children=[
        dcc.Store(id="cop-viewer", data=viewer.model_dump(mode="json")),
        dcc.Interval(id="cop-refresh", interval=REFRESH_MS),
        html.Header(className="cop-header", children=[
            html.H1("Sitroom"),
            html.Span(f"Viewing as {viewer.agency} · {viewer.clearance.label}",
                      className=f"viewer marking-{viewer.clearance.name.lower()}"),
            html.Div(id="cop-counts", className="counts"),
            html.Span(id="cop-updated", className="updated"),
        ]),
        html.Main(className="cop-main", children=[
            dl.Map(id="cop-map", center=HELSINKI, zoom=12, className="cop-map",
                   preferCanvas=True, children=[
                       dl.GeoJSON(url="/geodata/ne_110m_admin_0_countries.geojson",
                                  style={"color": "#90a4ae", "weight": 1,
                                         "fillColor": "#eceff1", "fillOpacity": 1},
                                  interactive=False, pane="tilePane"),
                       dl.GeoJSON(id="cop-areas", style=js("areaStyle"),
                                  onEachFeature=js("tooltip"),
                                  hideout={"colours": SEVERITY_COLOURS}),
                       dl.GeoJSON(id="cop-incidents", pointToLayer=js("incidentMarker"),
                                  onEachFeature=js("tooltip"), pane="markerPane",
                                  hideout={"colours": SEVERITY_COLOURS}),
                       dl.GeoJSON(id="cop-units", pointToLayer=js("unitMarker"),
                                  onEachFeature=js("tooltip"), pane="markerPane"),
                       dl.ScaleControl(position="bottomleft", imperial=False),
                   ]),
            html.Aside(className="cop-side", children=[
                html.H2("Incidents"),
                html.Ol(id="cop-list", className="incident-list"),
            ]),
        ]),
    ])


@dash.callback(
    Output("cop-incidents", "data"), Output("cop-units", "data"), Output("cop-areas", "data"),
    Output("cop-list", "children"), Output("cop-counts", "children"),
    Output("cop-updated", "children"),
    Input("cop-refresh", "n_intervals"), State("cop-viewer", "data"),
)
def refresh(_n: int | None, viewer_data: dict[str, Any]):
    """Redraw the picture for this page's viewer."""
    viewer = Viewer.model_validate(viewer_data)
    records = current_store().query(viewer)
    by_kind: dict[Kind, list] = {kind: [] for kind in Kind}
    for record in records:
        by_kind[record.kind].append(record)
    points = by_kind[Kind.INCIDENT] + by_kind[Kind.REPORT]
    areas = by_kind[Kind.ALERT] + by_kind[Kind.ANNOTATION]
    open_points = [r for r in points if r.status != "closed"]
    counts = Counter(r.severity.value for r in open_points)
    listed = sorted(open_points, key=lambda r: (SEVERITY_ORDER[r.severity.value],
                                                -r.time.timestamp()))[:LIST_LENGTH]
    return (
        feature_collection(points),
        feature_collection(by_kind[Kind.UNIT]),
        feature_collection(areas),
        [list_item(r) for r in listed],
        [html.Span(f"{counts.get(s, 0)} {s}", className=f"count severity-{s}")
         for s in ("extreme", "severe", "moderate", "minor")],
        f"updated {datetime.now(UTC):%H:%M:%S} UTC",
    )


def list_item(record) -> html.Li:
    return html.Li(className=f"incident severity-{record.severity.value}", children=[
        html.Span(record.severity.value.upper(), className="severity-label"),
        html.Span(record.title or record.category, className="title"),
        html.Span(f"{record.agency} · {record.time:%H:%M}", className="meta"),
        html.Span(record.marking.label,
                  className=f"marking marking-{record.marking.name.lower()}"),
    ])

"""The common operating picture: the live map, the incident list and counts, for one viewer.

The viewer comes from the URL (?agency=police&clearance=TLP:AMBER), so a link reproduces a
screen; without one, the page shows what a room with visitors may see (TLP:CLEAR). The page is
drawn once by Dash; after that assets/sitroom_live.js keeps it live from the /cop socket,
applying deltas in the browser (no server round trip per change).
"""

from __future__ import annotations

from typing import Any

import dash
import dash_leaflet as dl
from dash import html
from dash_extensions.javascript import Namespace

from dashboard.access import PUBLIC, AccessError, viewer_from_claims
from dashboard.live.hub import NAMESPACE

dash.register_page(__name__, path="/", title="Sitroom: common operating picture")

HELSINKI = (60.175, 24.95)
SEVERITY_COLOURS = {"extreme": "#7b1fa2", "severe": "#d32f2f", "moderate": "#f57c00",
                    "minor": "#fbc02d", "unknown": "#9e9e9e"}
CITY = "/geodata/helsinki/"
js = Namespace("sitroom", "map")


def layout(agency: str | None = None, clearance: str | None = None, **_query: Any) -> html.Div:
    try:
        viewer = viewer_from_claims(agency, clearance)
    except AccessError:
        viewer = PUBLIC
    return html.Div(className="cop", children=[
        html.Div(id="cop-live", hidden=True, **{
            "data-agency": viewer.agency, "data-clearance": viewer.clearance.label,
            "data-namespace": NAMESPACE}),
        html.Header(className="cop-header", children=[
            html.H1("Sitroom"),
            html.Span(f"Viewing as {viewer.agency} · {viewer.clearance.label}",
                      className=f"viewer marking-{viewer.clearance.name.lower()}"),
            html.Div(id="cop-counts", className="counts"),
            html.Span("connecting…", id="cop-connection", className="connection connecting",
                      role="status"),
        ]),
        html.Main(className="cop-main", children=[
            dl.Map(id="cop-map", center=HELSINKI, zoom=13, className="cop-map",
                   preferCanvas=True, attributionControl=False, children=base_layers() + [
                       dl.GeoJSON(id="cop-areas", style=js("areaStyle"),
                                  onEachFeature=js("tooltip"),
                                  hideout={"colours": SEVERITY_COLOURS}),
                       dl.GeoJSON(id="cop-incidents", pointToLayer=js("incidentMarker"),
                                  onEachFeature=js("tooltip"), pane="markerPane",
                                  hideout={"colours": SEVERITY_COLOURS}),
                       dl.GeoJSON(id="cop-units", pointToLayer=js("unitMarker"),
                                  onEachFeature=js("tooltip"), pane="markerPane"),
                       dl.ScaleControl(position="bottomleft", imperial=False),
                       dl.AttributionControl(prefix="Sitroom", position="bottomright"),
                   ]),
            html.Aside(className="cop-side", children=[
                html.H2("Open incidents"),
                html.Ol(id="cop-list", className="incident-list"),
            ]),
        ]),
    ])


def base_layers() -> list:
    """The offline base map: Natural Earth for the world, OpenStreetMap for Helsinki."""
    attribution = "© OpenStreetMap contributors · Natural Earth"
    return [
        dl.GeoJSON(url="/geodata/ne_110m_admin_0_countries.geojson", interactive=False,
                   style={"color": "#b0bec5", "weight": 1, "fillColor": "#f1efe9",
                          "fillOpacity": 1}, attribution=attribution),
        dl.GeoJSON(url=CITY + "water.geojson", interactive=False,
                   style={"stroke": False, "fillColor": "#aad3df", "fillOpacity": 1}),
        dl.GeoJSON(url=CITY + "streets.geojson", interactive=False, style=js("streetStyle")),
        dl.GeoJSON(url=CITY + "places.geojson", pointToLayer=js("placeMarker"),
                   onEachFeature=js("placeTooltip")),
    ]

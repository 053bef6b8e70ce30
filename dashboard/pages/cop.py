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
from dash import dcc, html
from dash_extensions.javascript import Namespace

from dashboard.access import PUBLIC, AccessError, viewer_from_claims
from dashboard.live.hub import NAMESPACE

dash.register_page(__name__, path="/", title="Sitroom: common operating picture")

CITY_BOUNDS = [[60.16416, 24.93518], [60.17911, 24.95341]]  # the OSM extract in geodata/
SEVERITY_COLOURS = {"extreme": "#7b1fa2", "severe": "#d32f2f", "moderate": "#f57c00",
                    "minor": "#fbc02d", "unknown": "#9e9e9e"}
CITY = "/geodata/helsinki/"
ATTRIBUTION = "Sitroom · map data © OpenStreetMap contributors (ODbL) · Natural Earth"
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
            html.Nav([dcc.Link("Map", href="/"), dcc.Link("Feeds", href="/feeds")],
                     className="nav"),
            html.Span(f"Viewing as {viewer.agency} · {viewer.clearance.label}",
                      className=f"viewer marking-{viewer.clearance.name.lower()}"),
            html.Div(id="cop-counts", className="counts"),
            html.Span("connecting…", id="cop-connection", className="connection connecting",
                      role="status"),
        ]),
        html.Main(className="cop-main", children=[
            dl.Map(id="cop-map", bounds=CITY_BOUNDS, className="cop-map",
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
                       dl.AttributionControl(prefix=ATTRIBUTION, position="bottomright"),
                   ]),
            html.Aside(className="cop-side", children=[
                html.H2("Open incidents"),
                html.Ol(id="cop-list", className="incident-list"),
            ]),
        ]),
    ])


# Base layers load at different speeds; panes fix their drawing order whatever comes first.
BASE_PANES = {"world": 201, "city-ground": 202, "city-parks": 203, "city-buildings": 204,
              "city-streets": 205, "city-places": 206}


def base_layers() -> list:
    """The offline base map: Natural Earth for the world, OpenStreetMap for central Helsinki."""
    panes = [dl.Pane(name=name, style={"zIndex": z}) for name, z in BASE_PANES.items()]
    return panes + [
        dl.GeoJSON(url="/geodata/ne_110m_admin_0_countries.geojson", interactive=False,
                   style={"color": "#b0bec5", "weight": 1, "fillColor": "#f2efe9",
                          "fillOpacity": 1}, pane="world"),
        dl.GeoJSON(url=CITY + "land_water.geojson", interactive=False, style=js("landWater"),
                   pane="city-ground"),
        dl.GeoJSON(url=CITY + "parks.geojson", interactive=False, pane="city-parks",
                   style={"stroke": False, "fillColor": "#c8e6c0", "fillOpacity": 1}),
        dl.GeoJSON(url=CITY + "buildings.geojson", interactive=False, pane="city-buildings",
                   style={"color": "#cfc6bb", "weight": 0.5, "fillColor": "#ddd6cc",
                          "fillOpacity": 1}),
        dl.GeoJSON(url=CITY + "streets.geojson", interactive=False, style=js("streetStyle"),
                   pane="city-streets"),
        dl.GeoJSON(url=CITY + "places.geojson", pointToLayer=js("placeMarker"),
                   onEachFeature=js("placeTooltip"), pane="city-places"),
    ]

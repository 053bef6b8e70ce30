"""One COP screen in three modes: desk (full), tablet (map first, drawers), wall (kiosk).

The layout is drawn once by Dash from the URL (viewer and view). After that the browser keeps it
live: assets/sitroom_live.js applies socket deltas, assets/sitroom_screen.js filters the live
features, draws the layers, legend, list, counts and timeline. Server callbacks are only for
what needs the store: an incident's details and history, on a click.
"""

from __future__ import annotations

import json
from typing import Any

import dash
import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, dcc, html

from dashboard.access import PUBLIC, AccessError, viewer_from_claims
from dashboard.layers import style
from dashboard.layers.basemap import ATTRIBUTION, CITY_BOUNDS, base_layers
from dashboard.layers.registry import LAYERS
from dashboard.layers.view import LIST_FILTERS, WINDOW_LABELS, View, view_from_query
from dashboard.live.hub import NAMESPACE
from dashboard.model import Marking, Viewer

MODES = ("desk", "tablet", "wall")
NAV = (("Desk", "/"), ("Tablet", "/tablet"), ("Wall", "/wall"), ("Feeds", "/feeds"))
ROTATE_SECONDS = 12  # the wall's side panels
FIT_SECONDS = 30  # the wall re-fits the map to the activity


def screen(mode: str, query: dict[str, Any]) -> html.Div:
    """The whole screen for a mode, the viewer and the view the URL describes."""
    try:
        viewer = viewer_from_claims(query.get("agency"), query.get("clearance"))
    except AccessError:
        viewer = PUBLIC
    view = view_from_query(query)
    theme = "dark-map" if mode == "wall" else "light-map"
    config = {"mode": mode, "view": view.client(), "layers": [layer.client() for layer in LAYERS],
              "style": style.client_style(), "windows": list(WINDOW_LABELS),
              "rotate_seconds": ROTATE_SECONDS, "fit_seconds": FIT_SECONDS,
              "city_bounds": CITY_BOUNDS}
    controls = [] if mode == "wall" else [filters(view)]
    if mode == "desk":  # beside the filters, so the map stays clear
        controls.append(legend(view))
    return html.Div(className=f"screen mode-{mode}", style=style.css_variables(),
                    **{"data-mode": mode}, children=[
        html.Div(id="cop-live", hidden=True, **{
            "data-agency": viewer.agency, "data-clearance": viewer.clearance.label,
            "data-namespace": NAMESPACE}),
        html.Div(id="cop-config", hidden=True, **{"data-config": json.dumps(config)}),
        dcc.Store(id="cop-viewer", data={"agency": viewer.agency,
                                         "clearance": viewer.clearance.label}),
        dcc.Store(id="cop-selected"),
        dcc.Store(id="cop-view"),
        header(mode, viewer),
        html.Main(className="screen-main", children=[
            *([html.Aside(id="drawer-filters", className="screen-controls drawer",
                          children=controls)] if controls else []),
            html.Div(className="screen-map",
                     children=[map_(theme), *([legend(view)] if mode == "tablet" else [])]),
            side(mode, view),
        ]),
        # (not on the wall: the map gets the room, and the wall does not load plotly.js)
        *([] if mode == "wall" else [html.Section(
            id="drawer-timeline", className="screen-timeline drawer", children=[
                dcc.Graph(id="cop-timeline", figure={"data": [], "layout": {}},
                          config={"displaylogo": False, "displayModeBar": False,
                                  "responsive": True}, style={"height": "100%"})])]),
        *([tablet_bar()] if mode == "tablet" else []),
    ])


def header(mode: str, viewer: Viewer) -> html.Header:
    nav = [] if mode == "wall" else [html.Nav(
        [dcc.Link(label, href=href, refresh=True) for label, href in NAV], className="nav")]
    return html.Header(className="cop-header", children=[
        html.H1("Sitroom"),
        *nav,
        html.Span(f"{viewer.agency} · {viewer.clearance.label}",
                  className=f"viewer marking-{viewer.clearance.name.lower()}",
                  title="Who this screen shows the picture for"),
        html.Div(id="cop-counts", className="counts", role="status"),
        html.Span(id="cop-window", className="window-label"),
        html.Span("connecting…", id="cop-connection", className="connection connecting",
                  role="status"),
    ])


def map_(theme: str) -> dl.Map:
    (south, west), (north, east) = CITY_BOUNDS
    centre = [(south + north) / 2, (west + east) / 2]
    # (a centre too: dash-leaflet's viewport tracking reads it and fails without one)
    return dl.Map(id="cop-map", bounds=CITY_BOUNDS, center=centre, zoom=15, className="cop-map",
                  preferCanvas=True,
                  attributionControl=False, children=base_layers(theme) + [
                      layer.component(theme) for layer in LAYERS] + [
                      dl.ScaleControl(position="bottomleft", imperial=False),
                      dl.AttributionControl(prefix=ATTRIBUTION, position="bottomright"),
                  ])


def legend(view: View) -> html.Div:
    """Every layer's legend; the browser shows the parts that match what is drawn."""
    sections = []
    for layer in LAYERS:
        items = [html.Li(className="legend-entry", **{"data-key": entry.key}, children=[
            html.Span(entry.text, className=f"swatch {entry.symbol}",
                      style={"--c": entry.colour} if entry.colour else None),
            html.Span(entry.label, className="legend-label"),
            html.Span(className="legend-count"),
        ]) for entry in layer.legend()]
        sections.append(html.Section(className="legend-layer", hidden=not layer.is_on(view),
                                     **{"data-layer": layer.key},
                                     children=[html.H3(layer.title), html.Ul(items)]))
    return html.Div(id="cop-legend", className="legend drawer", children=sections,
                    **{"aria-label": "Legend"})


def filters(view: View) -> html.Div:
    """Layer switches and filters; their state is the URL (a link reproduces the view)."""
    on = [layer.key for layer in LAYERS if layer.is_on(view)]
    start = view.start.strftime("%Y-%m-%dT%H:%M") if view.start else None
    end = view.end.strftime("%Y-%m-%dT%H:%M") if view.end else None
    fixed = {"severities": [(s.key, s.label) for s in style.SEVERITIES],
             "markings": [(m.label, m.label) for m in Marking]}
    blocks = [
        html.H2("Layers"),
        dcc.Checklist(id="cop-layers", className="choices",
                      options=[{"label": layer.title, "value": layer.key} for layer in LAYERS],
                      value=on),
        html.H2("Time"),
        dcc.RadioItems(id="filter-window", className="choices inline",
                       options=[{"label": label, "value": key}
                                for key, label in WINDOW_LABELS.items()],
                       value=view.window),
        html.Div(className="custom-window", children=[
            html.Label(["From (UTC) ", dcc.Input(id="filter-from", type="datetime-local",
                                                 value=start, debounce=True)]),
            html.Label(["To (UTC) ", dcc.Input(id="filter-to", type="datetime-local",
                                               value=end, debounce=True)]),
        ]),
    ]
    for name in LIST_FILTERS:
        chosen = list(getattr(view, name))
        blocks.append(html.H2(name.capitalize()))
        if name in fixed:
            blocks.append(dcc.Checklist(
                id=f"filter-{name}", className="choices inline",
                options=[{"label": label, "value": value} for value, label in fixed[name]],
                value=chosen))
        else:  # options grow from what the live picture holds (sitroom_screen.js)
            blocks.append(dcc.Dropdown(
                id=f"filter-{name}", multi=True, placeholder="any", value=chosen,
                options=[{"label": v, "value": v} for v in chosen], searchable=True))
    blocks.append(html.Button("Clear filters", id="filter-clear", className="button"))
    return html.Div(className="filters", children=blocks)


def side(mode: str, view: View) -> html.Aside:
    panels = [legend(view)] if mode == "wall" else []  # the wall's legend never rotates away
    panels += [
        html.Section(id="panel-incidents", className="panel", **{"data-panel": "incidents"},
                     children=[html.H2("Open incidents"),
                               html.Ol(id="cop-list", className="incident-list")]),
    ]
    if mode == "wall":
        panels += [
            html.Section(id="panel-alerts", className="panel", **{"data-panel": "alerts"},
                         children=[html.H2("Alerts in force"),
                                   html.Ol(id="cop-alert-list", className="incident-list")]),
            html.Section(id="panel-units", className="panel", **{"data-panel": "units"},
                         children=[html.H2("Units"),
                                   html.Ol(id="cop-unit-list", className="unit-list")]),
        ]
    else:
        panels.append(html.Section(id="cop-details", className="details", hidden=True))
    return html.Aside(id="drawer-side", className="screen-side drawer", children=panels)


def tablet_bar() -> html.Nav:
    buttons = [("filters", "Filters"), ("legend", "Legend"), ("side", "Incidents"),
               ("timeline", "Timeline")]
    return html.Nav(className="tablet-bar", children=[
        html.Button(label, id=f"open-{key}", className="button drawer-button",
                    **{"data-drawer": "cop-legend" if key == "legend" else f"drawer-{key}",
           "aria-expanded": "false"}) for key, label in buttons])


# Browser-side wiring (assets/sitroom_screen.js): no server round trip for filters or layers.
FILTER_INPUTS = [Input("cop-layers", "value"), Input("filter-window", "value"),
                 Input("filter-from", "value"), Input("filter-to", "value")] + [
    Input(f"filter-{name}", "value") for name in LIST_FILTERS]
dash.clientside_callback(ClientsideFunction("screen", "controls"),
                         Output("cop-view", "data"), *FILTER_INPUTS)
dash.clientside_callback(ClientsideFunction("screen", "clear"),
                         [Output(f"filter-{name}", "value") for name in LIST_FILTERS]
                         + [Output("filter-window", "value", allow_duplicate=True)],
                         Input("filter-clear", "n_clicks"), prevent_initial_call=True)
dash.clientside_callback(ClientsideFunction("screen", "timelineSpan"),
                         Output("filter-window", "value"), Output("filter-from", "value"),
                         Output("filter-to", "value"),
                         Input("cop-timeline", "selectedData"), prevent_initial_call=True)
dash.clientside_callback(ClientsideFunction("screen", "mapClick"),
                         Output("cop-selected", "data"),
                         Input("layer-incidents", "clickData"), prevent_initial_call=True)
dash.clientside_callback(ClientsideFunction("screen", "mapClick"),
                         Output("cop-selected", "data", allow_duplicate=True),
                         Input("layer-incidents-new", "clickData"), prevent_initial_call=True)

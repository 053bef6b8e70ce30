"""An incident's details: its fields, marking banner, sources and full history from the log.

A server callback (it reads the store), fired by a click on the map or the list, never by the
live feed; the viewer is the screen's, so the panel shows only what the screen may see.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, html

from dashboard.access import PUBLIC, AccessError, viewer_from_claims
from dashboard.app import current_store
from dashboard.layers.style import severity
from dashboard.model import Event, Record, Viewer

FIELDS = ("category", "status", "agency", "time", "expires")


@dash.callback(Output("cop-details", "children"), Output("cop-details", "hidden"),
               Input("cop-selected", "data"), State("cop-viewer", "data"),
               prevent_initial_call=True)
def show_details(entity: str | None, claims: dict[str, str] | None) -> tuple[Any, bool]:
    if not entity:
        return [], True
    viewer = _viewer(claims)
    store = current_store()
    record = store.get(viewer, entity)
    if record is None:
        return [html.P("This incident is no longer visible to this screen.",
                       className="details-gone"), _close()], False
    return details(record, store.history(viewer, entity)), False


def details(record: Record, history: list[Event]) -> list[Any]:
    """The panel's content for one record and its history."""
    sev = severity(record.severity.value)
    marking = record.marking.name.lower()
    rows = [html.Tr([html.Th(name), html.Td(_text(getattr(record, name, None)))])
            for name in FIELDS if getattr(record, name, None) not in (None, "")]
    description = getattr(record, "description", "")
    return [
        html.Div(f"{record.marking.label} · {record.agency}",
                 className=f"marking-banner marking-{marking}", role="note"),
        html.H2([html.Span(sev.label.upper(), className=f"sev-pill shape-{sev.shape}",
                           style={"--c": sev.colour, "--t": sev.text}),
                 " ", record.title or record.category], className="details-title"),
        *([html.P(description, className="details-description")] if description else []),
        html.Table(html.Tbody(rows), className="details-fields"),
        html.H3("Sources"),
        html.Ul(className="details-sources", children=_sources(record)),
        html.H3(f"History ({len(history)})"),
        html.Ol(className="details-history", children=[_event(e) for e in history]),
        _close(),
    ]


def _sources(record: Record) -> list[Any]:
    items = [html.Li(f"{record.source} · {record.source_id} · version {record.version}")]
    reporter = getattr(record, "reporter", None)
    if reporter:
        items.append(html.Li(f"reported by {reporter}"))
    items += [html.Li(f"report {rid}") for rid in getattr(record, "reports", [])]
    return items


def _event(event: Event) -> html.Li:
    payload = event.payload
    change = " · ".join(str(payload[k]) for k in ("severity", "status") if payload.get(k))
    return html.Li(className="history-event", children=[
        html.Span(event.time.strftime("%H:%M:%S"), className="history-time"),
        html.Span(f"#{event.seq} {event.action} by {event.actor}", className="history-what"),
        html.Span(f"{change} · {event.marking.label}", className="history-state"),
    ])


def _close() -> html.Button:
    return html.Button("Close", id="details-close", className="button", n_clicks=0)


def _text(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def _viewer(claims: dict[str, str] | None) -> Viewer:
    claims = claims or {}
    try:
        return viewer_from_claims(claims.get("agency"), claims.get("clearance"))
    except AccessError:
        return PUBLIC


@dash.callback(Output("cop-selected", "data", allow_duplicate=True),
               Input("details-close", "n_clicks"), prevent_initial_call=True)
def close_details(clicks: int | None) -> Any:
    return None if clicks else dash.no_update

"""Feed health at a glance: which sources the room can trust right now, and why not.

The same figures as GET /api/v1/feeds. Refreshed every few seconds from the store, where the
feed runner (in this process or in `sitroom feeds`) records them after every poll.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash
from dash import Input, Output, dcc, html

from dashboard.app import current_store
from dashboard.model import utcnow

dash.register_page(__name__, path="/feeds", title="Sitroom: feeds")

REFRESH_MS = 5000
STATUS_WORDS = {"green": "OK", "amber": "DEGRADED", "red": "FAILING", "disabled": "DISABLED"}


def layout(**_query: Any) -> html.Div:
    return html.Div(className="feeds-page", children=[
        html.Header(className="cop-header", children=[
            html.H1("Sitroom"),
            html.Nav([dcc.Link("Map", href="/"), dcc.Link("Feeds", href="/feeds")],
                     className="nav"),
        ]),
        dcc.Interval(id="feeds-refresh", interval=REFRESH_MS),
        html.Main(className="feeds-main", children=[
            html.H2("Feeds"),
            html.Div(id="feeds-table", children=feed_table(current_store().feed_health())),
        ]),
    ])


@dash.callback(Output("feeds-table", "children"), Input("feeds-refresh", "n_intervals"),
               prevent_initial_call=True)
def refresh(_n: int) -> html.Table:
    return feed_table(current_store().feed_health())


def feed_table(feeds: list[dict[str, Any]]) -> html.Table | html.P:
    if not feeds:
        return html.P("No feeds have run yet. Declare them in config/feeds.toml and start "
                      "`sitroom feeds` (or `sitroom serve --with-feeds`).", className="empty")
    header = ["Feed", "Status", "Last success", "Last error", "Created", "Updated",
              "Known", "Refused", "Items per poll"]
    return html.Table(className="feeds", children=[
        html.Thead(html.Tr([html.Th(h) for h in header])),
        html.Tbody([feed_row(f) for f in feeds]),
    ])


def feed_row(feed: dict[str, Any]) -> html.Tr:
    status = feed.get("status", "amber")
    problems = feed.get("recent_problems") or []
    error = feed.get("last_error") if feed.get("consecutive_failures") else None
    return html.Tr(className=f"feed status-{status}", children=[
        html.Td([html.Strong(feed["name"]), html.Div(feed.get("type", ""), className="meta")]),
        html.Td(html.Span(STATUS_WORDS.get(status, status.upper()),
                          className=f"status-badge status-{status}")),
        html.Td(ago(feed.get("last_success"))),
        html.Td([html.Div(error or "—"),
                 html.Div(problems[0], className="meta", title="\n".join(problems))
                 if problems else None]),
        *[html.Td(str(feed.get(k, 0)), className="number")
          for k in ("created", "updated", "duplicate", "refused")],
        html.Td(sparkline(feed.get("history") or [])),
    ])


def ago(stamp: str | None) -> str:
    if not stamp:
        return "never"
    seconds = int((utcnow() - datetime.fromisoformat(stamp)).total_seconds())
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def sparkline(history: list[list]) -> html.Div:
    """Items written per poll, as bars (a failed poll shows as an empty slot)."""
    counts = [int(items) for _, items in history]
    top = max(counts, default=0) or 1
    return html.Div(className="sparkline", title=f"items per poll, last {len(counts)} polls",
                    children=[html.Span(style={"height": f"{max(2, 100 * c // top)}%"})
                              for c in counts])

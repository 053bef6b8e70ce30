"""The desk: the full common operating picture (filters, map, legend, list, details, timeline).

The viewer comes from the URL (?agency=police&clearance=TLP:AMBER), and so does the view
(window, filters, layers), so a link reproduces a screen; without claims, the page shows what a
room with visitors may see (TLP:CLEAR).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.pages import _details  # noqa: F401 (its callbacks serve every mode)
from dashboard.pages._screen import screen

dash.register_page(__name__, path="/", title="Sitroom: common operating picture")


def layout(**query: Any) -> html.Div:
    return screen("desk", query)

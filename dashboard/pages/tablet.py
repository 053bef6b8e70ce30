"""The commander's tablet: the map first, filters, list and timeline as drawers, big targets."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.pages import _details  # noqa: F401 (its callbacks serve every mode)
from dashboard.pages._screen import screen

dash.register_page(__name__, path="/tablet", title="Sitroom tablet")


def layout(**query: Any) -> html.Div:
    return screen("tablet", query)

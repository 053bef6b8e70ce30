"""The wall: a kiosk for the crisis room's big screen, read from 5 m and touched by nobody.

No controls and no prompts: the view comes from the URL (the commander's link), the map fits
itself to the activity, the side panels rotate, and the connection state shows discreetly.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.pages._screen import screen

dash.register_page(__name__, path="/wall", title="Sitroom wall")


def layout(**query: Any) -> html.Div:
    return screen("wall", query)

"""Where incidents cluster: counts of recent incidents on a fixed grid, drawn as shaded cells.

At 100,000 incidents a wall cannot draw every marker; the grid says where the activity is at
any zoom. The browser bins its live features on the same grid (CELL, sent in the config).
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from typing import Any

import dash_leaflet as dl
from dash_extensions.javascript import Namespace

from dashboard.layers.base import Layer, LegendEntry
from dashboard.layers.records import Incidents
from dashboard.layers.view import View
from dashboard.model import Viewer
from dashboard.store import Store

js = Namespace("sitroom", "map")

CELL = (0.004, 0.002)  # degrees (lon, lat): about 220 m square at Helsinki's latitude
MAX_CELLS = 64  # per axis
SHADES = ("#b2ebf2", "#4dd0e1", "#00acc1", "#00838f")  # few -> many; no severity hue


class Density(Layer):
    """A heat grid of the incidents the incidents layer would show (same filters)."""

    key, title = "density", "Density of incidents"
    live = True
    kinds = Incidents.kinds
    filters = Incidents.filters
    default_on = False
    styled_by = "shade"

    def features(self, store: Store, viewer: Viewer, view: View, now: datetime
                 ) -> list[dict[str, Any]]:
        points = Incidents().features(store, viewer, view, now)
        return grid([f["geometry"]["coordinates"] for f in points
                     if f["geometry"]["type"] == "Point"])

    def legend(self) -> list[LegendEntry]:
        words = ("Few", "Some", "Many", "Most")
        return [LegendEntry(str(i), f"{words[i]} incidents per cell", "density-swatch", shade)
                for i, shade in enumerate(SHADES)]

    def component(self, theme: str) -> Any:
        return dl.GeoJSON(id=self.component_id, style=js("densityStyle"),
                          onEachFeature=js("densityTooltip"), pane="overlayPane",
                          hideout={"shades": list(SHADES)},
                          data={"type": "FeatureCollection", "features": []})

    def client(self) -> dict[str, Any]:
        return {**super().client(), "cell": list(CELL), "max_cells": MAX_CELLS,
                "shades": len(SHADES)}


def cell_size(coordinates: list[list[float]]) -> tuple[float, float]:
    """CELL, doubled until the points span at most MAX_CELLS cells each way (a wide spread of
    incidents gives a coarser grid, never tens of thousands of cells)."""
    if not coordinates:
        return CELL
    lons = [c[0] for c in coordinates]
    lats = [c[1] for c in coordinates]
    k = 1
    while ((max(lons) - min(lons)) / (CELL[0] * k) > MAX_CELLS
           or (max(lats) - min(lats)) / (CELL[1] * k) > MAX_CELLS):
        k *= 2
    return CELL[0] * k, CELL[1] * k


def grid(coordinates: list[list[float]]) -> list[dict[str, Any]]:
    """One square feature per occupied cell, with its count and shade (0..3 of the max)."""
    dx, dy = cell_size(coordinates)
    counts = Counter((math.floor(lon / dx), math.floor(lat / dy)) for lon, lat in coordinates)
    top = max(counts.values(), default=1)
    out = []
    for (i, j), count in sorted(counts.items()):
        west, south = i * dx, j * dy
        east, north = west + dx, south + dy
        out.append({"type": "Feature", "id": f"cell:{i}:{j}",
                    "geometry": {"type": "Polygon", "coordinates": [[
                        [west, south], [east, south], [east, north], [west, north],
                        [west, south]]]},
                    "properties": {"count": count, "shade": shade(count, top)}})
    return out


def shade(count: int, top: int) -> int:
    """Which of the shades a cell gets: quarters of the busiest cell's count."""
    return min(len(SHADES) - 1, max(0, math.ceil(4 * count / top) - 1))

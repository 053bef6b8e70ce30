"""Layers of shipped geodata (not in the event log): boundaries and critical infrastructure.

Read once from geodata/ (no internet needed); the browser fetches them from
GET /api/v1/layers/<key> once and toggles them like any other layer.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import dash_leaflet as dl
import shapely
from dash_extensions.javascript import Namespace

from dashboard.layers.base import Layer, LegendEntry
from dashboard.layers.view import View
from dashboard.model import Viewer
from dashboard.store import Store

GEODATA = Path(__file__).resolve().parents[2] / "geodata"
js = Namespace("sitroom", "map")


@functools.cache
def read(name: str) -> tuple[dict[str, Any], ...]:
    """The features of a shipped GeoJSON file (cached: these files never change at run time)."""
    return tuple(json.loads((GEODATA / name).read_text(encoding="utf-8"))["features"])


class GeodataLayer(Layer):
    files: tuple[str, ...] = ()

    def features(self, store: Store, viewer: Viewer, view: View, now: datetime
                 ) -> list[dict[str, Any]]:
        features = [f for name in self.files for f in read(name)]
        if view.bbox is None:
            return features
        box = shapely.box(*view.bbox)
        return [f for f in features if shapely.geometry.shape(f["geometry"]).intersects(box)]


FACILITIES = {"hospital": ("H", "Hospital"), "police": ("P", "Police station"),
              "fire_station": ("F", "Fire station"), "port": ("⚓", "Port / ferry terminal")}


class Infrastructure(GeodataLayer):
    """Hospitals, police and fire stations, ports: where units come from and patients go."""

    key, title = "infrastructure", "Critical infrastructure"
    files = ("helsinki/places.geojson", "helsinki/facilities.geojson")
    styled_by = "kind"

    def legend(self) -> list[LegendEntry]:
        return [LegendEntry(kind, label, f"place-icon place-{kind}", text=symbol)
                for kind, (symbol, label) in FACILITIES.items()]

    def component(self, theme: str) -> Any:
        return dl.GeoJSON(id=self.component_id, pointToLayer=js("placeMarker"),
                          onEachFeature=js("placeTooltip"), pane="markerPane",
                          hideout={"facilities": FACILITIES},
                          data={"type": "FeatureCollection", "features": []})


def street_level_extent() -> dict[str, Any]:
    """The box the street-level base map covers, as a feature (so the room knows its edge)."""
    west, south, east, north = json.loads(
        (GEODATA / "helsinki/places.geojson").read_text(encoding="utf-8"))["bbox"]
    return {"type": "Feature", "id": "extent:helsinki",
            "geometry": shapely.geometry.mapping(shapely.box(west, south, east, north)),
            "properties": {"kind": "extent", "name": "Edge of the street-level map"}}


class Boundaries(GeodataLayer):
    """Country borders (Natural Earth) and the edge of the street-level map."""

    key, title = "boundaries", "Boundaries"
    files = ("ne_110m_admin_0_countries.geojson",)
    default_on = False
    styled_by = "kind"

    def features(self, store: Store, viewer: Viewer, view: View, now: datetime
                 ) -> list[dict[str, Any]]:
        borders = [{**f, "properties": {"kind": "border", "name": f["properties"].get("NAME")
                                        or f["properties"].get("name", "")}}
                   for f in super().features(store, viewer, view, now)]
        return borders + [street_level_extent()]

    def legend(self) -> list[LegendEntry]:
        return [LegendEntry("border", "Country border", "line-swatch line-border"),
                LegendEntry("extent", "Edge of street-level map", "line-swatch line-extent")]

    def component(self, theme: str) -> Any:
        return dl.GeoJSON(id=self.component_id, style=js("boundaryStyle"),
                          onEachFeature=js("placeTooltip"), pane="overlayPane",
                          interactive=True, data={"type": "FeatureCollection", "features": []})

"""Layers of COP records (incidents, CAP alert areas, units, annotations), read from the store.

They read `Store.features`: each entity's feature as the store keeps it, no record built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_leaflet as dl
import orjson
from dash_extensions.javascript import Namespace

from dashboard.layers import style
from dashboard.layers.base import (
    AGENCY,
    CATEGORY,
    MARKING,
    SEVERITY,
    STATUS,
    TIME,
    Layer,
    LegendEntry,
)
from dashboard.layers.view import View
from dashboard.model import Viewer
from dashboard.store import Store
from dashboard.store.store import Query

js = Namespace("sitroom", "map")


class RecordLayer(Layer):
    """Records of some kinds, filtered by the view through the store's query."""

    live = True

    def features(self, store: Store, viewer: Viewer, view: View, now: datetime
                 ) -> list[dict[str, Any]]:
        start, end = view.time_range(now) if TIME in self.filters else (None, None)
        query = Query(
            kinds=self.kinds, bbox=view.bbox, start=start, end=end,
            categories=view.categories if CATEGORY in self.filters else (),
            severities=view.severities if SEVERITY in self.filters else (),
            agencies=view.agencies if AGENCY in self.filters else (),
            statuses=view.statuses if STATUS in self.filters else (),
            markings=view.markings if MARKING in self.filters else (), located=True)
        return [orjson.loads(text) for text in store.features(viewer, query)[1]]

    def hideout(self) -> dict[str, Any]:
        return style.client_style()


def severity_legend(suffix: str = "") -> list[LegendEntry]:
    return [LegendEntry(s.key, s.label + suffix, f"sev-icon shape-{s.shape}", s.colour)
            for s in style.SEVERITIES]


class Incidents(RecordLayer):
    """Incidents and reports: colour and shape by severity, a symbol by category, clustered."""

    key, title = "incidents", "Incidents"
    kinds = ("incident", "report")
    filters = frozenset({TIME, CATEGORY, SEVERITY, AGENCY, STATUS, MARKING})
    styled_by = "severity"

    def legend(self) -> list[LegendEntry]:
        return severity_legend() + [LegendEntry("cluster", "Group (count)", "cluster-icon",
                                                text="12")]

    def component(self, theme: str) -> Any:
        """The clustered set, and beside it the incidents that arrived since it was indexed
        (drawn individually and marked new until the browser merges them in)."""
        return dl.LayerGroup([
            dl.GeoJSON(id=self.component_id, pointToLayer=js("incidentMarker"),
                       clusterToLayer=js("clusterMarker"), onEachFeature=js("tooltip"),
                       cluster=True, zoomToBoundsOnClick=True, spiderfyOnMaxZoom=True,
                       superClusterOptions={"radius": 60, "maxZoom": 17},
                       pane="markerPane", hideout=self.hideout(), data=_empty()),
            dl.GeoJSON(id=f"{self.component_id}-new", pointToLayer=js("incidentMarker"),
                       onEachFeature=js("tooltip"), pane="markerPane",
                       hideout={**self.hideout(), "fresh": True}, data=_empty()),
        ])


class Alerts(RecordLayer):
    """CAP alert areas: polygons coloured by severity, dashed by severity, headline on hover."""

    key, title = "alerts", "Alert areas"
    kinds = ("alert",)
    filters = frozenset({TIME, CATEGORY, SEVERITY, AGENCY, STATUS, MARKING})
    styled_by = "severity"

    def legend(self) -> list[LegendEntry]:
        return [LegendEntry(s.key, f"{s.label} alert", f"area-swatch area-{s.key}", s.colour)
                for s in style.SEVERITIES]

    def component(self, theme: str) -> Any:
        return dl.GeoJSON(id=self.component_id, style=js("alertStyle"),
                          onEachFeature=js("alertTooltip"), hideout=self.hideout(),
                          pane="overlayPane", data=_empty())


class Units(RecordLayer):
    """Units where they are now: callsign, agency colour, status word."""

    key, title = "units", "Units"
    kinds = ("unit",)
    filters = frozenset({AGENCY, STATUS, MARKING})
    styled_by = "kind"

    def legend(self) -> list[LegendEntry]:
        return [LegendEntry("unit", "Unit: callsign · status", "unit-swatch", text="P-11")]

    def component(self, theme: str) -> Any:
        return dl.GeoJSON(id=self.component_id, pointToLayer=js("unitMarker"),
                          onEachFeature=js("tooltip"), pane="markerPane",
                          hideout=self.hideout(), data=_empty())


class Annotations(RecordLayer):
    """Shapes drawn by the room: cordons, assembly points."""

    key, title = "annotations", "Annotations"
    kinds = ("annotation",)
    filters = frozenset({AGENCY, MARKING})
    styled_by = "kind"

    def legend(self) -> list[LegendEntry]:
        return [LegendEntry("annotation", "Cordon / drawn area (dashed)", "annotation-swatch")]

    def component(self, theme: str) -> Any:
        return dl.GeoJSON(id=self.component_id, style=js("annotationStyle"),
                          onEachFeature=js("tooltip"), hideout=self.hideout(),
                          pane="overlayPane", data=_empty())


def _empty() -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": []}

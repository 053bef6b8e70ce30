"""The one interface every map layer has: what it draws for a view, and its legend.

A layer is declared in Python (key, title, which filters apply to it, its legend, its dash-leaflet
component). Its `features(store, viewer, view, now)` answers the query for a viewport, time
window, filters and viewer on the server (GET /api/v1/layers/<key>, tests). Live layers are
drawn in the browser from the socket's feature set with the same filters
(assets/sitroom_screen.js), so a busy room does not turn into server-side re-renders.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.layers.view import View
from dashboard.model import Viewer
from dashboard.store import Store

TIME, CATEGORY, SEVERITY, AGENCY, STATUS, MARKING = (
    "time", "categories", "severities", "agencies", "statuses", "markings")


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend. `key` matches the property the layer styles by (or '*')."""

    key: str
    label: str
    symbol: str  # CSS classes of the swatch, the same classes the map's markers use
    colour: str = ""
    text: str = ""  # glyph inside the swatch


class Layer(ABC):
    """A map layer: one purpose, one module."""

    key: str
    title: str
    live: bool = False  # drawn from the socket's live features in the browser
    kinds: tuple[str, ...] = ()  # record kinds it draws (live layers)
    filters: frozenset[str] = frozenset()  # which of the view's filters apply
    default_on: bool = True
    styled_by: str = ""  # feature property its legend entries are keyed on ("" = one entry)

    @abstractmethod
    def features(self, store: Store, viewer: Viewer, view: View, now: datetime
                 ) -> list[dict[str, Any]]:
        """GeoJSON features this layer draws for the view, as the viewer may see them."""

    @abstractmethod
    def legend(self) -> list[LegendEntry]:
        """What each of its symbols means."""

    @abstractmethod
    def component(self, theme: str) -> Any:
        """The dash-leaflet component drawing it (id `layer-<key>`)."""

    @property
    def component_id(self) -> str:
        return f"layer-{self.key}"

    def client(self) -> dict[str, Any]:
        """The layer as the browser needs to know it."""
        return {"key": self.key, "title": self.title, "live": self.live,
                "kinds": list(self.kinds), "filters": sorted(self.filters),
                "id": self.component_id, "default_on": self.default_on,
                "styled_by": self.styled_by}

    def is_on(self, view: View) -> bool:
        return self.default_on if view.layers is None else self.key in view.layers

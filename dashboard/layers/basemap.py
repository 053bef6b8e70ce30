"""The offline base map: Natural Earth for the world, OpenStreetMap for central Helsinki.

Served by the app from geodata/ (no tile server). The theme picks the palette (dark on the wall),
from dashboard/layers/style.py.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash_extensions.javascript import Namespace

from dashboard.layers.style import THEMES

CITY_BOUNDS = [[60.16416, 24.93518], [60.17911, 24.95341]]  # the OSM extract in geodata/
CITY = "/geodata/helsinki/"
ATTRIBUTION = "Sitroom · map data © OpenStreetMap contributors (ODbL) · Natural Earth"
js = Namespace("sitroom", "map")

# Base layers load at different speeds; panes fix their drawing order whatever comes first.
BASE_PANES = {"world": 201, "city-ground": 202, "city-parks": 203, "city-buildings": 204,
              "city-streets": 205}


def base_layers(theme: str = "light-map") -> list[Any]:
    palette = THEMES[theme]
    panes = [dl.Pane(name=name, style={"zIndex": z}) for name, z in BASE_PANES.items()]
    return panes + [
        dl.GeoJSON(url="/geodata/ne_110m_admin_0_countries.geojson", interactive=False,
                   style={"color": palette["border"], "weight": 1,
                          "fillColor": palette["land"], "fillOpacity": 1}, pane="world"),
        dl.GeoJSON(url=CITY + "land_water.geojson", interactive=False, style=js("landWater"),
                   hideout=palette, pane="city-ground"),
        dl.GeoJSON(url=CITY + "parks.geojson", interactive=False, pane="city-parks",
                   style={"stroke": False, "fillColor": palette["park"], "fillOpacity": 1}),
        dl.GeoJSON(url=CITY + "buildings.geojson", interactive=False, pane="city-buildings",
                   style={"color": palette["building_line"], "weight": 0.5,
                          "fillColor": palette["building"], "fillOpacity": 1}),
        dl.GeoJSON(url=CITY + "streets.geojson", interactive=False, style=js("streetStyle"),
                   hideout=palette, pane="city-streets"),
    ]

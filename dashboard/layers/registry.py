"""The map's layers, in drawing order (bottom first). The screens compose these; they do not
know their insides."""

from __future__ import annotations

from dashboard.layers.base import Layer
from dashboard.layers.density import Density
from dashboard.layers.geodata import Boundaries, Infrastructure
from dashboard.layers.records import Alerts, Annotations, Incidents, Units

LAYERS: tuple[Layer, ...] = (Boundaries(), Alerts(), Density(), Annotations(), Infrastructure(),
                             Units(), Incidents())
BY_KEY: dict[str, Layer] = {layer.key: layer for layer in LAYERS}

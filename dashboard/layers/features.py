"""Records as the compact GeoJSON the map draws: only what styling, tooltips and lists need."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dashboard.geometry import to_geojson
from dashboard.model import Record

SEVERITY_ORDER = {"extreme": 0, "severe": 1, "moderate": 2, "minor": 3, "unknown": 4}


def feature(record: Record) -> dict[str, Any]:
    """One record as a map feature."""
    return {
        "type": "Feature",
        "id": record.id,
        "geometry": to_geojson(record.geometry),
        "properties": {
            "id": record.id,
            "kind": record.kind.value,
            "title": record.title or getattr(record, "callsign", "") or record.category,
            "category": record.category,
            "severity": record.severity.value,
            "status": record.status,
            "agency": record.agency,
            "marking": record.marking.label,
            "time": record.time.isoformat(),
        },
    }


def feature_collection(records: Iterable[Record]) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [feature(r) for r in records if r.geometry is not None]}

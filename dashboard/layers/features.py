"""Records as the compact GeoJSON the map draws: only what styling, tooltips and lists need.

One shape, made in one place, from a record's JSON form (`feature_from_payload`): the store
keeps each entity's feature as text beside its state (made from the payload it writes),
live deltas make it from the event's payload, and both give the same feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.geometry import to_geojson
from dashboard.model import Record

SEVERITY_ORDER = {"extreme": 0, "severe": 1, "moderate": 2, "minor": 3, "unknown": 4}


def feature_from_payload(entity_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A map feature from a record's JSON form (as stored in the event log)."""
    title = payload.get("title") or payload.get("callsign") or payload.get("category", "")
    return {
        "type": "Feature",
        "id": entity_id,
        "geometry": payload.get("geometry"),
        "properties": {
            "id": entity_id,
            "kind": payload["kind"],
            "title": title,
            "category": payload.get("category", ""),
            "severity": payload.get("severity", "unknown"),
            "status": payload.get("status", ""),
            "agency": payload["agency"],
            "marking": payload["marking"],
            "time": payload.get("time"),
        },
    }


def _payload_of(record: Record) -> dict[str, Any]:
    """The fields of a record's JSON form that a feature reads, without serialising it all."""
    return {
        "kind": record.kind.value, "title": record.title,
        "callsign": getattr(record, "callsign", None), "category": record.category,
        "severity": record.severity.value, "status": record.status, "agency": record.agency,
        "marking": record.marking.label,
        "time": record.time.isoformat().replace("+00:00", "Z"),
    }


def feature(record: Record) -> dict[str, Any]:
    """A map feature from a Record."""
    return feature_from_payload(record.id, {**_payload_of(record),
                                            "geometry": to_geojson(record.geometry)})

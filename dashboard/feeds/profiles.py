"""GeoJSON sources whose properties mean more than their names say: one profile each.

The generic adapter (geojson.py) maps properties by name. A profile knows a source: USGS writes
times in milliseconds and grades events by PAGER alert level; NASA EONET repeats an event once
per track point; api.weather.gov sends CAP alerts whose Updates and Cancels name earlier
messages; partner agencies export their own property names, which a feed's configuration maps.
Every profile reads JSON and FeatureCollections exactly as the generic adapter does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple

from shapely.geometry.base import BaseGeometry

from dashboard.feeds.base import (
    FeedDefaults,
    Fields,
    Item,
    Parsed,
    Parts,
    Refused,
    Removal,
    add_items,
    content_hash,
    owned_fields,
    parse_time,
    whole,
)
from dashboard.feeds.geojson import feature_parts, features_of, load_json
from dashboard.geometry import GeometryError, parse_geometry
from dashboard.model import Kind, Severity, entity_id

PAGER_SEVERITY = {"green": Severity.MINOR, "yellow": Severity.MODERATE,
                  "orange": Severity.SEVERE, "red": Severity.EXTREME}
# Below each magnitude, its severity; at or above the last bound, extreme.
MAGNITUDE_SEVERITY = ((4.0, Severity.MINOR), (6.0, Severity.MODERATE), (7.0, Severity.SEVERE))
USGS_MAPPED = {"title", "time", "updated"}
EONET_MAPPED = {"id", "title", "description", "date"}
NWS_MAPPED = {"id", "sent", "onset", "expires", "messageType", "category", "severity",
              "certainty", "urgency", "event", "sender", "senderName", "headline",
              "description", "instruction", "areaDesc", "geocode", "references"}
MAPPABLE = ("id", "version", "title", "category", "severity", "status", "time", "expires",
            "description")


def parse_usgs(data: bytes, defaults: FeedDefaults) -> Parsed:
    """A USGS earthquake summary feed: one incident per event, graded by PAGER or magnitude.

    An event USGS has deleted (status "deleted") is taken off the map.
    """
    return whole(usgs_parts(data, defaults))


def usgs_parts(data: bytes, defaults: FeedDefaults) -> Parts:
    """parse_usgs, part by part."""
    return _feature_parts(data, partial(_usgs_fields, defaults=defaults))


def parse_eonet(data: bytes, defaults: FeedDefaults) -> Parsed:
    """NASA EONET v3 GeoJSON: one incident per event, at its latest point, with its track.

    EONET writes one feature per track point, all with the event's id; taken one by one they
    would overwrite each other in feed order, which is not time order.
    """
    parsed = Parsed()
    events: dict[str, list[tuple[int, Any]]] = {}
    for index, feature in enumerate(features_of(load_json(data))):
        event_id = _feature_id(feature)
        if event_id is None:
            parsed.refused.append(Refused(index, None, "no event id (properties.id)"))
        else:
            events.setdefault(event_id, []).append((index, feature))
    add_items(parsed, (Item(points[0][0], event_id, partial(
        _eonet_fields, event_id, [feature for _, feature in points], defaults))
        for event_id, points in events.items()))
    return parsed


def parse_nws(data: bytes, defaults: FeedDefaults) -> Parsed:
    """api.weather.gov alerts: CAP alerts as GeoJSON, often without geometry (zones only).

    Like a CAP message, an Update lands on the alert it updates (the earliest message it
    references) and a Cancel takes that alert off the map.
    """
    return whole(nws_parts(data, defaults))


def nws_parts(data: bytes, defaults: FeedDefaults) -> Parts:
    """parse_nws, part by part."""
    return _feature_parts(data, partial(_nws_fields, defaults=defaults))


def parse_mapped_geojson(data: bytes, defaults: FeedDefaults,
                         mapping: Mapping[str, str]) -> Parsed:
    """A partner's FeatureCollection whose property names come from the feed's configuration.

    `mapping` maps Sitroom fields (id, version, title, category, severity, status, time,
    expires, description) to the source's property names; other properties are kept as
    attributes. A mapping that names another field is a configuration error (ValueError).
    """
    return whole(mapped_geojson_parts(data, defaults, mapping))


def mapped_geojson_parts(data: bytes, defaults: FeedDefaults,
                         mapping: Mapping[str, str]) -> Parts:
    """parse_mapped_geojson, part by part (the mapping is checked before any part)."""
    unknown = sorted(set(mapping) - set(MAPPABLE))
    if unknown:
        raise ValueError(f"cannot map {', '.join(unknown)}: the mappable fields are "
                         f"{', '.join(MAPPABLE)}")
    return _feature_parts(data, partial(_mapped_fields, mapping=mapping, defaults=defaults),
                          id_key=mapping.get("id", "id"))


def _feature_parts(data: bytes, build: Callable[[Any], Fields | Removal],
                   id_key: str = "id") -> Parts:
    """Features one by one: each becomes a record, a removal or a refusal."""
    return feature_parts(data, lambda index, feature: Item(
        index, _feature_id(feature, id_key), partial(build, feature)))


def _properties(feature: Any) -> dict[str, Any]:
    """A feature's properties, or ValueError when it is not a GeoJSON Feature."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError("not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValueError("'properties' must be an object")
    return properties


def _feature_id(feature: Any, key: str = "id") -> str | None:
    """The source's id of a feature: properties[key], else the feature's own id."""
    if not isinstance(feature, dict):
        return None
    properties = feature.get("properties")
    value = properties.get(key) if isinstance(properties, dict) else None
    return _text(value) or _text(feature.get("id"))


def _text(value: Any) -> str | None:
    """A property as text; None for missing, null or empty."""
    return None if value in (None, "") else str(value)


def _usgs_fields(feature: Any, defaults: FeedDefaults) -> Fields | Removal:
    properties = _properties(feature)
    event_id = _text(feature.get("id"))
    if event_id is None:
        raise ValueError("no event id (the feature's id)")
    if properties.get("status") == "deleted":
        return Removal(entity_id(Kind.INCIDENT, defaults.source, event_id),
                       reason="deleted by USGS", key=f"usgs-deleted:{event_id}")
    geometry = feature.get("geometry")
    mag = properties.get("mag")
    fields = owned_fields(defaults, Kind.INCIDENT, event_id,
                          _text(properties.get("updated")) or content_hash(feature))
    attributes = dict(properties)  # a copy without the mapped ones, in the source's order
    for key in USGS_MAPPED:
        attributes.pop(key, None)
    fields.update(
        title=_text(properties.get("title")) or f"M {mag} - {properties.get('place')}",
        category=_text(properties.get("type")) or "earthquake",  # also "quarry blast", ...
        severity=usgs_severity(properties.get("alert"), mag),
        geometry=geometry,
        attributes=attributes,
    )
    depth = _depth(geometry)
    if depth is not None:
        attributes["depth_km"] = depth
    if properties.get("time") is not None:
        fields["time"] = _from_ms(properties["time"])
    return fields


def usgs_severity(alert: Any, magnitude: Any) -> Severity:
    """The PAGER alert level when USGS has assessed the impact, else a grade by magnitude."""
    if isinstance(alert, str) and alert.lower() in PAGER_SEVERITY:
        return PAGER_SEVERITY[alert.lower()]
    if not isinstance(magnitude, (int, float)) or isinstance(magnitude, bool):
        return Severity.UNKNOWN
    for bound, severity in MAGNITUDE_SEVERITY:
        if magnitude < bound:
            return severity
    return Severity.EXTREME


def _from_ms(value: Any) -> datetime:
    """USGS times are always epoch milliseconds (parse_time would guess by size)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"time {value!r} is not epoch milliseconds")
    return datetime.fromtimestamp(value / 1000, UTC)


def _depth(geometry: Any) -> float | None:
    """The third coordinate of a USGS point: depth in km (the map itself is 2-D)."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    coordinates = geometry.get("coordinates")
    if isinstance(coordinates, list) and len(coordinates) >= 3 and isinstance(
            coordinates[2], (int, float)):
        return coordinates[2]
    return None


def _eonet_fields(event_id: str, features: list[Any], defaults: FeedDefaults) -> Fields:
    """The event at its latest point, with its track (lon, lat, date) in time order."""
    track = sorted((_track_point(feature) for feature in features), key=lambda p: p.when)
    latest = track[-1].properties
    category = (latest.get("categories") or [{}])[0]
    fields = owned_fields(defaults, Kind.INCIDENT, event_id, str(latest["date"]))
    fields.update(
        title=_text(latest.get("title")) or "",
        description=_text(latest.get("description")) or "",
        category=_text(category.get("id") if isinstance(category, dict) else None) or "other",
        status="closed" if latest.get("closed") else "active",
        time=track[-1].when,
        geometry=track[-1].geometry,
        attributes={key: value for key, value in latest.items() if key not in EONET_MAPPED},
    )
    fields["attributes"]["track"] = [
        [point.geometry.centroid.x, point.geometry.centroid.y, str(point.properties["date"])]
        for point in track]
    return fields


class _TrackPoint(NamedTuple):
    when: datetime
    properties: dict[str, Any]
    geometry: BaseGeometry


def _track_point(feature: Any) -> _TrackPoint:
    """One EONET feature: when, its properties, its checked geometry."""
    properties = _properties(feature)
    when = parse_time(properties.get("date"))
    if when is None:
        raise ValueError("a track point has no date")
    try:
        return _TrackPoint(when, properties, parse_geometry(feature.get("geometry")))
    except GeometryError as exc:
        raise GeometryError(f"track point {properties['date']}: {exc}") from None


def _nws_fields(feature: Any, defaults: FeedDefaults) -> Fields | Removal:
    properties = _properties(feature)
    message_id = _text(properties.get("id"))
    if message_id is None:
        raise ValueError("no alert id (properties.id)")
    original = _nws_original(properties)
    if properties.get("messageType") == "Cancel":
        if original is None:
            raise ValueError("Cancel without references: nothing to take off the map")
        return Removal(entity_id(Kind.ALERT, defaults.source, original),
                       reason=f"NWS Cancel {message_id}: {properties.get('headline') or ''}",
                       key=f"nws-cancel:{message_id}")
    sent = parse_time(properties.get("sent"))
    info = _nws_info(feature, properties)
    fields = owned_fields(defaults, Kind.ALERT, original or message_id, message_id)
    fields.update(
        title=info["headline"] or info["event"],
        category=_text(properties.get("category")) or "other",
        severity=info["severity"],
        expires=info["expires"],
        geometry=feature.get("geometry"),
        sender=_text(properties.get("sender")) or "",
        sent=sent,
        msg_type=properties.get("messageType") or "Alert",
        references=[_cap_reference(ref) for ref in _nws_references(properties)],
        infos=[info],
        attributes={key: value for key, value in properties.items() if key not in NWS_MAPPED},
    )
    if sent is not None:
        fields["time"] = sent  # as the CAP adapter does: an alert's time is when it was sent
    return fields


def _nws_references(properties: dict[str, Any]) -> list[dict[str, Any]]:
    references = properties.get("references") or []
    if not isinstance(references, list):
        raise ValueError("'references' must be a list")
    return [ref for ref in references if isinstance(ref, dict) and _text(ref.get("identifier"))]


def _nws_original(properties: dict[str, Any]) -> str | None:
    """The earliest message an Update or Cancel references: the alert it changes.

    NWS does not list references in time order, so the first is not always the original; the
    earliest is, for every message of the chain (the CAP adapter does the same).
    """
    references = _nws_references(properties)
    if not references:
        return None
    return str(min(references, key=_reference_sent)["identifier"])


def _reference_sent(reference: dict[str, Any]) -> datetime:
    """When a referenced message was sent; one without a readable time sorts last."""
    try:
        return parse_time(reference.get("sent")) or datetime.max.replace(tzinfo=UTC)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)


def _cap_reference(reference: dict[str, Any]) -> str:
    """A reference as CAP writes it: 'sender,identifier,sent'."""
    return ",".join(str(reference.get(name) or "") for name in ("sender", "identifier", "sent"))


def _nws_info(feature: dict[str, Any], properties: dict[str, Any]) -> Fields:
    """The alert's one CAP <info> (NWS GeoJSON is English only), with its one area."""
    def text(name: str) -> str:
        return _text(properties.get(name)) or ""

    category = _text(properties.get("category"))
    return {
        "categories": [category] if category else [],
        "event": text("event"),
        "urgency": text("urgency") or "Unknown",
        "severity": text("severity") or "unknown",
        "certainty": text("certainty") or "Unknown",
        "headline": text("headline"),
        "description": text("description"),
        "instruction": text("instruction"),
        "sender_name": text("senderName"),
        "web": _text(feature.get("id")) or "",
        "onset": parse_time(properties.get("onset")),
        "expires": parse_time(properties.get("expires")),
        "areas": [{"description": text("areaDesc"),
                   "geocodes": properties.get("geocode") or {},
                   "geometry": feature.get("geometry")}],
    }


def _mapped_fields(feature: Any, mapping: Mapping[str, str], defaults: FeedDefaults) -> Fields:
    properties = _properties(feature)
    value = {field: properties.get(name) for field, name in mapping.items()}
    content = {"geometry": feature.get("geometry"), "properties": properties}
    source_id = _text(value.get("id")) or _text(feature.get("id")) or content_hash(content)
    fields = owned_fields(defaults, defaults.kind, source_id,
                          _text(value.get("version")) or content_hash(content))
    fields.update(
        title=_text(value.get("title")) or "",
        geometry=feature.get("geometry"),
        attributes={key: item for key, item in properties.items()
                    if key not in mapping.values()},
    )
    for name in ("category", "status", "description"):
        if _text(value.get(name)) is not None:
            fields[name] = str(value[name])
    if _text(value.get("severity")) is not None:
        fields["severity"] = value["severity"]
    for name in ("time", "expires"):
        when = parse_time(value.get(name))
        if when is not None:
            fields[name] = when
    return fields

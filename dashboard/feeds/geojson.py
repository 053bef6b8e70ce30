"""GeoJSON (RFC 7946) FeatureCollections and Features into records.

Generic mapping, by property name: `id` (or the feature's id), `version` (or `updated`),
`title`/`name`/`place`, `category`, `severity`, `status`, `time`, `expires`, `description`,
`marking`, `agency`, `kind`. Every other property is kept in the record's `attributes`. An item
with no id or version gets a content hash, so reading the same file twice writes nothing new.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Callable
from typing import Any

import orjson

from dashboard.feeds.base import (
    FeedDefaults,
    FeedFormatError,
    Item,
    Parsed,
    Parts,
    add_items,
    content_hash,
    parse_time,
    whole,
)
from dashboard.gc_pause import gc_paused

BOM = codecs.BOM_UTF8
PART_ITEMS = 5_000  # features per part: half a write_many transaction, ~0.1 s to build
JSONP_CALL = re.compile(r"\s*[A-Za-z_$][\w$.]*\s*\(")
MAPPED = {"id", "version", "updated", "title", "name", "place", "category", "severity",
          "status", "time", "expires", "description", "marking", "agency", "kind"}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def load_json(data: bytes) -> Any:
    """Decode a JSON document strictly: UTF-8 (a BOM is allowed), no NaN or Infinity.

    A JSONP-wrapped document (USGS's old `eqfeed_callback({...});` feeds) gets a reason that
    says what to do instead of a JSON parser's position.
    """
    try:  # orjson (several times faster; strict UTF-8, refuses NaN too) on the bytes as they are
        with gc_paused():
            return orjson.loads(memoryview(data)[len(BOM):] if data.startswith(BOM) else data)
    except orjson.JSONDecodeError:
        pass
    try:  # the standard decoder and parser, for the reason
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedFormatError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        if JSONP_CALL.match(text):
            raise FeedFormatError("not JSON: the document is JSONP (JSON wrapped in a "
                                  "callback(...)); use the feed's plain GeoJSON address"
                                  ) from None
        raise FeedFormatError(f"not JSON: {exc}") from None


def features_of(document: Any) -> list[Any]:
    """The features of a GeoJSON document, or FeedFormatError if it is not one."""
    if not isinstance(document, dict):
        raise FeedFormatError(f"not GeoJSON: the top level is a JSON {type(document).__name__}")
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise FeedFormatError("not GeoJSON: a FeatureCollection needs a 'features' list")
        return features
    if kind == "Feature":
        return [document]
    raise FeedFormatError(
        f"not GeoJSON: expected a FeatureCollection or a Feature, found type {kind!r}")


def parse_geojson(data: bytes, defaults: FeedDefaults) -> Parsed:
    """Parse a GeoJSON document; each unusable feature is refused with its reason."""
    return whole(geojson_parts(data, defaults))


def geojson_parts(data: bytes, defaults: FeedDefaults) -> Parts:
    """parse_geojson, part by part."""
    def item(index: int, feature: Any) -> Item:
        item_id = _item_id(feature)
        return Item(index, item_id, functools.partial(_feature_fields, feature, item_id,
                                                      defaults))
    return feature_parts(data, item)


def feature_parts(data: bytes, item: Callable[[int, Any], Item]) -> Parts:
    """The features of a GeoJSON document as parts of PART_ITEMS, each built in bulk.

    The document is decoded whole (FeedFormatError at the first part); then each part can be
    written while the next is built (pipeline.py).
    """
    features = features_of(load_json(data))
    for start in range(0, len(features) or 1, PART_ITEMS):
        part = Parsed()
        add_items(part, (item(index, feature) for index, feature
                         in enumerate(features[start:start + PART_ITEMS], start)))
        yield part


def _item_id(feature: Any) -> str | None:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    return (_first(properties.get("id"), feature.get("id"))
            if isinstance(properties, dict) else None)


def _feature_fields(feature: Any, item_id: str | None, defaults: FeedDefaults
                    ) -> dict[str, Any]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValueError("not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValueError("'properties' must be an object")
    return _record_fields(feature, properties, item_id, defaults)


def _first(*values: Any) -> str | None:
    for value in values:
        if value not in (None, ""):
            return str(value)
    return None


def _record_fields(feature: dict, properties: dict, item_id: str | None,
                   defaults: FeedDefaults) -> dict[str, Any]:
    content = {"geometry": feature.get("geometry"), "properties": properties}
    fields: dict[str, Any] = {
        "kind": properties.get("kind") or defaults.kind.value,
        "source": defaults.source,
        "source_id": item_id or content_hash(content),
        "version": _first(properties.get("version"), properties.get("updated"))
        or content_hash(content),
        "marking": properties.get("marking") or defaults.marking,
        "agency": properties.get("agency") or defaults.agency,
        "title": str(_first(properties.get("title"), properties.get("name"),
                            properties.get("place")) or ""),
        "geometry": feature.get("geometry"),
        "attributes": {k: v for k, v in properties.items() if k not in MAPPED},
    }
    for name in ("category", "severity", "status", "description"):
        if properties.get(name) not in (None, ""):
            fields[name] = properties[name]
    for name in ("time", "expires"):
        when = parse_time(properties.get(name))
        if when is not None:
            fields[name] = when
    return fields

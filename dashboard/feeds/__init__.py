"""Feed adapters: bytes in, records out. Each format registers its parser here, once."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from dashboard.feeds.base import FeedDefaults, FeedFormatError, Parts, one
from dashboard.feeds.cap import parse_cap
from dashboard.feeds.cap_index import parse_cap_index
from dashboard.feeds.csv_records import parse_csv
from dashboard.feeds.geojson import geojson_parts
from dashboard.feeds.georss import parse_georss
from dashboard.feeds.profiles import mapped_geojson_parts, nws_parts, parse_eonet, usgs_parts

if TYPE_CHECKING:
    from dashboard.feeds.config import FeedConfig

Parser = Callable[[bytes, FeedDefaults], Parts]

# Every format's parser yields its answer in parts: the GeoJSON family in parts of
# PART_ITEMS features, so a big document is written while the rest is built; the others in one.
FORMATS: dict[str, Parser] = {
    "cap": one(parse_cap),
    "cap-index": one(parse_cap_index),
    "geojson": geojson_parts,
    "usgs": usgs_parts,
    "eonet": one(parse_eonet),
    "nws": nws_parts,
    "georss": one(parse_georss),
    "csv": one(parse_csv),
}

FIRST_ELEMENT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")  # skips <?xml ...> and <!...>
CAP_NAMESPACES = (b"urn:oasis:names:tc:emergency:cap:1.2", b"urn:oasis:names:tc:emergency:cap:1.1")


def parser_for(feed: FeedConfig) -> Parser:
    """The parser a configured feed uses, with the feed's own mapping where it has one."""
    if feed.type == "mapped-geojson":
        return functools.partial(mapped_geojson_parts, mapping=dict(feed.mapping))
    if feed.type == "csv" and feed.mapping:
        return one(functools.partial(parse_csv, columns=dict(feed.mapping)))
    return FORMATS[feed.type]


def detect_format(path: Path, data: bytes) -> str:
    """The format of a document, from its content, or else from its name."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _xml_format(head)
    if head.startswith((b"{", b"[")):
        return _json_format(data)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".geojson", ".json"):
        return "geojson"  # not JSON after all: the GeoJSON adapter says what is wrong
    if suffix in (".xml", ".cap", ".atom", ".rss"):
        return "cap"  # likewise, for XML
    raise FeedFormatError(
        f"cannot tell the format of {path.name}: use --format ({', '.join(FORMATS)})")


def _xml_format(head: bytes) -> str:
    without_comments = re.sub(rb"<!--.*?-->", b"", head, flags=re.S)
    match = FIRST_ELEMENT.search(without_comments)
    root = match.group(1).split(b":")[-1] if match else b""
    if root == b"alert":
        return "cap"
    if root in (b"feed", b"rss", b"RDF"):
        is_cap = any(ns in head for ns in CAP_NAMESPACES) or b"cap" in head.lower()
        return "cap-index" if is_cap and b"georss" not in head else "georss"
    raise FeedFormatError(f"unknown XML document <{root.decode(errors='replace')}>")


def _json_format(data: bytes) -> str:
    try:
        document = orjson.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return "geojson"  # the GeoJSON adapter says precisely what is wrong
    if not isinstance(document, dict):
        return "geojson"
    metadata = document.get("metadata") or {}
    if isinstance(metadata, dict) and "earthquake.usgs.gov" in str(metadata.get("url", "")):
        return "usgs"
    features = document.get("features") or []
    first = features[0].get("properties", {}) if features and isinstance(features[0], dict) else {}
    if isinstance(first, dict):
        if first.get("@type") == "wx:Alert":
            return "nws"
        if "eonet" in str(first.get("link", "")) or str(first.get("id", "")).startswith("EONET"):
            return "eonet"
    return "geojson"

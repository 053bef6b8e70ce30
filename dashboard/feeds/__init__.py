"""Feed adapters: bytes in, records out. Each format registers its parser here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dashboard.feeds.base import FeedDefaults, FeedFormatError, Parsed
from dashboard.feeds.geojson import parse_geojson

Parser = Callable[[bytes, FeedDefaults], Parsed]

FORMATS: dict[str, Parser] = {
    "geojson": parse_geojson,
}


def detect_format(path: Path, data: bytes) -> str:
    """The format of a document, by its name and then by its first bytes."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "geojson"
    raise FeedFormatError(
        f"cannot tell the format of {path.name}: use --format ({', '.join(FORMATS)})")

"""RSS 2.0 and Atom feeds located with GeoRSS, and GDACS's disaster alerts, into incidents.

Locations, in the order tried: GeoRSS Simple (georss:polygon, georss:line, georss:box,
georss:point; all write latitude before longitude), then W3C geo:lat/geo:long (alone or in a
geo:Point), then GDACS's event box (gdacs:bbox, "lonmin lonmax latmin latmax"), so an event
GDACS locates only by its extent still reaches the map. An item with none is refused.
GeoRSS GML (georss:where) is not read.

GDACS items (www.gdacs.org) keep one identity per event (event type + event id), are versioned
by episode, and are graded by alert level; their other gdacs:* fields are kept as attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any
from xml.etree.ElementTree import Element, tostring

import shapely

from dashboard.feeds.base import (
    FeedDefaults,
    FeedFormatError,
    Fields,
    Item,
    Parsed,
    add_items,
    content_hash,
    owned_fields,
    parse_time,
)
from dashboard.feeds.xml import parse_xml
from dashboard.geometry import bbox_parts, to_geojson
from dashboard.model import Kind, Severity

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "georss": "http://www.georss.org/georss",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "gdacs": "http://www.gdacs.org",
}
GDACS = "{" + NS["gdacs"] + "}"
GDACS_SEVERITY = {"green": Severity.MINOR, "orange": Severity.SEVERE, "red": Severity.EXTREME}
GDACS_CATEGORY = {"EQ": "earthquake", "TC": "tropical-cyclone", "FL": "flood",
                  "VO": "volcano", "DR": "drought", "WF": "wildfire", "TS": "tsunami"}
SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class _Entry:
    """What an RSS <item> and an Atom <entry> both say, under one set of names."""

    element: Element
    guid: str | None
    title: str
    description: str
    link: str | None
    updated: str | None  # RSS pubDate, Atom updated (or published): the version of last resort
    categories: list[str]


def parse_georss(data: bytes, defaults: FeedDefaults) -> Parsed:
    """Parse an RSS 2.0 channel or an Atom feed: one incident per located item."""
    parsed = Parsed()
    add_items(parsed, (Item(index, _source_id(entry, gdacs), partial(_fields, entry, gdacs,
                                                                     defaults))
                       for index, entry in enumerate(_entries(parse_xml(data)))
                       for gdacs in [_gdacs(entry.element)]))
    return parsed


def _entries(root: Element) -> list[_Entry]:
    """The items of an RSS 2.0 channel or the entries of an Atom feed; FeedFormatError else."""
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedFormatError("not an RSS 2.0 channel: <rss> has no <channel>")
        return [_rss_entry(item) for item in channel.findall("item")]
    if root.tag == f"{{{NS['atom']}}}feed":
        return [_atom_entry(entry) for entry in root.findall("atom:entry", NS)]
    raise FeedFormatError(f"not an RSS 2.0 channel or an Atom feed: the root element is "
                          f"<{root.tag}>")


def _rss_entry(item: Element) -> _Entry:
    return _Entry(element=item, guid=_text(item.find("guid")),
                  title=_text(item.find("title")) or "",
                  description=_text(item.find("description")) or "",
                  link=_text(item.find("link")), updated=_text(item.find("pubDate")),
                  categories=[text for c in item.findall("category") if (text := _text(c))])


def _atom_entry(entry: Element) -> _Entry:
    links = [link for link in entry.findall("atom:link", NS)
             if link.get("rel", "alternate") == "alternate" and link.get("href")]
    return _Entry(element=entry, guid=_text(entry.find("atom:id", NS)),
                  title=_text(entry.find("atom:title", NS)) or "",
                  description=_text(entry.find("atom:summary", NS))
                  or _text(entry.find("atom:content", NS)) or "",
                  link=links[0].get("href") if links else None,
                  updated=_text(entry.find("atom:updated", NS))
                  or _text(entry.find("atom:published", NS)),
                  categories=[term for c in entry.findall("atom:category", NS)
                              if (term := c.get("term"))])


def _text(element: Element | None) -> str | None:
    """All the text inside an element, stripped; None when absent or empty."""
    if element is None:
        return None
    return "".join(element.itertext()).strip() or None


def _gdacs(item: Element) -> dict[str, str]:
    """An item's simple gdacs:* fields by name; an element's value and unit as name_value and
    name_unit (gdacs:severity unit="km/h" value="92.6"). Nested ones (resources) are left out.
    """
    found: dict[str, str] = {}
    for element in item:
        if not element.tag.startswith(GDACS) or len(element):
            continue
        name = element.tag.removeprefix(GDACS)
        if text := _text(element):
            found[name] = text
        for extra in ("value", "unit"):
            if element.get(extra):
                found[f"{name}_{extra}"] = element.get(extra, "")
    return found


def _source_id(entry: _Entry, gdacs: dict[str, str]) -> str | None:
    """GDACS's event (type + id, as its guids write it), else the guid, else the link."""
    if "eventtype" in gdacs and "eventid" in gdacs:
        return gdacs["eventtype"] + gdacs["eventid"]
    return entry.guid or entry.link


def _fields(entry: _Entry, gdacs: dict[str, str], defaults: FeedDefaults) -> Fields:
    geometry, located_by = _geometry(entry.element)
    content = tostring(entry.element, encoding="unicode")
    fields = owned_fields(defaults, Kind.INCIDENT,
                          _source_id(entry, gdacs) or content_hash(content),
                          gdacs.get("episodeid") or entry.updated or content_hash(content))
    attributes: dict[str, Any] = {**gdacs, "located_by": located_by}
    if entry.link:
        attributes["link"] = entry.link
    if entry.categories:
        attributes["categories"] = entry.categories
    fields.update(
        title=entry.title,
        description=entry.description,
        category=_category(entry, gdacs),
        severity=GDACS_SEVERITY.get(gdacs.get("alertlevel", "").lower(), Severity.UNKNOWN),
        status="closed" if gdacs.get("iscurrent", "").lower() == "false" else "active",
        geometry=geometry,
        attributes=attributes,
    )
    when = (_date(gdacs["fromdate"], "gdacs:fromdate") if "fromdate" in gdacs
            else _date(entry.updated, "date"))
    if when is not None:
        fields["time"] = when
    return fields


def _category(entry: _Entry, gdacs: dict[str, str]) -> str:
    if "eventtype" in gdacs:
        return GDACS_CATEGORY.get(gdacs["eventtype"], gdacs["eventtype"].lower())
    return entry.categories[0] if entry.categories else "other"


def _date(text: str | None, what: str) -> datetime | None:
    """RSS writes RFC 822 dates, Atom RFC 3339; some RSS feeds write ISO 8601 too."""
    if text is None:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            return parse_time(text)
        except ValueError:
            raise ValueError(f"{what} {text!r} is not an RFC 822 or ISO 8601 date") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _geometry(item: Element) -> tuple[dict[str, Any], str]:
    """The item's location as GeoJSON (longitude first), and the element it was read from."""
    for name, shape in GEORSS_SHAPES.items():
        text = _text(item.find(f"georss:{name}", NS))
        if text is not None:
            return shape(_positions(text, f"georss:{name}")), f"georss:{name}"
    point = _w3c_point(item)
    if point is not None:
        return point, "geo:lat/geo:long"
    text = _text(item.find("gdacs:bbox", NS))
    if text is not None:
        west, east, south, north = _numbers(text, "gdacs:bbox", count=4)
        return _box(west, south, east, north), "gdacs:bbox"
    raise ValueError("no location: expected georss:point, georss:line, georss:polygon, "
                     "georss:box, geo:lat/geo:long or gdacs:bbox")


def _numbers(text: str, what: str, count: int | None = None) -> list[float]:
    values = SEPARATORS.split(text.strip())
    try:
        numbers = [float(value) for value in values]
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a list of numbers") from None
    if count is not None and len(numbers) != count:
        raise ValueError(f"{what} has {len(numbers)} numbers; expected {count}")
    return numbers


def _positions(text: str, what: str) -> list[list[float]]:
    """GeoRSS's "lat lon lat lon ..." as GeoJSON's [[lon, lat], ...]."""
    numbers = _numbers(text, what)
    if len(numbers) % 2:
        raise ValueError(f"{what} has an odd number of coordinates ({len(numbers)})")
    return [[lon, lat] for lat, lon in zip(numbers[::2], numbers[1::2])]


def _point(positions: list[list[float]]) -> dict[str, Any]:
    if len(positions) != 1:
        raise ValueError(f"georss:point has {len(positions)} positions; expected 1")
    return {"type": "Point", "coordinates": positions[0]}


def _line(positions: list[list[float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": positions}


def _polygon(positions: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [positions]}


def _georss_box(positions: list[list[float]]) -> dict[str, Any]:
    """georss:box is "south west north east": its lower corner, then its upper corner."""
    if len(positions) != 2:
        raise ValueError(f"georss:box has {len(positions)} corners; expected 2")
    (west, south), (east, north) = positions
    return _box(west, south, east, north)


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A lon/lat box as a polygon; one that crosses the antimeridian as two."""
    boxes = [shapely.box(*part) for part in bbox_parts((west, south, east, north))]
    return to_geojson(boxes[0] if len(boxes) == 1 else shapely.MultiPolygon(boxes))


GEORSS_SHAPES = {"polygon": _polygon, "line": _line, "box": _georss_box, "point": _point}


def _w3c_point(item: Element) -> dict[str, Any] | None:
    """W3C geo:lat and geo:long, on the item itself or in a geo:Point (as GDACS writes them)."""
    for path in ("", "geo:Point/"):
        lat = _text(item.find(f"{path}geo:lat", NS))
        lon = _text(item.find(f"{path}geo:long", NS))
        if lat is None and lon is None:
            continue
        if lat is None or lon is None:
            raise ValueError("geo:lat and geo:long must come together; one is missing")
        return {"type": "Point", "coordinates": [_numbers(lon, "geo:long", count=1)[0],
                                                 _numbers(lat, "geo:lat", count=1)[0]]}
    return None

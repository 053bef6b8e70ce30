"""CAP 1.2 and 1.1 alert messages (OASIS Common Alerting Protocol): one <alert>, one Alert record.

Identity follows the chain of messages, not the message. An Alert is its own original; an
Update or Cancel lists earlier messages in <references>, and the earliest of them is the entity
it changes. So an Update replaces the alert it updates on the map (same entity id), and a
Cancel takes it off (a Removal, not a record). Ack and Error messages answer another message
and keep their own identity, so they never replace the alert they answer.

Schema problems are warnings: real feeds are often slightly off the schema and still worth
showing. A message is refused only when a core field (identifier, sender, sent, status, msgType,
scope) is missing or unsound, or when an area's geometry cannot be drawn. A message in no
namespace is read as CAP 1.2, with a warning.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

import shapely
from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from dashboard.feeds.base import (
    FeedDefaults,
    FeedFormatError,
    Parsed,
    Refused,
    Removal,
    parse_time,
    validation_reason,
)
from dashboard.feeds.xml import parse_xml, schema_problems
from dashboard.geometry import check_geometry, circle_polygon, split_at_antimeridian
from dashboard.model import Alert, AlertArea, AlertInfo, Kind, Marking, Severity, entity_id

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11 = "urn:oasis:names:tc:emergency:cap:1.1"
SCHEMAS = {CAP12: "CAP-v1.2.xsd", CAP11: "CAP-v1.1.xsd"}
ALERT_TAGS = frozenset({f"{{{CAP12}}}alert", f"{{{CAP11}}}alert", "alert"})
SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"

CHOICES = {
    "status": ("Actual", "Exercise", "System", "Test", "Draft"),
    "msgType": ("Alert", "Update", "Cancel", "Ack", "Error"),
    "scope": ("Public", "Restricted", "Private"),
}
CORE_FIELDS = ("identifier", "sender", "sent", "status", "msgType", "scope")
# CAP 1.2 3.2.1: identifier and sender MUST NOT contain spaces or commas, which is what lets
# <references> list them as "sender,identifier,sent" triples separated by whitespace.
SEPARATORS = re.compile(r"[\s,]")
SEVERITY_ORDER = (Severity.UNKNOWN, Severity.MINOR, Severity.MODERATE, Severity.SEVERE,
                  Severity.EXTREME)
SCOPE_MARKING = {"Restricted": Marking.AMBER, "Private": Marking.AMBER_STRICT}
MESSAGE_FIELDS = ("source", "restriction", "addresses", "note", "incidents")
INFO_FIELDS = ("effective", "audience", "contact")
RESOURCE_FIELDS = {"description": "resourceDesc", "mime_type": "mimeType", "uri": "uri"}


@dataclass(frozen=True)
class _Cap:
    """Reads the children of CAP elements in one namespace ('' for a message without one)."""

    namespace: str

    def tag(self, name: str) -> str:
        return f"{{{self.namespace}}}{name}" if self.namespace else name

    def all(self, parent: Element, name: str) -> list[Element]:
        return parent.findall(self.tag(name))

    def text(self, parent: Element, name: str) -> str:
        """The stripped text of the first such child, '' when absent or empty."""
        child = parent.find(self.tag(name))
        return (child.text or "").strip() if child is not None else ""

    def texts(self, parent: Element, name: str) -> list[str]:
        """The non-empty texts of every such child: an empty <polygon/> is no polygon."""
        return [text for child in self.all(parent, name) if (text := (child.text or "").strip())]

    def pairs(self, parent: Element, name: str) -> dict[str, list[str]]:
        """Repeated valueName/value children (geocode, parameter, eventCode) as name -> values."""
        found: dict[str, list[str]] = {}
        for child in self.all(parent, name):
            values = found.setdefault(self.text(child, "valueName"), [])
            if value := self.text(child, "value"):
                values.append(value)
        return found


@dataclass(frozen=True)
class _Header:
    """The core fields every CAP message needs, checked."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str

    @property
    def message_id(self) -> str:
        """'sender,identifier': how <references> names a message."""
        return f"{self.sender},{self.identifier}"


def parse_cap(data: bytes, defaults: FeedDefaults) -> Parsed:
    """Parse one CAP message: an Alert record, or a Removal for a Cancel, or a refusal.

    Schema problems land in `warnings`, each prefixed with the message's identifier.
    """
    root = parse_xml(data)
    cap = _Cap(_namespace_of(root))
    identifier = cap.text(root, "identifier") or None
    prefix = identifier or "CAP alert without identifier"
    parsed = Parsed()
    if cap.namespace:
        parsed.warnings.extend(f"{prefix}: {problem}"
                               for problem in schema_problems(data, SCHEMAS[cap.namespace]))
    else:
        parsed.warnings.append(f"{prefix}: <alert> has no CAP namespace; read as CAP 1.2, "
                               "schema not checked")
    try:
        _read_message(cap, root, defaults, parsed, prefix)
    except ValidationError as exc:
        parsed.refused.append(Refused(0, identifier, validation_reason(exc)))
    except ValueError as exc:  # includes GeometryError
        parsed.refused.append(Refused(0, identifier, str(exc)))
    return parsed


def _namespace_of(root: Element) -> str:
    """The CAP namespace of an <alert> root ('' when it has none); FeedFormatError otherwise."""
    namespace, _, local = root.tag.rpartition("}")
    namespace = namespace.removeprefix("{")
    if local != "alert":
        raise FeedFormatError(f"not a CAP alert: the root element is <{local}>")
    if namespace and namespace not in SCHEMAS:
        raise FeedFormatError(f"not a CAP 1.2 or 1.1 alert: namespace {namespace!r}")
    return namespace


def _read_message(cap: _Cap, root: Element, defaults: FeedDefaults, parsed: Parsed,
                  prefix: str) -> None:
    """Add the message's record or removal to `parsed`; ValueError when it is unusable."""
    header = _header(cap, root)
    references = cap.text(root, "references").split()
    original = _original(header, references, parsed.warnings, prefix)
    if header.msg_type == "Cancel":
        parsed.removals.append(Removal(
            entity_id=entity_id(Kind.ALERT, defaults.source, original),
            reason=f"CAP Cancel {header.message_id}: {cap.text(root, 'note')}",
            key=f"cap-cancel:{header.message_id}"))
        return
    parsed.records.append(_alert(cap, root, header, original, references, defaults))


def _header(cap: _Cap, root: Element) -> _Header:
    """The core fields, or one ValueError naming every field that is missing or unsound."""
    values: dict[str, str] = {}
    problems = []
    for name in CORE_FIELDS:
        element = root.find(cap.tag(name))
        value = None if element is None else (element.text or "").strip()
        problem = _core_problem(name, value)
        if problem:
            problems.append(problem)
        elif value is not None:
            values[name] = value
    if problems:
        raise ValueError("; ".join(problems))
    sent = parse_time(values["sent"])
    assert sent is not None  # _core_problem refused an empty <sent>
    return _Header(identifier=values["identifier"], sender=values["sender"], sent=sent,
                   status=values["status"], msg_type=values["msgType"], scope=values["scope"])


def _core_problem(name: str, value: str | None) -> str | None:
    if value is None:
        return f"<{name}> is missing"
    if not value:
        return f"<{name}> is empty"
    if name in CHOICES and value not in CHOICES[name]:
        return f"<{name}> {value!r} is not one of {', '.join(CHOICES[name])}"
    if name in ("identifier", "sender") and SEPARATORS.search(value):
        return f"<{name}> {value!r} must not contain spaces or commas"
    if name == "sent":
        try:
            parse_time(value)
        except ValueError:
            return f"<sent> {value!r} is not a date-time"
    return None


def _original(header: _Header, references: list[str], warnings: list[str], prefix: str) -> str:
    """The 'sender,identifier' of the entity the message is about (see the module docstring)."""
    if header.msg_type not in ("Update", "Cancel"):
        return header.message_id
    referenced, bad = _earliest_reference(references)
    warnings.extend(f"{prefix}: reference {triple!r} is not a 'sender,identifier,sent' triple; "
                    "ignored" for triple in bad)
    if referenced is not None:
        return referenced
    if header.msg_type == "Cancel":
        raise ValueError("Cancel without usable <references>: nothing to take off the map")
    warnings.append(f"{prefix}: Update without usable <references>; kept as a new alert")
    return header.message_id


def _earliest_reference(references: list[str]) -> tuple[str | None, list[str]]:
    """The 'sender,identifier' of the earliest referenced message, and the malformed triples.

    An Update lists the messages it follows, so the earliest is the original alert: every
    update in the chain then lands on the same entity.
    """
    earliest: tuple[datetime, str] | None = None
    bad = []
    for triple in references:
        parts = triple.split(",")
        sent = _reference_time(parts)
        if sent is None:
            bad.append(triple)
        elif earliest is None or sent < earliest[0]:
            earliest = (sent, f"{parts[0]},{parts[1]}")
    return (earliest[1] if earliest else None), bad


def _reference_time(parts: list[str]) -> datetime | None:
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    try:
        return parse_time(parts[2])
    except ValueError:
        return None


def _alert(cap: _Cap, root: Element, header: _Header, original: str, references: list[str],
           defaults: FeedDefaults) -> Alert:
    infos = [_info(cap, element) for element in cap.all(root, "info")]
    first = infos[0] if infos else None
    return Alert(
        source=defaults.source,
        source_id=original,
        version=header.message_id,
        marking=max(defaults.marking, SCOPE_MARKING.get(header.scope, Marking.CLEAR)),
        agency=defaults.agency,
        title=(first.headline or first.event) if first else "",
        category=first.categories[0] if first and first.categories else "other",
        severity=max((info.severity for info in infos), key=SEVERITY_ORDER.index,
                     default=Severity.UNKNOWN),
        time=header.sent,
        expires=max((info.expires for info in infos if info.expires), default=None),
        geometry=_union([area.geometry for info in infos for area in info.areas
                         if area.geometry is not None]),
        sender=header.sender,
        sent=header.sent,
        msg_type=header.msg_type,
        scope=header.scope,
        references=references,
        infos=infos,
        signed=next(root.iter(SIGNATURE), None) is not None,
        attributes=_attributes(cap, root, header),
    )


def _info(cap: _Cap, element: Element) -> AlertInfo:
    return AlertInfo(
        language=cap.text(element, "language") or "en-US",  # CAP's default
        categories=cap.texts(element, "category"),
        event=cap.text(element, "event"),
        urgency=cap.text(element, "urgency") or "Unknown",
        severity=_severity(cap.text(element, "severity")),
        certainty=cap.text(element, "certainty") or "Unknown",
        headline=cap.text(element, "headline"),
        description=cap.text(element, "description"),
        instruction=cap.text(element, "instruction"),
        sender_name=cap.text(element, "senderName"),
        web=cap.text(element, "web"),
        onset=_optional_time(cap.text(element, "onset")),
        expires=_optional_time(cap.text(element, "expires")),
        areas=[_area(cap, area) for area in cap.all(element, "area")],
    )


def _severity(value: str) -> Severity:
    """A CAP severity; one outside the code list reads as Unknown (the schema check warns)."""
    try:
        return Severity(value.lower())
    except ValueError:
        return Severity.UNKNOWN


def _optional_time(value: str) -> datetime | None:
    """An info time; a malformed one is dropped rather than refusing the alert (the schema
    check warns about it)."""
    try:
        return parse_time(value)
    except ValueError:
        return None


def _area(cap: _Cap, element: Element) -> AlertArea:
    description = cap.text(element, "areaDesc")
    try:
        shapes = ([_polygon(text) for text in cap.texts(element, "polygon")]
                  + [_circle(text) for text in cap.texts(element, "circle")])
    except ValueError as exc:
        raise ValueError(f"area {description!r}: {exc}") from None
    return AlertArea(description=description, geocodes=cap.pairs(element, "geocode"),
                     geometry=_union(shapes))


def _polygon(text: str) -> BaseGeometry:
    """A CAP polygon, 'lat,lon' pairs that close on the first, as a checked lon/lat polygon."""
    pairs = text.split()
    points = [_point(pair) for pair in pairs]
    if len(points) < 4:
        raise ValueError(f"polygon has {len(points)} point(s); a closed polygon needs at least 4")
    if points[0] != points[-1]:
        raise ValueError(f"polygon is not closed: it starts at {pairs[0]} and ends at {pairs[-1]}")
    polygon = split_at_antimeridian(shapely.Polygon(points))
    check_geometry(polygon)
    return polygon


def _circle(text: str) -> BaseGeometry:
    """A CAP circle, 'lat,lon radius' with the radius in km, drawn as a polygon in metres.

    Radius 0 (USGS earthquake messages) is the centre point itself.
    """
    try:
        centre, radius = text.split()
        radius_km = float(radius)
    except ValueError:
        raise ValueError(f"circle {text!r} is not 'lat,lon radius'") from None
    if not (math.isfinite(radius_km) and radius_km >= 0):
        raise ValueError(f"circle {text!r}: the radius must be a non-negative number of km")
    point = shapely.Point(_point(centre))
    check_geometry(point)
    if radius_km == 0:
        return point
    circle = split_at_antimeridian(circle_polygon(point.x, point.y, radius_km * 1000))
    check_geometry(circle)
    return circle


def _point(pair: str) -> tuple[float, float]:
    """CAP's 'lat,lon' as (lon, lat), the order of GeoJSON and of the store."""
    try:
        lat, lon = (float(value) for value in pair.split(","))
    except ValueError:
        raise ValueError(f"{pair!r} is not a 'lat,lon' pair of numbers") from None
    return lon, lat


def _union(shapes: list[BaseGeometry]) -> BaseGeometry | None:
    """All the shapes as one geometry (a single shape unchanged), None when there are none."""
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else shapely.union_all(shapes)


def _attributes(cap: _Cap, root: Element, header: _Header) -> dict[str, Any]:
    """What the record has no field for but a reader of the alert may need."""
    attributes: dict[str, Any] = {"status": header.status}
    for name in MESSAGE_FIELDS:
        if value := cap.text(root, name):
            attributes[name] = value
    if codes := cap.texts(root, "code"):
        attributes["codes"] = codes
    infos = [_info_attributes(cap, element) for element in cap.all(root, "info")]
    if any(infos):
        attributes["infos"] = infos  # one per record info, in the same order
    return attributes


def _info_attributes(cap: _Cap, element: Element) -> dict[str, Any]:
    """An <info>'s response types, codes, parameters and resources (magnitude, VTEC, maps)."""
    found: dict[str, Any] = {name: value for name in INFO_FIELDS
                             if (value := cap.text(element, name))}
    if response_types := cap.texts(element, "responseType"):
        found["response_types"] = response_types
    for key, name in (("event_codes", "eventCode"), ("parameters", "parameter")):
        if pairs := cap.pairs(element, name):
            found[key] = pairs
    resources = [{key: value for key, name in RESOURCE_FIELDS.items()
                  if (value := cap.text(resource, name))}
                 for resource in cap.all(element, "resource")]
    if resources:
        found["resources"] = resources
    return found

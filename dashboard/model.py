"""The domain: what the crisis room records, who owns it and who may see it.

Every record carries a TLP 2.0 marking and an owning agency. Every read takes a Viewer; the one
rule that decides visibility is `Viewer.can_see`, mirrored in SQL by the store.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationInfo,
)
from shapely.geometry.base import BaseGeometry

from dashboard.geometry import parse_geometry, to_geojson

ENTITY_NAMESPACE = uuid.UUID("5a1e7f0c-3b6d-4c1e-9f0a-51720000c0b0")
_NAMESPACE_BYTES = ENTITY_NAMESPACE.bytes


class Marking(enum.IntEnum):
    """TLP 2.0 (FIRST), ordered from least to most restricted."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        return "TLP:" + self.name.replace("_", "+")

    @classmethod
    def parse(cls, value: Any) -> Marking:
        """Accept a Marking, its rank, or a label such as 'TLP:AMBER+STRICT' or 'amber-strict'.

        TLP 1.0's WHITE is read as CLEAR, its successor in TLP 2.0.
        """
        if isinstance(value, Marking):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                raise ValueError(f"unknown marking rank {value} (0 to 4)") from None
        if isinstance(value, str):
            name = value.strip().upper()
            name = name.removeprefix("TLP:").removeprefix("TLP ").strip()
            name = name.replace("+", "_").replace("-", "_").replace(" ", "_")
            if name == "WHITE":
                return cls.CLEAR
            if name in cls.__members__:
                return cls[name]
        choices = ", ".join(m.label for m in cls)
        raise ValueError(f"unknown marking {value!r} (expected one of {choices})")

    def __str__(self) -> str:
        return self.label


MarkingField = Annotated[
    Marking,
    BeforeValidator(Marking.parse),
    PlainSerializer(lambda m: m.label, return_type=str),
]

TRUSTED = {"trusted": True}  # validation context for data read back from the store


def _geometry(value: Any, info: ValidationInfo) -> BaseGeometry:
    """Check geometry from outside; geometry the store already checked is taken as it is."""
    if isinstance(value, BaseGeometry) and info.context is TRUSTED:
        return value
    return parse_geometry(value)


GeometryField = Annotated[
    BaseGeometry,
    BeforeValidator(_geometry),
    PlainSerializer(to_geojson, return_type=dict),
]


def aware(value: Any) -> Any:
    """Datetimes without a zone are taken as UTC; all are kept in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


UTCDateTime = Annotated[datetime, BeforeValidator(aware)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Viewer(BaseModel):
    """Who is reading: their agency and their clearance. Every read path takes one.

    Rule: a record is visible when its marking is at or below the viewer's clearance, and, for
    AMBER+STRICT and RED (shared inside the owning organisation only), when the viewer belongs to
    the owning agency.
    """

    model_config = ConfigDict(frozen=True)

    agency: str = Field(min_length=1)
    clearance: MarkingField = Marking.CLEAR

    def can_see(self, marking: Marking, agency: str) -> bool:
        if marking > self.clearance:
            return False
        return marking < Marking.AMBER_STRICT or agency == self.agency


class Kind(enum.StrEnum):
    REPORT = "report"
    INCIDENT = "incident"
    ALERT = "alert"
    UNIT = "unit"
    ANNOTATION = "annotation"


class Severity(enum.StrEnum):
    """CAP 1.2 severities, shared by every kind of record."""

    EXTREME = "extreme"
    SEVERE = "severe"
    MODERATE = "moderate"
    MINOR = "minor"
    UNKNOWN = "unknown"


def _severity(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


SeverityField = Annotated[Severity, BeforeValidator(_severity)]


class Record(BaseModel):
    """What every record in the COP has. Subclasses add what their kind needs.

    `source`, `source_id` and `version` identify a record's origin: the same triple twice is the
    same write. The entity `id` is derived from (kind, source, source_id), so a record keeps its
    id across updates, stores and replays.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    COLUMNS: ClassVar[frozenset[str]] = frozenset({
        "kind", "id", "source", "source_id", "version", "marking", "agency", "title",
        "category", "severity", "status", "time", "expires", "geometry",
    })

    kind: Kind
    source: str = Field(min_length=1, max_length=200)
    source_id: str = Field(min_length=1, max_length=500)
    version: str = Field(default="1", min_length=1, max_length=200)
    marking: MarkingField
    agency: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=1000)
    category: str = Field(default="other", max_length=100)
    severity: SeverityField = Severity.UNKNOWN
    status: str = Field(default="active", max_length=50)
    time: UTCDateTime = Field(default_factory=utcnow)
    expires: UTCDateTime | None = None
    geometry: GeometryField | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)  # the source's own fields, kept

    @functools.cached_property
    def id(self) -> str:
        return entity_id(self.kind, self.source, self.source_id)

    def to_feature(self) -> dict[str, Any]:
        """This record as an RFC 7946 Feature."""
        props = self.model_dump(mode="json", exclude={"geometry"})
        return {"type": "Feature", "id": self.id, "geometry": to_geojson(self.geometry),
                "properties": props}


def entity_id(kind: str, source: str, source_id: str) -> str:
    """str(uuid.uuid5(ENTITY_NAMESPACE, "kind\\x1fsource\\x1fsource_id")), written out.

    uuid.UUID's constructor and str() cost two thirds of it, and the store derives an id for
    every record it writes (200,000 in a USGS month).
    """
    digest = bytearray(hashlib.sha1(
        _NAMESPACE_BYTES + f"{kind}\x1f{source}\x1f{source_id}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class Report(Record):
    """An observation as it came in: a responder's mark, a partner's message, a feed item."""

    kind: Literal[Kind.REPORT] = Kind.REPORT
    reporter: str | None = None
    description: str = ""


class Incident(Record):
    """Something the room is dealing with."""

    kind: Literal[Kind.INCIDENT] = Kind.INCIDENT
    description: str = ""
    reports: list[str] = Field(default_factory=list)  # ids of the reports it was built from


class AlertArea(BaseModel):
    """A CAP <area>: its description, geocodes, and geometry when the message gave one."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    description: str = ""
    geocodes: dict[str, list[str]] = Field(default_factory=dict)
    geometry: GeometryField | None = None


class AlertInfo(BaseModel):
    """A CAP <info> block: one language's version of the alert."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    language: str = "en-US"
    categories: list[str] = Field(default_factory=list)
    event: str = ""
    urgency: str = "Unknown"
    severity: SeverityField = Severity.UNKNOWN
    certainty: str = "Unknown"
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    web: str = ""
    onset: UTCDateTime | None = None
    expires: UTCDateTime | None = None
    areas: list[AlertArea] = Field(default_factory=list)


class Alert(Record):
    """A warning, shaped as CAP 1.2: one message, info blocks per language, areas."""

    kind: Literal[Kind.ALERT] = Kind.ALERT
    sender: str = ""
    sent: UTCDateTime | None = None
    msg_type: Literal["Alert", "Update", "Cancel", "Ack", "Error"] = "Alert"
    scope: Literal["Public", "Restricted", "Private"] = "Public"
    references: list[str] = Field(default_factory=list)
    infos: list[AlertInfo] = Field(default_factory=list)
    signed: bool = False


class Unit(Record):
    """A resource that can be sent: a patrol, an engine, an ambulance."""

    kind: Literal[Kind.UNIT] = Kind.UNIT
    callsign: str = Field(min_length=1, max_length=100)
    unit_type: str = ""

    status: Literal["available", "assigned", "en-route", "on-scene", "out-of-service"] = (
        "available"
    )


class Annotation(Record):
    """A shape or note drawn on the map: a cordon, an assembly point, an arrow."""

    kind: Literal[Kind.ANNOTATION] = Kind.ANNOTATION
    label: str = ""
    style: dict[str, str] = Field(default_factory=dict)


AnyRecord = Annotated[
    Report | Incident | Alert | Unit | Annotation, Field(discriminator="kind")
]
RECORD_ADAPTER: TypeAdapter[AnyRecord] = TypeAdapter(AnyRecord)
RECORD_TYPES: dict[Kind, type[Record]] = {
    Kind.REPORT: Report, Kind.INCIDENT: Incident, Kind.ALERT: Alert, Kind.UNIT: Unit,
    Kind.ANNOTATION: Annotation,
}


def parse_record(data: dict[str, Any]) -> Record:
    """Validate a mapping (for example parsed JSON) into the record of its `kind`."""
    return RECORD_ADAPTER.validate_python(data)


class Action(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    REMOVED = "removed"


class Event(BaseModel):
    """One entry of the append-only event log: the truth every projection is made from."""

    model_config = ConfigDict(frozen=True)

    seq: int
    time: UTCDateTime
    actor: str
    action: Action
    entity_kind: Kind
    entity_id: str
    marking: MarkingField
    agency: str
    prior_marking: MarkingField | None = None  # before an update or removal
    prior_agency: str | None = None
    source: str | None = None
    source_id: str | None = None
    version: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The event's kind, such as 'incident.created'."""
        return f"{self.entity_kind}.{self.action}"

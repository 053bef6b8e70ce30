"""Tables of the spatial store, shared by both backends.

- `events`: the append-only log, the truth. `seq` is assigned in commit order.
- `entities`: the current state, one row per live entity (a projection of the log).
- `entity_versions`: every state an entity has left behind (superseded or removed), with the
  seq interval it was current in. "State as of seq S" is the current rows with seq <= S plus
  the versions with valid_from_seq <= S < valid_to_seq: two index lookups instead of a replay
  of the log (a system-versioned table, as in SQL:2011). A state is copied here only when it
  is superseded, so creating a record costs no history row.

Geometry is WKB in a BLOB on SQLite and a PostGIS `geometry(Geometry, 4326)` with a GiST index
on PostgreSQL. On SQLite, current entities are found by their row ids, which are keyed by place
(store.cells), and those bigger than a point also through an R*Tree; versions through an R*Tree
of their own. Both R*Trees are written by the SQLite backend beside the rows, in the same
transaction (migration 0005 says why not by triggers).
"""

from __future__ import annotations

from datetime import UTC, datetime

import geoalchemy2
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class PostGISGeometry(geoalchemy2.Geometry):
    """geoalchemy2's PostGIS geometry, exchanged as plain WKB bytes on both backends.

    shapely reads and writes WKB in bulk, so no per-row geometry objects are made in between.
    """

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(geometry_type="GEOMETRY", srid=4326, spatial_index=False)

    def bind_expression(self, bindvalue):
        return func.ST_GeomFromWKB(bindvalue, 4326, type_=self)

    def column_expression(self, col):
        return func.ST_AsBinary(col, type_=LargeBinary)

    def bind_processor(self, dialect):
        return None

    def result_processor(self, dialect, coltype):
        return None


Geometry = LargeBinary().with_variant(PostGISGeometry(), "postgresql")
Payload = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC on both backends and read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

events = Table(
    "events", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=False),
    Column("time", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(20), nullable=False),
    Column("entity_kind", String(20), nullable=False),
    Column("entity_id", String(36), nullable=False),
    Column("marking", SmallInteger(), nullable=False),
    Column("agency", String(100), nullable=False),
    # What the entity was marked before this event (updates and removals): lets the hub take
    # an entity off the screens of viewers who could see it before and cannot see it now.
    Column("prior_marking", SmallInteger()),
    Column("prior_agency", String(100)),
    Column("source", String(200)),
    Column("source_id", String(500)),
    Column("version", String(200)),
    Column("idempotency_key", String(200)),
    Column("payload", Payload, nullable=False),
    Index("ix_events_time", "time"),
    Index("ux_events_entity_version", "entity_id", "version", unique=True,
          sqlite_where=Column("version").isnot(None),
          postgresql_where=Column("version").isnot(None)),
    Index("ux_events_idempotency_key", "idempotency_key", unique=True,
          sqlite_where=Column("idempotency_key").isnot(None),
          postgresql_where=Column("idempotency_key").isnot(None)),
)


STATE_COLUMNS = ("entity_id", "kind", "marking", "agency", "category", "severity", "status",
                 "time", "expires", "geom", "minx", "miny", "maxx", "maxy")


def _state_columns() -> list[Column]:
    """The columns an entity's state has, in `entities` and in `entity_versions` alike."""
    return [
        Column("entity_id", String(36), nullable=False),
        Column("kind", String(20), nullable=False),
        Column("marking", SmallInteger(), nullable=False),
        Column("agency", String(100), nullable=False),
        Column("category", String(100), nullable=False),
        Column("severity", String(20), nullable=False),
        Column("status", String(50), nullable=False),
        Column("time", UTCDateTime(), nullable=False),
        Column("expires", UTCDateTime()),
        Column("geom", Geometry),
        Column("minx", Float()),
        Column("miny", Float()),
        Column("maxx", Float()),
        Column("maxy", Float()),
    ]


entities = Table(
    "entities", metadata,
    # Set by the store from where the entity is (dashboard.store.cells): rows of a
    # neighbourhood are stored together.
    Column("rid", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=False),
    *_state_columns(),
    Column("source", String(200), nullable=False),
    Column("source_id", String(500), nullable=False),
    Column("version", String(200), nullable=False),
    Column("title", Text(), nullable=False),
    Column("extra", Payload, nullable=False),
    # The entity's map feature as JSON text (dashboard.layers.features), made when it is
    # written, so that maps and snapshots read features without building records.
    Column("feature", Text()),
    Column("seq", BigInteger(), nullable=False),
    Index("ux_entities_entity_id", "entity_id", unique=True),
    Index("ix_entities_time", "time"),
    Index("ix_entities_kind", "kind", "time"),
    Index("ix_entities_seq", "seq"),
    Index("ix_entities_expires", "expires", sqlite_where=Column("expires").isnot(None),
          postgresql_where=Column("expires").isnot(None)),
)

entity_versions = Table(
    "entity_versions", metadata,
    Column("vid", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
           autoincrement=True),
    *_state_columns(),
    Column("valid_from_seq", BigInteger(), nullable=False),
    Column("valid_to_seq", BigInteger(), nullable=False),
    # "Current at S" is valid_from_seq <= S < valid_to_seq: both bounds tested in the index
    # (migration 0008).
    Index("ix_versions_interval", "valid_to_seq", "valid_from_seq"),
)

# Each feed's health, written by whichever process runs the feeds, read by the web app.
feed_health = Table(
    "feed_health", metadata,
    Column("name", String(100), primary_key=True),
    Column("state", Payload, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

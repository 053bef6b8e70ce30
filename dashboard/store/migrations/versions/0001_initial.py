"""The event log, current state, entity versions and their spatial indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

SQLite keeps geometry as WKB with an R*Tree per table, filled by triggers from the bounding-box
columns, so the index can never disagree with the rows. PostgreSQL keeps a PostGIS geometry
with a GiST index.
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_INDEXES = (
    "CREATE VIRTUAL TABLE entities_rtree USING rtree(rid, minx, maxx, miny, maxy)",
    """CREATE TRIGGER entities_rtree_insert AFTER INSERT ON entities WHEN NEW.minx IS NOT NULL
    BEGIN
      INSERT INTO entities_rtree VALUES (NEW.rid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy);
    END""",
    """CREATE TRIGGER entities_rtree_update AFTER UPDATE OF minx, miny, maxx, maxy ON entities
    BEGIN
      DELETE FROM entities_rtree WHERE rid = OLD.rid;
      INSERT INTO entities_rtree SELECT NEW.rid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy
        WHERE NEW.minx IS NOT NULL;
    END""",
    """CREATE TRIGGER entities_rtree_delete AFTER DELETE ON entities
    BEGIN
      DELETE FROM entities_rtree WHERE rid = OLD.rid;
    END""",
    "CREATE VIRTUAL TABLE versions_rtree "
    "USING rtree(vid, minx, maxx, miny, maxy, from_seq, to_seq)",
    """CREATE TRIGGER versions_rtree_insert AFTER INSERT ON entity_versions
    WHEN NEW.minx IS NOT NULL
    BEGIN
      INSERT INTO versions_rtree VALUES (NEW.vid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy,
                                         NEW.valid_from_seq, NEW.valid_to_seq);
    END""",
)


def _json():
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _bigint_pk():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc():
    return sa.DateTime(timezone=True)


def _state_columns(geometry_type):
    return [
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("marking", sa.SmallInteger(), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("time", _utc(), nullable=False),
        sa.Column("expires", _utc()),
        sa.Column("geom", geometry_type),
        sa.Column("minx", sa.Float()),
        sa.Column("miny", sa.Float()),
        sa.Column("maxx", sa.Float()),
        sa.Column("maxy", sa.Float()),
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        geometry_type = geoalchemy2.Geometry("GEOMETRY", srid=4326, spatial_index=False)
    else:
        geometry_type = sa.LargeBinary()

    op.create_table(
        "events",
        sa.Column("seq", _bigint_pk(), primary_key=True, autoincrement=False),
        sa.Column("time", _utc(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("entity_kind", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("marking", sa.SmallInteger(), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("prior_marking", sa.SmallInteger()),
        sa.Column("prior_agency", sa.String(100)),
        sa.Column("source", sa.String(200)),
        sa.Column("source_id", sa.String(500)),
        sa.Column("version", sa.String(200)),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("payload", _json(), nullable=False),
    )
    op.create_index("ix_events_time", "events", ["time"])
    op.create_index("ux_events_entity_version", "events", ["entity_id", "version"],
                    unique=True, sqlite_where=sa.text("version IS NOT NULL"),
                    postgresql_where=sa.text("version IS NOT NULL"))
    op.create_index("ux_events_idempotency_key", "events", ["idempotency_key"], unique=True,
                    sqlite_where=sa.text("idempotency_key IS NOT NULL"),
                    postgresql_where=sa.text("idempotency_key IS NOT NULL"))

    op.create_table(
        "entities",
        sa.Column("rid", _bigint_pk(), primary_key=True, autoincrement=True),
        *_state_columns(geometry_type),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("source_id", sa.String(500), nullable=False),
        sa.Column("version", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("extra", _json(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ux_entities_entity_id", "entities", ["entity_id"], unique=True)
    op.create_index("ix_entities_time", "entities", ["time"])
    op.create_index("ix_entities_kind", "entities", ["kind", "time"])
    op.create_index("ix_entities_seq", "entities", ["seq"])

    op.create_table(
        "entity_versions",
        sa.Column("vid", _bigint_pk(), primary_key=True, autoincrement=True),
        *_state_columns(geometry_type),
        sa.Column("valid_from_seq", sa.BigInteger(), nullable=False),
        sa.Column("valid_to_seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_versions_entity", "entity_versions", ["entity_id"])
    op.create_index("ix_versions_from", "entity_versions", ["valid_from_seq"])
    op.create_index("ix_versions_to", "entity_versions", ["valid_to_seq"])

    if dialect == "postgresql":
        op.execute("CREATE INDEX ix_entities_geom ON entities USING gist (geom)")
        op.execute("CREATE INDEX ix_versions_geom ON entity_versions USING gist (geom)")
    else:
        for statement in SQLITE_INDEXES:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("entities_rtree", "versions_rtree"):
            op.execute(f"DROP TABLE IF EXISTS {name}")
    op.drop_table("entity_versions")
    op.drop_table("entities")
    op.drop_table("events")

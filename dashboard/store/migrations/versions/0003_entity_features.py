"""Each entity's map feature, kept as JSON text beside its state.

The map and the live hub's snapshots read features straight from this column instead of
building a record per row (a 1% box of a million incidents: ~7,000 features).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from dashboard.layers.features import feature_from_payload
from dashboard.model import Marking

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.add_column("entities", sa.Column("feature", sa.Text()))
    backfill(op.get_bind())


def backfill(conn: sa.Connection) -> None:
    """Make the feature of every entity written before this column existed."""
    import orjson
    import shapely

    from dashboard.store.schema import UTCDateTime

    geom = "ST_AsBinary(geom)" if conn.dialect.name == "postgresql" else "geom"
    rows = conn.execute(sa.text(
        f"SELECT rid, entity_id, kind, title, extra, category, severity, status, agency, "
        f"marking, time, {geom} AS wkb FROM entities WHERE feature IS NULL"
    ).columns(time=UTCDateTime(), extra=sa.JSON())).all()
    update = sa.text("UPDATE entities SET feature = :feature WHERE rid = :rid")
    for start in range(0, len(rows), BATCH):
        part = rows[start:start + BATCH]
        shapes = shapely.to_geojson(shapely.from_wkb([r.wkb for r in part]))
        values = []
        for row, shape in zip(part, shapes):
            extra = orjson.loads(row.extra) if isinstance(row.extra, str) else row.extra
            payload = {
                "kind": row.kind, "title": row.title, "callsign": extra.get("callsign"),
                "category": row.category, "severity": row.severity, "status": row.status,
                "agency": row.agency, "marking": Marking(row.marking).label,
                "time": row.time.isoformat().replace("+00:00", "Z"),
                "geometry": None if shape is None else orjson.Fragment(shape),
            }
            text = orjson.dumps(feature_from_payload(row.entity_id, payload)).decode()
            values.append({"rid": row.rid, "feature": text})
        conn.execute(update, values)


def downgrade() -> None:
    # Plain ALTER on both (SQLite >= 3.35): a batch table rebuild would lose the R*Tree triggers.
    op.execute("ALTER TABLE entities DROP COLUMN feature")

"""Entities keyed by place; SQLite's R*Tree keeps only what is bigger than a point.

Row ids become the cell of the entity's place and a uniquifier (dashboard.store.cells), so
SQLite stores a neighbourhood's rows together and reads a map's box as a few ranges of ids.
Points are found by those ranges alone: the R*Tree of current entities now holds only lines,
polygons and other extents, which makes writing a point several times cheaper.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 5000

EXTENT = "NEW.minx IS NOT NULL AND (NEW.minx < NEW.maxx OR NEW.miny < NEW.maxy)"

SQLITE_EXTENT_TRIGGERS = (
    f"""CREATE TRIGGER entities_rtree_insert AFTER INSERT ON entities WHEN {EXTENT}
    BEGIN
      INSERT INTO entities_rtree VALUES (NEW.rid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy);
    END""",
    """CREATE TRIGGER entities_rtree_update AFTER UPDATE OF rid, minx, miny, maxx, maxy
    ON entities
    BEGIN
      DELETE FROM entities_rtree WHERE rid = OLD.rid;
      INSERT INTO entities_rtree SELECT NEW.rid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy
        WHERE """ + EXTENT + """;
    END""",
)

# What 0001 made: every located entity in the R*Tree.
SQLITE_ALL_TRIGGERS = (
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
)


def _set_triggers(statements: tuple[str, ...], rows_where: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS entities_rtree_insert")
    op.execute("DROP TRIGGER IF EXISTS entities_rtree_update")
    for statement in statements:
        op.execute(statement)
    op.execute("DELETE FROM entities_rtree")
    op.execute(f"INSERT INTO entities_rtree SELECT rid, minx, maxx, miny, maxy FROM entities "
               f"WHERE {rows_where}")


def upgrade() -> None:
    from dashboard.store.cells import cells_of, row_id

    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:  # re-keyed rows must not be re-indexed one by one by the old update trigger
        op.execute("DROP TRIGGER IF EXISTS entities_rtree_update")
    else:
        op.execute("ALTER TABLE entities ALTER COLUMN rid DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS entities_rid_seq")
    rows = conn.execute(sa.text("SELECT rid, seq, minx, miny, maxx, maxy FROM entities")).all()
    # Out of the way first (negative ids), so no new id meets an old one still in place.
    op.execute("UPDATE entities SET rid = -rid")
    update = sa.text("UPDATE entities SET rid = :new WHERE rid = :old")
    for start in range(0, len(rows), BATCH):
        part = rows[start:start + BATCH]
        bounds = [[float("nan")] * 4 if r.minx is None else [r.minx, r.miny, r.maxx, r.maxy]
                  for r in part]
        conn.execute(update, [{"new": row_id(cell, r.seq), "old": -r.rid}
                              for r, cell in zip(part, cells_of(bounds))])
    if sqlite:
        _set_triggers(SQLITE_EXTENT_TRIGGERS, "minx IS NOT NULL AND (minx < maxx OR miny < maxy)")


def downgrade() -> None:
    # Row ids stay where they are (any integer key serves 0003); the index gets every row back.
    if op.get_bind().dialect.name == "sqlite":
        _set_triggers(SQLITE_ALL_TRIGGERS, "minx IS NOT NULL")
    else:
        op.execute("CREATE SEQUENCE entities_rid_seq OWNED BY entities.rid")
        op.execute("SELECT setval('entities_rid_seq', "
                   "greatest(1, (SELECT max(rid) FROM entities)))")
        op.execute("ALTER TABLE entities ALTER COLUMN rid "
                   "SET DEFAULT nextval('entities_rid_seq')")

"""SQLite's R*Trees are kept by the store's writer, no longer by triggers.

A trigger that writes to a virtual table makes SQLite keep a statement journal for every
statement firing it (a virtual table's write may abort half way), and each row's insert or
update journaled every page it touched: a third of the instructions of inserting a point that
never reached the R*Tree at all. SQLiteBackend writes the R*Trees beside the rows instead, in
the same transaction (dashboard/store/backends.py). PostgreSQL is unchanged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TRIGGERS = ("entities_rtree_insert", "entities_rtree_update", "entities_rtree_delete",
            "versions_rtree_insert")

# What 0004 left (0001's delete and versions triggers, 0004's extent triggers).
SQLITE_TRIGGERS = (
    """CREATE TRIGGER entities_rtree_insert AFTER INSERT ON entities
    WHEN NEW.minx IS NOT NULL AND (NEW.minx < NEW.maxx OR NEW.miny < NEW.maxy)
    BEGIN
      INSERT INTO entities_rtree VALUES (NEW.rid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy);
    END""",
    """CREATE TRIGGER entities_rtree_update AFTER UPDATE OF rid, minx, miny, maxx, maxy
    ON entities
    BEGIN
      DELETE FROM entities_rtree WHERE rid = OLD.rid;
      INSERT INTO entities_rtree SELECT NEW.rid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy
        WHERE NEW.minx IS NOT NULL AND (NEW.minx < NEW.maxx OR NEW.miny < NEW.maxy);
    END""",
    """CREATE TRIGGER entities_rtree_delete AFTER DELETE ON entities
    BEGIN
      DELETE FROM entities_rtree WHERE rid = OLD.rid;
    END""",
    """CREATE TRIGGER versions_rtree_insert AFTER INSERT ON entity_versions
    WHEN NEW.minx IS NOT NULL
    BEGIN
      INSERT INTO versions_rtree VALUES (NEW.vid, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy,
                                         NEW.valid_from_seq, NEW.valid_to_seq);
    END""",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)

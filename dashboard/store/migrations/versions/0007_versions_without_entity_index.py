"""Drop the index of superseded states by entity id, which no read uses.

"State as of S" finds versions by their seq interval and, on SQLite, their R*Tree; an
entity's history is read from the event log. The index only cost writes: a randomly keyed
B-tree page dirtied for every update of a moving entity. With 20,000 updates of 2,000 moving
incidents in the log, a transaction of 20 more wrote 120 pages to SQLite's write-ahead log
with it and 95 without (a fifth less to write and to checkpoint), and its share grows with
the history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_versions_entity", table_name="entity_versions")


def downgrade() -> None:
    op.create_index("ix_versions_entity", "entity_versions", ["entity_id"])

"""Alembic migrations create and remove the schema on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import shapely
from sqlalchemy import inspect, text

from dashboard.layers.features import feature
from dashboard.model import Alert, Incident, Marking, Unit, Viewer
from dashboard.store import Query, migrate, open_store
from dashboard.store.cells import cell_of_row, cells_of
from dashboard.store.schema import metadata

TABLES = {"events", "entities", "entity_versions"}
GIST_INDEXES = {"ix_entities_geom", "ix_versions_geom"}


def test_upgrade_downgrade_upgrade(database_url):
    store = open_store(database_url)
    assert migrate.current_revision(store.engine) is None
    migrate.upgrade(store.engine)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    names = set(inspect(store.engine).get_table_names())
    assert TABLES <= names
    if store.engine.dialect.name == "sqlite":
        assert {"entities_rtree", "versions_rtree"} <= names
    migrate.downgrade(store.engine, "base")
    assert not (TABLES & set(inspect(store.engine).get_table_names()))
    migrate.upgrade(store.engine)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    store.close()


def test_migrations_match_the_table_definitions(database_url):
    """The code's tables and the migrated schema agree, column for column."""
    store = open_store(database_url)
    migrate.upgrade(store.engine)
    inspector = inspect(store.engine)
    for table in metadata.sorted_tables:
        migrated = {c["name"] for c in inspector.get_columns(table.name)}
        assert migrated == set(table.c.keys()), table.name
        # PostGIS's GiST indexes are made by the migrations alone (SQLite has R*Trees).
        indexes = {i["name"] for i in inspector.get_indexes(table.name)} - GIST_INDEXES
        assert indexes == {i.name for i in table.indexes}, table.name
    store.close()


def test_entities_written_before_features_get_theirs(database_url):
    """0003 adds each entity's stored map feature: rows already there get theirs made."""
    store = open_store(database_url)
    migrate.upgrade(store.engine)
    viewer = Viewer(agency="fire", clearance=Marking.RED)
    store.write_many([
        Incident(source="t", source_id="i", marking="GREEN", agency="police", title="Crash",
                 severity="severe", time=datetime(2026, 11, 25, 8, 0, 1, 5, tzinfo=UTC),
                 geometry=shapely.Point(24.94, 60.17)),
        Unit(source="t", source_id="u", marking="RED", agency="fire", callsign="RPL101",
             geometry=shapely.Point(24.9, 60.2)),
        Alert(source="t", source_id="a", marking="CLEAR", agency="fmi"),
    ], actor="t")
    migrate.downgrade(store.engine, "0002")
    migrate.upgrade(store.engine)
    _, texts = store.features(viewer)
    assert sorted(texts) == sorted(json.dumps(feature(r), separators=(",", ":"))
                                   for r in store.query(viewer))
    store.close()


def test_entities_written_before_spatial_row_ids_are_keyed_by_place(database_url):
    """0004 keys existing rows by place; a box read by row-id ranges still finds all of them,
    and SQLite's R*Tree keeps only what is bigger than a point."""
    store = open_store(database_url)
    migrate.upgrade(store.engine)
    viewer = Viewer(agency="fire", clearance=Marking.RED)
    store.write_many([
        Incident(source="t", source_id=str(i), marking="CLEAR", agency="police",
                 title=f"incident {i}", geometry=shapely.Point(24.9 + i / 100, 60.1 + i / 200))
        for i in range(20)
    ] + [Alert(source="t", source_id="area", marking="CLEAR", agency="fmi",
               geometry=shapely.box(24.0, 60.0, 26.0, 61.0))], actor="t")
    migrate.downgrade(store.engine, "0003")
    with store.engine.begin() as conn:  # ids as 0001 made them: 1, 2, 3... in write order
        rids = [r for (r,) in conn.execute(text("SELECT rid FROM entities ORDER BY seq"))]
        for i, rid in enumerate(rids, 1):
            conn.execute(text("UPDATE entities SET rid = :new WHERE rid = :old"),
                         {"new": -i, "old": rid})
        conn.execute(text("UPDATE entities SET rid = -rid"))
    migrate.upgrade(store.engine)
    box = (24.95, 60.0, 25.05, 61.0)
    found = {r.title for r in store.query(viewer, Query(bbox=box))}
    assert found == {f"incident {i}" for i in range(5, 16)} | {""}
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT rid, minx, miny, maxx, maxy FROM entities")).all()
        assert [cell_of_row(r.rid) for r in rows] == cells_of([r[1:] for r in rows])
        if store.engine.dialect.name == "sqlite":
            indexed = conn.execute(text("SELECT count(*) FROM entities_rtree")).scalar_one()
            assert indexed == 1  # the alert's area
    store.close()

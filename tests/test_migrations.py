"""Alembic migrations create and remove the schema on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import shapely
from sqlalchemy import inspect

from dashboard.layers.features import feature
from dashboard.model import Alert, Incident, Marking, Unit, Viewer
from dashboard.store import migrate, open_store
from dashboard.store.schema import metadata

TABLES = {"events", "entities", "entity_versions"}


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
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert {i.name for i in table.indexes} <= indexes, table.name
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

"""Fixtures: the same store tests run on the embedded SQLite file and on a real PostGIS."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dashboard.store import Store, migrate, open_store
from tests.support.postgres import PostgresServer, find_bindir

BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL + PostGIS for the session (each test gets a fresh database)."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL with PostGIS is not installed (make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with PostgresServer(bindir) as server:
        yield server


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sitroom.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        server.reset()
        yield server.url


@pytest.fixture
def store(database_url) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    store = open_store(database_url)
    migrate.upgrade(store.engine)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    """A migrated, empty store on the embedded backend only."""
    store = open_store(f"sqlite:///{tmp_path / 'sitroom.db'}")
    migrate.upgrade(store.engine)
    yield store
    store.close()

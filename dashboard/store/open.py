"""Opening the configured store, with its schema checked (or brought up to date when embedded)."""

from __future__ import annotations

from dashboard.settings import Settings
from dashboard.store import migrate
from dashboard.store.store import Store, StoreError, open_store


def open_configured_store(settings: Settings) -> Store:
    """The store the settings name, ready to use.

    The embedded SQLite file belongs to this installation and is migrated on open. A PostGIS
    database is shared, so its schema changes only through `sitroom db upgrade`.
    """
    if settings.database_url.startswith("sqlite:"):
        settings.ensure_data_dir()
    store = open_store(settings.database_url)
    if store.engine.dialect.name == "sqlite":
        migrate.upgrade(store.engine)
        return store
    current, head = migrate.current_revision(store.engine), migrate.head_revision()
    if current != head:
        store.close()
        raise StoreError(f"the database schema is at {current or 'nothing'}, this code needs "
                         f"{head}: run `sitroom db upgrade`")
    return store

"""The spatial store: event log, current state and history, on SQLite or PostGIS."""

from dashboard.store.store import Query, Store, StoreError, WriteResult, open_store

__all__ = ["Query", "Store", "StoreError", "WriteResult", "open_store"]

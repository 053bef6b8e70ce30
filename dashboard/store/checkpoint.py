"""SQLite's WAL checkpoints, run beside the writer instead of inside its commits.

In WAL mode every commit appends pages to the log, and a checkpoint copies them back into the
database file. By default the commit that fills the log past 1,000 pages does it, so one live
write in eight paid for the others (a 4 MB copy and an fsync: the slowest writes of the live
bench). Here one OS thread per writing store copies the log while the writer goes on: SQLite
lets a checkpoint run beside a writer, and the driver releases the GIL while it runs. The
writer keeps a checkpoint of its own only as a backstop, for a log grown past
WRITER_BACKSTOP_PAGES (the thread stopped, or readers pinning old pages).
"""

from __future__ import annotations

import logging
import sqlite3

from dashboard.os_threads import os_sleep, os_thread_ident, start_os_thread

log = logging.getLogger(__name__)

INTERVAL = 0.2  # seconds between checkpoints while commits arrive
WRITER_BACKSTOP_PAGES = 16384  # 64 MB of 4 KB pages


class Checkpointer:
    """Copies the WAL into the database file every INTERVAL while there are new commits."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._commits = 0  # bumped by the writer, read by the thread (a plain int: the GIL)
        self._started = False
        self._stopped = False
        self.runs = 0  # checkpoints done
        self.thread_ident: int | None = None  # the OS thread running them, while it runs

    def start(self) -> None:
        """Start the thread, once (a writer connection made again calls this again)."""
        if not self._started:
            self._started = True
            start_os_thread(self._run, name=f"sqlite-checkpoint {self.path}")

    def committed(self) -> None:
        """The writer committed: there are pages to copy."""
        self._commits += 1

    def stop(self) -> None:
        """Ends the thread within INTERVAL; the last connection to close checkpoints the rest."""
        self._stopped = True

    def _run(self) -> None:
        self.thread_ident = os_thread_ident()
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        seen = 0
        try:
            while not self._stopped:
                os_sleep(INTERVAL)
                if self._commits == seen:
                    continue
                seen = self._commits
                try:
                    # PASSIVE: copies what no reader still needs, never waits for a lock.
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
        finally:
            conn.close()
            self.thread_ident = None

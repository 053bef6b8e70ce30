"""Write a document's records while its later parts are still being parsed.

A big document is read, parsed and written: stages that would otherwise run one after the
other. The database drivers release the GIL while the database works (PostgreSQL in its own
process, SQLite in its C library), so the next part is built in a second thread meanwhile and
the parse hides behind the writes (for a document of one part, most formats, the thread
finds nothing more to do and ends at once).

The feed runner and `sitroom ingest` both land documents this way. The first part is
parsed on the calling thread, so a document that cannot be read raises before anything is
written; the parse of later parts is at most DEPTH parts ahead of the writer, so memory stays
bounded; an error in either stage stops the other and is raised here.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from dashboard.feeds.base import Parsed, Parts
from dashboard.gc_pause import gc_paused
from dashboard.model import Record

DEPTH = 3  # parts parsed ahead of the writer (a part is PART_ITEMS features)


@dataclass
class Landed:
    """What landing a document did: the writer's answer and what the parts said besides."""

    written: Any  # whatever `write` returned (the store's WriteResults)
    records: int = 0  # records handed to `write`
    parsed: Parsed = field(default_factory=Parsed)  # refused, removals, links, warnings


def land(parts: Parts, write: Callable[[Iterable[Record]], Any]) -> Landed:
    """Hand every record of the parts to `write` (one call) as they are parsed.

    `write` must consume the iterable it gets (Store.write_many does, in transactions of its
    own size). Everything but the records is gathered into `Landed.parsed`, in part order.
    """
    with gc_paused():
        first = next(parts, None)
        if first is None:
            return Landed(write([]))
        ahead = _Ahead(parts)
        landed = Landed(None)
        try:
            landed.written = write(_records(chain([first], ahead), landed))
        finally:
            ahead.close()
        return landed


def _records(parts: Iterable[Parsed], landed: Landed) -> Iterator[Record]:
    for part in parts:
        landed.records += len(part.records)
        landed.parsed.extend(Parsed(refused=part.refused, removals=part.removals,
                                    links=part.links, warnings=part.warnings))
        yield from part.records


class _Ahead:
    """The rest of the parts, parsed in a thread at most DEPTH parts ahead of their reader."""

    _DONE = object()

    def __init__(self, parts: Parts) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=DEPTH)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._parse, args=(parts,), daemon=True,
                                        name="feed-parse-ahead")
        self._thread.start()

    def _parse(self, parts: Parts) -> None:
        try:
            for part in parts:
                if self._stop.is_set():
                    return
                self._queue.put(part)
        except BaseException as exc:  # noqa: BLE001 (raised again in the reader's thread)
            self._queue.put(_Failed(exc))
        else:
            self._queue.put(self._DONE)

    def __iter__(self) -> Iterator[Parsed]:
        while (item := self._queue.get()) is not self._DONE:
            if isinstance(item, _Failed):
                raise item.exc
            yield item

    def close(self) -> None:
        """Stop parsing (the writer failed or is done) and wait for the thread to end."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)  # unblock a put on a full queue
            except queue.Empty:
                pass
        self._thread.join()


@dataclass(frozen=True)
class _Failed:
    exc: BaseException

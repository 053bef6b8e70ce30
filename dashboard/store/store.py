"""The spatial store: one interface over SQLite and PostGIS.

Writes append to the event log and update the projections (`entities`, `entity_versions`) in
the same transaction, under a single-writer lock, so `seq` is the commit order. Writes are
idempotent by (source, source_id, version) and by client idempotency key. Every read takes a
Viewer and returns nothing above its marking. Spatial predicates are decided in two steps: the
backend's index finds candidates by bounding box, then shapely decides exactly, the same way on
both backends.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from operator import itemgetter
from typing import Any

import orjson
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Engine,
    and_,
    case,
    create_engine,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql import Subquery

from dashboard.gc_pause import gc_paused
from dashboard.geometry import BBox, bbox_parts, check_geometry, circle_bbox, distance_m
from dashboard.layers.features import feature_from_payload
from dashboard.model import (
    RECORD_TYPES,
    TRUSTED,
    Action,
    Event,
    Kind,
    Marking,
    Record,
    Severity,
    Viewer,
    utcnow,
)
from dashboard.store.backends import Backend, Cursor, backend_for, unindexed
from dashboard.store.cells import cell_of_row, cells_of, row_id
from dashboard.store.fifo_lock import FifoLock
from dashboard.store.schema import (
    STATE_COLUMNS,
    entities,
    entity_versions,
    events,
    feed_health,
)

log = logging.getLogger(__name__)

CHUNK = 10_000  # records planned and written at a time in bulk writes (~1 s at a million rows)
# Records in one bulk transaction, at most. A commit writes every page the transaction changed
# to SQLite's log, and at a million rows a chunk's rows fall on as many pages as it has rows:
# the fewer commits, the fewer writes of the same pages (at 1M: 10,000 a commit spent 61 µs a
# record committing, 50,000 21 µs). A bulk load gives way sooner to another writer of its
# process (see write_many); one of another process waits for it, up to ~5 s at a million rows.
TRANSACTION_RECORDS = 50_000


@dataclass(frozen=True)
class Query:
    """What to read. Every field narrows the result; all of them together are ANDed.

    `near` is (lon, lat, radius in metres); `within` a polygon the record must intersect;
    `start`/`end` bound the record's time (start inclusive, end exclusive); `as_of` reads the
    state as it was at that moment (a datetime) or just after that event (an int seq) instead
    of now. Without `limit` the order is the database's; with it, newest record time first.
    """

    kinds: Sequence[Kind | str] = ()
    bbox: BBox | None = None
    near: tuple[float, float, float] | None = None
    within: BaseGeometry | None = None
    start: datetime | None = None
    end: datetime | None = None
    categories: Sequence[str] = ()
    severities: Sequence[str] = ()
    agencies: Sequence[str] = ()
    statuses: Sequence[str] = ()
    markings: Sequence[Marking | str] = ()
    located: bool = False  # only records with a geometry (what a map can draw)
    as_of: datetime | int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class WriteResult:
    """The answer to one write. A repeated write gets the first answer with `duplicate=True`."""

    seq: int
    entity_id: str
    action: Action
    duplicate: bool = False


@dataclass
class _Current:
    """What the writer needs to know of an entity's current row."""

    kind: str
    marking: int
    agency: str
    rid: int


@dataclass
class _Batch:
    """Rows of one transaction, gathered before any statement runs."""

    events: list[dict[str, Any]] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)  # new entities
    updates: list[dict[str, Any]] = field(default_factory=list)  # changed entities
    archive: list[tuple[str, int]] = field(default_factory=list)  # (entity, superseding seq)
    history: list[dict[str, Any]] = field(default_factory=list)  # batch states superseded
    removals: list[str] = field(default_factory=list)
    stored_rids: dict[str, int] = field(default_factory=dict)  # updated entities' row ids now
    results: list[WriteResult] = field(default_factory=list)


@dataclass
class _Prepared:
    """A chunk of writes made ready as far as that needs nothing the store holds (Store._prepare);
    their JSON texts too when made ahead (_Chunks.read_ahead)."""

    items: list[tuple[Record, str | None]]
    wkbs: list
    bounds: list[list[float]]
    geojson: list[str | None]
    cells: list[int]
    texts: list[_Texts] | None = None

    def make_texts(self) -> None:
        self.texts = [_texts(r, r.id, g) for (r, _), g in zip(self.items, self.geojson)]


class _Chunks:
    """The records of a bulk write, CHUNK at a time, some of them made ready ahead.

    A commit spends its time in the database (SQLite writes every page the transaction changed
    to its log, and checkpoints), not holding Python's GIL, so the next chunks are read and
    their JSON texts made meanwhile, on the other core. A failure to read or prepare them ends
    the write after what came before it (write_many).
    """

    def __init__(self, records: Iterator[Record],
                 prepare: Callable[[list[tuple[Record, str | None]]], _Prepared]) -> None:
        self._records = records
        self._prepare = prepare
        self._ahead: deque[_Prepared] = deque()
        self._failure: Exception | None = None
        self._done = False
        self._read()
        self.big = len(self._ahead) == 1 and len(self._ahead[0].items) == CHUNK

    def has_next(self) -> bool:
        """Whether another chunk follows (read now if none is ahead)."""
        if not self._ahead:
            self._read()
        return bool(self._ahead)

    def next(self) -> _Prepared | None:
        return self._ahead.popleft() if self.has_next() else None

    def read_ahead(self, stop: Callable[[], bool]) -> None:
        """Prepare the chunks ahead, texts included, and read more, until stop() or
        TRANSACTION_RECORDS are ready."""
        for prepared in self._ahead:
            if stop():
                return
            if prepared.texts is None:
                prepared.make_texts()
        while len(self._ahead) * CHUNK < TRANSACTION_RECORDS and not stop() and self._read():
            self._ahead[-1].make_texts()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _read(self) -> bool:
        """Read one more chunk; whether there was one."""
        if self._done:
            return False
        try:
            chunk = list(islice(self._records, CHUNK))
            if chunk:
                self._ahead.append(self._prepare([(r, None) for r in chunk]))
        except Exception as exc:
            self._failure, chunk = exc, []
        self._done = len(chunk) < CHUNK
        return bool(chunk)


def _threads_are_real() -> bool:
    """Whether a thread runs beside this one: not under gevent's patching, where a "thread" is
    a greenlet and a commit in it would only run after the work meant to go beside it."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is None or not monkey.is_module_patched("threading")


class StoreError(Exception):
    """A write or read the store refuses; the message says why."""


def visible_to(table, viewer: Viewer):
    """SQL twin of Viewer.can_see: the one place reads are limited by marking and agency."""
    return and_(
        table.c.marking <= int(viewer.clearance),
        or_(table.c.marking < int(Marking.AMBER_STRICT), table.c.agency == viewer.agency),
    )


class Store:
    """Read and write the COP. Thread-safe; one instance per process and database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend: Backend = backend_for(engine)
        self.backend.prepare(engine)
        self._write_lock = FifoLock()
        self._write_conn: Connection | None = None  # see _WriteTransaction
        self._listeners: list[Callable[[list[Event]], None]] = []

    # ---------------------------------------------------------------- writing

    def subscribe(self, listener: Callable[[list[Event]], None]) -> None:
        """Call listener with the events of each transaction, after it commits."""
        self._listeners.append(listener)

    def write(self, record: Record, *, actor: str, idempotency_key: str | None = None
              ) -> WriteResult:
        """Create or update one record."""
        return self._write([(record, idempotency_key)], actor)[0]

    def write_many(self, records: Iterable[Record], *, actor: str,
                   progress: Callable[[int], None] | None = None) -> list[WriteResult]:
        """Create or update many records; progress(n) after each CHUNK is written.

        Up to TRANSACTION_RECORDS go in one transaction, fewer when another writer of this
        process is waiting: it gets the writer lock after the chunk being written. While a
        transaction commits, the next chunks are made ready (see _Chunks).

        When reading the records fails (a feed's parse, say, or something not a record), what
        was read before commits, as it would in transactions of one chunk, and the failure is
        raised after.
        """
        results: list[WriteResult] = []
        chunks = _Chunks(iter(records), self._prepare)
        # Only a load of several chunks gains from holding the collector off: after a small
        # batch, the collection it put off runs at once.
        with gc_paused() if chunks.big else nullcontext():
            while chunks.has_next():
                self._write_chunks(chunks, actor, results, progress)
        chunks.raise_failure()
        return results

    def _write_chunks(self, chunks: _Chunks, actor: str, results: list[WriteResult],
                      progress: Callable[[int], None] | None) -> None:
        """Write chunks in one transaction until it holds TRANSACTION_RECORDS, another writer
        waits or they run out (see write_many)."""
        batches = []
        written = 0
        writer = self._writer()
        with writer as cur:
            while (prepared := chunks.next()) is not None:
                batch = self._plan(cur, prepared, actor)
                self._flush(cur, batch)
                batches.append(batch)
                written += len(prepared.items)
                if progress:
                    progress(len(prepared.items))
                # The next chunk is read before deciding: while a slow source is read, another
                # writer may have come to wait.
                if (not chunks.has_next() or written >= TRANSACTION_RECORDS
                        or self._write_lock.waiting()):
                    break
            if chunks.has_next() and _threads_are_real():
                writer.commit_beside(lambda committed: chunks.read_ahead(
                    lambda: committed() or self._write_lock.waiting() > 0))
        for batch in batches:
            self._notify(batch)
            results.extend(batch.results)

    def remove(self, entity: str, *, actor: str, reason: str = "",
               idempotency_key: str | None = None) -> WriteResult:
        """Take an entity off the current picture; its history stays in the log."""
        with self._writer() as cur:
            if idempotency_key and (seen := self._replayed(cur, [idempotency_key])):
                return replace(seen[idempotency_key], duplicate=True)
            current = self._current(cur, [entity]).get(entity)
            if current is None:
                raise StoreError(f"no current entity {entity}")
            seq, now = self._next_seq(cur)
            row = {
                "seq": seq, "time": now, "actor": actor, "action": Action.REMOVED.value,
                "entity_kind": current.kind, "entity_id": entity, "marking": current.marking,
                "agency": current.agency, "prior_marking": current.marking,
                "prior_agency": current.agency, "source": None, "source_id": None,
                "version": None,
                "idempotency_key": idempotency_key, "payload": {"reason": reason},
            }
            batch = _Batch(events=[row], removals=[entity],
                           archive=[(entity, seq)],
                           results=[WriteResult(seq, entity, Action.REMOVED)])
            self._flush(cur, batch)
        self._notify(batch)
        return batch.results[0]

    def _write(self, items: list[tuple[Record, str | None]], actor: str) -> list[WriteResult]:
        prepared = self._prepare(items)
        with self._writer() as cur:
            batch = self._plan(cur, prepared, actor)
            self._flush(cur, batch)
        self._notify(batch)
        return batch.results

    def _prepare(self, items: list[tuple[Record, str | None]]) -> _Prepared:
        """What of the writes needs nothing the store holds: their geometries, encoded and
        placed (in bulk, for the whole chunk)."""
        geoms = [r.geometry for r, _ in _checked(items)]
        bounds = shapely.bounds(geoms).tolist()
        return _Prepared(items, self.backend.encode_geometries(geoms), bounds,
                         list(shapely.to_geojson(geoms)), cells_of(bounds))

    def _plan(self, cur: Cursor, prepared: _Prepared, actor: str) -> _Batch:
        """Decide, for each record, create / update / duplicate, and build every row."""
        items = prepared.items
        keys = [k for _, k in items if k]
        replayed = self._replayed(cur, keys) if keys else {}
        ids = list({r.id for r, _ in items})
        seen = self._seen_versions(cur, list({(r.id, r.version) for r, _ in items}))
        current = self._current(cur, ids)
        seq, now = self._next_seq(cur)
        seq -= 1
        batch = _Batch()
        pending: dict[str, dict[str, Any]] = {}  # entity rows this batch inserts or updates
        made = prepared.texts
        for i, ((record, key), wkb, box, shape, cell) in enumerate(zip(
                items, prepared.wkbs, prepared.bounds, prepared.geojson, prepared.cells)):
            eid = record.id
            if key and key in replayed:
                batch.results.append(replace(replayed[key], duplicate=True))
                continue
            if (eid, record.version) in seen:
                batch.results.append(replace(seen[eid, record.version], duplicate=True))
                continue
            seq += 1
            earlier = pending.get(eid)  # written before in this batch, not yet in the tables
            prior = (_Current(earlier["kind"], earlier["marking"], earlier["agency"],
                              earlier["rid"]) if earlier else current.get(eid))
            action = Action.UPDATED if prior else Action.CREATED
            texts = made[i] if made else _texts(record, eid, shape)
            batch.events.append({
                "seq": seq, "time": now, "actor": actor, "action": action.value,
                "entity_kind": record.kind.value, "entity_id": eid,
                "marking": int(record.marking), "agency": record.agency,
                "prior_marking": prior.marking if prior else None,
                "prior_agency": prior.agency if prior else None,
                "source": record.source, "source_id": record.source_id,
                "version": record.version, "idempotency_key": key,
                "payload": texts.payload,
            })
            # A row keeps its id while its cell stays the same, and moves with the entity.
            rid = (prior.rid if prior and cell_of_row(prior.rid) == cell
                   else row_id(cell, seq))
            row = _entity_row(record, eid, rid, wkb, box, seq, texts)
            if earlier:  # changed twice in one batch: the earlier state becomes history
                batch.history.append({**{c: earlier[c] for c in STATE_COLUMNS},
                                      "valid_from_seq": earlier["seq"], "valid_to_seq": seq})
                earlier.update(row)
            elif prior:
                batch.archive.append((eid, seq))
                pending[eid] = row
                batch.updates.append(row)
                batch.stored_rids[eid] = prior.rid
            else:
                pending[eid] = row
                batch.inserts.append(row)
            result = WriteResult(seq, eid, action)
            seen[eid, record.version] = result
            if key:
                replayed[key] = result
            batch.results.append(result)
        batch.inserts.sort(key=itemgetter("rid"))  # neighbours written side by side
        return batch

    def _flush(self, cur: Cursor, batch: _Batch) -> None:
        """Run the batch's statements; the caller's transaction makes them one change."""
        insert_many = self.backend.insert_many
        if batch.events:
            insert_many(cur, events, batch.events)
        if batch.archive:  # before the updates below overwrite the states being archived
            self.backend.archive(cur, batch.archive)
        if batch.history:
            insert_many(cur, entity_versions, batch.history)
        if batch.inserts:
            insert_many(cur, entities, batch.inserts)
        if batch.updates:
            # The row id is set only where it changes: setting it moves the row and re-indexes
            # it, even to the same value.
            stored = batch.stored_rids
            rows = [row if row["rid"] != stored[row["entity_id"]]
                    else {k: v for k, v in row.items() if k != "rid"} for row in batch.updates]
            self.backend.update_many(cur, entities, rows, key="entity_id")
        if batch.removals:
            self.backend.delete_entities(cur, batch.removals)

    def _notify(self, batch: _Batch) -> None:
        if not (self._listeners and batch.events):
            return
        committed = [_event({**row, "payload": _loads(row["payload"])}) for row in batch.events]
        for listener in self._listeners:
            try:
                listener(committed)
            except Exception:  # a broken listener must not undo or block a committed write
                log.exception("event listener %r failed", listener)

    def _writer(self):
        return _WriteTransaction(self)

    def _next_seq(self, cur: Cursor) -> tuple[int, datetime]:
        """The next seq and a write time that never goes back, read under the writer lock."""
        last = self.backend.last_event(cur)
        now = utcnow()
        if last is None:
            return 1, now
        return last[0] + 1, max(now, last[1])

    def _replayed(self, cur: Cursor, keys: list[str]) -> dict[str, WriteResult]:
        return {key: WriteResult(seq, eid, Action(action))
                for key, seq, eid, action in self.backend.replayed(cur, keys)}

    def _seen_versions(self, cur: Cursor, pairs: list[tuple[str, str]]
                       ) -> dict[tuple[str, str], WriteResult]:
        """Writes already in the log, by (entity id, version): the dedup key of every write.

        One index probe per pair (ids IN ... AND versions IN ... would probe every id with
        every version: 25 million probes for a batch of 5,000).
        """
        if not pairs:
            return {}
        return {(eid, version): WriteResult(seq, eid, Action(action))
                for eid, version, seq, action in self.backend.seen_versions(cur, pairs)}

    def _current(self, cur: Cursor, ids: list[str]) -> dict[str, _Current]:
        if not ids:
            return {}
        return {eid: _Current(kind, marking, agency, rid)
                for eid, kind, marking, agency, rid in self.backend.current_states(cur, ids)}

    # ---------------------------------------------------------------- reading

    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()

    def get(self, viewer: Viewer, entity: str) -> Record | None:
        """The current state of one entity, if the viewer may see it."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(entities).where(entities.c.entity_id == entity,
                                       visible_to(entities, viewer))
            ).first()
        return None if row is None else _record_from_entity(row, _geom(row.geom))

    def query(self, viewer: Viewer, q: Query = Query()) -> list[Record]:
        """Records matching q that the viewer may see, now or as of q.as_of."""
        return list(self.iter_query(viewer, q))

    def iter_query(self, viewer: Viewer, q: Query = Query()) -> Iterator[Record]:
        with self.engine.connect() as conn:
            yield from self._select(conn, viewer, q)

    def features(self, viewer: Viewer, q: Query = Query()) -> tuple[int, list[str]]:
        """Map features (JSON text, dashboard.layers.features) matching q that the viewer may
        see, and the seq they are current at: what maps and snapshots draw.

        Read straight from the stored feature column, no record built per row; the geometry is
        read and tested only for rows whose box is not wholly inside the query's box.
        """
        if q.as_of is not None:
            raise StoreError("features are of the current state: use query() with as_of")
        boxes, exact = _spatial_filter(q)
        with self._consistent_read() as conn:
            seq = conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()
            if boxes == []:
                return seq, []
            stmt = self._narrowed(select(entities.c.feature, _geometry_to_test(q, boxes)),
                                  entities, viewer, q, boxes)
            if q.limit is None:
                return seq, _feature_rows(_plain_rows(conn, stmt), exact, None)
            order = (entities.c.time.desc(), entities.c.entity_id)
            return seq, self._limited(conn, stmt, order, q, exact, lambda limited:
                                      _feature_rows(_plain_rows(conn, limited), exact, q.limit))

    def _narrowed(self, stmt, table, viewer: Viewer, q: Query, boxes: list[BBox] | None,
                  seq: int | None = None):
        """stmt limited to what the viewer may see and q's attributes and index boxes ask."""
        stmt = stmt.where(visible_to(table, viewer), *_attribute_filters(table, q))
        if boxes is not None:
            stmt = self.backend.meeting(stmt, table, boxes, seq)
        return stmt

    def _limited(self, conn: Connection, stmt, order, q: Query,
                 exact: Callable[[BaseGeometry], bool] | None,
                 read: Callable[[Any], list]) -> list:
        """The newest q.limit results, limited in SQL. With an exact spatial test (which SQL
        cannot do), fetch more than asked and widen until enough pass or candidates run out."""
        fetch = q.limit if exact is None else 2 * q.limit + 64
        while True:
            limited = _ordered(stmt, order, q, fetch)
            rows = read(limited)
            if len(rows) >= q.limit or exact is None or self._fewer_than(conn, limited, fetch):
                return rows
            fetch *= 4

    def _consistent_read(self) -> Connection:
        """A connection whose statements all see the same committed state."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        return conn  # SQLite: one read transaction (BEGIN) already sees one WAL snapshot

    def _select(self, conn: Connection, viewer: Viewer, q: Query) -> Iterator[Record]:
        boxes, exact = _spatial_filter(q)
        if boxes == []:  # spatial conditions that cannot all hold at once
            return
        if q.as_of is None:
            stmt = self._narrowed(select(entities), entities, viewer, q, boxes)
            order = (entities.c.time.desc(), entities.c.entity_id)
        else:  # the rows current at seq S: live ones made by S, and history spanning S
            seq = q.as_of if isinstance(q.as_of, int) else self._seq_at(conn, q.as_of)
            versions = entity_versions.c
            live_time = entities.c.time
            if q.limit is not None and boxes is None and self.backend.few_current_made_by(
                    conn, seq):
                live_time = unindexed(live_time).label("time")  # found by seq, then sorted
            live = self._narrowed(select(entities.c.geom, live_time, entities.c.entity_id,
                                         entities.c.seq.label("state_seq"))
                                  .where(entities.c.seq <= seq), entities, viewer, q, boxes)
            past = self._narrowed(select(versions.geom, versions.time, versions.entity_id,
                                         versions.valid_from_seq.label("state_seq"))
                                  .where(versions.valid_from_seq <= seq,
                                         versions.valid_to_seq > seq),
                                  entity_versions, viewer, q, boxes, seq)
            stmt = union_all(live, past).subquery()
            order = (stmt.c.time.desc(), stmt.c.entity_id)
        if q.limit is None:
            yield from self._stream(conn, _with_payload(stmt, q), exact, None, q.as_of)
            return
        yield from self._limited(conn, stmt, order, q, exact, lambda limited: list(
            self._stream(conn, _with_payload(limited, q, order), exact, q.limit, q.as_of)))

    @staticmethod
    def _fewer_than(conn: Connection, limited, fetch: int) -> bool:
        """Whether the SQL candidates ran out before `fetch` (so widening cannot find more)."""
        count = conn.execute(select(func.count()).select_from(limited.subquery())).scalar_one()
        return count < fetch

    @staticmethod
    def _stream(conn: Connection, stmt, exact: Callable[[BaseGeometry], bool] | None,
                limit: int | None, as_of: object) -> Iterator[Record]:
        left = limit if limit is not None else -1
        if left == 0:
            return
        result = conn.execution_options(yield_per=1000).execute(stmt)
        for part in result.partitions():
            geoms = shapely.from_wkb([r.geom for r in part])
            for row, geom in zip(part, geoms):
                if exact is not None and (geom is None or not exact(geom)):
                    continue
                if as_of is not None:
                    yield _record_from_payload(row.payload, geom)
                else:
                    yield _record_from_entity(row, geom)
                left -= 1
                if left == 0:
                    return

    def seq_at(self, when: datetime) -> int:
        """The last seq committed at or before `when` (0 before the first event)."""
        with self.engine.connect() as conn:
            return self._seq_at(conn, when)

    @staticmethod
    def _seq_at(conn: Connection, when: datetime) -> int:
        # seq and time grow together (the writer never lets time go back), so the time index
        # finds it in one step; max(seq) WHERE time <= T would walk the log from its end.
        seq = conn.execute(select(events.c.seq).where(events.c.time <= when)
                           .order_by(events.c.time.desc(), events.c.seq.desc()).limit(1)
                           ).scalar()
        return seq or 0

    def events_after(self, viewer: Viewer, seq: int, limit: int = 1000) -> list[Event]:
        """Events after seq that the viewer may see, oldest first: catch-up and replay."""
        if limit < 1:
            raise StoreError("limit must be at least 1")
        stmt = (select(events).where(events.c.seq > seq, visible_to(events, viewer))
                .order_by(events.c.seq).limit(limit))
        with self.engine.connect() as conn:
            return [_event(row._mapping) for row in conn.execute(stmt)]

    def log_after(self, seq: int, limit: int = 1000) -> list[Event]:
        """Every event after seq, unfiltered, oldest first.

        Only for the live hub, which filters per room of viewers itself; every other reader
        goes through events_after with its Viewer.
        """
        stmt = select(events).where(events.c.seq > seq).order_by(events.c.seq).limit(limit)
        with self.engine.connect() as conn:
            return [_event(row._mapping) for row in conn.execute(stmt)]

    def expired(self, now: datetime) -> list[tuple[str, str]]:
        """(entity id, version) of every current record whose `expires` has passed.

        Unfiltered, for the feed runner's expiry sweep (a system task, not a reader).
        """
        stmt = select(entities.c.entity_id, entities.c.version).where(
            entities.c.expires.isnot(None), entities.c.expires < now)
        with self.engine.connect() as conn:
            return [(r.entity_id, r.version) for r in conn.execute(stmt)]

    def save_feed_health(self, name: str, state: dict[str, Any]) -> None:
        """Record one feed's health (the feed runner calls this after every poll)."""
        row = {"name": name, "state": state, "updated_at": utcnow()}
        with self.engine.begin() as conn:
            updated = conn.execute(feed_health.update().where(feed_health.c.name == name)
                                   .values(state=state, updated_at=row["updated_at"]))
            if updated.rowcount == 0:
                conn.execute(feed_health.insert().values(**row))

    def feed_health(self) -> list[dict[str, Any]]:
        """Every feed's last recorded health, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(feed_health).order_by(feed_health.c.name))
            return [{**r.state, "name": r.name, "updated_at": r.updated_at.isoformat()}
                    for r in rows]

    def history(self, viewer: Viewer, entity: str) -> list[Event]:
        """Every event of one entity that the viewer may see, oldest first."""
        stmt = (select(events).where(events.c.entity_id == entity, visible_to(events, viewer))
                .order_by(events.c.seq))
        with self.engine.connect() as conn:
            return [_event(row._mapping) for row in conn.execute(stmt)]

    def count(self, viewer: Viewer) -> int:
        """How many current entities the viewer may see."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(entities).where(visible_to(entities, viewer))
            ).scalar_one()

    def close(self) -> None:
        with self._write_lock:
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None
        self.engine.dispose()


class _WriteTransaction:
    """One writer at a time, in this process (a lock) and across processes (the backend's).

    Every write goes through the same connection, kept open for the store's life: SQLite
    drops a connection's page cache whenever another connection has written, so writes spread
    over a pool re-read their indexes from the file each time (at a million rows, a third of
    the insert time went to reading pages back). One writer keeps its cache warm.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.tx = None
        self.finished = False  # committed, or failed to

    def __enter__(self) -> Cursor:
        """The transaction's driver cursor (see Backend.insert_many for why not SQLAlchemy's)."""
        store = self.store
        store._write_lock.acquire()
        try:
            if store._write_conn is None or store._write_conn.invalidated:
                store._write_conn = store.engine.connect().execution_options(sitroom_write=True)
                store.backend.prepare_writer(store._write_conn)
            self.tx = store._write_conn.begin()
            self.cursor = store._write_conn.connection.driver_connection.cursor()
            store.backend.begin_write(self.cursor)
        except BaseException:
            if self.tx is not None:
                self.tx.rollback()
            store._write_lock.release()
            raise
        return self.cursor

    def commit_beside(self, work: Callable[[Callable[[], bool]], None]) -> None:
        """Commit in another thread while work(committed) runs in this one; committed() says
        whether the commit is over. The writer lock stays held until both are."""
        self.cursor.close()
        failure: list[BaseException] = []

        def commit() -> None:
            try:
                self._commit()
            except BaseException as exc:  # raised in the writer's thread below
                failure.append(exc)

        committer = threading.Thread(target=commit, name="sitroom-commit")
        committer.start()
        try:
            work(lambda: not committer.is_alive())
        finally:
            committer.join()
        if failure:
            raise failure[0]

    def _commit(self) -> None:
        self.finished = True
        try:
            self.tx.commit()
        except BaseException:
            # Whatever state the failure left the transaction in, the connection goes (closing
            # it rolls back); the next write opens another.
            self.store._write_conn.invalidate()
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.finished:
                return
            self.cursor.close()
            if exc_type is None:
                self._commit()
            else:
                self.tx.rollback()
        finally:
            self.store._write_lock.release()


def _checked(items: list[tuple[Record, str | None]]) -> list[tuple[Record, str | None]]:
    """items, once each is known to be a Record (before anything of them is written)."""
    for record, _ in items:
        if not isinstance(record, Record):
            raise StoreError(f"not a record: {type(record).__name__}")
    return items


# Kinds whose stored fields are all plain JSON values, so a row can be trusted as it is read.
# (An alert's info blocks are nested models and go through validation.)
FLAT_KINDS = frozenset({Kind.REPORT, Kind.INCIDENT, Kind.UNIT, Kind.ANNOTATION})

def _entity_row(record: Record, eid: str, rid: int, wkb: bytes | None, bounds: list[float],
                seq: int, texts: _Texts) -> dict[str, Any]:
    """The entities row of a record (bounds are NaN when it has no geometry)."""
    if record.geometry is None:
        bounds = [None] * 4
    return {
        "rid": rid, "entity_id": eid, "kind": record.kind.value, "marking": int(record.marking),
        "agency": record.agency, "category": record.category,
        "severity": record.severity.value, "status": record.status, "time": record.time,
        "expires": record.expires, "geom": wkb,
        "minx": bounds[0], "miny": bounds[1], "maxx": bounds[2], "maxy": bounds[3],
        "source": record.source, "source_id": record.source_id, "version": record.version,
        "title": record.title, "seq": seq, "extra": texts.extra, "feature": texts.feature,
    }


@dataclass(frozen=True)
class _Texts:
    """A record's JSON texts as stored: its payload (the log), the fields without columns of
    their own (`entities.extra`) and its map feature."""

    payload: str
    extra: str
    feature: str


def _texts(record: Record, eid: str, geojson: str | None) -> _Texts:
    """Serialised once by pydantic (shapely writes the geometry, much faster than via dicts);
    the other two are cut from that, the feature made from the payload exactly as live deltas
    make it (dashboard.layers.features)."""
    head = record.model_dump_json(exclude={"geometry"})
    data = orjson.loads(head)
    data["geometry"] = None if geojson is None else orjson.Fragment(geojson)
    extra = {k: v for k, v in data.items() if k not in Record.COLUMNS}
    return _Texts(payload=f'{head[:-1]},"geometry":{geojson or "null"}}}',
                  extra=orjson.dumps(extra).decode(),
                  feature=orjson.dumps(feature_from_payload(eid, data)).decode())


def _ordered(stmt, order, q: Query, fetch: int):
    """The newest `fetch` rows of a query (a plain select, or the as-of union)."""
    if q.as_of is None:
        return stmt.order_by(*order).limit(fetch)
    return select(stmt).order_by(*order).limit(fetch)


def _with_payload(rows, q: Query, order=None):
    """What to fetch for `rows`: current-state rows as they are; as-of rows joined to the event
    holding their state, after any ordering and limit, so only rows returned pay for it."""
    if q.as_of is None:
        return rows
    sub = rows if isinstance(rows, Subquery) else rows.subquery()
    joined = select(sub.c.geom, events.c.payload).join(events, events.c.seq == sub.c.state_seq)
    return joined if order is None else joined.order_by(sub.c.time.desc(), sub.c.entity_id)


def _loads(value: str | dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(value) if isinstance(value, str) else value


def _geom(wkb: bytes | None) -> BaseGeometry | None:
    return None if wkb is None else shapely.from_wkb(wkb)


def _record_from_entity(row: Row, geom: BaseGeometry | None) -> Record:
    kind = Kind(row.kind)
    data = dict(row.extra)
    data.update(
        kind=kind, source=row.source, source_id=row.source_id, version=row.version,
        marking=Marking(row.marking), agency=row.agency, title=row.title,
        category=row.category, severity=Severity(row.severity), status=row.status,
        time=row.time, expires=row.expires, geometry=geom,
    )
    if kind in FLAT_KINDS:  # validated when written, every value already typed: no re-check
        return RECORD_TYPES[kind].model_construct(**data)
    return RECORD_TYPES[kind].model_validate(data, context=TRUSTED)


def _record_from_payload(payload: dict[str, Any], geom: BaseGeometry | None) -> Record:
    data = {**payload, "geometry": geom}
    return RECORD_TYPES[Kind(payload["kind"])].model_validate(data, context=TRUSTED)


def _event(row: Mapping[str, Any]) -> Event:
    """An event as the log holds it (a row read, or one just written): every value was
    validated when it was written, so it is constructed without validating again (the hub
    reads thousands a second)."""
    prior = row["prior_marking"]
    return Event.model_construct(
        seq=row["seq"], time=row["time"], actor=row["actor"], action=Action(row["action"]),
        entity_kind=Kind(row["entity_kind"]), entity_id=row["entity_id"],
        marking=Marking(row["marking"]), agency=row["agency"],
        prior_marking=None if prior is None else Marking(prior),
        prior_agency=row["prior_agency"], source=row["source"], source_id=row["source_id"],
        version=row["version"], payload=row["payload"])


def _geometry_to_test(q: Query, boxes: list[BBox] | None):
    """The geometry column where an exact test is still needed, NULL where the row's box
    alone proves it matches (a query by box alone, the row's box wholly inside it)."""
    if boxes is None:
        return null().label("geom")
    if q.near is not None or q.within is not None:
        return entities.c.geom
    c = entities.c
    inside = or_(*[and_(c.minx >= w, c.maxx <= e, c.miny >= s, c.maxy <= n)
                   for (w, s, e, n) in boxes])
    return case((inside, null()), else_=c.geom).label("geom")


def _plain_rows(conn: Connection, stmt) -> list[tuple]:
    """All rows of stmt as the driver returns them: for columns that need no conversion (text,
    bytes), where SQLAlchemy's row objects would cost a third of a map read of 8,000 rows."""
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _feature_rows(rows: list[tuple], exact: Callable[[BaseGeometry], bool] | None,
                  limit: int | None) -> list[str]:
    """Features from (feature, geometry to test) rows, the tested ones kept if they pass.

    A geometry comes only with an exact test to pass (_geometry_to_test); most rows of a map
    read have none, so one comprehension does them (a generator's step per row was a tenth of
    reading 7,000 features).
    """
    texts = [feature for feature, wkb in rows
             if wkb is None or exact(shapely.from_wkb(wkb))]  # type: ignore[misc]
    return texts if limit is None else texts[:limit]


def _attribute_filters(table, q: Query) -> list:
    clauses = []
    for column, values in (("kind", q.kinds), ("category", q.categories),
                           ("severity", q.severities), ("agency", q.agencies),
                           ("status", q.statuses)):
        if values:
            clauses.append(table.c[column].in_([str(v) for v in values]))
    if q.located:
        clauses.append(table.c.minx.isnot(None))
    if q.markings:
        clauses.append(table.c.marking.in_([int(Marking.parse(m)) for m in q.markings]))
    if q.start is not None:
        clauses.append(table.c.time >= q.start)
    if q.end is not None:
        clauses.append(table.c.time < q.end)
    return clauses


def _spatial_filter(q: Query) -> tuple[list[BBox] | None, Callable[[BaseGeometry], bool] | None]:
    """Index boxes (candidates) and an exact test for the query's spatial conditions."""
    tests: list[Callable[[BaseGeometry], bool]] = []
    boxes: list[BBox] | None = None

    def narrow(new: list[BBox]) -> None:
        nonlocal boxes
        if boxes is None:
            boxes = new
        else:  # several conditions: keep the pairwise overlaps of their boxes
            boxes = [(max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
                     for a in boxes for b in new]
            boxes = [b for b in boxes if b[0] <= b[2] and b[1] <= b[3]]

    if q.bbox is not None:
        parts = bbox_parts(q.bbox)
        narrow(parts)
        area = shapely.union_all([shapely.box(*p) for p in parts])
        shapely.prepare(area)
        tests.append(area.intersects)
    if q.near is not None:
        lon, lat, radius = q.near
        narrow(circle_bbox(lon, lat, radius))
        tests.append(lambda g: distance_m(lon, lat, g) <= radius)
    if q.within is not None:
        check_geometry(q.within)
        narrow(bbox_parts(q.within.bounds))
        polygon = q.within
        shapely.prepare(polygon)
        tests.append(polygon.intersects)
    if not tests:
        return None, None
    if len(tests) == 1:
        return boxes, tests[0]
    return boxes, lambda g: all(t(g) for t in tests)


def open_store(url: str, **engine_options: Any) -> Store:
    """A Store on a database URL (sqlite:///path or postgresql+psycopg://...).

    JSON columns are read with orjson: payloads and extras are read on every log and map read.
    """
    engine_options.setdefault("json_deserializer", orjson.loads)
    return Store(create_engine(url, **engine_options))

"""What differs between the two backends: connection set-up, the writer lock, the spatial index.

Everything else (the log, projections, exact predicates) is shared in store.py, so both backends
answer every query the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import (
    JSON,
    Engine,
    Integer,
    and_,
    event,
    func,
    or_,
    text,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select, Subquery
from sqlalchemy.sql.selectable import Join
from sqlalchemy.sql.visitors import InternalTraversal

from dashboard.geometry import BBox
from dashboard.store.cells import covering
from dashboard.store.schema import STATE_COLUMNS, UTCDateTime, entities, entity_versions

WRITER_LOCK_ID = 0x5172_0001  # PostgreSQL advisory lock serialising writers (seq = commit order)
# SQLite: rows whose box is bigger than a point, the only ones in the entities' R*Tree
EXTENT = "minx IS NOT NULL AND (minx < maxx OR miny < maxy)"
COPY_FROM_ROWS = 50  # PostgreSQL: batches this big go through COPY
FEW_MADE_BY = 10_000  # SQLite: current entities made by an as-of seq few enough to sort
MMAP_BYTES = 1 << 32  # SQLite: address space to map the file into (not memory used)
WRITER_CACHE_KIB = 512 * 1024  # SQLite: the writer's page cache, at most

Cursor = Any  # the driver's own cursor (sqlite3 or psycopg), which the writer uses directly


class Backend:
    """The base names the hooks; each backend fills them in."""

    name = ""
    on_error = ""  # conflict clause of the bulk statements
    marker = ""  # the driver's parameter marker

    def prepare(self, engine: Engine) -> None:
        """Set connection options once, when the engine is made."""

    def prepare_writer(self, conn: Connection) -> None:
        """Options for the store's one long-lived writer connection."""

    def begin_write(self, cur: Cursor) -> None:
        """Start a write transaction that no other writer runs beside."""
        raise NotImplementedError

    def encode_geometries(self, geoms: list) -> list:
        """Geometries (or None) as this backend's insert values expect them."""
        raise NotImplementedError

    # The writer's statements go to the driver's cursor, in the driver's SQL: SQLAlchemy's
    # execution costs 30-130 µs a statement, most of a one-record write's seven, and its
    # per-row parameter processing more than the database's own work in bulk.

    def insert_many(self, cur: Cursor, table, rows: list[dict[str, Any]]) -> None:
        """Insert rows (all with the same keys), values adapted here, once."""
        columns = tuple(rows[0])
        sql, adapters = self._statement(table, columns)
        cur.executemany(sql, _adapted(rows, columns, adapters))

    def update_many(self, cur: Cursor, table, rows: list[dict[str, Any]], key: str) -> None:
        """Update rows matched by the `key` column, as insert_many; one statement for each set
        of columns the rows have."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        for names, group in groups.items():
            columns = tuple(c for c in names if c != key) + (key,)
            sql, adapters = self._statement(table, columns, key)
            cur.executemany(sql, _adapted(group, columns, adapters))

    @cache  # noqa: B019 (one statement per table and column set, for the process's life)
    def _statement(self, table, columns: tuple[str, ...], key: str | None = None
                   ) -> tuple[str, list[tuple[int, Callable[[Any], Any]]]]:
        adapters = []
        placeholders = []
        for i, name in enumerate(columns):
            column_type = table.c[name].type
            if isinstance(column_type, UTCDateTime):
                adapters.append((i, self.adapt_time))
            elif isinstance(column_type, JSON):
                adapters.append((i, _json_text))
            placeholders.append(self.placeholder(name, column_type))
        if key is None:
            sql = (f"INSERT{self.on_error} INTO {table.name} ({', '.join(columns)}) "
                   f"VALUES ({', '.join(placeholders)})")
        else:
            sets = ", ".join(f"{c} = {p}" for c, p in zip(columns[:-1], placeholders))
            sql = f"UPDATE{self.on_error} {table.name} SET {sets} WHERE {key} = {placeholders[-1]}"
        return sql, adapters

    def placeholder(self, name: str, column_type) -> str:
        """The driver's parameter marker for one column, in positional order."""
        raise NotImplementedError

    def adapt_time(self, value: datetime | None) -> Any:
        return value

    def read_time(self, value: Any) -> datetime:
        """A timestamp as the driver returns it, as an aware UTC datetime."""
        return value.astimezone(UTC)

    def any_of(self, values: list) -> tuple[str, tuple]:
        """SQL testing a column against any of values (`column {sql}`), and its parameters."""
        raise NotImplementedError

    def meeting(self, stmt: Select, table, boxes: list[BBox], seq: int | None = None
                ) -> Select:
        """stmt (a select of table) limited to rows whose bounding box meets one of the boxes
        (and, for versions, that were current at seq), found through the spatial index."""
        raise NotImplementedError

    def few_current_made_by(self, conn: Connection, seq: int) -> bool:
        """Whether so few current entities were made by seq that the newest of them are best
        found by their seq and sorted, rather than by walking every entity newest first."""
        return False

    def last_event(self, cur: Cursor) -> tuple[int, datetime] | None:
        """(seq, time) of the last event in the log, if any."""
        cur.execute("SELECT seq, time FROM events ORDER BY seq DESC LIMIT 1")
        row = cur.fetchone()
        return None if row is None else (row[0], self.read_time(row[1]))

    def replayed(self, cur: Cursor, keys: list[str]) -> list[tuple]:
        """(idempotency_key, seq, entity_id, action) of the events written with these keys."""
        test, values = self.any_of(keys)
        cur.execute("SELECT idempotency_key, seq, entity_id, action FROM events "
                    f"WHERE idempotency_key {test}", values)
        return cur.fetchall()

    def seen_versions(self, cur: Cursor, pairs: list[tuple[str, str]]) -> list[tuple]:
        """(entity_id, version, seq, action) of the events with one of these (id, version)."""
        raise NotImplementedError

    def current_states(self, cur: Cursor, ids: list[str]) -> list[tuple]:
        """(entity_id, kind, marking, agency, rid) of the current entities among ids."""
        test, values = self.any_of(ids)
        cur.execute("SELECT entity_id, kind, marking, agency, rid FROM entities "
                    f"WHERE entity_id {test}", values)
        return cur.fetchall()

    def delete_entities(self, cur: Cursor, ids: list[str]) -> None:
        test, values = self.any_of(ids)
        cur.execute(f"DELETE FROM entities WHERE entity_id {test}", values)

    def archive(self, cur: Cursor, superseded: list[tuple[str, int]]) -> None:
        """Copy the current state of each (entity, superseding seq) into the history, closed
        at that seq: one statement for the batch."""
        rows = ", ".join([f"({self.marker}, {self.marker})"] * len(superseded))
        columns = ", ".join(STATE_COLUMNS)
        cur.execute(
            f"WITH superseded(entity, seq) AS (VALUES {rows}) "
            f"INSERT INTO entity_versions ({columns}, valid_from_seq, valid_to_seq) "
            f"SELECT {', '.join('e.' + c for c in STATE_COLUMNS)}, e.seq, superseded.seq "
            f"FROM superseded JOIN entities e ON e.entity_id = superseded.entity",
            tuple(value for pair in superseded for value in pair))


class SQLiteBackend(Backend):
    """A single file, no server, no extension: WKB in BLOBs, SQLite's built-in R*Tree, WAL."""

    name = "sqlite"
    # A failing bulk statement fails the whole write transaction, which is rolled back: no
    # statement needs undoing on its own, so none needs a statement journal (a copy of every
    # page each row's statement touches, made for every row).
    on_error = " OR FAIL"
    marker = "?"

    def prepare(self, engine: Engine) -> None:
        database = make_url(str(engine.url)).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record) -> None:
            # Take transaction control from the sqlite3 module, so that a write can BEGIN
            # IMMEDIATE (take the write lock up front) instead of failing on upgrade.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA cache_size=-65536")
            # Readers' caches are dropped after every write; mapped pages are not copied.
            cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            if not conn.get_execution_options().get("sitroom_write", False):
                conn.exec_driver_sql("BEGIN")  # the writer begins in begin_write

    def prepare_writer(self, conn: Connection) -> None:
        # The writer's cache survives its own commits: room for the indexes it keeps updating.
        # (On the driver's connection: a statement through SQLAlchemy would begin a transaction.)
        conn.connection.driver_connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")

    def begin_write(self, cur: Cursor) -> None:
        # IMMEDIATE: the write lock up front, so the transaction never fails on upgrading.
        cur.execute("BEGIN IMMEDIATE")

    def placeholder(self, name: str, column_type) -> str:
        return self.marker

    # The R*Trees are written here, beside the rows they index, in the same transaction: by
    # triggers, every statement firing one kept a statement journal (migration 0005).

    def insert_many(self, cur: Cursor, table, rows: list[dict[str, Any]]) -> None:
        last_vid = self._last_vid(cur) if table is entity_versions else 0
        super().insert_many(cur, table, rows)
        if table is entities:
            extents = [(r["rid"], r["minx"], r["maxx"], r["miny"], r["maxy"])
                       for r in rows if _is_extent(r)]
            if extents:
                cur.executemany("INSERT INTO entities_rtree VALUES (?, ?, ?, ?, ?)", extents)
        elif table is entity_versions:
            self._index_versions(cur, last_vid)

    def update_many(self, cur: Cursor, table, rows: list[dict[str, Any]], key: str) -> None:
        if table is not entities:
            super().update_many(cur, table, rows, key)
            return
        test, values = self.any_of([row[key] for row in rows])
        cur.execute("DELETE FROM entities_rtree WHERE rid IN (SELECT rid FROM entities "
                    f"WHERE {key} {test} AND {EXTENT})", values)
        super().update_many(cur, table, rows, key)
        extents = [row[key] for row in rows if _is_extent(row)]
        if extents:  # their row ids are read back: a row keeping its id is updated without it
            test, values = self.any_of(extents)
            cur.execute("INSERT INTO entities_rtree SELECT rid, minx, maxx, miny, maxy "
                        f"FROM entities WHERE {key} {test}", values)

    def delete_entities(self, cur: Cursor, ids: list[str]) -> None:
        test, values = self.any_of(ids)
        cur.execute("DELETE FROM entities_rtree WHERE rid IN "
                    f"(SELECT rid FROM entities WHERE entity_id {test})", values)
        super().delete_entities(cur, ids)

    def archive(self, cur: Cursor, superseded: list[tuple[str, int]]) -> None:
        last_vid = self._last_vid(cur)
        super().archive(cur, superseded)
        self._index_versions(cur, last_vid)

    @staticmethod
    def _last_vid(cur: Cursor) -> int:
        cur.execute("SELECT coalesce(max(vid), 0) FROM entity_versions")
        return cur.fetchone()[0]

    @staticmethod
    def _index_versions(cur: Cursor, after_vid: int) -> None:
        """Index the versions just appended (row ids above after_vid) with their seqs."""
        cur.execute("INSERT INTO versions_rtree SELECT vid, minx, maxx, miny, maxy, "
                    "valid_from_seq, valid_to_seq FROM entity_versions "
                    "WHERE vid > ? AND minx IS NOT NULL", (after_vid,))

    def encode_geometries(self, geoms: list) -> list:
        return list(shapely.to_wkb(geoms, output_dimension=2))

    @staticmethod
    @lru_cache(maxsize=4096)
    def adapt_time(value: datetime | None) -> str | None:
        # The same text SQLAlchemy's SQLite DateTime writes, so comparisons in SQL stay exact.
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def meeting(self, stmt: Select, table, boxes: list[BBox], seq: int | None = None
                ) -> Select:
        """Current entities are read from candidate row-id ranges, driving the join: the
        ranges covering each box (rows are keyed by place, see store.cells) for points, and
        the R*Tree, which holds only geometries bigger than a point, for those. Rows of the
        ranges outside the box are dropped by their bounds. Versions: their R*Tree, which
        holds every located version with the seqs it was current between.
        """
        if table is not entities:
            return stmt.where(or_(*[
                table.c.vid.in_(self._version_ids(i, box, seq))
                for i, box in enumerate(boxes)]))
        c = table.c
        found = self._candidates(boxes)
        meets = [and_(c.minx <= e, c.maxx >= w, c.miny <= n, c.maxy >= s)
                 for (w, s, e, n) in boxes]
        point = and_(c.minx == c.maxx, c.miny == c.maxy)
        return (stmt.select_from(_DrivingJoin(found, table, c.rid.between(found.c.lo, found.c.hi)))
                .where(or_(found.c.extent == 1, point), or_(*meets)))

    @staticmethod
    def _candidates(boxes: list[BBox]) -> Subquery:
        """(lo, hi, extent) row-id ranges to read: the boxes' covering ranges, merged, as one
        JSON parameter (one statement text however many), and each extent the R*Tree finds
        in a box, once, as a range of its own row id (extent = 1)."""
        ranges = _merged([r for box in boxes for r in covering(box)])
        params: dict[str, Any] = {"ranges": json.dumps(ranges)}
        for i, box in enumerate(boxes):
            params.update(_box_params(i, box))
        extents = " UNION ".join(f"SELECT rid FROM entities_rtree WHERE {_meets_box(i)}"
                                 for i in range(len(boxes)))
        return (text("SELECT json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') "
                     "AS hi, 0 AS extent FROM json_each(:ranges) "
                     f"UNION ALL SELECT rid, rid, 1 FROM ({extents})")
                .bindparams(**params)
                .columns(lo=Integer(), hi=Integer(), extent=Integer())
                .subquery("candidates"))

    @staticmethod
    def _version_ids(i: int, box: BBox, seq: int | None = None):
        """Ids of the versions whose box meets box (and, with seq, that were current at it)."""
        extra = "" if seq is None else " AND from_seq <= :seq AND to_seq >= :seq"
        sub = text(f"SELECT vid FROM versions_rtree WHERE {_meets_box(i)}{extra}").bindparams(
            **_box_params(i, box), **({"seq": seq} if seq is not None else {}))
        return sub.columns(vid=Integer())

    def few_current_made_by(self, conn: Connection, seq: int) -> bool:
        """SQLite has no statistics, and for "the newest 1,000 as of S" it walked the
        entities' time index through every entity, reading each row for its seq. On the as-of
        bench's 1,000,000-event log (50,000 entities, none current made by S) that took
        177/120/91 ms at S = 10/50/90%, and 153/105/59 by seq (medians of 8 alternating
        runs). Counting up to FEW_MADE_BY in the seq index costs about a millisecond."""
        counted = conn.exec_driver_sql(
            "SELECT count(*) FROM (SELECT 1 FROM entities WHERE seq <= ? LIMIT ?)",
            (seq, FEW_MADE_BY)).scalar_one()
        return counted < FEW_MADE_BY

    def read_time(self, value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def any_of(self, values: list) -> tuple[str, tuple]:
        return f"IN ({', '.join(['?'] * len(values))})", tuple(values)

    def seen_versions(self, cur: Cursor, pairs: list[tuple[str, str]]) -> list[tuple]:
        """A join, not `(id, version) IN (...)`: SQLite plans that IN as a scan of the whole log,
        while the join probes the unique index once per pair.
        """
        rows = ", ".join(["(?, ?)"] * len(pairs))
        cur.execute(
            f"WITH pairs(a, b) AS (VALUES {rows}) "
            f"SELECT e.entity_id, e.version, e.seq, e.action FROM pairs JOIN events e "
            f"ON e.entity_id = pairs.a AND e.version = pairs.b AND e.version IS NOT NULL",
            tuple(value for pair in pairs for value in pair))
        return cur.fetchall()


class PostGISBackend(Backend):
    """PostgreSQL with PostGIS: GiST-indexed geometry; writers serialised by an advisory lock."""

    name = "postgresql"
    marker = "%s"

    def prepare(self, engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record) -> None:
            # Results are streamed through server-side cursors and always read to the end:
            # plan for the whole result, not for the first rows (which picked index walks
            # 6x slower than the GiST index for map viewports).
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SET cursor_tuple_fraction = 1.0")
            dbapi_conn.commit()

    def begin_write(self, cur: Cursor) -> None:
        # Without this, two transactions could commit seq 11 before seq 10, and a reader
        # catching up "after 10" would miss one for good.
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITER_LOCK_ID,))

    def placeholder(self, name: str, column_type) -> str:
        if name == "geom":
            return "%s::geometry"
        return "%s::jsonb" if isinstance(column_type, JSON) else self.marker

    def encode_geometries(self, geoms: list) -> list:
        # Hex EWKB with the SRID: PostGIS reads it as geometry text input, in INSERT and COPY.
        with_srid = shapely.set_srid(shapely.force_2d(geoms), 4326)
        return list(shapely.to_wkb(with_srid, hex=True, include_srid=True))

    def insert_many(self, cur: Cursor, table, rows: list[dict[str, Any]]) -> None:
        """COPY, PostgreSQL's bulk path: several times faster than INSERT for big batches."""
        if len(rows) < COPY_FROM_ROWS:
            super().insert_many(cur, table, rows)
            return
        columns = tuple(rows[0])
        _, adapters = self._statement(table, columns)
        with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for values in _adapted(rows, columns, adapters):
                copy.write_row(values)

    # Thousands of values go as array parameters: one statement text whatever their number.
    def any_of(self, values: list) -> tuple[str, tuple]:
        return "= ANY(%s)", (list(values),)

    def seen_versions(self, cur: Cursor, pairs: list[tuple[str, str]]) -> list[tuple]:
        cur.execute(
            "SELECT e.entity_id, e.version, e.seq, e.action "
            "FROM unnest(%s::text[], %s::text[]) AS pairs(a, b) JOIN events e "
            "ON e.entity_id = pairs.a AND e.version = pairs.b AND e.version IS NOT NULL",
            ([p[0] for p in pairs], [p[1] for p in pairs]))
        return cur.fetchall()

    def meeting(self, stmt: Select, table, boxes: list[BBox], seq: int | None = None
                ) -> Select:
        return stmt.where(or_(*[table.c.geom.op("&&")(func.ST_MakeEnvelope(w, s, e, n, 4326))
                                for (w, s, e, n) in boxes]))


def backend_for(engine: Engine) -> Backend:
    name = engine.dialect.name
    if name == "sqlite":
        return SQLiteBackend()
    if name == "postgresql":
        return PostGISBackend()
    raise ValueError(f"unsupported database {name!r}: use sqlite:/// or postgresql://")


class _DrivingJoin(Join):
    """`left CROSS JOIN right NOT INDEXED ON ...` on SQLite: the left side (candidate row ids)
    is read first and each right row by its row id. Without it, the planner, which has no
    statistics, took a filter's index (kind = 'incident') over the box and read every
    incident of the table for a map of one district (761 ms instead of 26 at a million)."""

    inherit_cache = True


@compiles(_DrivingJoin, "sqlite")
def _driving_join_sqlite(join: _DrivingJoin, compiler, **kw) -> str:
    kw.pop("asfrom", None)
    return (join.left._compiler_dispatch(compiler, asfrom=True, **kw) + " CROSS JOIN "
            + join.right._compiler_dispatch(compiler, asfrom=True, **kw) + " NOT INDEXED ON "
            + join.onclause._compiler_dispatch(compiler, **kw))


class unindexed(ColumnElement):
    """A column that no index may order by: `+column` on SQLite (its documented way to keep
    an index out of a plan), the column itself elsewhere."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # its cache key

    def __init__(self, column: ColumnElement) -> None:
        self.column = column
        self.type = column.type


@compiles(unindexed)
def _unindexed(element: unindexed, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)


def _is_extent(row: dict[str, Any]) -> bool:
    """EXTENT, for a row about to be written."""
    minx = row["minx"]
    return minx is not None and (minx < row["maxx"] or row["miny"] < row["maxy"])


def _meets_box(i: int) -> str:
    """An R*Tree's test for boxes meeting box number i (parameters: _box_params)."""
    return f"minx <= :e{i} AND maxx >= :w{i} AND miny <= :n{i} AND maxy >= :s{i}"


def _box_params(i: int, box: BBox) -> dict[str, float]:
    west, south, east, north = box
    return {f"w{i}": west, f"s{i}": south, f"e{i}": east, f"n{i}": north}


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Inclusive ranges sorted, overlapping and touching ones joined (no row read twice)."""
    out: list[list[int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], high)
        else:
            out.append([low, high])
    return [(low, high) for low, high in out]


def _adapted(rows: list[dict[str, Any]], columns: tuple[str, ...], adapters) -> list[tuple]:
    """Rows as value tuples in column order, with the column adapters applied."""
    get = itemgetter(*columns)
    out = []
    for row in rows:
        values = list(get(row))
        for i, adapt in adapters:
            values[i] = adapt(values[i])
        out.append(tuple(values))
    return out


def _json_text(value: Any) -> str:
    """JSON columns take text: a record's JSON is made once, by pydantic, and passed through."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))

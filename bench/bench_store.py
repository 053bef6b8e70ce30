"""Benchmark of the spatial store on SQLite and PostGIS: bulk insert, bbox reads, state as of T.

Run from the repository root:

    python bench/bench_store.py [--records N] [--backend sqlite|postgis|both] [--queries Q]
                                [--log-events E] [--asof-queries A]

Figures go to stdout as a table, each beside its target; progress goes to stderr. Every
database is thrown away afterwards: SQLite files live in a temporary directory, PostGIS runs on
a throwaway server (tests.support.postgres) that is stopped even when the run fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import gc
import math
import random
import signal
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import shapely
from sqlalchemy import func, select

from bench.common import machine_load, print_table, progress_printer, say
from dashboard.geometry import BBox
from dashboard.model import Incident, Kind, Marking, Severity, Viewer, entity_id, utcnow
from dashboard.store import Query, Store, migrate, open_store
from dashboard.store.schema import entities
from dashboard.store.store import visible_to
from tests.support.postgres import PostgresServer, find_bindir

SEED = 20261125
EXTENT: BBox = (24.0, 59.9, 26.0, 60.6)  # Helsinki region, lon/lat
AGENCIES = ("police", "rescue", "health", "border", "city")
CATEGORIES = ("fire", "flood", "traffic", "power", "medical", "public-order")
SEVERITIES = tuple(Severity)
DAY_START = datetime(2026, 1, 1, tzinfo=UTC)
VIEWER = Viewer(agency=AGENCIES[0], clearance=Marking.RED)
BOX_SIDE = 0.10  # a tenth of each side: 1% of the extent's area
VIEWPORT_LIMIT = 500
ASOF_LIMIT = 1000
LOG_VERSIONS = 20  # writes per entity in the as-of log
LOG_SOURCE = "bench-log"
ASOF_FRACTIONS = (0.10, 0.50, 0.90)
WARMUP = 3  # untimed queries first, so pool start-up and statement compilation are not timed

INSERT_TARGET = 20_000.0  # records/s, set for SQLite only
BBOX_TARGET_MS = 10.0  # p50
ASOF_TARGET_MS = 200.0  # p50


@dataclass(frozen=True)
class Figure:
    """One printed number, with the target it is held to when there is one."""

    backend: str
    name: str
    value: float
    unit: str
    target: float | None = None
    at_least: bool = False  # the target is a floor (rates) rather than a ceiling (latencies)

    @property
    def met(self) -> bool | None:
        """None when there is no target, so untargeted figures are not counted as passes."""
        if self.target is None:
            return None
        return self.value >= self.target if self.at_least else self.value < self.target

    def cells(self) -> tuple[str, str, str, str, str]:
        """The table row: large values without decimals, small ones with two."""
        value = f"{self.value:,.0f}" if self.value >= 100 else f"{self.value:,.2f}"
        if self.target is None:
            target, met = "-", ""
        else:
            target = f"{'>=' if self.at_least else '<'} {self.target:,.0f} {self.unit}"
            met = "yes" if self.met else "NO"
        return self.backend, self.name, f"{value} {self.unit}", target, met


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: with 200 samples p99 is the second slowest, not interpolated."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def random_point(rng: random.Random) -> tuple[float, float]:
    """A lon/lat point uniformly inside EXTENT."""
    west, south, east, north = EXTENT
    return rng.uniform(west, east), rng.uniform(south, north)


def random_boxes(n: int, seed: int) -> list[BBox]:
    """n boxes BOX_SIDE of each side of the extent, wholly inside it; the same on each backend."""
    rng = random.Random(seed)
    west, south, east, north = EXTENT
    width, height = (east - west) * BOX_SIDE, (north - south) * BOX_SIDE
    boxes = []
    for _ in range(n):
        x, y = rng.uniform(west, east - width), rng.uniform(south, north - height)
        boxes.append((x, y, x + width, y + height))
    return boxes


def make_incidents(n: int, rng: random.Random) -> list[Incident]:
    """n point incidents with mixed markings, agencies and times, as a feed would send them."""
    return [
        Incident(
            source="bench", source_id=str(i), marking=Marking(rng.randrange(5)),
            agency=rng.choice(AGENCIES), category=rng.choice(CATEGORIES),
            severity=rng.choice(SEVERITIES), title=f"incident {i}",
            time=DAY_START + timedelta(seconds=rng.uniform(0, 86_400)),
            geometry=shapely.Point(*random_point(rng)),
        )
        for i in range(n)
    ]


@contextmanager
def sqlite_databases() -> Iterator[Callable[[], str]]:
    """Hand out URLs of empty SQLite files in a temporary directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="sitroom-bench-") as root:
        made = 0

        def fresh() -> str:
            nonlocal made
            made += 1
            return f"sqlite:///{root}/store-{made}.db"

        yield fresh


@contextmanager
def postgis_databases(bindir: Path) -> Iterator[Callable[[], str]]:
    """Hand out URLs of empty PostGIS databases on a throwaway server, stopped afterwards.

    Each call drops the previous database, so stores from earlier calls must be closed first.
    """
    with PostgresServer(bindir) as server:
        def fresh() -> str:
            server.reset()
            return server.url

        yield fresh


@contextmanager
def opened(url: str) -> Iterator[Store]:
    """A migrated store on url, closed on the way out."""
    store = open_store(url)
    try:
        migrate.upgrade(store.engine)
        yield store
    finally:
        store.close()


def prepare_for_reads(store: Store) -> None:
    """Refresh PostgreSQL's planner statistics, as autovacuum would before anyone reads.

    Without it the plans after a bulk load depend on whether autovacuum happened to run yet.
    SQLite is left as the application leaves it (it never runs ANALYZE).
    """
    if store.backend.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def build_incidents(n: int) -> tuple[list[Incident], Figure]:
    """The insert workload, made once and shared by every backend so they write the same data."""
    say(f"building {n:,} incidents")
    started = time.perf_counter()
    records = make_incidents(n, random.Random(SEED))
    rate = n / (time.perf_counter() - started)
    return records, Figure("-", f"build Incident objects ({n:,})", rate, "rec/s")


def bench_insert(backend: str, store: Store, records: list[Incident]) -> list[Figure]:
    """Time write_many alone (records are already built): the ingest path's rate."""
    n = len(records)
    say(f"{backend}: writing {n:,} incidents")
    started = time.perf_counter()
    store.write_many(records, actor="bench", progress=progress_printer(n, "written"))
    write = time.perf_counter() - started
    say(f"{backend}: wrote {n:,} in {write:.1f} s")
    target = INSERT_TARGET if backend == "sqlite" else None
    return [Figure(backend, f"insert write_many ({n:,} records)", n / write, "rec/s", target,
                   at_least=True)]


def timed(run: Callable[[BBox], int], boxes: Sequence[BBox]) -> tuple[list[float], list[int]]:
    """Milliseconds and row counts of run(box) for each box, after WARMUP untimed runs.

    Runners of queries that take no box ignore it; the boxes then only set the count.
    """
    for box in boxes[:WARMUP]:
        run(box)
    times, rows = [], []
    for box in boxes:
        started = time.perf_counter()
        count = run(box)
        times.append((time.perf_counter() - started) * 1000)
        rows.append(count)
    return times, rows


def latency_figures(backend: str, name: str, times: list[float], rows: list[int] | None,
                    target: float | None, tail: bool = True) -> list[Figure]:
    """p50 (held to the target), p99 unless tail is off (few samples), and mean rows if any."""
    figures = [Figure(backend, f"{name} p50", percentile(times, 50), "ms", target)]
    if tail:
        figures.append(Figure(backend, f"{name} p99", percentile(times, 99), "ms"))
    if rows is not None:
        figures.append(Figure(backend, f"{name} rows/query (mean)", sum(rows) / len(rows),
                              "rows"))
    return figures


def candidate_count(store: Store, box: BBox) -> int:
    """The database's share of a bbox query: index lookup and visibility, counted in SQL.

    Uses the store's own predicates (visible_to, the backend's spatial index path), so the gap
    to the full query is what fetching rows, the exact shapely test and building Records cost.
    """
    stmt = store.backend.meeting(
        select(func.count(entities.c.rid)).where(visible_to(entities, VIEWER)), entities, [box])
    with store.engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def bench_bbox(backend: str, store: Store, queries: int) -> list[Figure]:
    """Reads on the current picture: a bbox as map features (what maps and snapshots read, held
    to the target) and as full Records, the SQL part alone, and a capped viewport."""
    boxes = random_boxes(queries, SEED + 1)
    figures = []
    say(f"{backend}: {queries} bbox queries (map features)")
    times, rows = timed(lambda b: len(store.features(VIEWER, Query(bbox=b))[1]), boxes)
    figures += latency_figures(backend, "bbox 1% -> map features", times, rows, BBOX_TARGET_MS)
    say(f"{backend}: {queries} bbox queries (Records)")
    times, rows = timed(lambda b: len(store.query(VIEWER, Query(bbox=b))), boxes)
    figures += latency_figures(backend, "bbox 1% -> Records", times, rows, None)
    say(f"{backend}: {queries} bbox candidate counts (SQL only)")
    times, rows = timed(lambda b: candidate_count(store, b), boxes)
    figures += latency_figures(backend, "bbox 1% -> SQL count only", times, rows, None)
    say(f"{backend}: {queries} viewport queries (limit {VIEWPORT_LIMIT})")
    times, rows = timed(
        lambda b: len(store.query(VIEWER, Query(bbox=b, limit=VIEWPORT_LIMIT))), boxes)
    figures += latency_figures(backend, f"viewport 1% limit={VIEWPORT_LIMIT}", times, rows, None)
    return figures


@dataclass(frozen=True)
class LogRound:
    """One pass over the live entities: their next version, then a few removals."""

    records: list[Incident]
    removals: list[str]  # entity ids, removed after the round's writes


@dataclass(frozen=True)
class LogSpan:
    """What the as-of benchmark needs to know of the log it wrote."""

    first: datetime  # wall clock before the first write: event times come from the store clock
    last: datetime  # and after the last
    events: int
    write_seconds: float


def log_round(version: int, live: Sequence[int], places: list[tuple[float, float]],
              owners: list[tuple[Marking, str]], rng: random.Random) -> list[Incident]:
    """Version `version` of every live entity, each moved a little (about 100 m at most)."""
    west, south, east, north = EXTENT
    records = []
    for i in live:
        lon, lat = places[i]
        lon = min(east, max(west, lon + rng.uniform(-0.002, 0.002)))
        lat = min(north, max(south, lat + rng.uniform(-0.001, 0.001)))
        places[i] = lon, lat
        marking, agency = owners[i]
        records.append(Incident(
            source=LOG_SOURCE, source_id=str(i), version=str(version), marking=marking,
            agency=agency, category=CATEGORIES[i % len(CATEGORIES)],
            severity=SEVERITIES[(i + version) % len(SEVERITIES)], title=f"entity {i}",
            time=DAY_START + timedelta(seconds=i % 86_400, minutes=version),
            geometry=shapely.Point(lon, lat),
        ))
    rng.shuffle(records)
    return records


def plan_log(target_events: int) -> list[LogRound]:
    """A log of about target_events: entities written LOG_VERSIONS times, some removed.

    After each round but the last, a few entities are removed for good, so the state as of T
    differs from now in membership as well as in positions. Made once, shared by the backends.
    """
    say(f"building an as-of log of ~{target_events:,} events")
    rng = random.Random(SEED + 2)
    count = max(1, target_events // LOG_VERSIONS)
    places = [random_point(rng) for _ in range(count)]
    owners = [(Marking(rng.randrange(5)), rng.choice(AGENCIES)) for _ in range(count)]
    removed_per_round = max(1, count // 500)
    live = list(range(count))
    rounds = []
    for version in range(1, LOG_VERSIONS + 1):
        records = log_round(version, live, places, owners, rng)
        gone = set(rng.sample(live, removed_per_round)) if version < LOG_VERSIONS else set()
        rounds.append(LogRound(
            records, [entity_id(Kind.INCIDENT, LOG_SOURCE, str(i)) for i in sorted(gone)]))
        live = [i for i in live if i not in gone]
    return rounds


def write_log(backend: str, store: Store, rounds: list[LogRound]) -> LogSpan:
    """Write the planned log, timing only the store calls (write_many and remove)."""
    events = 0
    writing = 0.0
    first = utcnow()
    for number, log in enumerate(rounds, 1):
        started = time.perf_counter()
        store.write_many(log.records, actor="bench")
        for entity in log.removals:
            store.remove(entity, actor="bench", reason="bench")
        writing += time.perf_counter() - started
        events += len(log.records) + len(log.removals)
        say(f"  {backend} log round {number}/{len(rounds)}: {events:,} events")
    return LogSpan(first, utcnow(), events, writing)


def as_of_run(store: Store, when: datetime, limit: int | None = None
              ) -> Callable[[BBox], int]:
    """A timed() runner for the state as of `when`: in the box, or (with limit) anywhere."""
    if limit is None:
        return lambda box: len(store.query(VIEWER, Query(as_of=when, bbox=box)))
    return lambda _: len(store.query(VIEWER, Query(as_of=when, limit=limit)))


def seq_at_run(store: Store, when: datetime) -> Callable[[BBox], int]:
    """A timed() runner for store.seq_at(when), the lookup every as-of query by time starts with."""
    return lambda _: store.seq_at(when)


def bench_as_of(backend: str, store: Store, rounds: list[LogRound], queries: int
                ) -> list[Figure]:
    """State as of T at 10/50/90% of the log's time span: a 1% box, and the newest ASOF_LIMIT.

    seq_at(T) is timed on its own too, since each as-of query by time starts with it.
    """
    say(f"{backend}: writing the as-of log")
    span = write_log(backend, store, rounds)
    say(f"{backend}: log of {span.events:,} events written in {span.write_seconds:.1f} s")
    prepare_for_reads(store)
    figures = [Figure(backend, f"as-of log write ({span.events:,} events)",
                      span.events / span.write_seconds, "ev/s")]
    boxes = random_boxes(queries, SEED + 3)
    for fraction in ASOF_FRACTIONS:
        when = span.first + (span.last - span.first) * fraction
        seq = store.seq_at(when)
        label = f"as-of T={fraction:.0%} (seq {seq:,})"
        say(f"{backend}: {queries} as-of queries at {fraction:.0%} of the log (seq {seq:,})")
        times, _ = timed(seq_at_run(store, when), boxes)
        figures += latency_figures(backend, f"{label} seq_at(T) alone", times, None, None,
                                   tail=False)
        times, rows = timed(as_of_run(store, when), boxes)
        figures += latency_figures(backend, f"{label} bbox 1%", times, rows, ASOF_TARGET_MS,
                                   tail=False)
        times, rows = timed(as_of_run(store, when, ASOF_LIMIT), boxes)
        figures += latency_figures(backend, f"{label} limit={ASOF_LIMIT}", times, rows,
                                   ASOF_TARGET_MS, tail=False)
    return figures


def chosen_backends(choice: str, stack: ExitStack) -> tuple[dict[str, Callable[[], str]],
                                                             list[str]]:
    """Database factories of the chosen backends (entered on stack), and those skipped.

    PostGIS is skipped, not failed, under `both` when no server is installed.
    """
    databases: dict[str, Callable[[], str]] = {}
    skipped = []
    if choice in ("sqlite", "both"):
        databases["sqlite"] = stack.enter_context(sqlite_databases())
    if choice in ("postgis", "both"):
        bindir = find_bindir()
        if bindir is None:
            skipped.append("postgis")
        else:
            say("postgis: starting a throwaway server")
            databases["postgis"] = stack.enter_context(postgis_databases(bindir))
    return databases, skipped


def run(databases: dict[str, Callable[[], str]], args: argparse.Namespace) -> list[Figure]:
    """Every measurement, phase by phase, each backend on its own empty database per phase.

    Phase by phase so each workload is built once and every backend gets the very same one,
    and only one of the two workloads is in memory at a time. Each workload is frozen out of
    the garbage collector while it lives: an application never holds a million records, and
    every full collection rescanning them (about 0.9 s) would land in the timed figures.
    """
    records, built = build_incidents(args.records)
    gc.freeze()
    figures = [built]
    for backend, fresh in databases.items():
        with opened(fresh()) as store:
            figures += bench_insert(backend, store, records)
            prepare_for_reads(store)
            figures += bench_bbox(backend, store, args.queries)
    del records  # so the insert workload is freed before the log's is built
    gc.unfreeze()
    rounds = plan_log(args.log_events)
    gc.freeze()
    for backend, fresh in databases.items():
        with opened(fresh()) as store:
            figures += bench_as_of(backend, store, rounds, args.asof_queries)
    return figures


def print_summary(figures: list[Figure], skipped: list[str], seconds: float) -> None:
    """Per backend, how many targets were met and which were missed, then the wall time."""
    print()
    print("Summary")
    for backend in dict.fromkeys(f.backend for f in figures if f.target is not None):
        held = [f for f in figures if f.backend == backend and f.met is not None]
        missed = [f for f in held if not f.met]
        line = f"  {backend}: {len(held) - len(missed)}/{len(held)} targets met"
        if missed:
            line += "; missed: " + ", ".join(f"{f.name} ({f.cells()[2]})" for f in missed)
        print(line)
    for backend in skipped:
        print(f"  {backend}: skipped (no PostgreSQL server with PostGIS installed)")
    print(f"  wall time {seconds:.0f} s; {machine_load()}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options; an explicit --backend postgis without PostGIS installed is an error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="incidents to insert and to query by bbox (default 1,000,000)")
    parser.add_argument("--backend", choices=("sqlite", "postgis", "both"), default="both",
                        help="which store to measure (default both)")
    parser.add_argument("--queries", type=int, default=200,
                        help="bbox and viewport queries per variant (default 200)")
    parser.add_argument("--log-events", type=int, default=1_000_000,
                        help="size of the as-of event log (default 1,000,000)")
    parser.add_argument("--asof-queries", type=int, default=20,
                        help="as-of queries per variant and T (default 20)")
    args = parser.parse_args(argv)
    for name in ("records", "queries", "log_events", "asof_queries"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.backend == "postgis" and find_bindir() is None:
        parser.error("no PostgreSQL server with PostGIS is installed")
    return args


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so a killed run still unwinds and stops its PostgreSQL.

    (SIGINT already raises KeyboardInterrupt, unless the shell started us with it ignored.)
    """
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def main(argv: Sequence[str] | None = None) -> int:
    """Run, then print the table and the summary; 0 even when targets are missed."""
    args = parse_args(argv)
    exit_on_sigterm()
    started = time.perf_counter()
    with ExitStack() as stack:
        databases, skipped = chosen_backends(args.backend, stack)
        figures = run(databases, args)
    order = ["-", *databases]
    print_table([f.cells() for f in sorted(figures, key=lambda f: order.index(f.backend))])
    print_summary(figures, skipped, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of feed ingest in normalised reports/s: GeoJSON and CAP, parse and write, per backend.

Run from the repository root:

    python bench/bench_feeds.py [--records N] [--cap M] [--backend sqlite|postgis|both]

Each workload follows the feed runner's path: bytes -> the format's parser (FORMATS, which
yields the document in parts) -> store.write_many, as FeedRunner._land and `sitroom ingest`
write a poll's records.

1. A USGS-style GeoJSON FeatureCollection of N points (default 200,000), generated from a fixed
   seed into a temporary file, ingested into an empty store in stages, one after the other:
   read, parse (the usgs parser, all parts), write_many. Each stage's rate is shown, and the
   three together.
2. The same file ingested again the same way: every report is then a duplicate.
3. 1 and 2 again on a new empty store, the way the runner and the CLI ingest
   (feeds/pipeline.py: read, then each part written while the next parts are parsed in a
   second thread): the end-to-end figure.
4. M CAP 1.2 messages (default 1,000) made from the real samples in tests/data/cap/valid, each
   with its own identifier, sent time and shifted areas: parse_cap (with XSD validation) once,
   then write_many of the alerts on each backend.

The targets (>= 20,000 reports/s on SQLite, >= 50,000 on PostGIS) are held against the
end-to-end GeoJSON ingest as the runner does it (3); the stages one after the other and
write_many alone are shown beside it, for reference, against the same number. Figures go to
stdout as a table; progress goes to stderr.
Temporary files are removed and the throwaway PostgreSQL server is stopped, also on error,
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import random
import re
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import machine_load, print_table, progress_printer, say
from dashboard.feeds import FORMATS, Parser, detect_format
from dashboard.feeds.base import FeedDefaults, Parsed, whole
from dashboard.feeds.cap import CAP12, SCHEMAS
from dashboard.feeds.pipeline import land
from dashboard.feeds.xml import schema, schema_problems
from dashboard.model import Kind, Marking, Record
from dashboard.store import Store, migrate, open_store
from tests.support.postgres import PostgresServer, find_bindir

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261125
ACTOR = "feed:bench"  # as FeedRunner._land names a feed's writes
USGS_DEFAULTS = FeedDefaults(source="usgs-bench", agency="usgs", marking=Marking.CLEAR)
CAP_DEFAULTS = FeedDefaults(source="cap-bench", agency="weather", marking=Marking.CLEAR,
                            kind=Kind.ALERT)
CAP_SAMPLES = ROOT / "tests" / "data" / "cap" / "valid"

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: event times fall in the month after
NETWORKS = ("us", "ci", "nc", "ak", "hv", "nn", "uw", "pr")
MAG_TYPES = ("ml", "md", "mb", "mww", "mwr")
EVENT_TYPES = ("earthquake",) * 18 + ("quarry blast", "explosion")
BEARINGS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW", "NNE", "ESE", "SSW", "WNW")
PLACES = ("Ridgecrest, CA", "Anchorage, Alaska", "Hilo, Hawaii", "Ponce, Puerto Rico",
          "Tokyo, Japan", "Santiago, Chile", "Reykjavik, Iceland", "Athens, Greece")
PAGER_LEVELS = ("green", "green", "green", "yellow", "orange", "red")

CAP_SENT_START = datetime(2026, 1, 1, tzinfo=UTC)
CAP_SHIFT_DEGREES = 1.0  # areas move at most this far north/south and east/west
IDENTIFIER = re.compile(rb"(<identifier>\s*)([^<\s]+)")
SENT = re.compile(rb"<sent>[^<]*</sent>")
REFERENCES = re.compile(rb"<references>([^<]*)</references>")
SHAPE = re.compile(rb"<(polygon|circle)>([^<]*)</\1>")
LAT_LON = re.compile(rb"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")

TARGETS = {"sqlite": 20_000.0, "postgis": 50_000.0}  # reports/s, end-to-end GeoJSON ingest


@dataclass(frozen=True)
class Figure:
    """One printed number, with the floor it is held to (or shown against) when there is one."""

    backend: str
    name: str
    value: float
    unit: str
    target: float | None = None
    reference: bool = False  # shown against the target but not held to it

    @property
    def met(self) -> bool | None:
        """None when there is no target, so untargeted figures are not counted as passes."""
        return None if self.target is None else self.value >= self.target

    def cells(self) -> tuple[str, str, str, str, str]:
        """The table row: counts and large values without decimals; a reference row's target
        and verdict in parentheses."""
        integral = self.value >= 100 or float(self.value).is_integer()
        value = f"{self.value:,.0f}" if integral else f"{self.value:,.2f}"
        if self.target is None:
            return self.backend, self.name, f"{value} {self.unit}", "-", ""
        target, met = f">= {self.target:,.0f} {self.unit}", "yes" if self.met else "NO"
        if self.reference:
            target, met = f"({target})", f"({met.lower()})"
        return self.backend, self.name, f"{value} {self.unit}", target, met


@dataclass(frozen=True)
class Ingest:
    """One pass of a document through the feed path in stages: their times, what was stored."""

    reports: int
    read_s: float
    parse_s: float
    write_s: float
    outcomes: Counter[str]

    @property
    def total_s(self) -> float:
        """The three stages one after the other, from bytes to stored."""
        return self.read_s + self.parse_s + self.write_s


@dataclass(frozen=True)
class Landed:
    """One pass of a document as the runner lands it: the parse overlapping the writes."""

    reports: int
    total_s: float
    outcomes: Counter[str]


def expect(condition: bool, message: str) -> None:
    """Stop the run when a workload did not do what it is meant to: its rate would mislead."""
    if not condition:
        raise RuntimeError(f"benchmark workload is wrong: {message}")


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so the cleanup in finally blocks and contexts still runs."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


# ---------------------------------------------------------------- GeoJSON workload


def usgs_feature(i: int, rng: random.Random) -> dict[str, Any]:
    """Event i, shaped as in USGS summary feeds: the id on the feature, times in ms, depth as z.

    parse_usgs takes the event id from the feature (as USGS writes it), not from properties.
    """
    event_id = f"{rng.choice(NETWORKS)}{i:08d}"
    mag = round(rng.uniform(-0.5, 7.5), 2)
    place = f"{rng.randrange(1, 150)} km {rng.choice(BEARINGS)} of {rng.choice(PLACES)}"
    when = EPOCH_MS + rng.randrange(30 * 86_400_000)
    significant = mag >= 4.5
    return {
        "type": "Feature",
        "id": event_id,
        "geometry": {"type": "Point", "coordinates": [
            round(rng.uniform(-180, 180), 4), round(rng.uniform(-85, 85), 4),
            round(rng.uniform(0, 700), 2)]},
        "properties": {
            "mag": mag, "place": place, "time": when,
            "updated": when + rng.randrange(60_000, 86_400_000), "tz": None,
            "url": f"https://earthquake.usgs.gov/earthquakes/eventpage/{event_id}",
            "detail": f"https://earthquake.usgs.gov/earthquakes/feed/v1.0/detail/{event_id}.geojson",
            "felt": rng.randrange(500) if significant else None,
            "cdi": round(rng.uniform(1, 9), 1) if significant else None,
            "mmi": round(rng.uniform(1, 9), 3) if significant else None,
            "alert": rng.choice(PAGER_LEVELS) if significant else None,
            "status": rng.choice(("automatic", "reviewed")), "tsunami": int(mag >= 6.5),
            "sig": int(max(0.0, mag) * 100), "net": event_id[:2], "code": event_id[2:],
            "ids": f",{event_id},", "sources": f",{event_id[:2]},",
            "types": ",origin,phase-data,", "nst": rng.randrange(3, 120),
            "dmin": round(rng.uniform(0, 5), 4), "rms": round(rng.uniform(0, 1.5), 2),
            "gap": rng.randrange(10, 300), "magType": rng.choice(MAG_TYPES),
            "type": rng.choice(EVENT_TYPES), "title": f"M {mag} - {place}",
        },
    }


def write_geojson(path: Path, n: int, seed: int) -> None:
    """Write the FeatureCollection feature by feature, so generating it never holds it all.

    The metadata names the USGS feed URL, so detect_format recognises it as "usgs".
    """
    rng = random.Random(seed)
    metadata = {"generated": EPOCH_MS, "status": 200, "api": "1.10.3", "count": n,
                "url": "https://earthquake.usgs.gov/earthquakes/feed/v1.0/summary/all_month.geojson",
                "title": "USGS All Earthquakes, Past Month (Sitroom benchmark)"}
    with path.open("w", encoding="utf-8") as out:
        out.write(f'{{"type":"FeatureCollection","metadata":{json.dumps(metadata)},"features":[')
        for i in range(n):
            out.write(("," if i else "") + json.dumps(usgs_feature(i, rng), separators=(",", ":")))
        out.write("]}")


def build_geojson(folder: Path, n: int) -> tuple[Path, list[Figure]]:
    """Generate the file once for every backend; time detect_format on it too.

    detect_format is what a watched folder runs on every dropped file before parsing it.
    """
    path = folder / "usgs_bench.geojson"
    say(f"generating {n:,} USGS-style features into {path.name}")
    started = time.perf_counter()
    write_geojson(path, n, SEED)
    generated = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6
    say(f"generated {size_mb:,.0f} MB in {generated:.1f} s")
    data = path.read_bytes()
    started = time.perf_counter()
    detected = detect_format(path, data)
    detecting = time.perf_counter() - started
    expect(detected == "usgs", f"detect_format says {detected!r}, not 'usgs'")
    return path, [
        Figure("-", f"generate GeoJSON ({n:,} features, {size_mb:,.0f} MB)", generated, "s"),
        Figure("-", "detect_format on the file (watched-folder path)", n / detecting, "rep/s"),
    ]


def outcomes(store: Store, records: list[Record], what: str) -> Counter[str]:
    """write_many the records and count created/updated/duplicate, as FeedRunner._land does."""
    progress = progress_printer(len(records), what, parts=5)
    results = store.write_many(records, actor=ACTOR, progress=progress)
    return Counter("duplicate" if r.duplicate else r.action.value for r in results)


def ingest(store: Store, path: Path, parse: Parser, defaults: FeedDefaults) -> Ingest:
    """The feed path for one file in stages: read its bytes, parse them all, write the records."""
    started = time.perf_counter()
    data = path.read_bytes()
    read = time.perf_counter()
    parsed = whole(parse(data, defaults))
    parsed_at = time.perf_counter()
    del data  # the runner is done with the document once it is parsed
    expect(not parsed.refused, f"{len(parsed.refused)} items refused, first: "
                               f"{parsed.refused[:1]}")
    counts = outcomes(store, parsed.records, "written")
    written = time.perf_counter()
    return Ingest(len(parsed.records), read - started, parsed_at - read, written - parsed_at,
                  counts)


def ingest_landed(store: Store, path: Path, parse: Parser, defaults: FeedDefaults, n: int
                  ) -> Landed:
    """The feed path for one file as FeedRunner._land and `sitroom ingest` run it."""
    progress = progress_printer(n, "written (parse overlapping)", parts=5)
    started = time.perf_counter()
    data = path.read_bytes()
    landed = land(parse(data, defaults),
                  lambda records: store.write_many(records, actor=ACTOR, progress=progress))
    total = time.perf_counter() - started
    expect(not landed.parsed.refused, f"{len(landed.parsed.refused)} items refused, first: "
                                      f"{landed.parsed.refused[:1]}")
    counts = Counter("duplicate" if r.duplicate else r.action.value for r in landed.written)
    return Landed(landed.records, total, counts)


def ingest_figures(backend: str, label: str, run: Ingest, landed: Landed, hold: bool
                   ) -> list[Figure]:
    """Stage rates, the stages one after the other, and the end-to-end rate as the runner
    lands the file; with hold, that last one meets the target (the others are references).
    """
    target = TARGETS[backend] if hold else None
    n = run.reports
    return [
        Figure(backend, f"{label}: read bytes", n / run.read_s, "rep/s"),
        Figure(backend, f"{label}: parse (usgs, all parts)", n / run.parse_s, "rep/s"),
        Figure(backend, f"{label}: write_many only", n / run.write_s, "rep/s", target,
               reference=True),
        Figure(backend, f"{label}: read, parse, write one after another", n / run.total_s,
               "rep/s", target, reference=True),
        Figure(backend, f"{label}: END-TO-END as landed (parse overlaps write)",
               landed.reports / landed.total_s, "rep/s", target),
    ]


def prepare_for_next_poll(store: Store) -> None:
    """Refresh PostgreSQL's planner statistics, as autovacuum would before a feed's next poll.

    Without it the dedup lookups of the re-ingest depend on whether autovacuum has run yet.
    """
    if store.backend.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def bench_geojson(backend: str, fresh: Callable[[], str], path: Path, n: int) -> list[Figure]:
    """Ingest the file into an empty store in stages, then again (every report a duplicate);
    then the same twice more on a new empty store, as the runner lands a document.
    """
    with opened(fresh()) as store:
        say(f"{backend}: ingesting {path.name} in stages")
        first = ingest(store, path, FORMATS["usgs"], USGS_DEFAULTS)
        expect_outcome(first.outcomes, "created", n, "first ingest")
        say(f"{backend}: ingested in {first.total_s:.1f} s; ingesting it again")
        prepare_for_next_poll(store)
        again = ingest(store, path, FORMATS["usgs"], USGS_DEFAULTS)
        expect_outcome(again.outcomes, "duplicate", n, "re-ingest")
        say(f"{backend}: re-ingested in {again.total_s:.1f} s")
    with opened(fresh()) as store:
        say(f"{backend}: ingesting {path.name} as the runner lands it, into a new store")
        landed = ingest_landed(store, path, FORMATS["usgs"], USGS_DEFAULTS, n)
        expect_outcome(landed.outcomes, "created", n, "first landing")
        say(f"{backend}: landed in {landed.total_s:.1f} s; landing it again")
        prepare_for_next_poll(store)
        relanded = ingest_landed(store, path, FORMATS["usgs"], USGS_DEFAULTS, n)
        expect_outcome(relanded.outcomes, "duplicate", n, "second landing")
        say(f"{backend}: landed again in {relanded.total_s:.1f} s")
    return (ingest_figures(backend, f"geojson ingest ({n:,})", first, landed, hold=True)
            + ingest_figures(backend, "geojson re-ingest, all duplicates", again, relanded,
                             hold=False))


def expect_outcome(outcomes: Counter[str], what: str, n: int, run: str) -> None:
    expect(outcomes[what] == n, f"{run}: {dict(outcomes)}, expected {n:,} {what}")


# ---------------------------------------------------------------- CAP workload


def cap_templates() -> list[bytes]:
    """The real CAP samples, in name order, as bytes (one of them is ISO-8859-1)."""
    return [path.read_bytes() for path in sorted(CAP_SAMPLES.glob("*.xml"))]


def shifted(shape: re.Match[bytes], dlat: float, dlon: float) -> bytes:
    """A <polygon> or <circle> with every 'lat,lon' moved by (dlat, dlon); a radius is kept.

    Moving every point of a message by the same offset keeps polygons closed and valid.
    """
    def move(pair: re.Match[bytes]) -> bytes:
        return f"{float(pair[1]) + dlat:.4f},{float(pair[2]) + dlon:.4f}".encode()

    name, text = shape[1], shape[2]
    return b"<%s>%s</%s>" % (name, LAT_LON.sub(move, text), name)


def vary_cap(template: bytes, n: int, rng: random.Random) -> bytes:
    """Message n from a sample: its own identifier and sent time, its areas moved.

    References get the same suffix as identifiers, so each Update follows its own original and
    every message becomes a distinct alert (none replaces another).
    """
    suffix = b"-bench%05d" % n
    sent = (CAP_SENT_START + timedelta(minutes=n)).isoformat().encode()
    dlat, dlon = (rng.uniform(-CAP_SHIFT_DEGREES, CAP_SHIFT_DEGREES) for _ in range(2))
    message = IDENTIFIER.sub(lambda m: m[1] + m[2] + suffix, template, count=1)
    message = SENT.sub(b"<sent>%s</sent>" % sent, message, count=1)
    message = REFERENCES.sub(lambda m: b"<references>%s</references>" % b" ".join(
        _suffixed_reference(triple, suffix) for triple in m[1].split()), message)
    return SHAPE.sub(lambda m: shifted(m, dlat, dlon), message)


def _suffixed_reference(triple: bytes, suffix: bytes) -> bytes:
    """A 'sender,identifier,sent' triple naming the suffixed message of the same sample."""
    sender, identifier, sent = triple.split(b",")
    return b"%s,%s%s,%s" % (sender, identifier, suffix, sent)


def build_cap(count: int) -> list[bytes]:
    """count distinct messages, cycling through the samples; the same on every run."""
    templates = cap_templates()
    rng = random.Random(SEED + 1)
    return [vary_cap(templates[n % len(templates)], n, rng) for n in range(count)]


def bench_cap_parse(messages: list[bytes]) -> tuple[list[Record], float, list[Figure]]:
    """parse_cap over every message (XSD validation included), then the XSD check alone.

    Returns the alerts, the parse time and the figures. The schema is loaded before timing:
    the runner loads it once per process.
    """
    schema(SCHEMAS[CAP12])
    n = len(messages)
    say(f"parsing {n:,} CAP messages")
    parse = FORMATS["cap"]
    parsed = Parsed()
    started = time.perf_counter()
    for message in messages:
        parsed.extend(whole(parse(message, CAP_DEFAULTS)))
    parsing = time.perf_counter() - started
    expect(len(parsed.records) == n and not parsed.refused,
           f"{len(parsed.records)} alerts, {len(parsed.refused)} refused: {parsed.refused[:1]}")
    started = time.perf_counter()
    for message in messages:
        schema_problems(message, SCHEMAS[CAP12])
    validating = time.perf_counter() - started
    return parsed.records, parsing, [
        Figure("-", f"cap parse_cap incl. XSD ({n:,} messages)", n / parsing, "rep/s"),
        Figure("-", "cap   of which XSD validation alone", n / validating, "rep/s"),
        Figure("-", "cap   XSD share of parse time", 100 * validating / parsing, "%"),
        Figure("-", "cap schema warnings (expected 0)", len(parsed.warnings), "warnings"),
    ]


def bench_cap_write(backend: str, store: Store, alerts: list[Record], parsing_s: float
                    ) -> list[Figure]:
    """write_many of the parsed alerts into an empty store; end-to-end adds the parse time."""
    n = len(alerts)
    say(f"{backend}: writing {n:,} CAP alerts")
    started = time.perf_counter()
    counts = outcomes(store, alerts, "alerts written")
    writing = time.perf_counter() - started
    expect(counts["created"] == n, f"CAP write: {dict(counts)}, expected {n:,} created")
    return [
        Figure(backend, f"cap write_many ({n:,} alerts)", n / writing, "rep/s"),
        Figure(backend, "cap parse+write (parse timed once, above)", n / (parsing_s + writing),
               "rep/s"),
    ]


# ---------------------------------------------------------------- databases and the run


def sqlite_databases(folder: Path) -> Callable[[], str]:
    """A maker of URLs of new SQLite files in folder (a temporary directory removed later)."""
    made = 0

    def fresh() -> str:
        nonlocal made
        made += 1
        return f"sqlite:///{folder}/store-{made}.db"

    return fresh


@contextmanager
def postgis_databases(bindir: Path) -> Iterator[Callable[[], str]]:
    """Hand out URLs of empty PostGIS databases on a throwaway server, stopped afterwards.

    Started and stopped here rather than with PostgresServer's `with`, whose __exit__ does not
    run when start() fails part way, which would leave a server running. Each call drops the
    previous database, so stores from earlier calls must be closed first.
    """
    server = PostgresServer(bindir)
    try:
        say("postgis: starting a throwaway server")
        server.start()

        def fresh() -> str:
            server.reset()
            return server.url

        yield fresh
    finally:
        server.stop()


@contextmanager
def opened(url: str) -> Iterator[Store]:
    """A migrated store on url, closed on the way out."""
    store = open_store(url)
    try:
        migrate.upgrade(store.engine)
        yield store
    finally:
        store.close()


def chosen_backends(choice: str, folder: Path, stack: ExitStack
                    ) -> tuple[dict[str, Callable[[], str]], list[str]]:
    """Database factories of the chosen backends (entered on stack), and those skipped.

    PostGIS is skipped, not failed, under `both` when no server is installed.
    """
    databases: dict[str, Callable[[], str]] = {}
    skipped = []
    if choice in ("sqlite", "both"):
        databases["sqlite"] = sqlite_databases(folder)
    if choice in ("postgis", "both"):
        bindir = find_bindir()
        if bindir is None:
            skipped.append("postgis")
        else:
            databases["postgis"] = stack.enter_context(postgis_databases(bindir))
    return databases, skipped


def run(databases: dict[str, Callable[[], str]], folder: Path, args: argparse.Namespace
        ) -> list[Figure]:
    """Every measurement, each backend on its own empty database per workload.

    Each workload is built once and every backend gets the very same one.
    """
    path, figures = build_geojson(folder, args.records)
    for backend, fresh in databases.items():
        figures += bench_geojson(backend, fresh, path, args.records)
    messages = build_cap(args.cap)
    alerts, parsing_s, cap_figures = bench_cap_parse(messages)
    figures += cap_figures
    for backend, fresh in databases.items():
        with opened(fresh()) as store:
            figures += bench_cap_write(backend, store, alerts, parsing_s)
    return figures


# ---------------------------------------------------------------- report


def print_summary(figures: list[Figure], skipped: list[str], seconds: float) -> None:
    """Per backend, the held targets met or missed, then the write-only reference, wall time."""
    print()
    print("Summary (targets: end-to-end GeoJSON ingest into an empty store as the runner lands "
          "it = read bytes, then the usgs parse overlapping write_many)")
    for backend in dict.fromkeys(f.backend for f in figures if f.target is not None):
        ours = [f for f in figures if f.backend == backend and f.target is not None]
        for figure in ours:
            kind = "reference only" if figure.reference else "TARGET"
            print(f"  {backend}: {kind:14} {figure.name}: {figure.cells()[2]} "
                  f"{'meets' if figure.met else 'misses'} >= {figure.target:,.0f}")
    for backend in skipped:
        print(f"  {backend}: skipped (no PostgreSQL server with PostGIS installed)")
    print(f"  wall time {seconds:.0f} s; {machine_load()}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options; an explicit --backend postgis without PostGIS installed is an error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000,
                        help="features in the GeoJSON file (default 200,000)")
    parser.add_argument("--cap", type=int, default=1_000,
                        help="CAP messages to parse and write (default 1,000)")
    parser.add_argument("--backend", choices=("sqlite", "postgis", "both"), default="both")
    args = parser.parse_args(argv)
    for name in ("records", "cap"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.backend == "postgis" and find_bindir() is None:
        parser.error("no PostgreSQL server with PostGIS is installed")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run, then print the table and the summary; 0 even when targets are missed."""
    args = parse_args(argv)
    stop_on_sigterm()
    started = time.perf_counter()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sitroom-feeds-")))
        databases, skipped = chosen_backends(args.backend, folder, stack)
        figures = run(databases, folder, args)
    order = ["-", *databases]
    print_table([f.cells() for f in sorted(figures, key=lambda f: order.index(f.backend))])
    print_summary(figures, skipped, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the live hub: commit-to-screen latency and sustained event rate, against a baseline.

Run from the repository root:

    python bench/bench_live.py [--clients 50,200,500] [--rates 250,500,1000,2000,4000]
                               [--rate-clients 500] [--seconds 10] [--warmup 3]
                               [--only sitroom|baseline] [--refine 1] [--load-procs 2]
                               [--settle 5] [--tick 0.025] [--parse-each]
                               [--source-step 0.010] [--single-record]

Sitroom is the real `sitroom serve` (gevent) on a SQLite file, woken by a throwaway redis-server;
its events come from another process (bench/live/writer.py) writing Incidents into the same
store, as a feed worker would: every --source-step (10 ms) it commits, in one write_many, every
event due by then (at 2,000 events/s, 20 records a transaction; at 100 events/s, one), and
publishes one wake-up on Redis. With --single-record it commits each record in a transaction of
its own (Store.write), the costliest way to land events. The baseline (bench/live/
baseline_server.py) is Flask-SocketIO in the same async mode with the same coalescing but no
store and no filtering; its generator adds what is due on the same step, deltas shaped and sized
as Sitroom's. The screens are real socket.io-client connections in Node (bench/live/load.js),
all cleared to see every event; each delta's latency is its arrival time minus its ts (epoch
ms): Sitroom's is the event's time in the store, taken as its transaction starts (so the write
itself is counted), the baseline's its generation time. The screens of one Node process share
the JSON decode of identical messages unless --parse-each.

Everything shares this machine's cores, so the CPU seconds of the server, the writer, the load
generator, Redis and everything else are printed for each point; a point run while other work
took the cores is measured once more. Figures go to stdout as tables, each beside its target;
a last table gives each role's CPU per event and what each screen received (messages, characters
per delta), to compare the systems event for event. Progress goes to stderr. Every process
started is stopped, also on error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from concurrent.futures import Future, ThreadPoolExecutor  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any, Protocol  # noqa: E402

import httpx  # noqa: E402

from dashboard.settings import Settings  # noqa: E402
from dashboard.store import Store, open_store  # noqa: E402
from tests.support.live import ServeProcess  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

LIVE = ROOT / "bench" / "live"
AUTH = {"agency": "police", "clearance": "TLP:RED"}  # sees every event the sources make
TICK = Settings.model_fields["live_tick"].default  # Sitroom's default, given to both servers
LATENCY_RATE = 100.0  # events/s for figure (1)
SOURCE_STEP = 0.010  # seconds between a source's commits (writer) or additions (baseline)
LEAD_MS = 500  # from sending the plan to the first event: every process is waiting by then
CHECK_AFTER_MS = 1000  # a screen must hold every event of the window this long after it
SOURCE_SHORT = 0.97  # a source that made less than this share of its events fell behind
TREND_LIMIT_MS = 20.0  # mean latency may rise this much from the first to the last third
BUSY_NEIGHBOUR = 0.15  # share of a core used by other processes that makes a point suspect
CLK_TCK = os.sysconf("SC_CLK_TCK")

LATENCY_TARGET_CLIENTS = 500  # the screens every target is set for
LATENCY_TARGET_MS = 50.0  # Sitroom p99 at 100 events/s
SUSTAINED_P99_MS = 100.0  # what a sustained rate must keep p99 under
RATE_TARGET = 1000.0  # events/s Sitroom sustains
BASELINE_SHARE = 0.90  # Sitroom's sustained rate over the baseline's


def say(message: str) -> None:
    """Progress on stderr, so stdout holds only the results."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def now_ms() -> int:
    return int(time.time() * 1000)


def sleep_until(epoch_ms: float) -> None:
    time.sleep(max(0.0, epoch_ms / 1000 - time.time()))


# ------------------------------------------------------------------ processes

class Processes:
    """Every child the bench starts, so that all of them are stopped however the run ends."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen] = []

    def start(self, args: Sequence[str], **options: Any) -> subprocess.Popen:
        return self.adopt(subprocess.Popen(args, **options))

    def adopt(self, process: subprocess.Popen) -> subprocess.Popen:
        """Take charge of a child started elsewhere (tests.support.live.ServeProcess)."""
        self._children.append(process)
        return process

    def stop(self, process: subprocess.Popen, grace: float = 5.0) -> None:
        """Terminate, then kill if it does not go within grace seconds."""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream:
                stream.close()
        if process in self._children:
            self._children.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self._children)):
            self.stop(process)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far, from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (not idle, not waiting), /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def read_json_line(process: subprocess.Popen, timeout: float, what: str) -> dict[str, Any]:
    """The next JSON line a child prints, or an error naming it if it dies or stays silent."""
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"{what} said nothing for {timeout:.0f} s") from None
    if not line:
        raise RuntimeError(f"{what} exited with {process.wait()}")
    return json.loads(line)


def send_json_line(process: subprocess.Popen, message: dict[str, Any]) -> None:
    process.stdin.write(json.dumps(message).encode() + b"\n")
    process.stdin.flush()


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


# ------------------------------------------------------------------ one measured point

@dataclass(frozen=True)
class Plan:
    """The timeline of one point, in epoch ms, shared by the source and the screens."""

    rate: float
    start_ms: int  # first event
    window: tuple[int, int]  # events with ts in here are measured; the source stops at its end
    check_at: int  # screens' cursors are read here
    step: float = SOURCE_STEP  # seconds: a source makes (or commits) what is due this often
    single_record: bool = False  # Sitroom's writer: one transaction per record

    @classmethod
    def starting_soon(cls, rate: float, args: argparse.Namespace) -> Plan:
        start = now_ms() + LEAD_MS
        window = (start + int(args.warmup * 1000), start + int((args.warmup + args.seconds) * 1000))
        return cls(rate, start, window, window[1] + CHECK_AFTER_MS, args.source_step,
                   args.single_record)

    def source_message(self) -> dict[str, Any]:
        return {"rate": self.rate, "start_ms": self.start_ms, "end_ms": self.window[1],
                "window": list(self.window), "step": self.step,
                "single_record": self.single_record}

    def load_message(self) -> dict[str, Any]:
        return {"window": list(self.window), "check_at": self.check_at}


@dataclass(frozen=True)
class SourceResult:
    """What the event source made within the window, where it ended, and how late it ran."""

    window_events: int
    last_seq: int
    behind_ms: float
    longest_write_ms: float | None = None  # the writer's slowest write_many (Sitroom only)
    store_us: float | None = None  # the writer's CPU inside the store per event (Sitroom only)


@dataclass
class LoadResult:
    """What every screen saw, merged over the load processes."""

    hist: Counter[int] = field(default_factory=Counter)  # latency ms -> deltas
    seconds: list[list[float]] = field(default_factory=list)  # [sum ms, count] per window second
    cursors: list[int] = field(default_factory=list)  # at the check
    gaps: int = 0
    disconnects: int = 0
    messages: int = 0  # batch messages all screens received while the window lasted
    chars: int = 0  # and the text they came in

    def merge(self, report: dict[str, Any]) -> None:
        self.hist.update({int(ms): n for ms, n in report["hist"].items()})
        for i, (total, count) in enumerate(report["seconds"]):
            if i == len(self.seconds):
                self.seconds.append([0.0, 0])
            self.seconds[i][0] += total
            self.seconds[i][1] += count
        self.cursors += report["cursors"]
        self.gaps += report["gaps"]
        self.disconnects += report["disconnects"]
        self.messages += report["messages"]
        self.chars += report["chars"]

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in ms (1 ms resolution)."""
        total = sum(self.hist.values())
        if not total:
            return math.nan
        rank = max(1, math.ceil(p / 100 * total))
        seen = 0
        for ms in sorted(self.hist):
            seen += self.hist[ms]
            if seen >= rank:
                return float(ms)
        return math.nan

    def trend_ms(self) -> float:
        """Mean latency of the window's last third minus its first: > 0 means a growing queue."""
        means = [total / count for total, count in self.seconds if count]
        if len(means) < 3:
            return 0.0
        third = len(means) // 3
        return sum(means[-third:]) / third - sum(means[:third]) / third


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used during the measured window, per role (None where there is none).

    `rest` is everything else the machine did meanwhile (this script included): a busy
    neighbour there means the point's figures are not to be trusted.
    """

    server: float
    writer: float | None
    load: float
    redis: float | None
    rest: float


@dataclass
class Point:
    """One measured point and whether it was sustained."""

    system: str
    clients: int
    rate: float
    seconds: float
    source: SourceResult
    load: LoadResult
    cpu: Cpu
    lagged: int | None  # screens the hub took out of their room (Sitroom only)

    @property
    def received(self) -> float:
        """Deltas measured over those expected (every screen, every event of the window)."""
        expected = self.source.window_events * self.clients
        return self.deltas / expected if expected else 0.0

    @property
    def deltas(self) -> int:
        return sum(self.load.hist.values())

    def cpu_us_per_event(self, seconds: float | None) -> float | None:
        """CPU microseconds a role spent per event made in the window (None: no such role)."""
        if seconds is None or not self.source.window_events:
            return None
        return seconds / self.source.window_events * 1e6

    @property
    def complete(self) -> int:
        """Screens holding every event of the window CHECK_AFTER_MS after it ended."""
        return sum(c >= self.source.last_seq for c in self.load.cursors)

    def problems(self) -> list[str]:
        """Why this point does not count as sustained (empty when it does)."""
        found = []
        if self.source.window_events < SOURCE_SHORT * self.rate * self.seconds:
            found.append(f"source made {self.source.window_events / self.seconds:,.0f}/s")
        if self.complete < self.clients:
            found.append(f"{self.clients - self.complete} screens behind")
        if self.load.gaps or self.load.disconnects:
            found.append(f"{self.load.gaps} gaps, {self.load.disconnects} disconnects")
        if self.load.trend_ms() > TREND_LIMIT_MS:
            found.append(f"latency rising {self.load.trend_ms():.0f} ms")
        if not self.load.percentile(99) < SUSTAINED_P99_MS:
            found.append(f"p99 {self.load.percentile(99):.0f} ms")
        return found


class EventSource(Protocol):
    """Makes the events of one point: ready when made, begun with a plan, then asked for its
    result (which blocks until the plan's window has ended); close() is safe at any time."""

    pids: list[int]  # its own processes, if any, for the CPU figures

    def begin(self, plan: Plan) -> None: ...

    def result(self) -> SourceResult: ...

    def close(self) -> None: ...


class System(Protocol):
    """A server under test: where it listens, how far its log is, and how to feed it."""

    name: str
    url: str
    server_pid: int
    redis_pid: int | None

    def last_seq(self) -> int: ...

    def clients(self) -> int: ...

    def lagged(self) -> int | None: ...

    def source(self) -> EventSource: ...


# ------------------------------------------------------------------ Sitroom

class WriterSource:
    """bench/live/writer.py: a second process writing into Sitroom's store."""

    def __init__(self, processes: Processes, database_url: str, redis_url: str) -> None:
        self.processes = processes
        self.process = processes.start(
            [sys.executable, str(LIVE / "writer.py"), database_url, redis_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.pids = [self.process.pid]
        read_json_line(self.process, 60, "writer")

    def begin(self, plan: Plan) -> None:
        send_json_line(self.process, plan.source_message())

    def result(self) -> SourceResult:
        report = read_json_line(self.process, 60, "writer")
        return SourceResult(report["window_events"], report["last_seq"], report["behind_ms"],
                            report["write_ms_max"], report["store_us_per_event"])

    def close(self) -> None:
        self.processes.stop(self.process)


class Sitroom:
    """`sitroom serve` on a SQLite file in workdir, with a redis-server to wake its hub."""

    name = "sitroom"

    def __init__(self, processes: Processes, workdir: Path, tick: float) -> None:
        self.processes = processes
        redis_port = free_port()
        self.redis = processes.start(
            [shutil.which("redis-server") or "redis-server", "--port", str(redis_port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(redis_port)
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.redis_pid = self.redis.pid
        self.database_url = f"sqlite:///{workdir / 'sitroom.db'}"
        self.serve = ServeProcess(workdir, {"SITROOM_MESSAGE_QUEUE": self.redis_url,
                                            "SITROOM_DATABASE_URL": self.database_url,
                                            "SITROOM_LIVE_TICK": str(tick)})
        processes.adopt(self.serve.process)
        self.url = self.serve.url
        self.server_pid = self.serve.process.pid
        self.serve.wait_ready(timeout=60)
        self.store: Store = open_store(self.database_url)  # migrated by serve on start

    def close(self) -> None:
        self.store.close()
        self.processes.stop(self.serve.process, grace=10)
        self.serve.log.close()
        self.processes.stop(self.redis)

    def last_seq(self) -> int:
        return self.store.last_seq()

    def _metric(self, name: str) -> float:
        text = httpx.get(self.url + "/metrics", timeout=5).text
        match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    def clients(self) -> int:
        return int(self._metric("sitroom_live_clients"))

    def lagged(self) -> int | None:
        return int(self._metric("sitroom_live_lagged_total"))

    def source(self) -> EventSource:
        """A writer process, started and waiting (its imports take a second or two)."""
        return WriterSource(self.processes, self.database_url, self.redis_url)


# ------------------------------------------------------------------ the baseline

class GeneratorSource:
    """The baseline's own generator greenlet, run through its /load endpoint."""

    def __init__(self, executor: ThreadPoolExecutor, url: str) -> None:
        self.pids: list[int] = []  # it runs inside the server: its CPU is the server's
        self.executor = executor
        self.url = url
        self._answer: Future | None = None

    def begin(self, plan: Plan) -> None:
        timeout = (plan.window[1] - now_ms()) / 1000 + 30
        self._answer = self.executor.submit(
            lambda: httpx.post(self.url + "/load", json=plan.source_message(), timeout=timeout))

    def result(self) -> SourceResult:
        response = self._answer.result()
        response.raise_for_status()
        report = response.json()
        return SourceResult(report["window_events"], report["last_seq"], report["behind_ms"])

    def close(self) -> None:
        """Nothing to stop: the generator ends with its plan's window."""


class Baseline:
    """bench/live/baseline_server.py: Flask-SocketIO under gevent, coalescing, no store."""

    name = "baseline"
    redis_pid = None

    def __init__(self, processes: Processes, workdir: Path, tick: float) -> None:
        self.processes = processes
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(workdir / "baseline.log", "w")  # noqa: SIM115 (closed in close())
        self.process = processes.start(
            [sys.executable, str(LIVE / "baseline_server.py"), "--port", str(port),
             "--tick", str(tick)], stdout=self.log, stderr=subprocess.STDOUT)
        self.server_pid = self.process.pid
        self.executor = ThreadPoolExecutor(max_workers=1)
        wait_healthy(self.url, self.process)

    def close(self) -> None:
        self.processes.stop(self.process)
        self.executor.shutdown(cancel_futures=True)
        self.log.close()

    def _stats(self) -> dict[str, int]:
        return httpx.get(self.url + "/stats", timeout=5).json()

    def last_seq(self) -> int:
        return self._stats()["seq"]

    def clients(self) -> int:
        return self._stats()["clients"]

    def lagged(self) -> int | None:
        return None

    def source(self) -> EventSource:
        return GeneratorSource(self.executor, self.url)


# ------------------------------------------------------------------ the screens

def ensure_node_modules() -> None:
    """Install load.js's packages the first time (bench/live/node_modules)."""
    if all((LIVE / "node_modules" / name).is_dir()
           for name in ("socket.io-client", "socket.io-parser")):
        return
    say("installing socket.io-client into bench/live/node_modules")
    subprocess.run(["npm", "install", "--prefix", str(LIVE), "--no-audit", "--no-fund"],
                   check=True, timeout=300, stdout=sys.stderr)


def start_screens(processes: Processes, url: str, clients: int, cursor: int,
                  args: argparse.Namespace) -> list[subprocess.Popen]:
    """Node processes holding `clients` connected screens between them, all at `cursor`."""
    procs = args.load_procs
    shares = [clients // procs + (i < clients % procs) for i in range(procs)]
    started = []
    for share in (s for s in shares if s):
        config = {"url": url, "clients": share, "shareDecode": not args.parse_each,
                  "auth": {**AUTH, "cursor": cursor}}
        started.append(processes.start(["node", str(LIVE / "load.js"), json.dumps(config)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    for process in started:
        read_json_line(process, 60, "load.js (connecting)")
    return started


def wait_idle(system: System, timeout: float = 15.0) -> None:
    """Let the previous point's screens leave, so each point starts from an empty room."""
    deadline = time.monotonic() + timeout
    while system.clients() and time.monotonic() < deadline:
        time.sleep(0.2)


def settle(limit: float) -> None:
    """Wait, at most `limit` seconds, until the machine is nearly idle before a point.

    On a shared machine another job's burst would otherwise land in the figures; when it does
    not calm down in time the point runs anyway and its `cpu rest` column shows the intrusion.
    """
    deadline = time.monotonic() + limit
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy < BUSY_NEIGHBOUR:
            return
        if time.monotonic() >= deadline:
            say(f"  the machine is busy with other work ({busy:.0%} of a core): measuring anyway")
            return


def cpu_of(system: System, source: EventSource, screens: list[subprocess.Popen]
           ) -> dict[str, float | None]:
    """CPU seconds so far of every role of a point, and of the whole machine."""
    return {
        "server": cpu_seconds(system.server_pid),
        "writer": sum(cpu_seconds(p) for p in source.pids) if source.pids else None,
        "load": sum(cpu_seconds(p.pid) for p in screens),
        "redis": cpu_seconds(system.redis_pid) if system.redis_pid else None,
        "machine": machine_busy_seconds(),
    }


def cpu_between(before: dict[str, float | None], after: dict[str, float | None]) -> Cpu:
    spent = {k: None if before[k] is None else after[k] - before[k] for k in before}
    machine = spent.pop("machine")
    return Cpu(**spent, rest=max(0.0, machine - sum(v for v in spent.values() if v)))


def measure(processes: Processes, system: System, clients: int, rate: float,
            args: argparse.Namespace) -> Point:
    """One point: connect the screens, run the source, measure the window, tear down."""
    # The log's length so far: Sitroom's writes cost more as it grows (see the store's dedup).
    say(f"{system.name}: {clients} screens, {rate:,.0f} events/s, log at {system.last_seq():,}")
    wait_idle(system)
    settle(args.settle)
    lagged_before = system.lagged()
    source = system.source()
    screens: list[subprocess.Popen] = []
    try:
        screens = start_screens(processes, system.url, clients, system.last_seq(), args)
        plan = Plan.starting_soon(rate, args)
        for process in screens:
            send_json_line(process, plan.load_message())
        source.begin(plan)
        sleep_until(plan.window[0])
        cpu_before = cpu_of(system, source, screens)
        sleep_until(plan.window[1])
        cpu = cpu_between(cpu_before, cpu_of(system, source, screens))
        result = source.result()
        load = LoadResult()
        for process in screens:
            load.merge(read_json_line(process, 60, "load.js (report)"))
    finally:
        source.close()
        for process in screens:
            processes.stop(process)
    lagged = system.lagged()
    point = Point(system.name, clients, rate, args.seconds, result, load, cpu,
                  None if lagged is None else lagged - lagged_before)
    writes = ("" if result.longest_write_ms is None
              else f", slowest write {result.longest_write_ms:.0f} ms")
    say(f"  p50 {load.percentile(50):.0f} ms, p99 {load.percentile(99):.0f} ms, "
        f"{point.complete}/{clients} complete, server CPU {cpu.server:.1f} s, source "
        f"{result.behind_ms:.0f} ms behind at worst{writes}"
        + (f"; not sustained: {', '.join(point.problems())}" if point.problems() else ""))
    return point


def measure_quietly(processes: Processes, system: System, clients: int, rate: float,
                    args: argparse.Namespace) -> Point:
    """measure(), once more if other work took the cores meanwhile; the quieter run counts."""
    point = measure(processes, system, clients, rate, args)
    if point.cpu.rest <= BUSY_NEIGHBOUR * point.seconds:
        return point
    say(f"  other processes used {point.cpu.rest / point.seconds:.0%} of a core: once more")
    again = measure(processes, system, clients, rate, args)
    return min(point, again, key=lambda p: p.cpu.rest)


@dataclass
class Ladder:
    """One system's search for its highest sustained rate."""

    system: System
    passed: float = 0.0  # highest rate sustained so far
    failed: float | None = None  # lowest rate not sustained so far

    def record(self, point: Point) -> None:
        if point.problems():
            self.failed = point.rate if self.failed is None else min(self.failed, point.rate)
        else:
            self.passed = max(self.passed, point.rate)

    def between(self) -> float | None:
        """The next rate to try between passed and failed (geometric middle), if any is left."""
        if not self.passed or self.failed is None:
            return None
        rate = round(math.sqrt(self.passed * self.failed) / 50) * 50
        return None if rate in (self.passed, self.failed) else rate


def find_sustained(processes: Processes, systems: list[System], args: argparse.Namespace
                   ) -> list[Point]:
    """Step the rate up until a point is not sustained, then try `refine` rates in between.

    The systems take turns at each rate, so a drift in the machine's other load hits both.
    """
    ladders = [Ladder(system) for system in systems]
    points: list[Point] = []
    for rate in args.rates:
        for ladder in (ladder for ladder in ladders if ladder.failed is None):
            points.append(measure_quietly(processes, ladder.system, args.rate_clients, rate,
                                          args))
            ladder.record(points[-1])
    for _ in range(args.refine):
        for ladder in ladders:
            rate = ladder.between()
            if rate is not None:
                points.append(measure_quietly(processes, ladder.system, args.rate_clients,
                                              rate, args))
                ladder.record(points[-1])
    return points


def highest_sustained(points: list[Point], system: str) -> float:
    return max((p.rate for p in points if p.system == system and not p.problems()), default=0.0)


# ------------------------------------------------------------------ the report

def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def cpu_cells(point: Point) -> list[str]:
    """CPU seconds per role, and the window's share of one core in brackets."""
    cells = []
    cpu = point.cpu
    for value in (cpu.server, cpu.writer, cpu.load, cpu.redis, cpu.rest):
        cells.append("-" if value is None else f"{value:.1f} ({value / point.seconds:.0%})")
    return cells


def print_table(title: str, header: Sequence[str], rows: list[list[str]]) -> None:
    print()
    print(title)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(f"{h:>{w}}" for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(f"{c:>{w}}" for c, w in zip(row, widths)))


CPU_HEADER = ["cpu server", "cpu writer", "cpu load", "cpu redis", "cpu rest"]


def print_latency(points: list[Point]) -> None:
    rows = []
    for p in points:
        target, met = "-", ""
        if p.system == "sitroom" and p.clients == LATENCY_TARGET_CLIENTS:
            target = f"p99 < {LATENCY_TARGET_MS:.0f}"
            met = "yes" if p.load.percentile(99) < LATENCY_TARGET_MS else "NO"
        rows.append([p.system, str(p.clients), fmt(p.rate), fmt(p.load.percentile(50)),
                     fmt(p.load.percentile(99)), fmt(p.load.percentile(100)),
                     f"{p.received:.1%}", f"{p.complete}/{p.clients}", fmt(p.lagged),
                     *cpu_cells(p), target, met])
    print_table(f"(1) Commit-to-screen latency at {LATENCY_RATE:.0f} events/s (ms; CPU seconds "
                "over the window, share of one core)",
                ["system", "screens", "ev/s", "p50", "p99", "max", "received", "complete",
                 "lagged", *CPU_HEADER, "target", "met"], rows)


def print_rates(points: list[Point]) -> None:
    rows = []
    for p in points:
        made = p.source.window_events / p.seconds
        rows.append([p.system, str(p.clients), fmt(p.rate), fmt(made), fmt(p.load.percentile(50)),
                     fmt(p.load.percentile(99)), fmt(p.load.trend_ms(), 1),
                     f"{p.complete}/{p.clients}", fmt(p.lagged), *cpu_cells(p),
                     "yes" if not p.problems() else "no: " + "; ".join(p.problems())])
    print_table("(2) Sustained event rate: stepped until a point is not sustained (ms; CPU "
                "seconds over the window)",
                ["system", "screens", "ev/s", "made/s", "p50", "p99", "trend", "complete",
                 "lagged", *CPU_HEADER, "sustained"], rows)


def print_costs(points: list[Point]) -> None:
    """What each event cost each role, and what each screen was sent: where the systems differ.

    CPU per event made is comparable between the systems at the same rate; "in store" is the
    part of the writer's spent inside Store.write/write_many (over all its events, warm-up
    included). Messages per screen and characters per delta received show whether one sends
    more or larger frames.
    """
    rows = []
    for p in points:
        cpu = p.cpu
        roles = [p.cpu_us_per_event(v) for v in (cpu.server, cpu.writer, cpu.load, cpu.redis)]
        total = sum(v for v in roles if v is not None)
        screen_seconds = p.clients * p.seconds
        rows.append([p.system, str(p.clients), fmt(p.rate), *(fmt(v) for v in roles),
                     fmt(p.source.store_us), fmt(total), fmt(p.load.messages / screen_seconds, 1),
                     fmt(p.load.chars / p.deltas if p.deltas else math.nan)])
    print_table("(3) Cost per event at each point (CPU microseconds per event made, by "
                "role; frames each screen received)",
                ["system", "screens", "ev/s", "us server", "us writer", "us load", "us redis",
                 "(in store)", "us total", "msgs/s/screen", "chars/delta"], rows)


def code_version() -> str:
    """The commit measured (and whether the tree differed from it), to tell runs apart."""
    def git(*words: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *words], capture_output=True,
                              text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" with uncommitted changes" if git("status", "--porcelain") else "")


def print_summary(latency: list[Point], rates: list[Point], args: argparse.Namespace,
                  seconds: float) -> None:
    print()
    print("Targets")
    biggest = [p for p in latency
               if p.system == "sitroom" and p.clients == LATENCY_TARGET_CLIENTS]
    if biggest:
        p99 = biggest[0].load.percentile(99)
        met = "yes" if p99 < LATENCY_TARGET_MS else "NO"
        print(f"  sitroom p99 at {biggest[0].clients} screens, {LATENCY_RATE:.0f} ev/s: "
              f"{p99:.0f} ms (target < {LATENCY_TARGET_MS:.0f} ms): {met}")
    top = max(args.rates, default=0)
    best = {s: highest_sustained(rates, s) for s in dict.fromkeys(p.system for p in rates)}
    for system, rate in best.items():
        if rate:
            ceiling = " (the top of the ladder: it may hold more)" if rate == top else ""
            found = f"{rate:,.0f} ev/s{ceiling}"
        else:
            found = f"none (below {min(args.rates):,.0f} ev/s, the lowest rate tried)"
        print(f"  {system} highest sustained rate at {args.rate_clients} screens: {found}")
    if "sitroom" in best and args.rate_clients == LATENCY_TARGET_CLIENTS:
        met = "yes" if best["sitroom"] >= RATE_TARGET else "NO"
        print(f"  sitroom >= {RATE_TARGET:,.0f} ev/s: {met}")
        if best.get("baseline"):
            share = best["sitroom"] / best["baseline"]
            met = "yes" if share >= BASELINE_SHARE else "NO"
            bound = " (the baseline reached the top rate)" if best["baseline"] == top else ""
            print(f"  sitroom / baseline: {share:.0%}{bound} (target >= {BASELINE_SHARE:.0%}): "
                  f"{met}")
    print(f"  criteria: sustained = source made >= {SOURCE_SHORT:.0%} of its events, every "
          f"screen had every event of the window {CHECK_AFTER_MS / 1000:.0f} s after it, "
          f"no gaps or disconnects, mean latency rising <= {TREND_LIMIT_MS:.0f} ms over the "
          f"window, p99 < {SUSTAINED_P99_MS:.0f} ms")
    busy = [p for p in latency + rates if p.cpu.rest > BUSY_NEIGHBOUR * p.seconds]
    if busy:
        print(f"  WARNING: other processes used more than {BUSY_NEIGHBOUR:.0%} of a core during "
              f"{len(busy)} point(s) (column 'cpu rest'): those figures are pessimistic")
    decoding = "each screen parses" if args.parse_each else "screens of a process share decodes"
    writes = ("one transaction per record" if args.single_record
              else "one write_many per step")
    print(f"  sources: a step every {args.source_step * 1000:g} ms; Sitroom's writer: {writes}")
    print(f"  {os.cpu_count()} cores shared by server, writer, load generator ({args.load_procs} "
          f"Node processes, {decoding}) and Redis; window {args.seconds:.0f} s after "
          f"{args.warmup:.0f} s warm-up per point; code {code_version()}; "
          f"wall time {seconds:.0f} s")


# ------------------------------------------------------------------ main

def start_systems(kinds: Sequence[type[Sitroom] | type[Baseline]], processes: Processes,
                  root: Path, tick: float, cleanup: ExitStack) -> list[System]:
    """Every system under test, each in its own directory, closed by `cleanup`."""
    systems: list[System] = []
    for kind in kinds:
        say(f"{kind.name}: starting")
        workdir = root / kind.name
        workdir.mkdir()
        system = kind(processes, workdir, tick)
        cleanup.callback(system.close)
        systems.append(system)
    return systems


def numbers(kind: Callable[[str], float | int]) -> Callable[[str], list]:
    """An argparse type for comma-separated positive numbers, given back in ascending order."""
    def parse(text: str) -> list:
        values = [kind(v) for v in text.split(",") if v.strip()]
        if any(v <= 0 for v in values):
            raise argparse.ArgumentTypeError("every value must be positive")
        return sorted(values)
    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=numbers(int), default=[50, 200, 500],
                        help="screen counts for the latency figure (default 50,200,500)")
    parser.add_argument("--rates", type=numbers(float), default=[250, 500, 1000, 2000, 4000],
                        help="event rates to step through; empty to skip (default "
                             "250,500,1000,2000,4000)")
    parser.add_argument("--rate-clients", type=int, default=500,
                        help="screens while stepping the rate (default 500)")
    parser.add_argument("--refine", type=int, default=1,
                        help="rates tried between the last sustained and the first not (default 1)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per point")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before it")
    parser.add_argument("--only", choices=("sitroom", "baseline"), help="bench one system only")
    parser.add_argument("--load-procs", type=int, default=2,
                        help="Node processes sharing the screens (default 2)")
    parser.add_argument("--parse-each", action="store_true",
                        help="every screen JSON-parses every message itself, as a browser does "
                             "(default: the screens of a Node process share each decode, so "
                             "the load generator leaves the cores to the server)")
    parser.add_argument("--source-step", type=float, default=SOURCE_STEP,
                        help="seconds between the sources' commits (Sitroom's writer) or "
                             f"additions (the baseline's generator) (default {SOURCE_STEP})")
    parser.add_argument("--single-record", action="store_true",
                        help="Sitroom's writer commits each record in its own transaction "
                             "(Store.write) instead of one write_many per step")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds to wait at most, before each point, for other processes "
                             "to leave the cores idle (default 5)")
    parser.add_argument("--tick", type=float, default=TICK,
                        help=f"flush tick of both servers, seconds (default Sitroom's, {TICK})")
    args = parser.parse_args(argv)
    if (args.seconds < 3 or args.warmup < 0 or args.settle < 0 or args.load_procs < 1
            or args.rate_clients < 1 or not 0.001 <= args.source_step <= 1):
        parser.error("needs --seconds >= 3, --warmup and --settle >= 0, --load-procs and "
                     "--rate-clients >= 1, 0.001 <= --source-step <= 1")
    if shutil.which("node") is None or shutil.which("redis-server") is None:
        parser.error("needs node (and npm) and redis-server on PATH")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on Ctrl-C
    started = time.perf_counter()
    ensure_node_modules()
    kinds = [k for k in (Sitroom, Baseline) if args.only in (None, k.name)]
    processes = Processes()
    with tempfile.TemporaryDirectory(prefix="sitroom-live-") as root, ExitStack() as cleanup:
        cleanup.callback(processes.stop_all)  # last, and before the directory goes
        systems = start_systems(kinds, processes, Path(root), args.tick, cleanup)
        # Latency points alternate between the systems, so a drift in the machine's other
        # load hits both alike; an idle server costs next to nothing meanwhile.
        latency = [measure_quietly(processes, system, n, LATENCY_RATE, args)
                   for n in args.clients for system in systems]
        rates = find_sustained(processes, systems, args)
    print_latency(sorted(latency, key=lambda p: (p.clients, p.system)))
    if rates:
        print_rates(sorted(rates, key=lambda p: (p.system, p.rate)))
    print_costs(sorted(latency + rates, key=lambda p: (p.clients, p.rate, p.system)))
    print_summary(latency, rates, args, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # every process was stopped on the way out
        say("interrupted")
        sys.exit(130)

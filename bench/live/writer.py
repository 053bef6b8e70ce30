"""The event source of bench_live.py for Sitroom: another process writing into the same store.

It writes Incident records with dashboard.store at a fixed rate and wakes the hub the way a feed
worker does (RedisNotifier.publish as a store listener), so the hub reads them from the log.
Every `step` seconds it commits every event due by then in one write_many (a feed worker lands
each poll in one write_many too); with `single_record`, each record in a transaction of its own
(Store.write), for the cost of the smallest commits.

    python bench/live/writer.py DATABASE_URL REDIS_URL

Protocol on stdin/stdout, one JSON object a line:
    -> {"ready": true}                                          once the store is open
    <- {"rate": events/s, "start_ms": epoch ms, "end_ms": epoch ms, "window": [from_ms, to_ms],
        "step": seconds, "single_record": bool}
    -> {"window_events": n, "last_seq": seq, "behind_ms": ms, "write_ms_max": ms,
        "store_us_per_event": us}
store_us_per_event is this process's CPU time inside Store.write/write_many (the store's write
path and its listeners: the Redis wake-up and the bench's tally) over every event it wrote, the
rest of its CPU being the records' making and the schedule: what the store costs, apart from
what the bench itself spends.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import json  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import shapely  # noqa: E402

from dashboard.live.notify import RedisNotifier  # noqa: E402
from dashboard.model import Event, Incident, Marking, Severity  # noqa: E402
from dashboard.store import Store, open_store  # noqa: E402

ENTITY_POOL = 2000  # incidents updated round-robin: the map stays a fixed size while it moves
# Every marking a police screen cleared for TLP:RED sees: the strict ones owned by the police.
OWNERS = ((Marking.GREEN, "rescue"), (Marking.AMBER, "health"), (Marking.AMBER_STRICT, "police"),
          (Marking.RED, "police"))


@dataclass
class Tally:
    """What the bench needs to know of the events committed, seen through a store listener."""

    window: tuple[int, int]
    window_events: int = 0
    last_seq: int = 0

    def __call__(self, events: list[Event]) -> None:
        for event in events:
            ts = int(event.time.timestamp() * 1000)  # the delta's ts, computed as deltas.py does
            self.window_events += self.window[0] <= ts <= self.window[1]
        self.last_seq = max(self.last_seq, events[-1].seq)


def incident(run_id: int, n: int) -> Incident:
    """Write n of run run_id: a new version of incident n mod ENTITY_POOL, moved a little.

    The version names the run too: the store drops a (source, id, version) it has seen before.
    """
    i = n % ENTITY_POOL
    marking, agency = OWNERS[i % len(OWNERS)]
    lon, lat = 24.0 + (n % 997) / 500, 59.9 + (n % 991) / 1400
    return Incident(source="bench-live", source_id=str(i), version=f"{run_id}.{n}", marking=marking,
                    agency=agency, title=f"bench incident {i}", category="fire",
                    severity=Severity.MODERATE, geometry=shapely.Point(lon, lat))


@dataclass
class Run:
    """How the writing went: ms behind schedule, the longest step's write(s), CPU in the store."""

    made: int = 0
    behind_ms: float = 0.0
    longest_ms: float = 0.0
    store_cpu_s: float = 0.0


def run(store: Store, rate: float, start_ms: int, end_ms: int, step_seconds: float,
        single_record: bool) -> Run:
    """Write `rate` events/s from start_ms to end_ms.

    The longest write is one step's commit(s), however many transactions they took.
    """
    time.sleep(max(0.0, start_ms / 1000 - time.time()))
    made = 0
    result = Run()
    step = 0
    while (now_ms := time.time() * 1000) < end_ms:
        due = int((now_ms - start_ms) * rate / 1000) - made
        result.behind_ms = max(result.behind_ms, now_ms - start_ms - (made + 1) * 1000 / rate)
        if due > 0:
            started = time.perf_counter()
            records = [incident(start_ms, made + k) for k in range(due)]
            cpu = time.process_time()
            if single_record:
                for record in records:
                    store.write(record, actor="bench")
            else:
                store.write_many(records, actor="bench")
            result.store_cpu_s += time.process_time() - cpu
            result.longest_ms = max(result.longest_ms, (time.perf_counter() - started) * 1000)
            made += due
        step += 1
        time.sleep(max(0.0, start_ms / 1000 + step * step_seconds - time.time()))
    result.behind_ms = max(0.0, result.behind_ms)
    result.made = made
    return result


def main() -> None:
    database_url, redis_url = sys.argv[1:3]
    store = open_store(database_url)
    notifier = RedisNotifier(redis_url)
    store.subscribe(notifier.publish)
    print(json.dumps({"ready": True}), flush=True)
    plan = json.loads(sys.stdin.readline())
    tally = Tally(tuple(plan["window"]))
    store.subscribe(tally)
    done = run(store, float(plan["rate"]), int(plan["start_ms"]), int(plan["end_ms"]),
               float(plan["step"]), bool(plan["single_record"]))
    print(json.dumps({"window_events": tally.window_events, "last_seq": tally.last_seq,
                      "behind_ms": done.behind_ms, "write_ms_max": done.longest_ms,
                      "store_us_per_event": done.store_cpu_s / max(1, done.made) * 1e6}),
          flush=True)
    store.close()


if __name__ == "__main__":
    main()

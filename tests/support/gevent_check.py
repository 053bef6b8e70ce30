"""Run under gevent (as `sitroom serve` does) and report how the drivers and the hub behave.

Usage: python -m tests.support.gevent_check POSTGRES_URL SQLITE_URL
Prints one JSON line: how long two 0.5 s PostgreSQL queries took side by side, and the OS
threads the hub emitted from.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from sqlalchemy import text  # noqa: E402

from dashboard.demo.scenario import ScenarioRunner  # noqa: E402
from dashboard.settings import load_settings  # noqa: E402
from dashboard.store import migrate, open_store  # noqa: E402

real_thread_id = monkey.get_original("threading", "get_ident")


def overlap_seconds(url: str) -> float:
    store = open_store(url)

    def slow() -> None:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(0.5)"))

    started = time.monotonic()
    gevent.joinall([gevent.spawn(slow), gevent.spawn(slow)])
    store.close()
    return time.monotonic() - started


def emitting_threads(url: str) -> list[int]:
    """Run the demo into a SQLite store with the hub flushing; collect emitting OS threads."""
    from dashboard.server import build

    store = open_store(url)
    migrate.upgrade(store.engine)
    built = build(load_settings(), store)
    threads: list[int] = []
    emit = built.socketio.emit

    def recording_emit(*args, **kwargs):
        threads.append(real_thread_id())
        return emit(*args, **kwargs)

    built.socketio.emit = recording_emit
    built.hub.rooms["viewer:police:RED"] = _room_with_a_member(built.hub)
    built.hub.start()
    runner = ScenarioRunner(store, speed=50, tick=0.05)
    runner.start()
    gevent.sleep(1.5)
    runner.stop()
    built.hub.stop()
    store.close()
    return threads


def _room_with_a_member(hub):
    from dashboard.live.hub import Client, Room
    from dashboard.model import Marking, Viewer

    viewer = Viewer(agency="police", clearance=Marking.RED)
    hub.clients["sid-1"] = Client("sid-1", viewer, "viewer:police:RED")
    return Room(viewer, members={"sid-1"}, cursor=hub.cursor)


if __name__ == "__main__":
    postgres_url, sqlite_url = sys.argv[1], sys.argv[2]
    threads = emitting_threads(sqlite_url)
    print(json.dumps({
        "postgres_two_slow_queries_s": overlap_seconds(postgres_url),
        "emits": len(threads),
        "emitting_threads": sorted(set(threads)),
        "main_thread": real_thread_id(),
    }))

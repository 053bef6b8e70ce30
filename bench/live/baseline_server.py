"""The baseline for bench_live.py: the least a coalescing Socket.IO push server can do.

Same stack and shape as Sitroom's live hub (Flask-SocketIO under gevent, configured by the same
dashboard.live.transport.socketio_options; acks handled outside Flask, as the hub does;
namespace /cop, one flusher greenlet, a tick of 0.025 s, a flush at once when idle, one `batch`
message per tick to one room) but no store, no log reads and no filtering: a generator
greenlet makes the events itself, each stamped with its generation time. What Sitroom costs
beyond this is the price of its store and its per-room logic.

    python bench/live/baseline_server.py --port PORT [--tick 0.025]

HTTP control, for the benchmark only:
    GET  /healthz  -> "ok"
    GET  /stats    -> {"seq": last seq generated, "clients": screens connected}
    POST /load     {"rate": events/s, "start_ms": epoch ms, "end_ms": epoch ms,
                    "window": [from_ms, to_ms], "step": seconds}
                   -> generates from start_ms to end_ms, adding what is due every `step`
                      (the step of Sitroom's writer), then answers with what it made
                      {"window_events": n, "last_seq": seq, "behind_ms": ms}
"""

from gevent import monkey

monkey.patch_all()  # first, before anything imports socket or threading

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import flask  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from dashboard.live.transport import socketio_options, tune_gevent_transport  # noqa: E402

NAMESPACE = "/cop"
ROOM = "everyone"
MAX_BODY_BYTES = 1_048_576  # Sitroom's default max_body_bytes
ENTITY_POOL = 2000  # ids cycled round-robin, as the bench's writer does
MARKINGS = (("TLP:GREEN", "rescue"), ("TLP:AMBER", "health"), ("TLP:AMBER+STRICT", "police"),
            ("TLP:RED", "police"))
IDS = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-live/{i}")) for i in range(ENTITY_POOL)]


def make_delta(seq: int, ts_ms: int, when: str) -> dict[str, Any]:
    """A delta shaped and sized like one of Sitroom's (deltas_for + feature_from_payload)."""
    entity = IDS[seq % ENTITY_POOL]
    marking, agency = MARKINGS[seq % len(MARKINGS)]
    lon, lat = 24.0 + (seq % 997) / 500, 59.9 + (seq % 991) / 1400
    return {"s": seq, "ts": ts_ms, "op": "upsert", "id": entity, "f": {
        "type": "Feature", "id": entity,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"id": entity, "kind": "incident",
                       "title": f"bench incident {seq % ENTITY_POOL}", "category": "fire",
                       "severity": "moderate", "status": "active", "agency": agency,
                       "marking": marking, "time": when}}}


class Coalescer:
    """Pending deltas (latest per entity) and the one flusher that sends them, as the hub does."""

    def __init__(self, socketio: SocketIO, tick: float) -> None:
        self.socketio = socketio
        self.tick = tick
        self.seq = 0  # last seq generated
        self.sent = 0  # last seq sent to the room
        self.pending: dict[str, dict[str, Any]] = {}
        self.clients: set[str] = set()
        self._wake = socketio.server.eio.create_event()
        self._last_flush = 0.0

    def add(self, deltas: list[dict[str, Any]]) -> None:
        """Queue deltas (newest state per entity wins) and wake the flusher."""
        for delta in deltas:
            self.pending.pop(delta["id"], None)
            self.pending[delta["id"]] = delta
        self.seq = deltas[-1]["s"]
        self._wake.set()

    def run(self) -> None:
        """The flusher greenlet: at once when idle, at most once per tick under load."""
        while True:
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            wait = self._last_flush + self.tick - time.monotonic()
            if wait > 0:
                self.socketio.sleep(wait)
            self.flush()

    def flush(self) -> None:
        """One `batch` message to the room with everything since the last one.

        Only a flush that sends starts a tick, as in the hub.
        """
        if not self.pending:
            return
        self._last_flush = time.monotonic()
        deltas, self.pending = list(self.pending.values()), {}
        message = {"from": self.sent, "to": self.seq, "d": deltas}
        self.sent = self.seq
        self.socketio.emit("batch", message, to=ROOM, namespace=NAMESPACE)


def generate(coalescer: Coalescer, rate: float, start_ms: int, end_ms: int,
             window: tuple[int, int], step_seconds: float) -> dict[str, Any]:
    """Make `rate` events/s from start_ms to end_ms; report what fell in the window."""
    socketio = coalescer.socketio
    socketio.sleep(max(0.0, start_ms / 1000 - time.time()))
    made = in_window = step = 0
    behind_ms = 0.0
    while (now := time.time()) * 1000 < end_ms:
        due = int((now * 1000 - start_ms) * rate / 1000) - made
        behind_ms = max(behind_ms, now * 1000 - start_ms - (made + 1) * 1000 / rate)
        if due > 0:
            ts = int(now * 1000)
            when = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
            first = coalescer.seq + 1
            coalescer.add([make_delta(seq, ts, when) for seq in range(first, first + due)])
            made += due
            if window[0] <= ts <= window[1]:
                in_window += due
        step += 1  # on the writer's schedule: steps at start + k * step, not k sleeps apart
        socketio.sleep(max(0.0, start_ms / 1000 + step * step_seconds - time.time()))
    return {"window_events": in_window, "last_seq": coalescer.seq,
            "behind_ms": max(0.0, behind_ms)}


def build(tick: float) -> tuple[flask.Flask, SocketIO]:
    """The Flask app with its Socket.IO server, configured as Sitroom's (dashboard/server.py)."""
    app = flask.Flask(__name__)
    # The same transport as the hub (serialiser, handler mode): only the store and the
    # per-room logic differ.
    socketio = SocketIO(app, **socketio_options(MAX_BODY_BYTES))
    tune_gevent_transport()
    coalescer = Coalescer(socketio, tick)

    @socketio.on("connect", namespace=NAMESPACE)
    def connect(auth: Any = None) -> None:
        sid = flask.request.sid
        cursor = auth.get("cursor") if isinstance(auth, dict) else None
        coalescer.clients.add(sid)
        socketio.server.enter_room(sid, ROOM, namespace=NAMESPACE)
        start = cursor if isinstance(cursor, int) else coalescer.sent
        socketio.emit("batch", {"from": start, "to": coalescer.sent, "d": []}, to=sid,
                      namespace=NAMESPACE)

    @socketio.on("disconnect", namespace=NAMESPACE)
    def disconnect(*_reason: Any) -> None:
        coalescer.clients.discard(flask.request.sid)

    def ack(_sid: str, _data: Any = None) -> dict[str, bool]:
        return {"ok": True}

    socketio.server.on("ack", ack, namespace=NAMESPACE)  # outside Flask, as the hub's acks

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.get("/stats")
    def stats() -> dict[str, int]:
        return {"seq": coalescer.seq, "clients": len(coalescer.clients)}

    @app.post("/load")
    def load() -> dict[str, Any]:
        body = flask.request.get_json()
        return generate(coalescer, float(body["rate"]), int(body["start_ms"]),
                        int(body["end_ms"]), tuple(body["window"]), float(body["step"]))

    socketio.start_background_task(coalescer.run)
    return app, socketio


def main() -> None:
    parser = argparse.ArgumentParser(description="Baseline Socket.IO push server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tick", type=float, default=0.025)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)
    app, socketio = build(args.tick)
    socketio.run(app, host="127.0.0.1", port=args.port, log_output=False)


if __name__ == "__main__":
    main()

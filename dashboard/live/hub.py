"""The live hub: keeps every screen's picture in step with the event log, over Socket.IO.

How a screen stays in step (namespace /cop):
- It connects with auth {agency, clearance, cursor}. It is put in the room of its viewer class
  (agency, clearance), so a payload is encoded once per room per tick, never per client.
- It gets a snapshot (pages of map features, `snapshot` messages) current at seq S, or, when it
  comes back with a cursor not too far behind, the events it missed (a `batch`).
- Then `batch` messages {from, to, d: deltas}: everything visible to its room in the log range
  (from, to]. A screen applies deltas with seq above its cursor and moves its cursor to `to`.
  A batch whose `from` is above the cursor means something was missed: it asks to `resync`.
- It acknowledges its cursor (`ack`) now and then. A screen that stops acknowledging for
  LAG_SECONDS is taken out of its room (so nothing piles up behind it) and counted as lagging;
  when it acknowledges again it is brought up to date in one step, not event by event.

One flusher greenlet reads the log after its cursor (so events written by other processes
arrive the same way as our own), coalesces to the latest state per entity, and emits one
message per room. It wakes on a local commit, a Redis notice or a poll; it flushes at once when
idle, at most once per tick under load, and at once for an urgent alert.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import flask
import orjson
from flask_socketio import SocketIO
from socketio.exceptions import ConnectionRefusedError as Refused

from dashboard.access import AccessError, viewer_from_claims
from dashboard.live.deltas import coalesce, deltas_for, is_urgent
from dashboard.live.metrics import HubMetrics
from dashboard.model import Event, Viewer
from dashboard.store import Query, Store

log = logging.getLogger(__name__)

NAMESPACE = "/cop"


@dataclass(frozen=True)
class HubConfig:
    tick: float = 0.025  # seconds between flushes under load
    poll: float = 0.5  # seconds between looks at the log when nothing woke the flusher
    page_size: int = 2000  # features per snapshot message
    catchup_limit: int = 5000  # events: further behind than this, a screen gets a snapshot
    read_limit: int = 20000  # events read from the log per flush
    lag_seconds: float = 5.0  # unacknowledged for this long: the screen is lagging


@dataclass
class Room:
    """Screens of one viewer class, and where in the log their last batch ended."""

    viewer: Viewer
    members: set[str] = field(default_factory=set)
    cursor: int = 0
    sends: deque = field(default_factory=lambda: deque(maxlen=512))  # (to seq, monotonic time)


@dataclass
class Client:
    sid: str
    viewer: Viewer
    room: str
    acked: int = 0  # the cursor the screen last acknowledged
    sent: int = 0  # the highest `to` sent to it on its own or when it left its room
    lagging: bool = False


def room_name(viewer: Viewer) -> str:
    return f"viewer:{viewer.agency}:{viewer.clearance.name}"


class Hub:
    """Owns the rooms, the flusher and the socket handlers of namespace /cop."""

    def __init__(self, socketio: SocketIO, store: Store, config: HubConfig = HubConfig(),
                 metrics: HubMetrics | None = None) -> None:
        self.socketio = socketio
        self.store = store
        self.config = config
        self.metrics = metrics or HubMetrics()
        self.cursor = store.last_seq()
        self.rooms: dict[str, Room] = {}
        self.clients: dict[str, Client] = {}
        self._wake = socketio.server.eio.create_event()
        self._urgent = False
        self._last_flush = 0.0
        self.running = False
        self._on_start: list = []
        store.subscribe(self._on_commit)
        for name, handler in (("connect", self._on_connect), ("disconnect", self._on_disconnect),
                              ("resync", self._on_resync)):
            socketio.on_event(name, handler, namespace=NAMESPACE)
        # Acks are the one frequent message from screens (500 screens: ~1,000/s). Flask-SocketIO
        # would build a Flask request context (URL matching, session) for each, 9% of the hub's
        # CPU under load; python-socketio calls this handler with the sid directly.
        socketio.server.on("ack", self._on_ack, namespace=NAMESPACE)

    # ------------------------------------------------------------ lifecycle

    def on_start(self, callback) -> None:
        """Run callback when the hub starts (to start more background tasks beside it)."""
        self._on_start.append(callback)

    def start(self) -> None:
        """Start the flusher and the lag watcher (greenlets under gevent)."""
        self.running = True
        self.socketio.start_background_task(self._flush_loop)
        self.socketio.start_background_task(self._watch_lag)
        for callback in self._on_start:
            callback()

    def stop(self) -> None:
        self.running = False
        self._wake.set()

    def wake(self, urgent: bool = False) -> None:
        """Something was committed (here or elsewhere): flush soon, or now if urgent."""
        self._urgent = self._urgent or urgent
        self._wake.set()

    def _on_commit(self, events: list[Event]) -> None:
        self.wake(urgent=any(is_urgent(e) for e in events))

    # ------------------------------------------------------------ flushing

    def _flush_loop(self) -> None:
        while self.running:
            self._wake.wait(timeout=self.config.poll)
            self._wake.clear()
            if not self.running:
                break
            wait = self._last_flush + self.config.tick - time.monotonic()
            if wait > 0 and not self._urgent:
                self.socketio.sleep(wait)  # coalesce what else arrives before the tick
            self._urgent = False
            try:
                self.flush()
            except Exception:  # a bad moment (database busy, ...) must not end the hub
                log.exception("live flush failed; retrying on the next wake-up")
                self.socketio.sleep(self.config.poll)

    def flush(self) -> int:
        """Send every room what the log holds after the hub's cursor; return events read.

        Only a flush that found events starts a new tick: a wake-up that finds nothing (a
        second notice of what was already sent, a poll) must not make the next lone event wait.
        """
        events = self.store.log_after(self.cursor, limit=self.config.read_limit)
        if not events:
            return 0
        self._last_flush = time.monotonic()
        start, end = self.cursor, events[-1].seq
        self.cursor = end
        changes = coalesce(events)
        sent_at = time.time()
        for name, room in list(self.rooms.items()):
            deltas = deltas_for(room.viewer, changes)
            if not deltas or not room.members:
                continue
            self._emit_batch(name, room, deltas, end)
        self.metrics.events.inc(len(events))
        self.metrics.push_latency.observe(max(0.0, sent_at - events[-1].time.timestamp()))
        if len(events) == self.config.read_limit:
            self.wake()  # more is waiting: come back at the next tick
        log.debug("flushed events %d..%d to %d rooms", start + 1, end, len(self.rooms))
        return len(events)

    def _emit_batch(self, name: str, room: Room, deltas: list[dict], end: int) -> None:
        message = {"from": room.cursor, "to": end, "d": deltas}
        room.cursor = end  # what every member has been sent (Client.sent covers the rest)
        room.sends.append((end, time.monotonic()))
        self.socketio.emit("batch", message, to=name, namespace=NAMESPACE)
        self.metrics.frames.inc(len(room.members))

    # ------------------------------------------------------------ screens

    def _on_connect(self, auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        try:
            viewer = viewer_from_claims(auth.get("agency"), auth.get("clearance"))
        except AccessError as exc:
            raise Refused(f"refused: {exc}") from None
        cursor = auth.get("cursor")
        if cursor is not None and (not isinstance(cursor, int) or isinstance(cursor, bool)
                                   or cursor < 0):
            raise Refused("refused: cursor must be a non-negative integer")
        sid = flask.request.sid
        self.clients[sid] = Client(sid, viewer, room_name(viewer), acked=cursor or 0)
        self._join(sid)
        self.metrics.clients.set(len(self.clients))
        self.socketio.start_background_task(self._bring_up_to_date, sid, cursor)

    def _on_disconnect(self, *_reason: Any) -> None:
        sid = flask.request.sid
        client = self.clients.pop(sid, None)
        if client is None:
            return
        room = self.rooms.get(client.room)
        if room is not None:
            room.members.discard(sid)
            if not any(c.room == client.room for c in self.clients.values()):
                del self.rooms[client.room]
        self.metrics.clients.set(len(self.clients))
        self.metrics.lagging.set(sum(c.lagging for c in self.clients.values()))

    def _on_ack(self, sid: str, data: Any = None) -> dict[str, Any]:
        """A screen's cursor (called by python-socketio itself, outside any Flask context)."""
        client = self.clients.get(sid)
        cursor = data.get("cursor") if isinstance(data, dict) else None
        if client is None or not isinstance(cursor, int) or isinstance(cursor, bool):
            return {"error": "ack needs {cursor: int}"}
        client.acked = max(client.acked, cursor)
        if client.lagging and client.acked >= client.sent:
            # It has worked through what was queued for it: one step to now, back in the room.
            client.lagging = False
            self.metrics.lagging.set(sum(c.lagging for c in self.clients.values()))
            self._join(client.sid)
            self.socketio.start_background_task(self._bring_up_to_date, client.sid,
                                                client.acked)
        return {"ok": True}

    def _on_resync(self, data: Any = None) -> dict[str, Any]:
        client = self.clients.get(flask.request.sid)
        cursor = data.get("cursor") if isinstance(data, dict) else None
        if client is None:
            return {"error": "not connected"}
        if cursor is not None and (not isinstance(cursor, int) or isinstance(cursor, bool)
                                   or cursor < 0):
            return {"error": "resync needs {cursor: int >= 0} or {cursor: null}"}
        self.socketio.start_background_task(self._bring_up_to_date, client.sid, cursor)
        return {"ok": True}

    def _join(self, sid: str) -> None:
        client = self.clients[sid]
        room = self.rooms.get(client.room)
        if room is None:
            room = self.rooms[client.room] = Room(client.viewer, cursor=self.cursor)
        room.members.add(sid)
        self.socketio.server.enter_room(sid, client.room, namespace=NAMESPACE)

    def _bring_up_to_date(self, sid: str, cursor: int | None) -> None:
        """Send the events after cursor, or a snapshot if it is unknown or too far behind."""
        client = self.clients.get(sid)
        if client is None:
            return
        last = self.store.last_seq()
        # A cursor from the future (another database, a restored one) cannot be trusted.
        if cursor is not None and 0 <= last - cursor <= self.config.catchup_limit:
            events = self.store.log_after(cursor, limit=self.config.catchup_limit + 1)
            if len(events) <= self.config.catchup_limit:
                end = events[-1].seq if events else cursor
                deltas = deltas_for(client.viewer, coalesce(events))
                client.sent = max(client.sent, end)
                self.socketio.emit("batch", {"from": cursor, "to": end, "d": deltas}, to=sid,
                                   namespace=NAMESPACE)
                return
        self._send_snapshot(client)

    def _send_snapshot(self, client: Client) -> None:
        """The screen's whole picture, in pages: features as the store keeps them (JSON text,
        embedded in the frame as it is), so no record or dict is built per feature."""
        seq, texts = self.store.features(client.viewer, Query(located=True))
        size = self.config.page_size
        pages = max(1, -(-len(texts) // size))
        for page in range(pages):
            self.socketio.emit("snapshot", {
                "seq": seq, "page": page, "pages": pages,
                "features": [orjson.Fragment(t) for t in texts[page * size:(page + 1) * size]],
            }, to=client.sid, namespace=NAMESPACE)
            self.socketio.sleep(0)  # let other screens' greenlets run between pages
        client.sent = max(client.sent, seq)

    # ------------------------------------------------------------ slow screens

    def _watch_lag(self) -> None:
        while self.running:
            self.socketio.sleep(min(1.0, self.config.lag_seconds / 2))
            try:
                self._find_laggards(time.monotonic())
            except Exception:  # keep watching whatever one pass ran into
                log.exception("lag check failed")

    def _find_laggards(self, now: float) -> None:
        sends = {name: list(room.sends) for name, room in self.rooms.items()}
        ends = {name: [to for to, _ in s] for name, s in sends.items()}
        for client in list(self.clients.values()):
            room = self.rooms.get(client.room)
            if client.lagging or room is None or client.room not in sends:
                continue
            # the oldest batch this screen has not acknowledged (sends are in seq order)
            first = bisect.bisect_right(ends[client.room], client.acked)
            if first < len(sends[client.room]) and \
                    now - sends[client.room][first][1] > self.config.lag_seconds:
                self._set_lagging(client, room)

    def _set_lagging(self, client: Client, room: Room) -> None:
        client.lagging = True
        client.sent = max(client.sent, room.cursor)  # the room's batches it has been sent
        room.members.discard(client.sid)
        self.socketio.server.leave_room(client.sid, client.room, namespace=NAMESPACE)
        self.metrics.lagging.set(sum(c.lagging for c in self.clients.values()))
        self.metrics.lag_events.inc()
        log.info("screen %s lagging: out of its room until it catches up", client.sid)

"""How the hub's Socket.IO server is configured, in one place.

The serving process (dashboard/server.py) and the benchmark's baseline server
(bench/live/baseline_server.py) both build their server from `socketio_options()`, so that the
baseline measures the same transport and the comparison isolates what Sitroom adds (its store
and its per-room logic), not a difference in configuration.

Why these options (profiles of `sitroom serve` at 500 screens, bench/bench_live.py):
- `json=OrjsonFrames`: frames and handshakes are encoded with orjson (several times faster than
  the stdlib encoder for the batch messages; one encode per room per tick, so a modest share).
- `async_handlers=False`: python-socketio otherwise starts a new greenlet for every incoming
  event; with 500 screens acknowledging twice a second that was 1,000 greenlets/s, whose
  allocation alone triggered a tenth of the hub's garbage-collector passes. Every handler of
  namespace /cop is short and starts a background task for anything that waits (snapshots,
  catch-up), so running them on the connection's own reader greenlet delays nobody else.
"""

from __future__ import annotations

from typing import Any

import orjson

SHARED_FRAME_MIN = 1024  # bytes of text: smaller frames (pings, acks) are not worth a cache slot
SHARED_FRAMES_KEPT = 8  # recent messages whose encoded frames are kept


class OrjsonFrames:
    """A `json` module for python-socketio/engine.io (they call dumps/loads on a module).

    orjson returns bytes and takes no `separators`; Socket.IO packets are text, so dumps gives
    str (orjson's output is always compact). orjson parses integers beyond 64 bits as floats
    (no quadratic big-integer parsing), which covers what engineio.json's `_safe_int` guards.
    """

    JSONDecodeError = orjson.JSONDecodeError

    @staticmethod
    def dumps(obj: Any, **_options: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, **_options: Any) -> Any:
        return orjson.loads(text)


def socketio_options(max_body_bytes: int, async_mode: str = "gevent") -> dict[str, Any]:
    """Keyword arguments for flask_socketio.SocketIO (besides the app).

    async_mode is "gevent" when serving; tests that only need the HTTP routes may ask for
    "threading".
    """
    return {
        "async_mode": async_mode,
        "cors_allowed_origins": [],
        "ping_interval": 10,
        "ping_timeout": 10,
        "max_http_buffer_size": max_body_bytes,
        "json": OrjsonFrames,
        "async_handlers": False,
    }


def tune_gevent_transport() -> None:
    """The two patches below, for a server in gevent mode (the hub and the bench's baseline)."""
    share_encoded_frames()
    wait_for_frames_without_timers()


def share_encoded_frames() -> None:
    """Encode each WebSocket text frame once, however many screens it goes to.

    Socket.IO encodes a room's message once, but gevent-websocket then turns that same text
    into a frame for every screen: a UTF-8 encode and a header concatenation, two copies of the
    whole message per screen (15% of the hub's CPU at 500 screens and 2,000 events/s, the most
    after the send system call itself). A server-to-client frame is unmasked, so its bytes
    depend on the text only: for a text seen recently (the very object engine.io hands to every
    screen's writer) the frame is reused. Idempotent; gevent-websocket 0.10 (unchanged since
    2017) is the one patched.
    """
    from geventwebsocket.websocket import MSG_SOCKET_DEAD, Header, WebSocket, WebSocketError

    if getattr(WebSocket.send_frame, "shares_frames", False):
        return
    original = WebSocket.send_frame
    recent: dict[int, tuple[str, bytes]] = {}  # id(text) -> (text, frame); text kept alive

    def send_frame(self: WebSocket, message: Any, opcode: int) -> None:
        if (opcode != WebSocket.OPCODE_TEXT or not isinstance(message, str)
                or len(message) < SHARED_FRAME_MIN or self.closed):
            return original(self, message, opcode)
        entry = recent.get(id(message))
        if entry is not None and entry[0] is message:
            frame = entry[1]
        else:
            payload = message.encode("utf-8")
            frame = bytes(Header.encode_header(True, opcode, b"", len(payload), 0)) + payload
            if len(recent) >= SHARED_FRAMES_KEPT:
                del recent[next(iter(recent))]  # the oldest
            recent[id(message)] = (message, frame)
        try:
            self.raw_write(frame)
        except OSError:
            raise WebSocketError(MSG_SOCKET_DEAD) from None

    send_frame.shares_frames = True  # type: ignore[attr-defined]
    WebSocket.send_frame = send_frame


def wait_for_frames_without_timers() -> None:
    """Let each screen's writer wait for its next frame without arming a timer every time.

    engine.io's writer waits on the screen's queue with a timeout (ping interval + timeout) so
    that it would end if nothing came for that long. In gevent each such wait starts and
    cancels a timer on the loop: 14% of the hub's CPU at 500 screens (py-spy, bench_live,
    100 events/s). The timeout ends nothing that would not end anyway: the server pings every
    screen each ping interval (through the same queue, so it is never idle that long), a screen
    that stops answering is closed by engine.io's service task, and closing, like the reader
    ending, puts the None that ends the writer. Idempotent; python-engineio 4 is the one
    patched.
    """
    from engineio import socket as engineio_socket

    if getattr(engineio_socket.Socket.poll, "untimed", False):
        return

    def poll(self: engineio_socket.Socket) -> list:
        queue_empty = self.server.get_queue_empty_exception()
        packets = [self.queue.get()]
        self.queue.task_done()
        if packets == [None]:
            return []
        while True:  # what else is queued goes in the same wake-up, as engine.io's own does
            try:
                pkt = self.queue.get(block=False)
            except queue_empty:
                break
            self.queue.task_done()
            if pkt is None:
                self.queue.put(None)
                break
            packets.append(pkt)
        return packets

    poll.untimed = True  # type: ignore[attr-defined]
    engineio_socket.Socket.poll = poll

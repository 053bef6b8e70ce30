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

"""The serving process: the Dash app, the JSON API and the live hub on one Flask server.

It runs under gevent (see dashboard/launcher.py): one process holds every Socket.IO session,
with one cheap greenlet per screen instead of a thread.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass

import dash
import flask
from flask_socketio import SocketIO

from dashboard.api import api
from dashboard.app import create_app
from dashboard.live.hub import Hub, HubConfig
from dashboard.live.notify import RedisNotifier
from dashboard.live.transport import socketio_options, tune_gevent_transport
from dashboard.settings import Settings
from dashboard.store import Store

log = logging.getLogger(__name__)


@dataclass
class Server:
    app: dash.Dash
    socketio: SocketIO
    hub: Hub


def build(settings: Settings, store: Store, *, async_mode: str = "gevent") -> Server:
    """Everything a serving process needs, wired together but not yet started."""
    app = create_app(settings, store)
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    server.register_blueprint(api)
    socketio = SocketIO(server, **socketio_options(settings.max_body_bytes, async_mode))
    if async_mode == "gevent":
        tune_gevent_transport()
    hub = Hub(socketio, store, HubConfig(tick=settings.live_tick, poll=settings.live_poll,
                                         lag_seconds=settings.live_lag_seconds))

    @server.get("/metrics")
    def metrics() -> flask.Response:
        return flask.Response(hub.metrics.render(), mimetype="text/plain; version=0.0.4")

    if settings.message_queue:  # (the CLI has made every commit here publish a wake-up)
        notifier = RedisNotifier(settings.message_queue)
        hub.on_start(lambda: socketio.start_background_task(notifier.listen, hub))
    return Server(app, socketio, hub)


def serve(settings: Settings, store: Store) -> None:
    """Run until interrupted: gevent's WSGI server with WebSocket support (gevent-websocket)."""
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)  # a line per request
    built = build(settings, store)
    built.hub.start()
    # Everything loaded so far (Dash, plotly, SQLAlchemy, pydantic: ~160k objects) lives as long
    # as the process; keep it out of the collector, whose full passes otherwise stalled every
    # screen for 65-125 ms every 2 s at 500 screens (bench/bench_live.py).
    gc.collect()
    gc.freeze()
    log.info("Sitroom on http://%s:%d/ (live hub on /cop)", settings.host, settings.port)
    try:
        built.socketio.run(built.app.server, host=settings.host, port=settings.port,
                           log_output=False)
    finally:
        built.hub.stop()

"""The Dash application: one factory that wires settings, the store and the pages together.

Everything the browser loads is served from here (Dash's own bundles, our assets, the base-map
data under /geodata/): a crisis room may have no internet.
"""

from __future__ import annotations

from pathlib import Path

import dash
import flask

from dashboard.settings import Settings
from dashboard.store import Store

PACKAGE = Path(__file__).resolve().parent
GEODATA = PACKAGE.parent / "geodata"
STORE_KEY = "SITROOM_STORE"


def create_app(settings: Settings, store: Store) -> dash.Dash:
    """A Dash app reading and writing `store`; pages come from dashboard/pages/."""
    server = flask.Flask(__name__)
    server.config[STORE_KEY] = store
    server.config["SITROOM_SETTINGS"] = settings

    @server.get("/geodata/<path:name>")
    def geodata(name: str) -> flask.Response:
        response = flask.send_from_directory(GEODATA, name, max_age=24 * 3600)
        return response

    from dashboard.layers.api import layers_api  # (it reads the store through this module)

    server.register_blueprint(layers_api)

    @server.get("/healthz")
    def healthz() -> dict[str, object]:
        return {"status": "ok", "last_seq": store.last_seq()}

    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(PACKAGE / "pages"),
        assets_folder=str(PACKAGE / "assets"),
        serve_locally=True,
        title="Sitroom",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    app.layout = dash.html.Div(dash.page_container, className="sitroom")
    return app


def current_store() -> Store:
    """The store of the app serving this request (for callbacks)."""
    return flask.current_app.config[STORE_KEY]

"""The web app and the demo scenario, without a browser (browser tests come with the live COP)."""

from __future__ import annotations

import time

from dashboard.app import create_app
from dashboard.demo.scenario import ScenarioRunner
from dashboard.model import Kind, Marking, Viewer
from dashboard.settings import load_settings


def test_the_scenario_tells_each_viewer_what_they_may_see(sqlite_store):
    runner = ScenarioRunner(sqlite_store, speed=100, tick=0.05)
    runner.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sqlite_store.count(
            Viewer(agency="police", clearance=Marking.RED)) < 19:
        time.sleep(0.1)
    runner.stop()
    police = {r.source_id: r for r in sqlite_store.query(
        Viewer(agency="police", clearance=Marking.RED))}
    public = {r.source_id for r in sqlite_store.query(Viewer(agency="room"))}
    assert "suspect-link" in police  # police RED intelligence
    assert "suspect-link" not in public and "customs-ferry" not in public
    assert public == {"fmi-storm-1", "ferries-halted"}
    assert police["fire-aleksanterinkatu"].severity.value == "extreme"
    assert police["disturbance-kauppatori"].status == "closed"
    assert {r.kind for r in police.values()} >= {Kind.ALERT, Kind.INCIDENT, Kind.UNIT,
                                                 Kind.ANNOTATION}


def test_app_serves_page_health_and_geodata(sqlite_store):
    app = create_app(load_settings(), sqlite_store)
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok", "last_seq": 0}
    geodata = client.get("/geodata/ne_110m_admin_0_countries.geojson")
    assert geodata.status_code == 200 and geodata.get_json()["type"] == "FeatureCollection"
    assert client.get("/geodata/../config/sitroom.toml").status_code == 404

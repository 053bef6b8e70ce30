"""Map layers, views and styles as plain functions (the browser tests cover the drawing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import shapely

from dashboard.app import create_app
from dashboard.layers import style
from dashboard.layers.density import CELL, MAX_CELLS, cell_size, grid, shade
from dashboard.layers.registry import BY_KEY, LAYERS
from dashboard.layers.view import View, view_from_query
from dashboard.model import Incident, Marking, Unit, Viewer, utcnow
from dashboard.pages._details import details
from dashboard.settings import load_settings

POLICE = Viewer(agency="police", clearance=Marking.AMBER)


def incident(n: int, *, severity: str = "minor", hours: float = 0, marking: str = "TLP:GREEN",
             category: str = "fire", agency: str = "rescue", lon: float = 24.95,
             lat: float = 60.17) -> Incident:
    return Incident(source="test", source_id=f"i{n}", marking=marking, agency=agency,
                    title=f"Incident {n}", category=category, severity=severity,
                    time=utcnow() - timedelta(hours=hours), geometry=shapely.Point(lon, lat))


def test_a_view_survives_the_round_trip_through_its_url():
    view = View(window="custom", start=utcnow().replace(microsecond=0) - timedelta(hours=2),
                end=utcnow().replace(microsecond=0), categories=("fire", "flood"),
                severities=("severe",), agencies=("police",), statuses=("active",),
                markings=("TLP:AMBER",), layers=("incidents", "units"))
    assert view_from_query(view.to_query()) == view
    assert View().to_query() == {}


def test_what_a_url_cannot_say_is_left_at_its_default():
    view = view_from_query({"window": "fortnight", "markings": "amber,purple,TLP:RED",
                            "severities": ",severe,,severe", "layers": ""})
    assert view.window == "24h"
    assert view.markings == ("TLP:AMBER", "TLP:RED")
    assert view.severities == ("severe",)
    assert view.layers == ()
    assert view_from_query({"window": "custom", "from": "yesterday"}).window == "24h"


def test_severity_is_never_colour_alone_and_text_keeps_its_contrast():
    shapes = [s.shape for s in style.SEVERITIES]
    assert len(set(shapes)) == len(shapes)
    for s in style.SEVERITIES:
        assert style.contrast(s.text, s.colour) >= 4.5, s
    for label, colour in style.MARKING_COLOURS.items():
        assert style.contrast(colour, "#000000") >= 4.5, label
    assert style.contrast("#ffffff", "#000000") == 21.0


def test_every_layer_declares_its_legend_and_a_unique_component():
    assert len({layer.key for layer in LAYERS}) == len(LAYERS)
    for layer in LAYERS:
        assert layer.legend(), layer.key
        assert layer.component("light-map") is not None
    incident_keys = {entry.key for entry in BY_KEY["incidents"].legend()}
    assert set(style.SEVERITY_KEYS) <= incident_keys


def test_record_layers_apply_the_view_and_the_viewer(sqlite_store):
    sqlite_store.write_many([
        incident(1, severity="severe"),
        incident(2, severity="minor", hours=3),
        incident(3, severity="severe", marking="TLP:RED", agency="customs"),
        incident(4, severity="moderate", category="flood", marking="TLP:AMBER"),
        Unit(source="test", source_id="u1", marking="TLP:GREEN", agency="police",
             callsign="P-1", geometry=shapely.Point(24.94, 60.17)),
    ], actor="test")
    layer, now = BY_KEY["incidents"], utcnow()

    def titles(view: View) -> set[str]:
        return {f["properties"]["title"] for f in layer.features(sqlite_store, POLICE, view, now)}

    assert titles(View()) == {"Incident 1", "Incident 2", "Incident 4"}  # not RED customs
    assert titles(View(window="1h")) == {"Incident 1", "Incident 4"}
    assert titles(View(severities=("severe",))) == {"Incident 1"}
    assert titles(View(markings=("TLP:AMBER",))) == {"Incident 4"}
    assert titles(View(categories=("flood",), window="all")) == {"Incident 4"}
    assert titles(View(bbox=(0.0, 0.0, 1.0, 1.0))) == set()
    units = BY_KEY["units"].features(sqlite_store, POLICE, View(severities=("severe",)), now)
    assert [f["properties"]["title"] for f in units] == ["P-1"]  # severity is not a unit's


def test_the_density_grid_counts_each_point_once_and_shades_by_quarters():
    points = [[24.9501, 60.1701]] * 8 + [[24.9601, 60.1801]] * 2
    cells = grid(points)
    assert sorted(c["properties"]["count"] for c in cells) == [2, 8]
    assert {c["properties"]["count"]: c["properties"]["shade"] for c in cells} == {8: 3, 2: 0}
    assert [shade(n, 100) for n in (1, 25, 26, 50, 51, 100)] == [0, 0, 1, 1, 2, 3]
    assert cell_size(points) == CELL
    wide = [[0.0, 0.0], [CELL[0] * MAX_CELLS * 3, 0.0]]
    assert cell_size(wide) == (CELL[0] * 4, CELL[1] * 4)  # coarser, never tens of thousands


def test_the_layers_api_serves_each_layer_for_a_view(sqlite_store):
    sqlite_store.write_many([incident(1, severity="severe"), incident(2, hours=30)], actor="t")
    client = create_app(load_settings(), sqlite_store).server.test_client()
    seen = "agency=police&clearance=TLP:GREEN"
    assert client.get("/api/v1/layers/incidents?window=all").get_json()["features"] == []
    body = client.get(f"/api/v1/layers/incidents?{seen}&window=all").get_json()
    assert len(body["features"]) == 2
    assert len(client.get(f"/api/v1/layers/incidents?{seen}").get_json()["features"]) == 1
    assert client.get("/api/v1/layers/incidents?bbox=1,2,3").status_code == 400
    assert client.get("/api/v1/layers/incidents?clearance=TLP:PURPLE").status_code == 400
    assert client.get("/api/v1/layers/nothing").status_code == 404
    places = client.get("/api/v1/layers/infrastructure").get_json()["features"]
    assert {"hospital", "police", "fire_station"} <= {f["properties"]["kind"] for f in places}
    density = client.get(f"/api/v1/layers/density?{seen}&window=all").get_json()["features"]
    assert sum(f["properties"]["count"] for f in density) == 2
    for page in ("/", "/wall", "/tablet"):
        assert client.get(page).status_code == 200


def test_details_show_marking_sources_and_every_version(sqlite_store):
    sqlite_store.write(incident(1, severity="minor"), actor="first")
    sqlite_store.write(replace_version(incident(1, severity="extreme")), actor="second")
    record = sqlite_store.get(POLICE, incident(1).id)
    text = str(details(record, sqlite_store.history(POLICE, record.id)))
    assert "TLP:GREEN" in text and "marking-green" in text
    assert "created by first" in text and "updated by second" in text
    assert "test · i1 · version 2" in text


def replace_version(record: Incident) -> Incident:
    return record.model_copy(update={"version": "2"})


def test_layer_defaults_follow_the_view():
    assert BY_KEY["density"].is_on(View()) is False
    assert BY_KEY["incidents"].is_on(View()) is True
    assert BY_KEY["incidents"].is_on(replace(View(), layers=("units",))) is False

"""The feed runner against a real local HTTP server: what lands in the store, what health says."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from dashboard.feeds.config import FeedConfig, FeedConfigError, load_feeds
from dashboard.feeds.geojson import PART_ITEMS
from dashboard.feeds.runner import FeedRunner
from dashboard.model import Incident, Marking, Viewer, utcnow
from tests.support.feedserver import FeedServer, Route

DATA = Path(__file__).parent / "data"
USGS = (DATA / "geojson" / "all_hour_2017-12-03.geojson").read_bytes()
ALL = Viewer(agency="usgs", clearance=Marking.RED)


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def http():
    server = FeedServer().start()
    yield server
    server.stop()


def feed(http: FeedServer, path: str, **fields) -> FeedConfig:
    return FeedConfig(**{"name": path.strip("/").replace("/", "-"), "type": "usgs",
                         "url": http.url + path, "agency": "usgs", "marking": "TLP:CLEAR",
                         "interval": 60, "retries": 2, "timeout": 2, **fields})


def runner_for(store, *feeds: FeedConfig) -> FeedRunner:
    return FeedRunner(store, list(feeds), backoff_base=0.01)


def test_a_feed_lands_and_an_unchanged_feed_costs_a_304(http, store):
    http.routes["/usgs"] = Route(USGS)
    usgs = feed(http, "/usgs")
    runner = runner_for(store, usgs)
    assert runner.poll(usgs) == 60
    health = runner.states["usgs"].health
    assert (health.status, health.created, health.refused) == ("green", 8, 0)
    assert store.count(ALL) == 8
    runner.poll(usgs)
    second = http.hits("/usgs")[-1]
    assert second.get("If-None-Match")  # conditional GET, answered 304
    assert health.created == 8 and health.duplicate == 0 and store.last_seq() == 8
    saved, = store.feed_health()
    assert saved["name"] == "usgs" and saved["status"] == "green"
    assert saved["lag_seconds"] < 5


def test_a_changed_feed_updates_what_changed_and_nothing_else(http, store):
    http.routes["/usgs"] = Route(USGS)
    usgs = feed(http, "/usgs")
    runner = runner_for(store, usgs)
    runner.poll(usgs)
    document = json.loads(USGS)
    document["features"][0]["properties"].update(updated=1512342999999, mag=2.5)
    http.routes["/usgs"] = Route(json.dumps(document).encode())
    runner.poll(usgs)
    health = runner.states["usgs"].health
    assert (health.created, health.updated, health.duplicate) == (8, 1, 7)


def test_server_errors_are_retried_then_reported_and_the_data_stays(http, store):
    http.routes["/usgs"] = Route(USGS)
    usgs = feed(http, "/usgs")
    runner = runner_for(store, usgs)
    runner.poll(usgs)
    http.routes["/usgs"] = Route(b"down", status=500)
    before = len(http.hits("/usgs"))
    delays = [runner.poll(usgs) for _ in range(3)]
    health = runner.states["usgs"].health
    assert len(http.hits("/usgs")) - before == 3 * (usgs.retries + 1)
    assert health.status == "red" and health.consecutive_failures == 3
    assert health.last_error.startswith("HTTP 500 from http://127.0.0.1")
    assert delays[0] < delays[1] < delays[2]  # backing off
    assert store.count(ALL) == 8  # stale, not deleted
    http.routes["/usgs"] = Route(USGS)
    assert runner.poll(usgs) == 60
    assert health.status == "green" and health.consecutive_failures == 0


@pytest.mark.parametrize("route, error", [
    (Route(USGS, delay=1.5), "timed out after 0.5 s"),
    (Route(b"<html>Service temporarily unavailable</html>", content_type="text/html"),
     "document refused: not JSON"),
    (Route(b"x" * 5000), "over the feed's limit of 2048 bytes"),
    (Route(b"gone", status=404), "HTTP 404"),
])
def test_bad_answers_fail_the_feed_clearly(http, store, route, error):
    http.routes["/bad"] = route
    bad = feed(http, "/bad", timeout=0.5, max_bytes=2048, retries=0)
    runner = runner_for(store, bad)
    runner.poll(bad)
    health = runner.states["bad"].health
    assert health.status == "amber" and error in health.last_error


def test_a_4xx_is_not_retried(http, store):
    http.routes["/gone"] = Route(b"", status=404)
    gone = feed(http, "/gone", retries=3)
    runner_for(store, gone).poll(gone)
    assert len(http.hits("/gone")) == 1


def test_bad_items_are_refused_and_the_rest_lands(http, store):
    document = json.loads(USGS)
    document["features"][2]["geometry"]["coordinates"] = [-122.0, 95.0, 1.0]
    http.routes["/usgs"] = Route(json.dumps(document).encode())
    usgs = feed(http, "/usgs")
    runner = runner_for(store, usgs)
    runner.poll(usgs)
    health = runner.states["usgs"].health
    assert (health.status, health.created, health.refused) == ("amber", 7, 1)
    assert "latitude out of range" in health.recent_problems[0]


def test_a_poll_of_several_parts_lands_every_part_and_counts_each_refusal(http, store):
    """Bigger than one part (PART_ITEMS features): written while parsed (pipeline.py)."""
    template = json.loads(USGS)["features"][0]
    features = []
    for i in range(2 * PART_ITEMS + 50):
        feature = json.loads(json.dumps(template))
        feature["id"] = f"nc{i:08d}"
        feature["geometry"]["coordinates"][:2] = [i % 360 - 180, i % 180 - 90]
        features.append(feature)
    features[PART_ITEMS + 1]["geometry"]["coordinates"][1] = 95.0  # in the second part
    http.routes["/usgs"] = Route(json.dumps({"type": "FeatureCollection",
                                             "features": features}).encode())
    usgs = feed(http, "/usgs")
    runner = runner_for(store, usgs)
    runner.poll(usgs)
    health = runner.states["usgs"].health
    assert (health.status, health.created, health.refused) == ("amber", 2 * PART_ITEMS + 49, 1)
    assert health.recent_problems[0].startswith(f"item {PART_ITEMS + 1} (nc{PART_ITEMS + 1:08d})")


def test_a_crashing_adapter_never_stops_the_others(http, store, monkeypatch):
    import dashboard.feeds as feeds

    http.routes["/usgs"] = Route(USGS)
    http.routes["/broken"] = Route(USGS)
    good = feed(http, "/usgs", interval=1)
    broken = feed(http, "/broken", type="geojson", interval=1)

    def explode(data, defaults):
        raise RuntimeError("adapter bug")

    monkeypatch.setitem(feeds.FORMATS, "geojson", explode)
    runner = runner_for(store, good, broken)
    runner.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (
            runner.states["usgs"].health.last_success
            and runner.states["broken"].health.consecutive_failures):
        time.sleep(0.1)
    runner.stop()
    assert runner.states["usgs"].health.status == "green"
    assert runner.states["broken"].health.last_error == "RuntimeError: adapter bug"
    assert store.count(ALL) == 8


def test_a_watched_folder_ingests_each_file_once(store, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "quakes.geojson").write_bytes(USGS)
    (drop / "notes.txt").write_text("not a feed")
    (drop / "half.geojson.part").write_text("{")
    old = time.time() - 10
    for path in drop.iterdir():
        os.utime(path, (old, old))
    folder = FeedConfig(name="drop", type="folder", path=drop, agency="police",
                        marking="TLP:GREEN", interval=5)
    runner = runner_for(store, folder)
    runner.poll(folder)
    health = runner.states["drop"].health
    assert (health.created, health.refused) == (8, 1)
    assert (drop / "processed" / "quakes.geojson").exists()
    reason = (drop / "refused" / "notes.txt.reason.txt").read_text()
    assert "cannot tell the format" in reason
    assert (drop / "half.geojson.part").exists()  # still being written: left alone
    runner.poll(folder)
    assert health.created == 8 and store.last_seq() == 8


def test_expired_records_leave_the_map_once(store):
    now = utcnow()
    store.write_many([
        Incident(source="x", source_id="old", marking="CLEAR", agency="usgs",
                 expires=now - timedelta(seconds=1)),
        Incident(source="x", source_id="new", marking="CLEAR", agency="usgs",
                 expires=now + timedelta(hours=1)),
    ], actor="t")
    runner = runner_for(store)
    assert runner.sweep_expired() == 1
    assert runner.sweep_expired() == 0
    assert [r.source_id for r in store.query(ALL)] == ["new"]


def test_feeds_toml_errors_name_the_feed_and_field(tmp_path):
    path = tmp_path / "feeds.toml"
    path.write_text('[[feeds]]\nname = "a"\ntype = "usgs"\nagency = "x"\nmarking = "CLEAR"\n')
    with pytest.raises(FeedConfigError, match="feed a: give exactly one of url or path"):
        load_feeds(path)
    path.write_text('[[feeds]]\nname = "a"\ntype = "telex"\nurl = "http://x"\n'
                    'agency = "x"\nmarking = "CLEAR"\n')
    with pytest.raises(FeedConfigError, match="feed a: type:"):
        load_feeds(path)
    path.write_text('[[feeds]]\nname = "a"\ntype = "usgs"\nurl = "http://x"\n'
                    'agency = "x"\nmarking = "PURPLE"\n')
    with pytest.raises(FeedConfigError, match="feed a: marking: unknown marking"):
        load_feeds(path)


def test_the_shipped_feeds_toml_is_valid():
    feeds = load_feeds(Path(__file__).parent.parent / "config" / "feeds.toml")
    assert {f.type for f in feeds} >= {"folder", "usgs", "georss", "cap-index"}
    assert [f.name for f in feeds if f.enabled] == ["drop-folder"]


CAP = (DATA / "cap" / "valid" / "thunderstorm_polygon_geocode.xml").read_bytes()
CANCEL = (CAP.replace(b"<identifier>KSTO1055887203</identifier>",
                      b"<identifier>KSTO1055887299</identifier>")
          .replace(b"<msgType>Alert</msgType>",
                   b"<msgType>Cancel</msgType><references>KSTO@NWS.NOAA.GOV,KSTO1055887203,"
                   b"2003-06-17T14:57:00-07:00</references>")
          .replace(b"<sent>2003-06-17T14:57:00-07:00</sent>",
                   b"<sent>2003-06-17T15:30:00-07:00</sent>"))


def atom(*links: str) -> bytes:
    entries = "".join(f"<entry><id>{u}</id><title>alert</title><updated>2026-11-25T08:00:00Z"
                      f"</updated><link href='{u}'/></entry>" for u in links)
    return (f"<feed xmlns='http://www.w3.org/2005/Atom'><id>x</id><title>CAP</title>"
            f"<updated>2026-11-25T08:00:00Z</updated>{entries}</feed>").encode()


def test_a_cap_index_is_followed_and_a_cancel_takes_the_alert_off_the_map(http, store):
    http.routes["/cap/1.xml"] = Route(CAP, content_type="application/cap+xml")
    http.routes["/index.atom"] = Route(atom(http.url + "/cap/1.xml", http.url + "/cap/gone.xml"),
                                       content_type="application/atom+xml")
    index = feed(http, "/index.atom", name="nws", type="cap-index", kind="alert")
    runner = runner_for(store, index)
    runner.poll(index)
    health = runner.states["nws"].health
    assert (health.created, health.refused, health.status) == (1, 1, "amber")
    assert "HTTP 404" in health.recent_problems[0]
    alert, = store.query(ALL)
    assert alert.infos[0].event == "SEVERE THUNDERSTORM" and alert.geometry is not None
    # the same index again: the alert already fetched is not fetched again
    fetched = len(http.hits("/cap/1.xml"))
    http.routes["/index.atom"] = Route(atom(http.url + "/cap/1.xml", http.url + "/cap/2.xml"))
    http.routes["/cap/2.xml"] = Route(CANCEL, content_type="application/cap+xml")
    runner.poll(index)
    assert len(http.hits("/cap/1.xml")) == fetched
    assert health.removed == 1 and store.query(ALL) == []
    history = store.history(ALL, alert.id)
    assert [e.action.value for e in history] == ["created", "removed"]
    assert "CAP Cancel KSTO@NWS.NOAA.GOV,KSTO1055887299" in history[-1].payload["reason"]
    runner.states["nws"].links_done.clear()  # polled again from scratch: nothing new
    runner.poll(index)
    assert health.removed == 1 and store.query(ALL) == []


def test_hostile_xml_is_refused_and_reads_nothing(http, store, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    hostile = (f'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY s SYSTEM "file://{secret}">]>'
               f'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&s;'
               f'</identifier></alert>').encode()
    http.routes["/evil.xml"] = Route(hostile, content_type="application/xml")
    evil = feed(http, "/evil.xml", name="evil", type="cap", kind="alert")
    runner = runner_for(store, evil)
    runner.poll(evil)
    health = runner.states["evil"].health
    assert "DTD" in health.last_error and store.last_seq() == 0


def test_a_server_that_ignores_etags_still_creates_nothing_new(http, store):
    http.routes["/usgs"] = Route(USGS, etag=False)
    usgs = feed(http, "/usgs")
    runner = runner_for(store, usgs)
    runner.poll(usgs)
    runner.poll(usgs)
    health = runner.states["usgs"].health
    assert (health.created, health.duplicate) == (8, 8) and store.last_seq() == 8


def test_feed_health_is_served_by_the_api(http, store):
    from dashboard.server import build
    from dashboard.settings import load_settings

    http.routes["/usgs"] = Route(USGS)
    usgs = feed(http, "/usgs")
    runner_for(store, usgs).poll(usgs)
    client = build(load_settings(), store, async_mode="threading").app.server.test_client()
    feeds = client.get("/api/v1/feeds").get_json()["feeds"]
    assert [(f["name"], f["status"], f["created"]) for f in feeds] == [("usgs", "green", 8)]
    page = client.get("/feeds")
    assert page.status_code == 200

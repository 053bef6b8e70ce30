"""The live hub and the JSON API, against a real `sitroom serve` (gevent) and real screens."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import time

import httpx
import pytest
import socketio

from dashboard.model import Marking, Viewer
from tests.support.live import SITROOM, Screen, ServeProcess, post_report
from tests.support.postgres import free_port

CLEARANCES = [("public", None), ("police", "TLP:AMBER"), ("customs", "TLP:RED")]
AGENCIES = ["police", "customs", "rescue"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("live")
    process = ServeProcess(workdir, env={"SITROOM_LIVE_LAG_SECONDS": "1.5"}).wait_ready()
    yield process
    process.stop()


def viewer_of(agency: str, clearance: str | None) -> Viewer:
    return Viewer(agency=agency, clearance=clearance or Marking.CLEAR)


def test_every_screen_gets_what_it_may_see_in_order_and_nothing_else(server):
    screens = [Screen(server.url, agency, clearance).connect()
               for agency, clearance in CLEARANCES for _ in range(5)]
    assert all(s.wait_for(lambda s: s.cursor is not None) for s in screens)
    start = max(s.cursor for s in screens)
    rng = random.Random(4)
    written = []
    for i in range(60):
        marking = rng.choice(list(Marking))
        agency = rng.choice(AGENCIES)
        response = post_report(server.url, 24.9 + i / 1000, 60.17, marking=marking.label,
                               agency=agency, title=f"swarm {i}")
        assert response.status_code == 201, response.text
        written.append((response.json()["seq"], response.json()["id"], marking, agency))
    for screen in screens:
        viewer = viewer_of(screen.auth["agency"], screen.auth["clearance"])
        expected = [seq for seq, _, m, a in written if viewer.can_see(m, a)]
        assert screen.wait_for(lambda s, e=expected: [x for x in s.seen if x > start] == e), (
            viewer, screen.seen, expected)
        visible_ids = {i for _, i, m, a in written if viewer.can_see(m, a)}
        invisible_ids = {i for _, i, m, a in written} - visible_ids
        assert visible_ids <= set(screen.features)
        assert not invisible_ids & set(screen.features)
        assert all(viewer.can_see(Marking.parse(f["properties"]["marking"]),
                                  f["properties"]["agency"]) for f in screen.features.values())
        assert screen.errors == []
    for screen in screens:
        screen.disconnect()


def test_a_large_non_ascii_batch_reaches_every_screen_intact(server):
    # Frames above 1 KB are encoded once and shared by every screen (transport.py); orjson
    # writes UTF-8 as is: each screen must still decode exactly what was written.
    screens = [Screen(server.url, "police", "TLP:RED").connect() for _ in range(4)]
    assert all(s.wait_for(lambda s: s.cursor is not None) for s in screens)
    title = ("Räjähdys – 火災 – пожар " * 40).strip()  # the batch is well over 1 KB
    written = post_report(server.url, 24.91, 60.18, title=title).json()
    for screen in screens:
        assert screen.wait_for(lambda s: written["id"] in s.features), screen.errors
        assert screen.features[written["id"]]["properties"]["title"] == title
        screen.disconnect()


def test_a_screen_back_from_a_disconnect_gets_exactly_what_it_missed(server):
    screen = Screen(server.url, "police", "TLP:RED").connect()
    assert screen.wait_for(lambda s: s.cursor is not None)
    cursor = screen.cursor
    screen.disconnect()
    seqs = [post_report(server.url, 24.95, 60.16, title=f"missed {i}").json()["seq"]
            for i in range(100)]
    back = Screen(server.url, "police", "TLP:RED")
    back.cursor = cursor  # it keeps its picture and its cursor across the reconnect
    back.features = dict(screen.features)
    back.connect(cursor=cursor)
    assert back.wait_for(lambda s: s.seen == seqs), back.seen
    assert back.snapshots == 0  # caught up from the log, not reloaded
    back.disconnect()


def test_a_screen_that_stops_reading_does_not_delay_the_others(server):
    stuck = socketio.Client(reconnection=False)
    blocked = []

    def never_returns(_msg):  # the client's reader is stuck from the first batch on
        blocked.append(True)
        time.sleep(30)

    stuck.on("batch", never_returns, namespace="/cop")
    stuck.connect(server.url, namespaces=["/cop"], transports=["websocket"],
                  auth={"agency": "police", "clearance": "TLP:RED"})
    healthy = Screen(server.url, "police", "TLP:RED").connect()
    assert healthy.wait_for(lambda s: s.cursor is not None)
    latencies = []
    for i in range(30):
        t0 = time.monotonic()
        seq = post_report(server.url, 24.95, 60.16, title=f"burst {i}",
                          description="x" * 2000).json()["seq"]
        assert healthy.wait_for(lambda s, q=seq: s.cursor >= q, timeout=2)
        latencies.append(time.monotonic() - t0)
    assert max(latencies) < 1.0, latencies
    deadline = time.monotonic() + 10
    lagging = 0.0
    while time.monotonic() < deadline and lagging < 1:
        metrics = httpx.get(server.url + "/metrics").text
        lagging = float(next(line.split()[1] for line in metrics.splitlines()
                             if line.startswith("sitroom_live_lagging_clients ")))
        time.sleep(0.2)
    assert blocked and lagging >= 1
    healthy.disconnect()
    stuck.disconnect()


def test_bad_socket_input_gets_a_clear_error_and_the_connection_stays_usable(server):
    refused = Screen(server.url, "police", "TLP:PURPLE")
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect()
    assert "clearance: unknown marking" in refused.errors[0]
    bad_cursor = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        bad_cursor.connect(server.url, namespaces=["/cop"], transports=["websocket"],
                           auth={"cursor": "yesterday"})
    screen = Screen(server.url, "police", "TLP:AMBER").connect()
    assert screen.wait_for(lambda s: s.cursor is not None)
    call = screen.client.call
    assert call("ack", {"cursor": "x"}, namespace="/cop") == {"error": "ack needs {cursor: int}"}
    assert call("ack", ["not", "a", "dict"], namespace="/cop")["error"]
    assert "resync needs" in call("resync", {"cursor": -5}, namespace="/cop")["error"]
    screen.client.emit("no-such-event", {"x": 1}, namespace="/cop")
    seq = post_report(server.url, 24.95, 60.16, title="still alive").json()["seq"]
    assert screen.wait_for(lambda s: s.cursor >= seq)
    assert call("resync", {"cursor": None}, namespace="/cop") == {"ok": True}
    assert screen.wait_for(lambda s: s.snapshots == 2)
    screen.disconnect()


# ------------------------------------------------------------------ the JSON API

def test_post_report_is_idempotent_with_a_key(server):
    first = post_report(server.url, 24.93, 60.17, key="phone-42-1", title="Gas smell")
    again = post_report(server.url, 24.93, 60.17, key="phone-42-1", title="Gas smell")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["action"] == "created"
    assert again.headers["Idempotent-Replayed"] == "true"
    events = httpx.get(server.url + "/api/v1/events",
                       params={"after": first.json()["seq"] - 1},
                       headers={"X-Sitroom-Agency": "police",
                                "X-Sitroom-Clearance": "TLP:RED"}).json()
    assert [e["entity_id"] for e in events["events"]].count(first.json()["id"]) == 1


@pytest.mark.parametrize("body, headers, status, message", [
    (b"{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
    (b"<report/>", {"Content-Type": "application/xml"}, 415, "application/json"),
    (json.dumps({"type": "FeatureCollection"}), None, 422, "expected a GeoJSON Feature"),
    (json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                 "properties": {"agency": "police"}}), None, 422, "properties.marking"),
    (json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 200]},
                 "properties": {"agency": "police", "marking": "GREEN"}}), None, 422,
     "latitude out of range"),
    (json.dumps({"type": "Feature", "geometry": None,
                 "properties": {"agency": "police", "marking": "GREEN"}}), None, 422,
     "needs a location"),
    (json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                 "properties": {"agency": "police", "marking": "GREEN", "x": 1}}), None, 422,
     "unknown field(s) x"),
    (json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                 "properties": {"agency": "police", "marking": "GREEN"}}),
     {"Idempotency-Key": "x" * 300}, 400, "Idempotency-Key"),
    (b"{" + b'"a": "' + b"x" * 2_000_000 + b'"}', None, 413, "larger than the limit"),
])
def test_post_report_refuses_bad_input_clearly(server, body, headers, status, message):
    sent = {"Content-Type": "application/json", **(headers or {})}
    response = httpx.post(server.url + "/api/v1/reports", content=body, headers=sent)
    assert response.status_code == status
    assert message in response.json()["error"]


@pytest.mark.parametrize("query, message", [
    ("after=abc", "after must be an integer"), ("after=-1", "after must be >= 0"),
    ("limit=0", "limit must be 1..5000"), ("limit=99999", "limit must be 1..5000"),
])
def test_get_events_refuses_bad_parameters(server, query, message):
    response = httpx.get(f"{server.url}/api/v1/events?{query}")
    assert response.status_code == 400 and message in response.json()["error"]


def test_events_are_filtered_by_the_stated_viewer(server):
    secret = post_report(server.url, 24.9, 60.1, marking="TLP:RED", agency="customs").json()
    after = {"after": secret["seq"] - 1}
    public = httpx.get(server.url + "/api/v1/events", params=after).json()
    customs = httpx.get(server.url + "/api/v1/events", params=after,
                        headers={"X-Sitroom-Agency": "customs",
                                 "X-Sitroom-Clearance": "RED"}).json()
    assert public["events"] == [] and customs["events"][0]["entity_id"] == secret["id"]
    bad = httpx.get(server.url + "/api/v1/events", headers={"X-Sitroom-Clearance": "TOP"})
    assert bad.status_code == 400 and "clearance" in bad.json()["error"]


def test_unknown_api_paths_are_json_404(server):
    response = httpx.get(server.url + "/api/v1/nothing-here")
    assert response.status_code == 404 and "no such endpoint" in response.json()["error"]


def test_health_and_metrics(server):
    assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
    metrics = httpx.get(server.url + "/metrics").text
    for name in ("sitroom_live_clients", "sitroom_live_events_total",
                 "sitroom_live_frames_total", "sitroom_live_lagging_clients",
                 "sitroom_live_push_latency_seconds_bucket"):
        assert name in metrics


# ------------------------------------------------------------------ two processes, one Redis

@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_a_report_through_one_process_reaches_a_screen_of_another(tmp_path, redis_url):
    env = {"SITROOM_MESSAGE_QUEUE": redis_url, "SITROOM_LIVE_POLL": "30",
           "SITROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    a = ServeProcess(tmp_path, env).wait_ready()
    b = ServeProcess(tmp_path, env).wait_ready()
    try:
        screen = Screen(b.url, "police", "TLP:AMBER").connect()
        assert screen.wait_for(lambda s: s.cursor is not None)
        t0 = time.monotonic()
        written = post_report(a.url, 24.94, 60.17, title="via A").json()
        assert screen.wait_for(lambda s: written["id"] in s.features, timeout=2)
        assert time.monotonic() - t0 < 1.0  # a wake-up, not the 30 s poll
        # a separate writing process (here `sitroom ingest`, later feed workers) wakes them too
        path = tmp_path / "one.geojson"
        path.write_text(json.dumps({"type": "Feature", "id": "ingested-1", "properties": {
            "title": "From a file", "agency": "police"},
            "geometry": {"type": "Point", "coordinates": [24.95, 60.17]}}))
        ingest = subprocess.run([SITROOM, "ingest", str(path)], cwd=tmp_path, timeout=60,
                                env={**os.environ, **env}, capture_output=True, text=True)
        assert ingest.returncode == 0, ingest.stderr
        assert screen.wait_for(lambda s: any(f["properties"]["title"] == "From a file"
                                             for f in s.features.values()), timeout=2)
        screen.disconnect()
    finally:
        a.stop()
        b.stop()


def test_the_cop_page_is_served(server):
    page = httpx.get(server.url + "/?agency=police&clearance=TLP:AMBER")
    assert page.status_code == 200 and "sitroom_live.js" in page.text
    assert "socket.io.min.js" in page.text


def test_the_demo_is_alive_within_30_seconds(tmp_path):
    started = time.monotonic()
    demo = ServeProcess(tmp_path, command="demo").wait_ready()
    try:
        screen = Screen(demo.url, "police", "TLP:RED").connect()
        left = 30 - (time.monotonic() - started)

        def busy(s: Screen) -> bool:
            kinds = {f["properties"]["kind"] for f in s.features.values()}
            return len(s.features) >= 10 and {"alert", "incident", "unit"} <= kinds

        assert screen.wait_for(busy, timeout=left), screen.features
        moved_from = screen.cursor
        assert screen.wait_for(lambda s: s.cursor > moved_from, timeout=5)  # still unfolding
        screen.disconnect()
    finally:
        demo.stop()


def test_an_idle_hub_sends_a_lone_event_at_once_not_after_a_tick(tmp_path):
    # A 2 s tick: a lone event held back until "the next tick" would take well over a second.
    # Polls (every 0.2 s here) find nothing; they must not count as flushes that start a tick.
    hub = ServeProcess(tmp_path, env={"SITROOM_LIVE_TICK": "2",
                                      "SITROOM_LIVE_POLL": "0.2"}).wait_ready()
    try:
        screen = Screen(hub.url, "police", "TLP:AMBER").connect()
        assert screen.wait_for(lambda s: s.cursor is not None)
        for i in range(2):
            time.sleep(2.2)  # idle for longer than a tick, through several empty polls
            t0 = time.monotonic()
            seq = post_report(hub.url, 24.94, 60.17, title=f"lone {i}").json()["seq"]
            assert screen.wait_for(lambda s, q=seq: s.cursor >= q, timeout=5)
            assert time.monotonic() - t0 < 1.0, f"lone event {i} waited for the tick"
        screen.disconnect()
    finally:
        hub.stop()


def test_a_cursor_from_the_future_gets_a_snapshot(server):
    screen = Screen(server.url, "police", "TLP:AMBER").connect(cursor=10**9)
    assert screen.wait_for(lambda s: s.snapshots == 1)
    screen.disconnect()

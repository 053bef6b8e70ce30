"""Benchmark of the wall with a big store: first paint, first incidents drawn, bytes, one delta.

Run from the repository root (wrap in `flock /tmp/sitroom-bench.lock` on a shared machine):

    python bench/bench_screens.py [--incidents 100000]

It writes N incidents (random points over the Helsinki region, times over the last 24 h, so all
of them are in the wall's window) into a fresh SQLite store, starts `sitroom serve` on it, opens
/wall at 1920x1080 in headless Chromium and measures, through the performance API and the
DevTools protocol: first contentful paint, the time until the incidents are drawn on the map
(clustered) and the density grid is built, bytes received for the first load (HTTP and socket),
and for one pushed report the bytes of its delta and the time from its arrival to the screen
being redrawn. It also times the hub's snapshot path (Store.features, wrapped as the frames
embed them) on its own, since a new screen waits for it. Figures go to stdout, progress to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import random
import tempfile
import time
from datetime import timedelta

import orjson
import shapely

from bench.common import machine_load, print_table, progress_printer, say
from dashboard.model import Incident, Marking, Viewer, utcnow
from dashboard.store import Query, migrate, open_store
from tests.support.live import ServeProcess, post_report
from tests.test_browser import CHROMIUM

SEED = 20261125
EXTENT = (24.6, 60.1, 25.3, 60.35)  # Helsinki region (lon/lat)
CATEGORIES = ("fire", "flood", "traffic", "medical", "public-order", "storm-damage")
SEVERITIES = ("extreme", "severe", "moderate", "minor", "unknown")
AGENCIES = ("police", "rescue", "health", "port")
WALL = "/wall?window=all&layers="
LAYERS = "alerts,density,infrastructure,units,incidents"

FIRST_PAINT_TARGET_S = 2.0
DELTA_BYTES_TARGET = 1024
DELTA_MS_TARGET = 100.0

# In the page: when a batch arrives (before the app handles it) and when the screen has redrawn.
HOOK_JS = """() => {
  window.__bench = {arrived: null, rendered: null};
  const live = window.sitroom.live, screen = window.sitroom.screen;
  live.socket.prependAny((event) => {
    if (event !== 'batch') { return; }
    window.__bench.arrived = performance.now();
    const before = screen.rendered;
    const wait = () => {
      if (screen.rendered === before) { requestAnimationFrame(wait); return; }
      // the render ran; the next frame shows what React and Leaflet made of it
      requestAnimationFrame(() => requestAnimationFrame(() => {
        window.__bench.rendered = performance.now();
        window.__bench.renderMs = screen.renderMs;
      }));
    };
    requestAnimationFrame(wait);
  });
}"""


def fill(url: str, n: int) -> tuple[float, float, int]:
    store = open_store(url)
    migrate.upgrade(store.engine)
    rng = random.Random(SEED)
    now = utcnow()
    west, south, east, north = EXTENT
    records = (Incident(
        source="bench", source_id=f"i{i}", marking=rng.choice(("TLP:CLEAR", "TLP:GREEN")),
        agency=rng.choice(AGENCIES), title=f"Bench incident {i}",
        category=rng.choice(CATEGORIES), severity=rng.choice(SEVERITIES),
        time=now - timedelta(seconds=rng.uniform(0, 23 * 3600)),
        geometry=shapely.Point(rng.uniform(west, east), rng.uniform(south, north)))
        for i in range(n))
    started = time.perf_counter()
    store.write_many(records, actor="bench", progress=progress_printer(n, "incidents"))
    say(f"wrote {n:,} incidents in {time.perf_counter() - started:.1f} s")
    viewer = Viewer(agency="police", clearance=Marking.CLEAR)
    started = time.perf_counter()
    _seq, texts = store.features(viewer, Query(located=True))
    read = time.perf_counter() - started
    features = [orjson.Fragment(t) for t in texts]  # as the hub embeds them in its frames
    total = time.perf_counter() - started
    store.close()
    return read, total, len(features)


def measure(base_url: str, n: int, layers: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-quic"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        http_bytes = {"total": 0}
        ws_frames: list[int] = []
        cdp.on("Network.loadingFinished",
               lambda e: http_bytes.__setitem__("total",
                                                 http_bytes["total"] + e["encodedDataLength"]))
        cdp.on("Network.webSocketFrameReceived",
               lambda e: ws_frames.append(len(e["response"]["payloadData"].encode())))
        started = time.perf_counter()
        page.goto(base_url + WALL + layers)
        page.wait_for_function(
            f"window.sitroom?.screen?.drawn?.incidents?.length === {n} && "
            "document.querySelector('#cop-map .cluster-icon, #cop-map .incident-icon')",
            timeout=600_000, polling=100)
        drawn_at = page.evaluate("performance.now()")
        wall_clock = time.perf_counter() - started
        paint = page.evaluate(
            "Object.fromEntries(performance.getEntriesByType('paint')"
            ".map(e => [e.name, e.startTime]))")
        markers = page.evaluate(
            "document.querySelectorAll('#cop-map .cluster-icon, #cop-map .incident-icon').length")
        first_render_ms = page.evaluate("window.sitroom.screen.renderMs")
        timing = page.evaluate("window.sitroom.live.timing")
        page.wait_for_timeout(2000)  # let the first acks and the timeline settle
        first_load = {"http": http_bytes["total"], "socket": sum(ws_frames)}

        page.evaluate(HOOK_JS)
        frames_before = len(ws_frames)
        post_report(base_url, 24.95, 60.17, title="Bench delta", severity="severe",
                    agency="rescue", marking="TLP:CLEAR", category="fire")
        page.wait_for_function("window.__bench.rendered !== null", timeout=60_000, polling=10)
        delta = page.evaluate("window.__bench")
        page.wait_for_timeout(300)
        delta_frames = [b for b in ws_frames[frames_before:] if b > 50]  # not pings/acks
        browser.close()
    return {
        "fcp": paint.get("first-contentful-paint", float("nan")) / 1000,
        "drawn": drawn_at / 1000, "wall_clock": wall_clock, "markers": markers,
        "first_render_ms": first_render_ms, "connected": timing["connected"] / 1000,
        "snapshot_first": timing["snapshotFirst"] / 1000,
        "snapshot_last": timing["snapshotLast"] / 1000,
        "http_bytes": first_load["http"], "socket_bytes": first_load["socket"],
        "delta_bytes": max(delta_frames) if delta_frames else float("nan"),
        "delta_ms": delta["rendered"] - delta["arrived"], "delta_render_ms": delta["renderMs"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--layers", default=LAYERS, help="the wall's layers (URL parameter)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-screens-") as tmp:
        workdir = Path(tmp)
        (workdir / "var").mkdir()
        say(f"writing {args.incidents:,} incidents")
        read, total, count = fill(f"sqlite:///{workdir / 'var' / 'sitroom.db'}", args.incidents)
        server = ServeProcess(workdir).wait_ready(timeout=120)
        try:
            say("opening the wall in Chromium")
            m = measure(server.url, count, args.layers)
        finally:
            server.stop()
    n = f"{args.incidents // 1000}k"
    ok = lambda good: "yes" if good else "NO"  # noqa: E731
    print_table([
        ("sqlite", f"hub snapshot path: Store.features, {n} rows", f"{read:.2f} s", "", ""),
        ("sqlite", f"hub snapshot path: + wrapped for frames, {n}", f"{total:.2f} s", "", ""),
        ("wall", "first contentful paint", f"{m['fcp']:.2f} s", f"< {FIRST_PAINT_TARGET_S} s",
         ok(m["fcp"] < FIRST_PAINT_TARGET_S)),
        ("wall", f"until the {n} incidents are drawn (clustered)", f"{m['drawn']:.2f} s",
         f"< {FIRST_PAINT_TARGET_S} s", ok(m["drawn"] < FIRST_PAINT_TARGET_S)),
        ("wall", "  socket connected", f"{m['connected']:.2f} s", "", ""),
        ("wall", "  first snapshot page arrived", f"{m['snapshot_first']:.2f} s", "", ""),
        ("wall", "  last snapshot page arrived", f"{m['snapshot_last']:.2f} s", "", ""),
        ("wall", "markers + clusters on the map", f"{m['markers']:,}", "", ""),
        ("wall", "first render in the browser (filter, layers, legend, list)",
         f"{m['first_render_ms']:.0f} ms", "", ""),
        ("wall", "first load: HTTP bytes", f"{m['http_bytes'] / 1e6:.2f} MB", "", ""),
        ("wall", "first load: socket bytes (snapshot)", f"{m['socket_bytes'] / 1e6:.2f} MB",
         "", ""),
        ("wall", "one pushed delta: bytes", f"{m['delta_bytes']:.0f} B",
         f"< {DELTA_BYTES_TARGET} B", ok(m["delta_bytes"] < DELTA_BYTES_TARGET)),
        ("wall", "one pushed delta: arrival to redrawn", f"{m['delta_ms']:.0f} ms",
         f"< {DELTA_MS_TARGET:.0f} ms", ok(m["delta_ms"] < DELTA_MS_TARGET)),
        ("wall", "  of which render() in JS", f"{m['delta_render_ms']:.0f} ms", "", ""),
    ])
    print(machine_load())


if __name__ == "__main__":
    main()

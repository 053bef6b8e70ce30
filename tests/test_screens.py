"""The COP screens in a real Chromium on a real `sitroom serve`: desk, tablet and wall.

Each mode at its viewport: layers toggle, filters change what is drawn (and the server's layer
query agrees), the legend matches what is drawn, a pushed report appears, nothing is asked of
any host but ours. Screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import urlparse

import httpx
import pytest

from dashboard.model import utcnow
from tests.support.live import ServeProcess, post_report
from tests.support.screens import ScreenPage
from tests.test_browser import browser  # noqa: F401 (the shared Chromium fixture)

POLICE = "agency=police&clearance=TLP:AMBER"
DESK, TABLET, WALL = (1440, 900), (1024, 768), (1920, 1080)

REPORTS = [  # title, lon, lat, severity, category, agency, marking, hours ago
    ("Gas leak at the Cathedral steps", 24.9521, 60.1701, "severe", "cbrn", "rescue",
     "TLP:GREEN", 0),
    ("Bicycle theft on Esplanadi", 24.9440, 60.1672, "minor", "security", "police",
     "TLP:GREEN", 0),
    ("Water main burst in Kaisaniemi", 24.9470, 60.1752, "moderate", "flood", "rescue",
     "TLP:GREEN", 3),
    ("Ferry queue at the terminal", 24.9533, 60.1673, "minor", "transport", "port",
     "TLP:CLEAR", 0),
    ("Surveillance note", 24.9414, 60.1719, "severe", "intelligence", "police", "TLP:RED", 0),
]
VISIBLE_TO_POLICE_AMBER = {r[0] for r in REPORTS if r[6] != "TLP:RED"}


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    process = ServeProcess(tmp_path_factory.mktemp("screens")).wait_ready()
    now = utcnow()
    for title, lon, lat, severity, category, agency, marking, hours in REPORTS:
        when = (now - timedelta(hours=hours)).isoformat()
        assert post_report(process.url, lon, lat, title=title, severity=severity,
                           category=category, agency=agency, marking=marking,
                           time=when).status_code == 201
    yield process
    process.stop()


def test_desk_filters_layers_legend_details_and_timeline(browser, room):  # noqa: F811
    desk = ScreenPage(browser, room.url, "/", DESK, POLICE)
    desk.wait_drawn(4)
    assert desk.titles() == VISIBLE_TO_POLICE_AMBER
    assert desk.legend()["incidents"] == {"severe": "1", "moderate": "1", "minor": "2"}

    # The category filter offers what the picture holds.
    desk.page.locator("#filter-categories").click()
    offered = desk.page.locator(".dash-dropdown-content .dash-dropdown-options").inner_text()
    assert set(offered.split()) == {"cbrn", "flood", "security", "transport"}
    desk.page.keyboard.press("Escape")

    # The time window: the last hour leaves out what happened three hours ago.
    desk.page.get_by_label("Last hour").check()
    desk.wait_drawn(3)
    assert "Water main burst in Kaisaniemi" not in desk.titles()
    # A severity filter: only severe is drawn, and the legend says only severe.
    desk.page.locator("#filter-severities").get_by_label("Severe", exact=True).check()
    desk.wait_drawn(1)
    assert desk.titles() == {"Gas leak at the Cathedral steps"}
    assert desk.legend()["incidents"] == {"severe": "1"}
    url = desk.page.url
    assert "window=1h" in url and "severities=severe" in url
    # The server's query for the same URL draws the same (the browser filtered the live set).
    served = httpx.get(f"{room.url}/api/v1/layers/incidents?{urlparse(url).query}").json()
    assert {f["properties"]["title"] for f in served["features"]} == desk.titles()

    # A link reproduces the view.
    again = ScreenPage(browser, room.url, "/", DESK, urlparse(url).query)
    again.wait_drawn(1)
    assert again.page.locator("#filter-severities").get_by_label("Severe", exact=True).is_checked()
    again.close()

    # Layers toggle: the markers go, and so does their legend.
    desk.page.locator("#cop-layers").get_by_label("Incidents", exact=True).uncheck()
    desk.page.wait_for_function("!document.querySelector('#cop-map .incident-icon')")
    assert "incidents" not in desk.legend()
    desk.page.locator("#cop-layers").get_by_label("Incidents", exact=True).check()
    desk.page.locator("#cop-layers").get_by_label("Density of incidents").check()
    desk.wait_drawn(1)
    assert sum(int(n) for n in desk.wait_legend("density").values()) == 1  # one cell

    # Click on the map: details with marking banner, sources and history; timeline marks it.
    desk.page.click("#cop-map .incident-icon.severity-severe")
    details = desk.page.locator("#cop-details")
    details.locator(".details-history li").first.wait_for(timeout=5_000)
    assert "TLP:GREEN" in details.locator(".marking-banner").inner_text()
    assert "Gas leak at the Cathedral steps" in details.inner_text()
    assert "api" in details.locator(".details-sources").inner_text()
    desk.page.wait_for_function(
        "() => (document.querySelector('#cop-timeline .js-plotly-plot').layout.shapes || [])"
        ".some(s => s.type === 'line')", timeout=5_000)

    # A pushed report appears (it matches the filters: severe, just now).
    title = "Chlorine smell at Railway Square"
    post_report(room.url, 24.9440, 60.1712, title=title, severity="severe", agency="rescue",
                marking="TLP:AMBER", category="cbrn")
    desk.wait_drawn(2)
    assert title in desk.page.inner_text("#cop-list")

    # Select a span on the timeline: the map shows only what happened in it.
    desk.page.locator("#filter-clear").click()
    desk.page.get_by_label("All", exact=True).check()
    desk.wait_drawn(5)
    desk.page.wait_for_timeout(1200)  # the timeline redraws at most once a second
    box = desk.page.locator("#cop-timeline .nsewdrag").bounding_box()
    y = box["y"] + box["height"] / 2
    desk.page.mouse.move(box["x"] + 2, y)
    desk.page.mouse.down()
    desk.page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=5)
    desk.page.mouse.up()
    desk.wait_drawn(1)
    assert desk.titles() == {"Water main burst in Kaisaniemi"}
    assert "window=custom" in desk.page.url and "from=" in desk.page.url

    desk.screenshot("screens-desk")
    assert desk.outside_requests() == [], desk.outside_requests()
    assert desk.errors == []
    desk.close()


def test_tablet_drawers_touch_targets_and_layers(browser, room):  # noqa: F811
    tablet = ScreenPage(browser, room.url, "/tablet", TABLET, POLICE)
    tablet.wait_drawn(len(tablet.titles()))
    assert tablet.page.locator("#drawer-filters").bounding_box()["x"] < 0  # closed: off screen

    tablet.page.tap("#open-filters")
    tablet.page.wait_for_function(
        "document.getElementById('drawer-filters').getBoundingClientRect().x >= 0")
    tablet.page.wait_for_timeout(300)  # the drawer's slide
    small = tablet.evaluate("""() => [...document.querySelectorAll(
        '#drawer-filters label, #drawer-filters button, #drawer-filters input[type=datetime-local],'
        + ' .tablet-bar button, .leaflet-control-zoom a')]
        .map(n => [n.innerText || n.id || n.className, n.getBoundingClientRect().height])
        .filter(([, h]) => h > 0 && h < 44)""")
    assert small == [], f"touch targets under 44 px: {small}"

    # A layer off and on, from the drawer.
    places = "document.querySelectorAll('#cop-map .place-icon').length"
    assert tablet.evaluate(places) >= 2
    tablet.page.locator("#cop-layers").get_by_label("Critical infrastructure").tap()
    tablet.page.wait_for_function(f"{places} === 0")
    assert "infrastructure" not in tablet.legend()
    tablet.page.locator("#cop-layers").get_by_label("Critical infrastructure").tap()
    tablet.page.wait_for_function(f"{places} >= 2")

    # A pushed report, then its details from the list drawer.
    before = len(tablet.titles())
    title = "Fallen tree across Unioninkatu"
    post_report(room.url, 24.9505, 60.1690, title=title, severity="moderate", agency="rescue",
                category="storm-damage")
    tablet.wait_drawn(before + 1)
    tablet.page.tap("#open-side")
    tablet.page.locator("#cop-list .incident", has_text=title).tap()
    tablet.page.locator("#cop-details .details-history li").first.wait_for(timeout=5_000)
    tablet.page.wait_for_timeout(300)
    tablet.screenshot("screens-tablet")
    tablet.page.tap("#open-legend")
    tablet.page.wait_for_timeout(300)
    tablet.screenshot("screens-tablet-legend")
    assert tablet.outside_requests() == [], tablet.outside_requests()
    assert tablet.errors == []
    tablet.close()


CONTRAST_JS = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = v => (v /= 255) <= 0.03928 ? v / 12.92 :
      Math.pow((v + 0.055) / 1.055, 2.4); return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = node => { for (; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.8)) { return c.slice(0, 3); } }
    return [16, 20, 24]; };
  const out = [];
  for (const node of document.querySelectorAll(
      '.cop-header *, .screen-side *, .cluster-icon span, .unit-icon span')) {
    const own = [...node.childNodes].some(c => c.nodeType === 3 && c.textContent.trim());
    const box = node.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) { continue; }
    const style = getComputedStyle(node);
    const [a, b] = [lum(rgb(style.color)), lum(background(node))].sort((x, y) => y - x);
    out.push({text: node.textContent.trim().slice(0, 30), size: parseFloat(style.fontSize),
              contrast: (a + 0.05) / (b + 0.05)});
  }
  return out;
}"""


def test_wall_is_a_legible_kiosk_that_recovers_by_itself(browser, room):  # noqa: F811
    wall = ScreenPage(browser, room.url, "/wall", WALL,
                      POLICE + "&window=all&layers=alerts,density,infrastructure,incidents")
    visible = len(wall.titles())
    wall.wait_drawn(visible)
    assert wall.evaluate(
        "[...document.querySelectorAll('input, select, button, a')]"
        ".filter(n => n.getBoundingClientRect().width > 0"
        " && !n.closest('.leaflet-control-attribution')).length") == 0
    legend = wall.legend()
    assert set(legend) == {"density", "infrastructure", "incidents"}  # no alert, so no alert key
    assert sum(int(n) for n in legend["incidents"].values() if n) == visible
    assert wall.drawn("density")["data"] >= 1
    assert wall.evaluate("window.sitroom.screen.lastFit") is not None  # fitted to the activity

    texts = wall.evaluate(CONTRAST_JS)
    assert texts, "no text found on the wall"
    small = [t for t in texts if t["size"] < 24]
    faint = [t for t in texts if t["contrast"] < 4.5]
    assert small == [], f"text under 24 px on the wall: {small}"
    assert faint == [], f"contrast under 4.5:1 on the wall: {faint}"
    assert wall.evaluate("document.querySelectorAll('.panel.active').length") == 1

    title = "Smoke from a manhole on Pohjoisesplanadi"
    started = time.monotonic()
    post_report(room.url, 24.9500, 60.1680, title=title, severity="extreme", agency="rescue",
                category="fire")
    wall.wait_drawn(visible + 1)
    assert time.monotonic() - started < 2.0
    wall.screenshot("screens-wall")

    # The socket drops: the wall says so, discreetly, and comes back by itself.
    wall.evaluate("window.sitroom.live.socket.io.engine.close()")
    wall.page.wait_for_function(
        "document.getElementById('cop-connection').textContent.startsWith('RECONNECTING')",
        timeout=5_000)
    wall.screenshot("screens-wall-reconnecting")
    late = "Written while the wall was away"
    post_report(room.url, 24.9450, 60.1700, title=late, severity="minor", agency="rescue")
    wall.wait_live()
    wall.wait_drawn(visible + 2)
    assert late in wall.titles()
    assert wall.outside_requests() == [], wall.outside_requests()
    assert wall.errors == []
    wall.close()

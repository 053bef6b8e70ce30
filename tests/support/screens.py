"""A COP screen in a real Chromium: what it draws, what it asked for, and its screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# What the map really shows of a layer: its markers and the incidents inside its clusters.
DRAWN_JS = """key => {
  const pane = document.querySelector('#cop-map');
  const markers = pane.querySelectorAll('.incident-icon').length;
  const clustered = [...pane.querySelectorAll('.cluster-icon')]
      .map(n => Number(n.title.split(' ')[0]) || 0).reduce((a, b) => a + b, 0);
  return {data: window.sitroom.screen.drawn[key].length, markers, clustered};
}"""

LEGEND_JS = """() => Object.fromEntries([...document.querySelectorAll('#cop-legend [data-layer]')]
  .filter(s => s.getClientRects().length > 0).map(s => [s.dataset.layer,
    Object.fromEntries([...s.querySelectorAll('[data-key]')].filter(e => !e.hidden)
      .map(e => [e.dataset.key, e.querySelector('.legend-count').textContent])) ]))"""


class ScreenPage:
    """One mode of the COP at its viewport, recording every request it makes."""

    def __init__(self, browser, base_url: str, path: str, viewport: tuple[int, int],
                 query: str = "") -> None:
        self.base_url = base_url
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": viewport[0],
                                                     "height": viewport[1]},
                                           has_touch=path == "/tablet")
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(f"{base_url}{path}?{query}")
        self.wait_live()

    def wait_live(self) -> None:
        self.page.wait_for_function(
            "document.getElementById('cop-connection')?.textContent === 'LIVE' "
            "&& window.sitroom.live.cursor !== null && window.sitroom.screen.rendered > 0",
            timeout=15_000)

    def drawn(self, key: str = "incidents") -> dict[str, int]:
        return self.page.evaluate(DRAWN_JS, key)

    def wait_drawn(self, count: int, key: str = "incidents") -> None:
        """Until the layer holds `count` features and the map shows each (marker or cluster)."""
        self.page.wait_for_function(
            f"key => {{ const d = ({DRAWN_JS})(key); "
            f"return d.data === {count} && (key !== 'incidents' || "
            f"d.markers + d.clustered === {count}); }}", arg=key, timeout=5_000)

    def titles(self, key: str = "incidents") -> set[str]:
        return set(self.page.evaluate(
            "key => window.sitroom.screen.drawn[key].map(f => f.properties.title)", key))

    def legend(self) -> dict[str, dict[str, str]]:
        return self.page.evaluate(LEGEND_JS)

    def wait_legend(self, key: str) -> dict[str, str]:
        """Until the legend shows the layer's section (a layer switched on draws on the next
        render), then its entries."""
        self.page.wait_for_function(f"() => ({LEGEND_JS})()[{key!r}] !== undefined",
                                    timeout=5_000)
        return self.legend()[key]

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests
                if not u.startswith((self.base_url, "data:", "blob:"))]

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def close(self) -> None:
        self.context.close()

"""What a screen shows: time window, filters and layers, read from and written to the URL.

A link carries the whole view (`?window=6h&severities=extreme,severe&layers=incidents,units`),
so pasting it on another screen reproduces it. The browser writes the same parameters back as
filters change (assets/sitroom_screen.js); unknown or malformed values are dropped, never fatal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.geometry import BBox
from dashboard.model import Marking

WINDOWS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(hours=24),
    "all": None, "custom": None,
}
WINDOW_LABELS = {"1h": "Last hour", "6h": "6 h", "24h": "24 h", "all": "All", "custom": "Custom"}
LIST_FILTERS = ("categories", "severities", "agencies", "statuses", "markings")
DEFAULT_WINDOW = "24h"


@dataclass(frozen=True)
class View:
    """Filters ANDed together; an empty tuple means 'any'."""

    window: str = DEFAULT_WINDOW
    start: datetime | None = None  # the custom window (start inclusive, end exclusive)
    end: datetime | None = None
    categories: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    markings: tuple[str, ...] = ()
    layers: tuple[str, ...] | None = None  # None: each layer's default
    bbox: BBox | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def time_range(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The window as absolute times (None: unbounded)."""
        if self.window == "custom":
            return self.start, self.end
        span = WINDOWS.get(self.window)
        return (now - span, None) if span else (None, None)

    def to_query(self) -> dict[str, str]:
        """URL parameters for this view (only what differs from the defaults)."""
        out: dict[str, str] = {}
        if self.window != DEFAULT_WINDOW:
            out["window"] = self.window
        if self.window == "custom":
            if self.start:
                out["from"] = _iso(self.start)
            if self.end:
                out["to"] = _iso(self.end)
        for name in LIST_FILTERS:
            if getattr(self, name):
                out[name] = ",".join(getattr(self, name))
        if self.layers is not None:
            out["layers"] = ",".join(self.layers)
        return out

    def client(self) -> dict[str, Any]:
        """The view as the browser keeps it (JSON)."""
        data = asdict(self)
        data.pop("extra")
        data["start"] = _iso(self.start) if self.start else None
        data["end"] = _iso(self.end) if self.end else None
        return data


def view_from_query(params: Mapping[str, Any]) -> View:
    """The view a URL describes; what cannot be read is left at its default."""
    view = View()
    window = params.get("window")
    if window in WINDOWS:
        view = replace(view, window=window)
    if view.window == "custom":
        start, end = _time(params.get("from")), _time(params.get("to"))
        if start is None and end is None:
            view = replace(view, window=DEFAULT_WINDOW)
        else:
            view = replace(view, start=start, end=end)
    lists = {name: _list(params.get(name)) for name in LIST_FILTERS}
    markings = []
    for label in lists.pop("markings"):
        try:
            markings.append(Marking.parse(label).label)
        except ValueError:
            continue
    view = replace(view, **lists, markings=tuple(dict.fromkeys(markings)))
    if params.get("layers") is not None:
        view = replace(view, layers=_list(params.get("layers")))
    return view


def _list(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, str):
        return ()
    items = (part.strip() for part in raw.split(","))
    return tuple(dict.fromkeys(item for item in items if item and len(item) <= 100))


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")

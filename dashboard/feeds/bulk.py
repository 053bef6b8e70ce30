"""Records in bulk: the model's checks made over a whole document, then records built unvalidated.

Validating one record with pydantic costs ~20 µs, most of it making and checking its geometry
alone; a USGS month is 200,000 records. Here the same checks run over the batch: plain points
are made and checked as arrays (shapely.points), every other field is checked exactly as the
model's validator would check it, and the record is then built as `model_construct` builds it.
Items are built for their records alone (add_items), so their dicts and lists become the
record's as they are, where validation would copy them.

The fast path only vouches for what it is certain of: a field it does not know, a value of
another type than the plain one it expects, a geometry it does not make itself and that
`parse_geometry` refuses, or a value the model would refuse all leave the item to the model's
own validation (None in `build_records`' answer). A refused item therefore gets the model's own
reason, and no check is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import annotated_types
import numpy as np
import shapely
from pydantic.fields import FieldInfo
from shapely.geometry.base import BaseGeometry

from dashboard.geometry import parse_geometry
from dashboard.model import (
    RECORD_TYPES,
    GeometryField,
    Kind,
    MarkingField,
    Record,
    SeverityField,
    UTCDateTime,
    aware,
)

MAX_EXACT_INT = 2**53  # a larger int is not exactly a float: left to the model
ONLY_STR = {str}


class _Unsure(Exception):
    """The fast path cannot vouch for a value: the model validates the item instead.

    Raised as a new instance each time: one instance raised again and again would keep every
    traceback it ever had.
    """


class _NoGeometry:
    """The marker of a geometry the fast path did not make (the model decides)."""


NOT_MADE = _NoGeometry()
Check = Callable[[Any], Any]  # the value as the model would store it, or raises _Unsure


def build_records(items: Sequence[dict[str, Any]]) -> list[Record | None]:
    """Each item's record, built without validation where every check passes here.

    None where the model must validate the item itself (its answer is then the model's own).
    """
    geometries = _geometries([item.get("geometry") for item in items])
    records: list[Record | None] = []
    for item, geometry in zip(items, geometries):
        try:
            records.append(_record(item, geometry))
        except _Unsure:
            records.append(None)
    return records


# ---------------------------------------------------------------- geometry, as arrays


def _geometries(values: list[Any]) -> list[BaseGeometry | None | _NoGeometry]:
    """Each value as the model's geometry check would make it, or NOT_MADE.

    Plain GeoJSON points ([lon, lat] or [lon, lat, z] of ints and floats) are made together
    and checked as arrays: finite, longitude in [-180, 180], latitude in [-90, 90] (a
    non-empty finite point is always valid; z is dropped, as parse_geometry drops it). Any
    other geometry goes through parse_geometry, the very function the model calls.
    """
    result: list[BaseGeometry | None | _NoGeometry] = [NOT_MADE] * len(values)
    at: list[int] = []
    xy: list[tuple[Any, Any]] = []
    for i, value in enumerate(values):
        if value is None:
            result[i] = None
        elif _plain_point(value):
            at.append(i)
            xy.append((value["coordinates"][0], value["coordinates"][1]))
        else:
            try:
                result[i] = parse_geometry(value)
            except Exception:  # noqa: BLE001 (whatever it is, the model meets it and says so)
                pass
    if at:
        coords = np.array(xy, dtype=np.float64).reshape(-1, 2)
        lon, lat = coords[:, 0], coords[:, 1]
        good = (np.isfinite(coords).all(axis=1) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
        points = shapely.points(coords)
        for i, point, ok in zip(at, points.tolist(), good.tolist()):
            if ok:
                result[i] = point
    return result


def _plain_point(value: Any) -> bool:
    """A GeoJSON Point whose coordinates are 2 or 3 plain numbers (not bools, not huge ints)."""
    if type(value) is not dict or value.get("type") != "Point":
        return False
    coordinates = value.get("coordinates")
    return (type(coordinates) is list and 2 <= len(coordinates) <= 3
            and all(map(_number, coordinates)))


def _number(value: Any) -> bool:
    kind = type(value)
    return kind is float or (kind is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT)


# ---------------------------------------------------------------- one record


def _record(item: dict[str, Any], geometry: BaseGeometry | None | _NoGeometry) -> Record:
    kind = item.get("kind")
    spec = SPECS.get(kind) if type(kind) in (str, Kind) else None
    if spec is None:
        raise _Unsure
    values: dict[str, Any] = {}  # in the model's field order, as validation leaves them
    given = 0
    for name, check, factory, default in spec.fields:
        value = item.get(name, MISSING)
        if value is MISSING:
            if factory is REQUIRED:
                raise _Unsure
            values[name] = factory() if factory is not None else default
        elif check is GEOMETRY_CHECK:
            if geometry is NOT_MADE:  # refused, or not one parse_geometry takes
                raise _Unsure
            values[name] = geometry
            given += 1
        elif check is not None:
            values[name] = check(value)
            given += 1
        else:  # a field only the model checks
            raise _Unsure
    if given != len(item):  # a field the model does not have (it forbids extras)
        raise _Unsure
    return spec.construct(values, set(item))


def _constructor(cls: type[Record]) -> Callable[[dict[str, Any], set[str]], Record]:
    """What `cls.model_construct(_fields_set, **values)` does when values has every field.

    model_construct itself costs ~4 µs a record looking for aliases and defaults, which the
    spec has already resolved. A model with what this cannot mirror (extra fields allowed,
    a post-init hook, a root model) gets model_construct itself.
    """
    if (cls.model_config.get("extra") == "allow" or cls.__pydantic_post_init__
            or cls.__pydantic_root_model__):
        return lambda values, fields_set: cls.model_construct(fields_set, **values)
    new, setattr_ = cls.__new__, object.__setattr__

    def construct(values: dict[str, Any], fields_set: set[str]) -> Record:
        record = new(cls)
        setattr_(record, "__dict__", values)
        setattr_(record, "__pydantic_fields_set__", fields_set)
        setattr_(record, "__pydantic_extra__", None)
        setattr_(record, "__pydantic_private__", None)
        return record
    return construct


# ---------------------------------------------------------------- checks, from the model


@dataclass(frozen=True)
class _Spec:
    """How to check and complete the fields of one record class."""

    construct: Callable[[dict[str, Any], set[str]], Record]
    # per field, in the model's order: name, check (None: only the model checks it), default
    # factory (REQUIRED: the item must give it), default
    fields: tuple[tuple[str, Check | None, Any, Any], ...]


REQUIRED = object()
MISSING = object()


def GEOMETRY_CHECK(value: Any) -> Any:  # noqa: N802 (a marker: geometry is checked in bulk)
    raise AssertionError("geometry is checked by _geometries, for the whole batch")


def _kind(kind: Kind) -> Check:
    text = str(kind.value)

    def check(value: Any) -> Kind:
        if value is kind or (type(value) is str and value == text):
            return kind
        raise _Unsure
    return check


def _text(low: int, high: float) -> Check:
    def check(value: Any) -> str:
        if type(value) is str and low <= len(value) <= high:
            return value
        raise _Unsure
    return check


def _exactly(cls: type) -> Check:
    def check(value: Any) -> Any:
        if type(value) is cls:
            return value
        raise _Unsure
    return check


def _severity(value: Any) -> Any:
    """A Severity as it is; text as the model reads it (trimmed, lower case), when known."""
    if type(value) is SEVERITY_TYPE:
        return value
    if type(value) is str:
        try:
            return SEVERITY_TYPE(value.strip().lower())
        except ValueError:
            raise _Unsure from None
    raise _Unsure


def _time(value: Any) -> datetime:
    if type(value) is datetime:
        return aware(value)
    raise _Unsure


def _optional(check: Check) -> Check:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)
    return optional


def _string_keyed(value: Any) -> dict[str, Any]:
    """A dict[str, Any], kept as it is: the model would copy it, but an item's fields are
    built for its record alone (copying 200,000 attribute dicts cost a tenth of a parse)."""
    if type(value) is dict and set(map(type, value)) <= ONLY_STR:
        return value
    raise _Unsure


def _strings(value: Any) -> list[str]:
    """A list[str], kept as it is (as _string_keyed)."""
    if type(value) is list and set(map(type, value)) <= ONLY_STR:
        return value
    raise _Unsure


def _shape(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """A field type as pydantic sees it: the annotation and its constraints/validators."""
    info = FieldInfo.from_annotation(annotation)
    return info.annotation, tuple(info.metadata)


SEVERITY_TYPE = _shape(SeverityField)[0]
KNOWN: dict[tuple[Any, tuple[Any, ...]], Check] = {
    _shape(str): _text(0, float("inf")),
    _shape(MarkingField): _exactly(_shape(MarkingField)[0]),
    _shape(SeverityField): _severity,
    _shape(UTCDateTime): _time,
    _shape(UTCDateTime | None): _optional(_time),
    _shape(dict[str, Any]): _string_keyed,
    _shape(list[str]): _strings,
}
GEOMETRY = _shape(GeometryField | None)
IMMUTABLE_DEFAULTS = (str, int, float, bool, type(None))


def _check_for(name: str, field: FieldInfo, kind: Kind) -> Check | None:
    """The check of a field whose type the fast path knows exactly; None for any other."""
    shape = (field.annotation, tuple(field.metadata))
    if name == "kind":
        return _kind(kind)
    if shape in KNOWN:
        return KNOWN[shape]
    lengths = [m for m in field.metadata if isinstance(m, (annotated_types.MinLen,
                                                            annotated_types.MaxLen))]
    if field.annotation is str and len(lengths) == len(field.metadata):
        low = max([m.min_length for m in lengths if isinstance(m, annotated_types.MinLen)],
                  default=0)
        high = min([m.max_length for m in lengths if isinstance(m, annotated_types.MaxLen)],
                   default=float("inf"))
        return _text(low, high)
    return None


def _spec(kind: Kind, cls: type[Record]) -> _Spec:
    """Checks for the fields this module knows; how to complete the others."""
    fields = []
    for name, field in cls.model_fields.items():
        if name == "geometry":
            if (field.annotation, tuple(field.metadata)) != GEOMETRY:
                raise TypeError(f"{cls.__name__}.geometry is not the model's GeometryField")
            check: Check | None = GEOMETRY_CHECK
        else:
            check = _check_for(name, field, kind)
        if field.is_required():
            fields.append((name, check, REQUIRED, None))
        elif field.default_factory is not None:
            fields.append((name, check, field.default_factory, None))
        elif isinstance(field.default, IMMUTABLE_DEFAULTS):
            fields.append((name, check, None, field.default))
        else:  # a mutable default the model would copy: never built here without the field
            fields.append((name, check, REQUIRED, None))
    return _Spec(_constructor(cls), tuple(fields))


SPECS: dict[str, _Spec] = {kind: _spec(kind, cls) for kind, cls in RECORD_TYPES.items()}

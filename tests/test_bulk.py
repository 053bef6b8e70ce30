"""Records built in bulk (feeds/bulk.py) are the model's own: same records, same refusals."""

from __future__ import annotations

import gc
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dashboard.feeds.base import FeedDefaults, validation_reason
from dashboard.feeds.bulk import build_records
from dashboard.feeds.profiles import _usgs_fields, parse_usgs
from dashboard.gc_pause import gc_paused
from dashboard.model import Kind, Marking, Record, Severity, parse_record

DEFAULTS = FeedDefaults(source="usgs-test", agency="usgs", marking=Marking.CLEAR)


def model_answer(fields: dict[str, Any]) -> Record | str:
    """What the model makes of fields: its record, or its reason for refusing them."""
    try:
        return parse_record(fields)
    except ValidationError as exc:
        return validation_reason(exc)


def same_record(fast: Record, slow: Record, fields: dict[str, Any]) -> None:
    assert type(fast) is type(slow)
    assert fast.model_fields_set == slow.model_fields_set
    exclude = set() if "time" in fields else {"time"}  # a default time is "now", twice
    assert fast.model_dump(exclude=exclude) == slow.model_dump(exclude=exclude)
    assert fast.model_dump_json(exclude=exclude) == slow.model_dump_json(exclude=exclude)
    for name in type(fast).model_fields.keys() - exclude:
        assert type(getattr(fast, name)) is type(getattr(slow, name)), name
    assert fast.id == slow.id


# ---------------------------------------------------------------- any fields, good or bad

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-400, 400), st.just(2**60), st.booleans())
GEOMETRIES = st.one_of(
    st.none(),
    st.builds(lambda c: {"type": "Point", "coordinates": c},
              st.lists(NUMBERS, min_size=0, max_size=4)),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]},
              st.floats(-180, 180), st.floats(-90, 90)),
    st.just({"type": "Point", "coordinates": "24.9,60.1"}),
    st.just({"type": "Point"}),
    st.just({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
    st.just({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
    st.just({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
    st.just(shapely.Point(1, 2)),
    st.just(shapely.Point(200, 2)),
    st.just([24.9, 60.1]),
)
TEXT = st.one_of(st.text(max_size=3), st.text(min_size=99, max_size=101),
                 st.text(min_size=199, max_size=201), st.just(" "), st.integers(0, 5),
                 st.just(Kind.REPORT), st.none())
TIMES = st.one_of(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])),
                  st.datetimes(), st.just("2026-01-01T00:00:00Z"), st.integers(0, 10**10),
                  st.none())
FIELDS = {
    "kind": st.sampled_from([*Kind, "incident", "report", "Incident", "nope", 1, None]),
    "source": TEXT, "source_id": TEXT, "version": TEXT, "agency": TEXT, "title": TEXT,
    "category": TEXT, "status": TEXT, "description": TEXT, "reporter": TEXT,
    "marking": st.sampled_from([*Marking, "TLP:AMBER", "amber", 2, 9, "purple", None]),
    "severity": st.sampled_from([*Severity, "Severe", " minor ", "dire", 3, None]),
    "time": TIMES, "expires": TIMES, "geometry": GEOMETRIES,
    "attributes": st.one_of(st.dictionaries(st.text(max_size=5), st.integers(), max_size=4),
                            st.just({1: "x"}), st.just({"a": {"nested": [1, 2]}}),
                            st.just([("a", 1)])),
    "reports": st.one_of(st.lists(st.text(max_size=3), max_size=2), st.just([1]),
                         st.just("abc")),
    "callsign": TEXT, "bogus": st.integers(),
}
PLAIN = {"kind": Kind.INCIDENT, "source": "s", "source_id": "i", "marking": Marking.CLEAR,
         "agency": "a"}


@st.composite
def any_fields(draw) -> dict[str, Any]:
    """A mostly plausible record: some required fields, any subset of the others, any values."""
    names = draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=len(FIELDS)))
    fields = {name: value for name, value in PLAIN.items() if draw(st.booleans()) or
              name not in names}
    fields.update({name: draw(FIELDS[name]) for name in names})
    return fields


@settings(max_examples=1500, deadline=None)
@given(st.lists(any_fields(), min_size=1, max_size=4))
def test_fast_records_are_the_models_and_it_refuses_nothing_the_model_accepts(batch):
    for fields, fast in zip(batch, build_records(batch), strict=True):
        slow = model_answer(fields)
        if fast is None:
            continue  # the model decides (the adapters then use its answer)
        assert isinstance(slow, Record), f"fast path accepted what the model refuses: {slow}"
        same_record(fast, slow, fields)


def test_plain_feed_items_all_take_the_fast_path():
    """The property above cannot fail by always answering None: this one would."""
    batch = [{**PLAIN, "source_id": f"e{i}", "version": "3", "title": "M 4", "category": "eq",
              "severity": Severity.MINOR, "time": datetime(2026, 1, 1, tzinfo=UTC),
              "geometry": {"type": "Point", "coordinates": [i / 10, -i / 20, 10.5]},
              "attributes": {"mag": 4.1, "net": "us"}} for i in range(100)]
    fast = build_records(batch)
    assert all(record is not None for record in fast)
    for fields, record in zip(batch, fast):
        same_record(record, parse_record(fields), fields)


def test_points_are_checked_as_the_model_checks_them():
    coordinates = [[180, 90], [-180, -90], [180.0001, 0], [0, -90.5], [1, 2, 3], [1, 2, "x"],
                   [True, 1], [1], [], [math.inf, 0], [math.nan, 0], [2**60, 0], [0.0, -0.0]]
    batch = [{**PLAIN, "geometry": {"type": "Point", "coordinates": c}} for c in coordinates]
    for fields, fast in zip(batch, build_records(batch)):
        slow = model_answer(fields)
        if isinstance(slow, Record):
            assert fast is not None, fields["geometry"]  # every good point here is plain
            assert fast.geometry.equals_exact(slow.geometry, 0) and not fast.geometry.has_z
        else:
            assert fast is None, fields["geometry"]


# ---------------------------------------------------------------- through a real adapter


def usgs_feature(event_id: str, lon: Any = -117.6, lat: Any = 35.7, **changes) -> dict:
    properties = {"mag": 2.5, "place": "10 km N of Ridgecrest, CA", "time": 1767225600000,
                  "updated": 1767229200000, "alert": None, "status": "reviewed",
                  "type": "earthquake", "title": f"M 2.5 - {event_id}"}
    properties.update(changes)
    return {"type": "Feature", "id": event_id, "properties": properties,
            "geometry": {"type": "Point", "coordinates": [lon, lat, 8.2]}}


BAD = {
    "north of the pole": usgs_feature("bad1", lat=90.5),
    "text coordinate": usgs_feature("bad2", lon="east"),
    "title too long": usgs_feature("bad3", title="M" * 1001),
    "category too long": usgs_feature("bad4", type="x" * 101),
    "unclosed polygon": {**usgs_feature("bad5"), "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}},
    "one coordinate": {**usgs_feature("bad6"), "geometry": {"type": "Point",
                                                            "coordinates": [1]}},
}


def test_a_bad_item_on_the_fast_path_is_refused_with_the_models_reason_and_the_rest_land():
    good = [usgs_feature(f"ok{i}", lon=i, lat=-i) for i in range(5)]
    features = [good[0], *BAD.values(), *good[1:]]
    document = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    parsed = parse_usgs(document, DEFAULTS)
    assert [r.source_id for r in parsed.records] == [f"ok{i}" for i in range(5)]
    for feature, record in zip(good, parsed.records):
        fields = _usgs_fields(feature, DEFAULTS)
        same_record(record, parse_record(fields), fields)
    assert [(r.index, r.item_id) for r in parsed.refused] == [
        (i, feature["id"]) for i, feature in enumerate(BAD.values(), start=1)]
    for refused, (what, feature) in zip(parsed.refused, BAD.items()):
        reason = model_answer(_usgs_fields(feature, DEFAULTS))
        assert isinstance(reason, str), what
        assert refused.reason == reason, what
        assert reason.startswith(("geometry: ", "title: ", "category: ")), reason


def test_the_collector_resumes_after_the_last_pause_ends_and_stays_off_if_it_was_off():
    assert gc.isenabled()
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()  # as another thread would: overlapping, not nested
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

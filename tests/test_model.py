"""The domain's own rules: markings, viewers, records and their geometry checks."""

from __future__ import annotations

import math
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dashboard.model import (
    ENTITY_NAMESPACE,
    Incident,
    Kind,
    Marking,
    Unit,
    Viewer,
    entity_id,
    parse_record,
)


@pytest.mark.parametrize("text, marking", [
    ("TLP:CLEAR", Marking.CLEAR), ("clear", Marking.CLEAR), ("TLP:WHITE", Marking.CLEAR),
    ("green", Marking.GREEN), ("TLP:AMBER", Marking.AMBER),
    ("TLP:AMBER+STRICT", Marking.AMBER_STRICT), ("amber-strict", Marking.AMBER_STRICT),
    ("AMBER_STRICT", Marking.AMBER_STRICT), (" tlp:red ", Marking.RED), (4, Marking.RED),
])
def test_marking_parse(text, marking):
    assert Marking.parse(text) is marking


@pytest.mark.parametrize("bad", ["purple", "", "TLP:", 5, -1, True, None, 2.0])
def test_unknown_marking_is_refused_clearly(bad):
    with pytest.raises(ValueError, match="marking"):
        Marking.parse(bad)


def test_marking_labels_are_tlp_2():
    assert [m.label for m in Marking] == ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER",
                                          "TLP:AMBER+STRICT", "TLP:RED"]


def test_strict_and_red_stay_inside_the_owning_agency():
    police_red = Viewer(agency="police", clearance="TLP:RED")
    assert police_red.can_see(Marking.RED, "police")
    assert not police_red.can_see(Marking.RED, "customs")
    assert not police_red.can_see(Marking.AMBER_STRICT, "customs")
    assert police_red.can_see(Marking.AMBER, "customs")
    assert not Viewer(agency="police", clearance="AMBER").can_see(Marking.AMBER_STRICT, "police")
    assert Viewer(agency="wall").clearance is Marking.CLEAR


def point(lon, lat):
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.mark.parametrize("geometry, message", [
    (point(math.nan, 60), "finite"),
    (point(24, math.inf), "finite"),
    (point(181, 60), "longitude out of range"),
    (point(24, -91), "latitude out of range"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
     "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}, "at least 4"),
    ({"type": "Point", "coordinates": []}, "empty"),
    ({"type": "Point"}, "no 'coordinates'"),
    ({"type": "Circle", "coordinates": [0, 0]}, "unknown geometry type"),
    ({"type": "Feature", "geometry": point(0, 0)}, "unknown geometry type 'Feature'"),
    ("POINT (1 2)", "expected a GeoJSON geometry"),
])
def test_bad_geometry_is_refused_with_its_reason(geometry, message):
    with pytest.raises(ValidationError, match=message):
        Incident(source="s", source_id="1", marking="GREEN", agency="police", geometry=geometry)


def test_entity_id_is_stable_and_depends_on_origin_only():
    a = Incident(source="s", source_id="1", version="1", marking="GREEN", agency="p")
    b = Incident(source="s", source_id="1", version="9", marking="RED", agency="q", title="x")
    c = Incident(source="s", source_id="2", marking="GREEN", agency="p")
    assert a.id == b.id != c.id
    assert a.id == "eacc594a-6139-5094-bd01-95916275d052"  # pinned: ids must never drift


def test_parse_record_picks_the_kind():
    record = parse_record({"kind": "unit", "source": "cad", "source_id": "u1",
                           "marking": "GREEN", "agency": "fire", "callsign": "RPL101"})
    assert isinstance(record, Unit) and record.status == "available"
    with pytest.raises(ValidationError):
        parse_record({"kind": "unit", "source": "cad", "source_id": "u1", "marking": "GREEN",
                      "agency": "fire", "callsign": "RPL101", "status": "asleep"})
    with pytest.raises(ValidationError):
        parse_record({"kind": "spaceship", "source": "s", "source_id": "1"})


def test_feature_round_trip():
    record = Incident(source="s", source_id="1", marking="AMBER", agency="police",
                      geometry=point(24.9, 60.1), title="Smoke")
    feature = record.to_feature()
    assert feature["id"] == record.id and feature["geometry"]["type"] == "Point"
    assert feature["properties"]["marking"] == "TLP:AMBER"
    assert parse_record({**feature["properties"], "geometry": feature["geometry"]}) == record


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(Kind)), st.text(), st.text())
def test_entity_ids_are_the_uuid5_of_kind_source_and_source_id(kind, source, source_id):
    name = f"{kind.value}\x1f{source}\x1f{source_id}"
    assert entity_id(kind, source, source_id) == str(uuid.uuid5(ENTITY_NAMESPACE, name))

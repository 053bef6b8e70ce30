"""The GeoJSON adapter on real feeds and on broken documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.feeds.base import FeedDefaults, FeedFormatError
from dashboard.feeds.geojson import parse_geojson
from dashboard.model import Kind, Marking

DATA = Path(__file__).parent / "data" / "geojson"
DEFAULTS = FeedDefaults(source="test", agency="usgs", marking=Marking.CLEAR)


def collection(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def feature(lon=24.9, lat=60.1, **properties) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": properties}


def test_usgs_feed_maps_ids_versions_times_and_keeps_the_rest():
    parsed = parse_geojson((DATA / "all_hour_2017-12-03.geojson").read_bytes(), DEFAULTS)
    assert len(parsed.records) == 8 and parsed.refused == []
    first = parsed.records[0]
    assert first.source_id == "nc72934355" and first.version == "1512342889220"
    assert first.title == "M 1.9 - 17km ESE of Anderson, CA"
    assert first.time.isoformat() == "2017-12-03T23:13:10.490000+00:00"
    assert first.attributes["mag"] == 1.93 and first.marking is Marking.CLEAR
    assert not first.geometry.has_z  # the COP is 2-D: USGS's depth is not a map coordinate


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.geojson")))
def test_every_real_sample_parses_whole(name):
    parsed = parse_geojson((DATA / name).read_bytes(), DEFAULTS)
    assert parsed.records and parsed.refused == []


def test_null_geometry_is_kept():
    parsed = parse_geojson((DATA / "alerts_active_zone_ORZ004_1.geojson").read_bytes(), DEFAULTS)
    assert parsed.records[0].geometry is None
    assert parsed.records[0].attributes["event"] == "Flood Watch"


def test_properties_override_defaults():
    parsed = parse_geojson(collection(feature(id="x", marking="TLP:RED", agency="police",
                                              kind="report", severity="Severe")), DEFAULTS)
    record = parsed.records[0]
    assert (record.kind, record.marking, record.agency, record.severity.value) == (
        Kind.REPORT, Marking.RED, "police", "severe")


def test_items_without_id_or_version_get_a_stable_content_hash():
    one = parse_geojson(collection(feature(name="a")), DEFAULTS).records[0]
    again = parse_geojson(collection(feature(name="a")), DEFAULTS).records[0]
    other = parse_geojson(collection(feature(name="b")), DEFAULTS).records[0]
    assert (one.source_id, one.version) == (again.source_id, again.version)
    assert one.source_id != other.source_id


def test_bad_items_are_refused_and_the_rest_lands():
    parsed = parse_geojson(collection(
        feature(id="ok"),
        feature(200, 1, id="lon"),
        feature(id="mark", marking="purple"),
        {"type": "Feature", "id": "ring", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}},
        {"type": "Point", "coordinates": [1, 2]},
        feature(id="time", time="yesterday-ish"),
        {"type": "Feature", "geometry": None, "properties": ["not", "an", "object"]},
        feature(id="ok2"),
    ), DEFAULTS)
    assert [r.source_id for r in parsed.records] == ["ok", "ok2"]
    reasons = {r.index: (r.item_id, r.reason) for r in parsed.refused}
    assert reasons[1] == ("lon", "geometry: longitude out of range [-180, 180]: 200.0")
    assert reasons[2][1].startswith("marking: unknown marking 'purple'")
    assert "at least 4" in reasons[3][1]
    assert reasons[4][1] == "not a GeoJSON Feature"
    assert "Invalid isoformat" in reasons[5][1]
    assert reasons[6][1] == "'properties' must be an object"


@pytest.mark.parametrize("data, message", [
    (b"", "not JSON"),
    (b"<rss/>", "not JSON"),
    (b'{"type": "FeatureCollection", "features": [NaN]}', "NaN is not a JSON number"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "the top level is a JSON list"),
    (b'{"type": "Topology"}', "found type 'Topology'"),
    (b'{"type": "FeatureCollection", "features": {}}', "needs a 'features' list"),
])
def test_documents_that_are_not_geojson_are_refused(data, message):
    with pytest.raises(FeedFormatError, match=message):
        parse_geojson(data, DEFAULTS)


def test_a_byte_order_mark_is_fine():
    parsed = parse_geojson(b"\xef\xbb\xbf" + collection(feature(id="bom")), DEFAULTS)
    assert [r.source_id for r in parsed.records] == ["bom"]

"""Source profiles (USGS, EONET, NWS, mapped GeoJSON), GeoRSS/GDACS and CSV on real samples and
on the broken and hostile documents feeds send."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.feeds.base import FeedDefaults, FeedFormatError, Removal
from dashboard.feeds.csv_records import parse_csv
from dashboard.feeds.geojson import parse_geojson
from dashboard.feeds.georss import parse_georss
from dashboard.feeds.profiles import (
    parse_eonet,
    parse_mapped_geojson,
    parse_nws,
    parse_usgs,
    usgs_severity,
)
from dashboard.model import Alert, Incident, Kind, Marking, Report, Severity, entity_id

DATA = Path(__file__).parent / "data"
DEFAULTS = FeedDefaults(source="feed:test", agency="partner", marking=Marking.GREEN)
USGS_HOUR = DATA / "geojson" / "all_hour_2017-12-03.geojson"
USGS_SIGNIFICANT = DATA / "geojson" / "significant_week_2017-12-11.geojson"
EONET = DATA / "geojson" / "v3_events_geojson_2025-09_raw_whitespace.geojson"
NWS = DATA / "geojson" / "alerts_active_zone_ORZ004_1.geojson"
GDACS_SMALL = DATA / "georss" / "gdacs_rss_small.xml"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def dump(document: dict) -> bytes:
    return json.dumps(document).encode()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- USGS -------------------------------------------------------------------------------------

def test_usgs_hour_feed_ids_versions_times_depth_and_lon_lat_order():
    parsed = parse_usgs(USGS_HOUR.read_bytes(), DEFAULTS)
    assert len(parsed.records) == 8 and parsed.refused == [] and parsed.removals == []
    first = parsed.records[0]
    assert isinstance(first, Incident)
    assert (first.source_id, first.version) == ("nc72934355", "1512342889220")
    assert first.title == "M 1.9 - 17km ESE of Anderson, CA"
    assert first.category == "earthquake" and first.severity is Severity.MINOR
    assert first.time == at("2017-12-03T23:13:10.490+00:00")
    assert (first.geometry.x, first.geometry.y) == (-122.1271667, 40.3699989)
    assert not first.geometry.has_z
    assert first.attributes["depth_km"] == 7.93
    assert first.attributes["mag"] == 1.93 and first.attributes["tsunami"] == 0
    assert first.attributes["url"] == "https://earthquake.usgs.gov/earthquakes/eventpage/nc72934355"
    assert "title" not in first.attributes and "updated" not in first.attributes
    philippines = parsed.records[-1]
    assert philippines.source_id == "us1000bknk" and philippines.severity is Severity.MODERATE
    assert philippines.attributes["depth_km"] == 114.05


def test_usgs_pager_alert_level_outranks_magnitude():
    parsed = parse_usgs(USGS_SIGNIFICANT.read_bytes(), DEFAULTS)
    assert [(r.source_id, r.attributes["mag"], r.severity) for r in parsed.records] == [
        ("us2000c1zn", 6.4, Severity.MINOR), ("us2000c1wt", 6.4, Severity.MINOR),
        ("ci37824087", 3.96, Severity.MINOR), ("us1000bm9m", 4.2, Severity.MINOR)]
    assert parsed.records[0].attributes["alert"] == "green"
    assert parsed.records[0].attributes["tsunami"] == 1


@pytest.mark.parametrize(("alert", "magnitude", "expected"), [
    (None, 3.99, Severity.MINOR), (None, 4.0, Severity.MODERATE), (None, 5.9, Severity.MODERATE),
    (None, 6.0, Severity.SEVERE), (None, 7.0, Severity.EXTREME), (None, None, Severity.UNKNOWN),
    ("green", 8.1, Severity.MINOR), ("yellow", 2, Severity.MODERATE),
    ("orange", 5, Severity.SEVERE), ("red", 5, Severity.EXTREME), ("RED", None, Severity.EXTREME),
])
def test_usgs_severity(alert, magnitude, expected):
    assert usgs_severity(alert, magnitude) is expected


def test_usgs_title_fallback_event_type_and_deleted_event():
    document = load(USGS_HOUR)
    document["features"] = document["features"][:3]
    del document["features"][0]["properties"]["title"]
    document["features"][1]["properties"]["type"] = "quarry blast"
    document["features"][2]["properties"]["status"] = "deleted"
    parsed = parse_usgs(dump(document), DEFAULTS)
    assert parsed.records[0].title == "M 1.93 - 17km ESE of Anderson, CA"
    assert parsed.records[1].category == "quarry blast"
    assert parsed.removals == [Removal(entity_id(Kind.INCIDENT, "feed:test", "ci37822583"),
                                       reason="deleted by USGS", key="usgs-deleted:ci37822583")]


def test_usgs_bad_events_are_refused_with_reasons():
    document = load(USGS_HOUR)
    features = document["features"]
    del features[0]["id"]
    features[1]["geometry"]["coordinates"] = [-200.5, 36.6, 4.6]
    features[2]["properties"]["time"] = "yesterday"
    parsed = parse_usgs(dump(document), DEFAULTS)
    assert len(parsed.records) == 5
    assert [(r.index, r.item_id, r.reason) for r in parsed.refused] == [
        (0, None, "no event id (the feature's id)"),
        (1, "nc72934350", "geometry: longitude out of range [-180, 180]: -200.5"),
        (2, "ci37822583", "time 'yesterday' is not epoch milliseconds"),
    ]


# --- EONET ------------------------------------------------------------------------------------

def test_eonet_one_incident_per_event_at_its_latest_point_with_its_track():
    parsed = parse_eonet(EONET.read_bytes(), DEFAULTS)
    assert parsed.refused == []
    events = {r.source_id: r for r in parsed.records}
    assert sorted(events) == ["EONET_15545", "EONET_15546", "EONET_15547"]
    ragasa = events["EONET_15545"]
    assert isinstance(ragasa, Incident) and ragasa.title == "Super Typhoon Ragasa"
    assert ragasa.version == "2025-09-23T06:00:00Z"
    assert ragasa.time == at("2025-09-23T06:00:00+00:00")
    assert (ragasa.geometry.x, ragasa.geometry.y) == (117.1, 20.4)
    assert ragasa.category == "severeStorms" and ragasa.status == "active"
    assert ragasa.description == ""
    track = ragasa.attributes["track"]
    assert len(track) == 19
    assert track[0] == [132.2, 16.0, "2025-09-18T18:00:00Z"]
    assert track[-1] == [117.1, 20.4, "2025-09-23T06:00:00Z"]
    assert (ragasa.attributes["magnitudeValue"], ragasa.attributes["magnitudeUnit"]) == (120.0,
                                                                                         "kts")
    assert ragasa.attributes["sources"][0]["id"] == "JTWC"
    assert [len(events[e].attributes["track"]) for e in ("EONET_15546", "EONET_15547")] == [8, 7]


def test_eonet_latest_point_is_by_date_not_feed_order_and_closed_events_close():
    document = load(EONET)
    document["features"].reverse()
    for feature in document["features"]:
        if feature["properties"]["id"] == "EONET_15547":
            feature["properties"]["closed"] = "2025-09-24T00:00:00Z"
    events = {r.source_id: r for r in parse_eonet(dump(document), DEFAULTS).records}
    narda = events["EONET_15547"]
    assert narda.version == "2025-09-23T06:00:00Z"
    assert (narda.geometry.x, narda.geometry.y) == (-105.6, 15.7)
    assert narda.attributes["track"][0] == [-99.4, 14.4, "2025-09-21T18:00:00Z"]
    assert narda.status == "closed" and events["EONET_15545"].status == "active"


def test_eonet_event_with_a_bad_track_point_is_refused_whole():
    document = load(EONET)
    document["features"][1]["geometry"]["coordinates"] = [-100.1, 95.0]
    del document["features"][30]["properties"]["id"]
    parsed = parse_eonet(dump(document), DEFAULTS)
    assert sorted(r.source_id for r in parsed.records) == ["EONET_15545", "EONET_15546"]
    assert [(r.index, r.item_id, r.reason) for r in parsed.refused] == [
        (30, None, "no event id (properties.id)"),
        (0, "EONET_15547",
         "track point 2025-09-22T00:00:00Z: latitude out of range [-90, 90]: 95.0"),
    ]


# --- NWS --------------------------------------------------------------------------------------

def test_nws_update_lands_on_its_original_alert_without_geometry():
    parsed = parse_nws(NWS.read_bytes(), DEFAULTS)
    assert parsed.refused == [] and parsed.removals == []
    (alert,) = parsed.records
    assert isinstance(alert, Alert) and alert.kind is Kind.ALERT
    # The earliest referenced message (sent 2019-12-18), not the first listed (2019-12-19).
    assert alert.source_id == "NWS-IDP-PROD-3963421-3367361"
    assert alert.version == "NWS-IDP-PROD-3965873-3369046"
    assert alert.msg_type == "Update" and len(alert.references) == 4
    assert alert.references[0] == ("w-nws.webmaster@noaa.gov,NWS-IDP-PROD-3964821-3368352,"
                                   "2019-12-19T12:52:00-08:00")
    assert alert.geometry is None
    assert alert.title.startswith("Flood Watch issued December 20")
    assert alert.category == "Met" and alert.severity is Severity.SEVERE
    assert alert.sent == alert.time == at("2019-12-20T13:34:00-08:00")
    assert alert.expires == at("2019-12-21T05:30:00-08:00")
    assert alert.sender == "w-nws.webmaster@noaa.gov"
    (info,) = alert.infos
    assert (info.event, info.urgency, info.certainty, info.severity) == (
        "Flood Watch", "Future", "Possible", Severity.SEVERE)
    assert info.onset == at("2019-12-20T13:34:00-08:00") and info.expires == alert.expires
    assert info.sender_name == "NWS Portland OR"
    assert info.instruction.startswith("A Flood Watch means")
    (area,) = info.areas
    assert area.geometry is None and "ORZ004" in area.geocodes["UGC"]
    assert len(area.geocodes["SAME"]) == 16
    assert "https://api.weather.gov/zones/forecast/ORZ004" in alert.attributes["affectedZones"]
    assert alert.attributes["effective"] == "2019-12-20T13:34:00-08:00"
    assert alert.attributes["ends"] == "2019-12-22T10:00:00-08:00"


def test_nws_cancel_takes_the_original_alert_off_the_map():
    update = parse_nws(NWS.read_bytes(), DEFAULTS).records[0]
    document = load(NWS)
    properties = document["features"][0]["properties"]
    properties.update(id="NWS-IDP-PROD-4000000-1", messageType="Cancel",
                      headline="The Flood Watch has been cancelled")
    parsed = parse_nws(dump(document), DEFAULTS)
    assert parsed.records == [] and parsed.refused == []
    assert parsed.removals == [Removal(
        entity_id=entity_id(Kind.ALERT, "feed:test", "NWS-IDP-PROD-3963421-3367361"),
        reason="NWS Cancel NWS-IDP-PROD-4000000-1: The Flood Watch has been cancelled",
        key="nws-cancel:NWS-IDP-PROD-4000000-1")]
    assert parsed.removals[0].entity_id == update.id


def test_nws_alert_is_its_own_original_and_a_cancel_needs_references():
    document = load(NWS)
    alert = document["features"][0]
    alert["properties"].update(messageType="Alert", references=[])
    cancel = copy.deepcopy(alert)
    cancel["properties"].update(id="NWS-X-2", messageType="Cancel")
    document["features"].append(cancel)
    parsed = parse_nws(dump(document), DEFAULTS)
    assert parsed.records[0].source_id == parsed.records[0].version == (
        "NWS-IDP-PROD-3965873-3369046")
    assert [(r.index, r.item_id, r.reason) for r in parsed.refused] == [
        (1, "NWS-X-2", "Cancel without references: nothing to take off the map")]


# --- mapped GeoJSON ---------------------------------------------------------------------------

PARTNER = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
     "properties": {"OBJECTID": 17, "REV": 3, "NIMI": "Tulipalo", "LUOKKA": "fire",
                    "VAKAVUUS": "Severe", "TILA": "open", "ILMOITETTU": "2025-03-01T10:00:00Z",
                    "KUVAUS": "Varasto palaa", "UNIT": "P-31"}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.9, 60.2]},
     "properties": {"OBJECTID": 18, "VAKAVUUS": "critical"}},
]}
MAPPING = {"id": "OBJECTID", "version": "REV", "title": "NIMI", "category": "LUOKKA",
           "severity": "VAKAVUUS", "status": "TILA", "time": "ILMOITETTU",
           "description": "KUVAUS"}


def test_mapped_geojson_reads_a_partners_property_names():
    parsed = parse_mapped_geojson(dump(PARTNER), DEFAULTS, MAPPING)
    (record,) = parsed.records
    assert (record.source_id, record.version, record.title, record.category, record.status) == (
        "17", "3", "Tulipalo", "fire", "open")
    assert record.severity is Severity.SEVERE and record.description == "Varasto palaa"
    assert record.time == at("2025-03-01T10:00:00+00:00")
    assert record.attributes == {"UNIT": "P-31"}
    assert (record.marking, record.agency) == (Marking.GREEN, "partner")
    assert [(r.index, r.item_id) for r in parsed.refused] == [(1, "18")]
    assert parsed.refused[0].reason.startswith("severity: Input should be 'extreme'")


def test_mapped_geojson_refuses_a_mapping_of_unknown_fields():
    with pytest.raises(ValueError, match="cannot map colour"):
        parse_mapped_geojson(dump(PARTNER), DEFAULTS, {"colour": "VARI"})


# --- JSON documents every GeoJSON path refuses ------------------------------------------------

PROFILES = [parse_usgs, parse_eonet, parse_nws,
            lambda data, defaults: parse_mapped_geojson(data, defaults, {"id": "code"})]


@pytest.mark.parametrize("parse", PROFILES)
def test_jsonp_wrapper_is_refused_with_a_clear_reason(parse):
    data = b"eqfeed_callback(" + USGS_HOUR.read_bytes() + b");"
    with pytest.raises(FeedFormatError, match="JSONP"):
        parse(data, DEFAULTS)


def test_generic_geojson_names_jsonp_too():
    with pytest.raises(FeedFormatError, match=r"^not JSON: the document is JSONP"):
        parse_geojson(b"eqfeed_callback(" + USGS_HOUR.read_bytes() + b");", DEFAULTS)


@pytest.mark.parametrize("parse", PROFILES)
def test_nan_is_not_json(parse):
    data = USGS_HOUR.read_bytes().replace(b"-122.1271667", b"NaN")
    with pytest.raises(FeedFormatError, match="NaN is not a JSON number"):
        parse(data, DEFAULTS)


def test_byte_order_mark_is_allowed():
    parsed = parse_usgs(b"\xef\xbb\xbf" + USGS_HOUR.read_bytes(), DEFAULTS)
    assert len(parsed.records) == 8


@pytest.mark.parametrize(("data", "message"), [
    (b'{"type": "Topology"}', "found type 'Topology'"),
    (b"[1, 2]", "the top level is a JSON list"),
])
def test_not_geojson_is_a_format_error(data, message):
    with pytest.raises(FeedFormatError, match=message):
        parse_eonet(data, DEFAULTS)


# --- GeoRSS and GDACS -------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#"
     xmlns:gdacs="http://www.gdacs.org" xmlns:georss="http://www.georss.org/georss">
  <channel><title>test</title>{items}</channel>
</rss>"""


def rss(*items: str) -> bytes:
    return RSS.replace("{items}", "".join(f"<item>{item}</item>" for item in items)).encode()


def gdacs_item(event_type: str, event_id: int, level: str, episode: int = 1,
               current: str = "true") -> str:
    return f"""
      <title>{level} alert for {event_type} {event_id}</title>
      <guid isPermaLink="false">{event_type}{event_id}</guid>
      <pubDate>Sun, 29 Dec 2019 12:00:00 GMT</pubDate>
      <gdacs:iscurrent>{current}</gdacs:iscurrent>
      <gdacs:fromdate>Sat, 28 Dec 2019 06:30:00 GMT</gdacs:fromdate>
      <gdacs:todate>Sun, 29 Dec 2019 12:00:00 GMT</gdacs:todate>
      <geo:Point><geo:lat>-19.4</geo:lat><geo:long>59.8</geo:long></geo:Point>
      <gdacs:bbox>55.07 81.07 -46.78 -20.78</gdacs:bbox>
      <georss:point>-19.4 59.8</georss:point>
      <gdacs:eventtype>{event_type}</gdacs:eventtype>
      <gdacs:alertlevel>{level}</gdacs:alertlevel>
      <gdacs:eventid>{event_id}</gdacs:eventid>
      <gdacs:episodeid>{episode}</gdacs:episodeid>
      <gdacs:severity unit="km/h" value="92.592">Tropical Storm (93 km/h)</gdacs:severity>
      <gdacs:population unit="Pop74" value="0">0 people affected</gdacs:population>
      <gdacs:country>Mauritius</gdacs:country>
      <gdacs:glide />
      <gdacs:resources><gdacs:resource id="x" url="http://example.org/"/></gdacs:resources>"""


def test_gdacs_sample_item_located_only_by_its_event_box():
    parsed = parse_georss(GDACS_SMALL.read_bytes(), DEFAULTS)
    assert parsed.refused == []
    (record,) = parsed.records
    assert isinstance(record, Incident)
    assert record.source_id == "TC1000643"
    assert record.version == "Sun, 29 Dec 2019 12:00:00 GMT"
    assert record.time == at("2019-12-29T12:00:00+00:00")
    assert record.attributes["located_by"] == "gdacs:bbox"
    west, south, east, north = record.geometry.bounds
    assert (round(west, 2), round(south, 2), round(east, 2), round(north, 2)) == (
        55.08, -46.78, 81.08, -20.78)
    assert record.attributes["link"] == (
        "http://www.gdacs.org/report.aspx?eventtype=TC&eventid=1000643")
    assert record.description.startswith("From 29/12/2019 to 29/12/2019, a Tropical Storm")


@pytest.mark.parametrize(("level", "severity"), [
    ("Green", Severity.MINOR), ("Orange", Severity.SEVERE), ("Red", Severity.EXTREME),
    ("Purple", Severity.UNKNOWN)])
def test_gdacs_alert_levels(level, severity):
    (record,) = parse_georss(rss(gdacs_item("TC", 1000643, level)), DEFAULTS).records
    assert record.severity is severity and record.attributes["alertlevel"] == level


def test_gdacs_item_identity_version_location_and_fields():
    parsed = parse_georss(rss(gdacs_item("EQ", 1234, "Orange", episode=5, current="false"),
                              gdacs_item("TC", 1000643, "Green", episode=2)), DEFAULTS)
    quake, cyclone = parsed.records
    assert (quake.source_id, quake.version, quake.category) == ("EQ1234", "5", "earthquake")
    assert (cyclone.source_id, cyclone.version, cyclone.category) == (
        "TC1000643", "2", "tropical-cyclone")
    assert (quake.geometry.x, quake.geometry.y) == (59.8, -19.4)
    assert quake.attributes["located_by"] == "georss:point"
    assert quake.time == at("2019-12-28T06:30:00+00:00")
    assert quake.status == "closed" and cyclone.status == "active"
    assert quake.attributes["severity_value"] == "92.592"
    assert quake.attributes["severity_unit"] == "km/h"
    assert quake.attributes["population_value"] == "0"
    assert quake.attributes["country"] == "Mauritius"
    assert "glide" not in quake.attributes and "resources" not in quake.attributes


def test_georss_shapes_in_lat_lon_order_become_lon_lat():
    parsed = parse_georss(rss(
        "<guid>poly</guid><georss:polygon>60 24 60 25 61 25 60 24</georss:polygon>",
        "<guid>line</guid><georss:line>60 24 61 25</georss:line>",
        "<guid>box</guid><georss:box>59.9 24.8 60.3 25.2</georss:box>",
        "<guid>dateline</guid><georss:box>-20 170 -10 -170</georss:box>",
        "<guid>w3c</guid><geo:lat>60.17</geo:lat><geo:long>24.94</geo:long>",
    ), DEFAULTS)
    assert parsed.refused == []
    shapes = {r.source_id: r.geometry for r in parsed.records}
    assert list(shapes["poly"].exterior.coords)[:2] == [(24.0, 60.0), (25.0, 60.0)]
    assert list(shapes["line"].coords) == [(24.0, 60.0), (25.0, 61.0)]
    assert shapes["box"].bounds == (24.8, 59.9, 25.2, 60.3)
    assert shapes["dateline"].geom_type == "MultiPolygon"
    assert sorted(p.bounds for p in shapes["dateline"].geoms) == [
        (-180.0, -20.0, -170.0, -10.0), (170.0, -20.0, 180.0, -10.0)]
    assert (shapes["w3c"].x, shapes["w3c"].y) == (24.94, 60.17)


def test_atom_entries_with_georss():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"
                     xmlns:georss="http://www.georss.org/georss">
      <title>partner</title>
      <entry><id>urn:partner:1</id><title>Road closed</title>
        <updated>2025-03-01T10:00:00Z</updated><summary>Bridge damaged</summary>
        <link rel="alternate" href="https://partner.example/1"/>
        <category term="transport"/><georss:point>60.17 24.94</georss:point></entry>
    </feed>"""
    (record,) = parse_georss(atom, DEFAULTS).records
    assert (record.source_id, record.version, record.title, record.description) == (
        "urn:partner:1", "2025-03-01T10:00:00Z", "Road closed", "Bridge damaged")
    assert record.category == "transport" and record.severity is Severity.UNKNOWN
    assert (record.geometry.x, record.geometry.y) == (24.94, 60.17)
    assert record.time == at("2025-03-01T10:00:00+00:00")
    assert record.attributes["link"] == "https://partner.example/1"


def test_georss_items_without_id_or_date_get_a_stable_content_hash():
    item = "<title>x</title><georss:point>60 24</georss:point>"
    first = parse_georss(rss(item), DEFAULTS).records[0]
    again = parse_georss(rss(item), DEFAULTS).records[0]
    assert (first.source_id, first.version) == (again.source_id, again.version)
    assert len(first.source_id) == 20


def test_bad_georss_items_are_refused_with_reasons_and_the_rest_lands():
    parsed = parse_georss(rss(
        "<guid>ok</guid><georss:point>60 24</georss:point>",
        "<guid>nowhere</guid><title>no location</title>",
        "<guid>text</guid><georss:point>sixty 24</georss:point>",
        "<guid>lat</guid><georss:point>95 24</georss:point>",
        "<guid>nan</guid><georss:point>NaN 24</georss:point>",
        "<guid>odd</guid><georss:line>60 24 61</georss:line>",
        "<guid>open</guid><georss:polygon>60 24 60 25 61 25 61 24</georss:polygon>",
        "<guid>half</guid><geo:lat>60</geo:lat>",
        "<guid>date</guid><pubDate>someday</pubDate><georss:point>60 24</georss:point>",
    ), DEFAULTS)
    assert [r.source_id for r in parsed.records] == ["ok"]
    reasons = {r.item_id: r.reason for r in parsed.refused}
    assert reasons == {
        "nowhere": "no location: expected georss:point, georss:line, georss:polygon, "
                   "georss:box, geo:lat/geo:long or gdacs:bbox",
        "text": "georss:point 'sixty 24' is not a list of numbers",
        "lat": "geometry: latitude out of range [-90, 90]: 95.0",
        "nan": "geometry: coordinates must be finite numbers (found NaN or infinity)",
        "odd": "georss:line has an odd number of coordinates (3)",
        "open": "geometry: Polygon ring is not closed: it starts at [24.0, 60.0] and ends at "
                "[24.0, 61.0]",
        "half": "geo:lat and geo:long must come together; one is missing",
        "date": "date 'someday' is not an RFC 822 or ISO 8601 date",
    }
    assert [r.index for r in parsed.refused] == [1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize(("data", "message"), [
    (b"<html><body/></html>", "not an RSS 2.0 channel or an Atom feed: the root element is <html>"),
    (b"<rss version='2.0'/>", "<rss> has no <channel>"),
    (b'{"type": "FeatureCollection"}', "not well-formed XML"),
    (b"", "the document is empty"),
])
def test_not_rss_or_atom_is_a_format_error(data, message):
    with pytest.raises(FeedFormatError, match=message):
        parse_georss(data, DEFAULTS)


@pytest.mark.parametrize(("data", "message"), [
    (b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">
         <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
         <rss version="2.0"><channel><item><title>&b;</title></item></channel></rss>""",
     "refused: a DTD"),
    (b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
         <rss version="2.0"><channel><item><title>&x;</title></item></channel></rss>""",
     "refused: a DTD"),
    (b"""<rss version="2.0" xmlns:xi="http://www.w3.org/2001/XInclude"><channel>
         <item><xi:include href="file:///etc/passwd" parse="text"/></item></channel></rss>""",
     "refused: XInclude"),
])
def test_hostile_xml_is_refused(data, message):
    with pytest.raises(FeedFormatError, match=message):
        parse_georss(data, DEFAULTS)


# --- CSV --------------------------------------------------------------------------------------

def csv_bytes(text: str, bom: bool = False) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def test_csv_with_bom_finds_columns_by_name_and_keeps_the_rest():
    data = csv_bytes(
        "ID,Title,Lat,Lon,Severity,Marking,Time,Unit\n"
        'a1,"Fire, warehouse",60.17,24.94,Severe,TLP:AMBER,2025-03-01T10:00:00Z,P-31\n'
        "a2,Flooding,60.2,24.9,,,1740823200,\n", bom=True)
    parsed = parse_csv(data, DEFAULTS)
    assert parsed.refused == []
    fire, flood = parsed.records
    assert isinstance(fire, Incident)
    assert (fire.source_id, fire.title, fire.severity, fire.marking) == (
        "a1", "Fire, warehouse", Severity.SEVERE, Marking.AMBER)
    assert (fire.geometry.x, fire.geometry.y) == (24.94, 60.17)
    assert fire.time == at("2025-03-01T10:00:00+00:00")
    assert fire.attributes == {"Unit": "P-31"}
    assert flood.marking is Marking.GREEN and flood.severity is Severity.UNKNOWN
    assert flood.time == at("2025-03-01T10:00:00+00:00")  # epoch seconds


def test_semicolon_csv_with_decimal_commas():
    data = csv_bytes("tunnus;otsikko;Latitude;Longitude\nk1;Tulva;60,17;24,94\n")
    (record,) = parse_csv(data, DEFAULTS).records
    assert (record.geometry.x, record.geometry.y) == (24.94, 60.17)
    assert record.attributes == {"tunnus": "k1", "otsikko": "Tulva"}


def test_tab_separated_x_y_and_kind_from_the_feed():
    defaults = FeedDefaults(source="feed:test", agency="partner", marking=Marking.CLEAR,
                            kind=Kind.REPORT)
    (record,) = parse_csv(csv_bytes("id\tx\ty\tdescription\nr1\t24.94\t60.17\tSmoke seen\n"),
                          defaults).records
    assert isinstance(record, Report) and record.description == "Smoke seen"
    assert (record.geometry.x, record.geometry.y) == (24.94, 60.17)


def test_columns_mapping_names_the_columns():
    data = csv_bytes("N,E,Tunnus,Nimi\n60.17,24.94,k1,Tulipalo\n")
    columns = {"latitude": "N", "longitude": "E", "id": "Tunnus", "title": "Nimi"}
    (record,) = parse_csv(data, DEFAULTS, columns).records
    assert (record.source_id, record.title, record.geometry.x, record.geometry.y) == (
        "k1", "Tulipalo", 24.94, 60.17)
    assert record.attributes == {}


def test_bad_csv_rows_are_refused_with_their_row_number():
    data = csv_bytes(
        "id,lat,lon,marking,time\n"
        "ok,60.1,24.9,,\n"
        "missing,,24.9,,\n"
        "nan,NaN,24.9,,\n"
        "north,91,24.9,,\n"
        "east,60.1,181,,\n"
        "text,sixty,24.9,,\n"
        "\n"
        "mark,60.1,24.9,purple,\n"
        "short,60.1,24.9\n"
        "when,60.1,24.9,,next week\n"
        "ok2,60.2,24.8,,\n")
    parsed = parse_csv(data, DEFAULTS)
    assert [r.source_id for r in parsed.records] == ["ok", "ok2"]
    reasons = [(r.item_id, r.reason) for r in parsed.refused]
    assert reasons[:6] == [
        ("missing", "row 3: no latitude"),
        ("nan", "row 4: latitude 'NaN' is not a finite number"),
        ("north", "row 5: geometry: latitude out of range [-90, 90]: 91.0"),
        ("east", "row 6: geometry: longitude out of range [-180, 180]: 181.0"),
        ("text", "row 7: latitude 'sixty' is not a number"),
        ("mark", "row 9: marking: unknown marking 'purple' (expected one of TLP:CLEAR, "
                 "TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED)"),
    ]
    assert reasons[6:] == [
        ("short", "row 10: 3 values, but the header has 5 columns"),
        ("when", "row 11: time 'next week' is not an ISO 8601 time or epoch number"),
    ]
    assert [r.index for r in parsed.refused] == [1, 2, 3, 4, 5, 7, 8, 9]


def test_csv_rows_without_id_get_a_stable_content_hash():
    data = csv_bytes("lat,lon,note\n60.1,24.9,a\n60.1,24.9,b\n")
    first, second = parse_csv(data, DEFAULTS).records
    again = parse_csv(data, DEFAULTS).records[0]
    assert first.source_id == again.source_id != second.source_id


@pytest.mark.parametrize(("data", "columns", "message"), [
    (b"name,place\nx,y\n", None, r"no latitude or longitude column \(looked for latitude: "
                                 r"lat, latitude, y; longitude: lon, lng, long, longitude, x\); "
                                 r"the header has: name, place"),
    (b"lat,name\n1,x\n", None, "no longitude column"),
    (b"", None, "no header row"),
    (b"\xff\xfelat,lon\n", None, "not UTF-8 text"),
    (b"lat,lon\n1,2\n", {"latitude": "N"}, "column 'N' \\(for latitude\\) is not in the header"),
    (b'lat,lon\n"' + b"x" * 200_000 + b'",1\n', None,
     "not readable CSV at line 2: field larger than field limit"),
])
def test_unusable_csv_is_a_format_error(data, columns, message):
    with pytest.raises(FeedFormatError, match=message):
        parse_csv(data, DEFAULTS, columns)


def test_csv_mapping_of_unknown_fields_is_a_configuration_error():
    with pytest.raises(ValueError, match="cannot map colour"):
        parse_csv(b"lat,lon\n1,2\n", DEFAULTS, {"colour": "c"})

"""The CAP adapter and the Atom/RSS CAP index adapter, on real messages and on broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.feeds.base import FeedDefaults, FeedFormatError, Link, Parsed
from dashboard.feeds.cap import parse_cap
from dashboard.feeds.cap_index import parse_cap_index
from dashboard.geometry import haversine_m
from dashboard.model import Alert, Kind, Marking, Severity, entity_id

DATA = Path(__file__).parent / "data" / "cap"
DEFAULTS = FeedDefaults(source="test", agency="met", marking=Marking.CLEAR)
CAP12 = 'xmlns="urn:oasis:names:tc:emergency:cap:1.2"'


def sample(name: str) -> bytes:
    return next(DATA.glob(f"*/{name}")).read_bytes()


def edited(name: str, *replacements: tuple[str, str]) -> bytes:
    """A sample with some text replaced: each replaced text must be in it."""
    text = sample(name).decode("latin-1")  # byte for byte, whatever the encoding
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode("latin-1")


def only_alert(parsed: Parsed) -> Alert:
    assert parsed.refused == [] and parsed.removals == []
    assert len(parsed.records) == 1
    record = parsed.records[0]
    assert isinstance(record, Alert)
    return record


def refusal(parsed: Parsed) -> str:
    assert parsed.records == [] and len(parsed.refused) == 1
    assert parsed.refused[0].index == 0
    return parsed.refused[0].reason


# --- every real sample ---------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted((DATA / "valid").glob("*.xml"))
                         + sorted((DATA / "legacy").glob("*.xml")), ids=lambda p: p.name)
def test_every_valid_and_legacy_sample_parses_whole(path):
    parsed = parse_cap(path.read_bytes(), DEFAULTS)
    alert = only_alert(parsed)
    assert parsed.warnings == []
    assert alert.kind is Kind.ALERT and alert.source == "test" and alert.agency == "met"
    assert alert.infos and alert.sent == alert.time


def test_polygon_and_geocodes_nws_thunderstorm():
    alert = only_alert(parse_cap(sample("thunderstorm_polygon_geocode.xml"), DEFAULTS))
    assert alert.source_id == alert.version == "KSTO@NWS.NOAA.GOV,KSTO1055887203"
    assert alert.id == entity_id(Kind.ALERT, "test", "KSTO@NWS.NOAA.GOV,KSTO1055887203")
    assert (alert.title, alert.category, alert.severity) == (
        "SEVERE THUNDERSTORM WARNING", "Met", Severity.SEVERE)
    assert (alert.msg_type, alert.scope, alert.references, alert.signed) == (
        "Alert", "Public", [], False)
    assert alert.time.isoformat() == "2003-06-17T21:57:00+00:00"
    assert alert.expires.isoformat() == "2003-06-17T23:00:00+00:00"
    assert alert.attributes["status"] == "Actual"
    assert alert.attributes["infos"][0]["event_codes"] == {"SAME": ["SVR"]}
    [area] = alert.infos[0].areas
    assert area.geocodes == {"SAME": ["006109", "006009", "006003"]}
    # CAP writes "lat,lon"; the store holds lon/lat
    assert list(area.geometry.exterior.coords)[:2] == [(-120.14, 38.47), (-119.95, 38.34)]
    assert alert.geometry.equals(area.geometry)


def test_two_languages_and_geocode_only_areas_amber_alert():
    alert = only_alert(parse_cap(sample("oasis_amber_alert_example.xml"), DEFAULTS))
    assert alert.source_id == "KARO@CLETS.DOJ.CA.GOV,KAR0-0306112239-SW"
    assert [info.language for info in alert.infos] == ["en-US", "es-US"]
    assert alert.infos[1].event == "Abducción de Niño"
    assert [area.geocodes for info in alert.infos for area in info.areas] == [
        {"SAME": ["006037"]}, {"SAME": ["006037"]}]
    assert all(area.geometry is None for info in alert.infos for area in info.areas)
    assert alert.geometry is None and alert.expires is None
    assert alert.title == "Amber Alert in Los Angeles County"
    assert alert.attributes["source"] == "SW"


def test_an_area_without_geometry_or_geocode():
    alert = only_alert(parse_cap(sample("oasis_homeland_security_no_area.xml"), DEFAULTS))
    [area] = alert.infos[0].areas
    assert area.description == "U.S. nationwide and interests worldwide"
    assert area.geometry is None and area.geocodes == {} and alert.geometry is None
    assert alert.infos[0].language == "en-US"  # CAP's default when <language> is absent


def test_update_with_references_canada_en_fr_polygons():
    alert = only_alert(parse_cap(
        sample("ca_naad_ec_thunderstorm_update_en_fr_polygons.xml"), DEFAULTS))
    assert alert.msg_type == "Update"
    assert alert.source_id == "cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012"  # the earliest reference
    assert alert.version == "cap@ec.gc.ca,2.49.0.1.124.6bddbc91.2012"
    assert alert.references == [
        "cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012,2012-05-02T21:45:05-00:00",
        "cap@ec.gc.ca,2.49.0.1.124.60f31a3a.2012,2012-05-02T21:55:21-00:00"]
    assert [info.language for info in alert.infos] == ["en-CA", "fr-CA"]
    assert [area.description for area in alert.infos[1].areas] == [
        "Windsor - Leamington - comté d'Essex", "Chatham-Kent - parc Rondeau"]
    assert all(area.geometry.geom_type == "Polygon" for info in alert.infos for area in info.areas)
    windsor = alert.infos[0].areas[0]
    assert windsor.geometry.exterior.coords[0] == (-82.9314, 42.3481)
    assert len(windsor.geocodes["profile:CAP-CP:Location:0.3"]) == 9
    assert alert.geometry.covers(windsor.geometry)
    assert alert.severity is Severity.MINOR and alert.category == "Met"
    assert alert.attributes["codes"] == [
        "profile:CAP-CP:0.4", "layer:EC-MSC-SMC:1.0", "layer:SOREM:1.0"]


def test_the_earliest_reference_wins_whatever_its_place_in_the_list():
    swapped = edited("ca_naad_ec_thunderstorm_update_en_fr_polygons.xml", (
        "<references>cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012,2012-05-02T21:45:05-00:00 "
        "cap@ec.gc.ca,2.49.0.1.124.60f31a3a.2012,2012-05-02T21:55:21-00:00</references>",
        "<references>cap@ec.gc.ca,2.49.0.1.124.60f31a3a.2012,2012-05-02T21:55:21-00:00 "
        "cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012,2012-05-02T21:45:05-00:00</references>"))
    alert = only_alert(parse_cap(swapped, DEFAULTS))
    assert alert.source_id == "cap@ec.gc.ca,2.49.0.1.124.a3f342a4.2012"


TSUNAMI = "us_wcatwc_tsunami_update_geocode.xml"
TSUNAMI_HEADER = (
    "<identifier>PAAQ-2-lqw6d6</identifier>\n"
    "  <sender>http://newwcatwc.arh.noaa.gov/tsuPortal/</sender>")
TSUNAMI_REFERENCES = "<references>PAAQ,PAAQ-1-lqw6d6,2011-09-02T10:55:55-00:00</references>"


def test_an_update_replaces_the_alert_it_references():
    original = only_alert(parse_cap(edited(
        TSUNAMI,
        (TSUNAMI_HEADER, "<identifier>PAAQ-1-lqw6d6</identifier><sender>PAAQ</sender>"),
        ("<msgType>Update</msgType>", "<msgType>Alert</msgType>"),
        (TSUNAMI_REFERENCES, "")), DEFAULTS))
    update = only_alert(parse_cap(sample(TSUNAMI), DEFAULTS))
    assert original.source_id == update.source_id == "PAAQ,PAAQ-1-lqw6d6"
    assert original.id == update.id  # the same entity on the map
    assert (original.version, update.version) == (
        "PAAQ,PAAQ-1-lqw6d6", "http://newwcatwc.arh.noaa.gov/tsuPortal/,PAAQ-2-lqw6d6")
    assert update.severity is Severity.EXTREME and update.attributes["incidents"] == "lqw6d6"
    [area] = update.infos[0].areas
    assert area.geocodes == {"UGC": ["AKZ185", "AKZ187"]} and area.geometry is None
    assert update.attributes["infos"][0]["resources"][0] == {
        "description": "Energy Map", "mime_type": "image/jpeg",
        "uri": "http://newwcatwc.arh.noaa.gov/tsuPortal/events/PAAQ/2011/09/02/lqw6d6/2/WEPA41"
               "/2011/09/02/lqw6d6/energylqw6d6-02.jpg"}
    parameters = update.attributes["infos"][0]["parameters"]
    assert parameters["EventPreliminaryMagnitude"] == ["7.1"]
    assert len(parameters["predictedArrivalTime"]) == 25


def test_a_cancel_removes_the_original_alert():
    parsed = parse_cap(edited(
        TSUNAMI,
        ("<msgType>Update</msgType>", "<msgType>Cancel</msgType>"),
        ("<incidents>", "<note>all clear</note><incidents>")), DEFAULTS)
    assert parsed.records == [] and parsed.refused == []
    [removal] = parsed.removals
    assert removal.entity_id == entity_id(Kind.ALERT, "test", "PAAQ,PAAQ-1-lqw6d6")
    sender_identifier = "http://newwcatwc.arh.noaa.gov/tsuPortal/,PAAQ-2-lqw6d6"
    assert removal.key == f"cap-cancel:{sender_identifier}"
    assert removal.reason == f"CAP Cancel {sender_identifier}: all clear"


def test_a_cancel_without_references_is_refused():
    parsed = parse_cap(edited(TSUNAMI, ("<msgType>Update</msgType>", "<msgType>Cancel</msgType>"),
                              (TSUNAMI_REFERENCES, "")), DEFAULTS)
    assert parsed.removals == []
    assert "Cancel without usable <references>" in refusal(parsed)


def test_an_update_without_usable_references_is_kept_as_its_own_alert():
    parsed = parse_cap(edited(TSUNAMI, (TSUNAMI_REFERENCES, "<references>PAAQ,x</references>")),
                       DEFAULTS)
    alert = only_alert(parsed)
    assert alert.source_id == alert.version
    assert parsed.warnings == [
        "PAAQ-2-lqw6d6: reference 'PAAQ,x' is not a 'sender,identifier,sent' triple; ignored",
        "PAAQ-2-lqw6d6: Update without usable <references>; kept as a new alert"]


def test_an_ack_keeps_its_own_identity_and_replaces_nothing():
    data = edited(TSUNAMI, ("<msgType>Update</msgType>", "<msgType>Ack</msgType>"))
    ack = only_alert(parse_cap(data, DEFAULTS))
    assert ack.msg_type == "Ack"
    assert ack.source_id == ack.version == "http://newwcatwc.arh.noaa.gov/tsuPortal/,PAAQ-2-lqw6d6"


def test_signed_iso_8859_1_earthquake_with_a_zero_radius_circle():
    alert = only_alert(parse_cap(sample("earthquake_circle_iso8859-1.xml"), DEFAULTS))
    assert alert.signed is True
    assert alert.title == "EQ 4.6 Usulután, Usulután, El Salvador - PRELIMINARY REPORT"
    assert alert.infos[0].areas[0].description.startswith("47 miles (76 km) SSW of Usulután")
    assert alert.geometry.geom_type == "Point"  # radius 0: the epicentre itself
    assert (alert.geometry.x, alert.geometry.y) == (-88.783, 12.747)
    assert alert.infos[0].onset.isoformat() == "2012-10-14T22:40:56+00:00"
    assert alert.attributes["infos"][0]["parameters"]["Magnitude"] == ["4.6"]


def test_a_circle_radius_is_in_kilometres_and_drawn_in_metres():
    data = edited("earthquake_circle_iso8859-1.xml",
                  ("<circle>12.747,-88.783 0.0</circle>", "<circle>12.747,-88.783 25</circle>"))
    circle = only_alert(parse_cap(data, DEFAULTS)).geometry
    assert circle.geom_type == "Polygon" and circle.contains(circle.centroid)
    distances = [haversine_m(-88.783, 12.747, lon, lat) for lon, lat in circle.exterior.coords]
    assert all(abs(d - 25_000) < 1 for d in distances)


def test_cap_1_1_messages():
    quake = only_alert(parse_cap(sample("cap11_earthquake_circle.xml"), DEFAULTS))
    assert quake.source_id.endswith(",USGS-earthquakes-us2010apcd.6.20100831T000925.496Z")
    assert (quake.geometry.x, quake.geometry.y) == (-173.274, -16.053)
    flood = only_alert(parse_cap(sample("cap11_nws_weather_geocode.xml"), DEFAULTS))
    assert flood.severity is Severity.SEVERE and flood.geometry is None
    assert flood.infos[0].areas[0].geocodes == {"FIPS6": ["030049"], "UGC": ["MTZ014"]}
    assert flood.attributes["note"].startswith("Alert for Central and Southern Lewis and Clark")
    assert flood.expires.isoformat() == "2010-08-30T18:00:00+00:00"


def test_the_most_severe_info_and_the_latest_expiry_win():
    data = edited("oasis_amber_alert_example.xml",
                  ("<severity>Severe</severity>\n     <certainty>Likely</certainty>\n"
                   "     <eventCode>\n        <valueName>SAME</valueName>\n"
                   "        <value>CAE</value>\n     </eventCode>\n"
                   "     <senderName>Departamento",
                   "<severity>Extreme</severity>\n     <certainty>Likely</certainty>\n"
                   "     <expires>2003-06-12T22:39:00-07:00</expires>\n"
                   "     <senderName>Departamento"))
    alert = only_alert(parse_cap(data, DEFAULTS))
    assert [info.severity for info in alert.infos] == [Severity.SEVERE, Severity.EXTREME]
    assert alert.severity is Severity.EXTREME
    assert alert.expires.isoformat() == "2003-06-13T05:39:00+00:00"


@pytest.mark.parametrize("scope, default, expected", [
    ("Public", Marking.GREEN, Marking.GREEN),
    ("Restricted", Marking.CLEAR, Marking.AMBER),
    ("Private", Marking.GREEN, Marking.AMBER_STRICT),
    ("Restricted", Marking.RED, Marking.RED),
])
def test_scope_raises_the_marking(scope, default, expected):
    data = edited("thunderstorm_polygon_geocode.xml",
                  ("<scope>Public</scope>", f"<scope>{scope}</scope>"))
    defaults = FeedDefaults(source="test", agency="met", marking=default)
    assert only_alert(parse_cap(data, defaults)).marking is expected


# --- refused messages and warnings ---------------------------------------------------------

def test_missing_scope_is_refused_and_the_schema_says_so_too():
    parsed = parse_cap(sample("missing_scope.xml"), DEFAULTS)
    assert refusal(parsed) == "<scope> is missing"
    assert parsed.refused[0].item_id == "12345"
    assert len(parsed.warnings) == 1 and parsed.warnings[0].startswith("12345: line 9: ")
    assert "scope" in parsed.warnings[0]


def test_no_namespace_and_empty_sent_is_refused_naming_each_field():
    parsed = parse_cap(sample("no_namespace_None_coords_empty_sent.xml"), DEFAULTS)
    assert refusal(parsed) == ("<identifier> is missing; <sender> is missing; <sent> is empty; "
                               "<status> is missing; <msgType> is missing; <scope> is missing")
    assert parsed.refused[0].item_id is None
    assert "has no CAP namespace" in parsed.warnings[0]


GOOD_HEADER = ("<identifier>x1</identifier><sender>met@example.org</sender>"
               "<sent>2024-01-01T00:00:00+00:00</sent><status>Actual</status>"
               "<msgType>Alert</msgType><scope>Public</scope>")


def test_none_inside_coordinates_is_refused_naming_the_area():
    data = edited("no_namespace_None_coords_empty_sent.xml", ("<sent></sent>", GOOD_HEADER))
    parsed = parse_cap(data, DEFAULTS)
    assert refusal(parsed) == "area 'Area1': 'None,1.23' is not a 'lat,lon' pair of numbers"
    assert parsed.refused[0].item_id == "x1"


def test_a_usable_message_without_namespace_lands_with_a_warning():
    data = edited("no_namespace_None_coords_empty_sent.xml", ("<sent></sent>", GOOD_HEADER),
                  ("<polygon>None,1.23</polygon>", ""), ("<circle>1.234,5.67 None</circle>", ""))
    parsed = parse_cap(data, DEFAULTS)
    alert = only_alert(parsed)
    assert alert.infos[0].areas[0].geocodes == {"value1": ["123"]}
    assert parsed.warnings == ["x1: <alert> has no CAP namespace; read as CAP 1.2, "
                               "schema not checked"]


def test_an_invalid_but_usable_message_lands_with_schema_warnings():
    data = edited("thunderstorm_polygon_geocode.xml",
                  ("<urgency>Immediate</urgency>", "<urgency>Soonish</urgency>"),
                  ("<severity>Severe</severity>", "<severity>Dire</severity>"))
    parsed = parse_cap(data, DEFAULTS)
    alert = only_alert(parsed)
    assert alert.infos[0].urgency == "Soonish" and alert.severity is Severity.UNKNOWN
    assert len(parsed.warnings) == 2
    assert all(w.startswith("KSTO1055887203: line ") for w in parsed.warnings)
    assert "Soonish" in parsed.warnings[0] and "Dire" in parsed.warnings[1]


@pytest.mark.parametrize("old, new, reason", [
    ("<status>Actual</status>", "<status>actual</status>",
     "<status> 'actual' is not one of Actual, Exercise, System, Test, Draft"),
    ("<msgType>Alert</msgType>", "<msgType>Notice</msgType>",
     "<msgType> 'Notice' is not one of Alert, Update, Cancel, Ack, Error"),
    ("<sent>2003-06-17T14:57:00-07:00</sent>", "<sent>yesterday</sent>",
     "<sent> 'yesterday' is not a date-time"),
    ("<identifier>KSTO1055887203</identifier>", "<identifier>KSTO 1055887203</identifier>",
     "<identifier> 'KSTO 1055887203' must not contain spaces or commas"),
    ("<sender>KSTO@NWS.NOAA.GOV</sender>", "<sender>KSTO,NWS</sender>",
     "<sender> 'KSTO,NWS' must not contain spaces or commas"),
])
def test_unsound_core_fields_are_refused(old, new, reason):
    parsed = parse_cap(edited("thunderstorm_polygon_geocode.xml", (old, new)), DEFAULTS)
    assert refusal(parsed) == reason


THUNDERSTORM_POLYGON = ("<polygon>38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 "
                        "38.47,-120.14</polygon>")


@pytest.mark.parametrize("polygon, reason", [
    ("38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89",
     "polygon is not closed: it starts at 38.47,-120.14 and ends at 38.62,-119.89"),
    ("38.47,-120.14 38.47,-120.14", "polygon has 2 point(s); a closed polygon needs at least 4"),
    ("38.47,-120.14 38.34;-119.95 38.52,-119.74 38.47,-120.14",
     "'38.34;-119.95' is not a 'lat,lon' pair of numbers"),
    ("0,0 0,1 1,0 1,1 0,0", "invalid Polygon: Self-intersection"),
    ("95,0 95,1 96,1 95,0", "latitude out of range [-90, 90]: 96.0"),
])
def test_unusable_polygons_are_refused(polygon, reason):
    data = edited("thunderstorm_polygon_geocode.xml",
                  (THUNDERSTORM_POLYGON, f"<polygon>{polygon}</polygon>"))
    message = refusal(parse_cap(data, DEFAULTS))
    assert message.startswith("area 'EXTREME NORTH CENTRAL TUOLUMNE COUNTY")
    assert reason in message


def test_a_polygon_across_the_antimeridian_is_split_not_refused():
    # Written as a Pacific warning is: from 179.5 east straight on to -179.5 (Fiji, Tonga).
    fiji = "-17,179.5 -17,-179.5 -16,-179.5 -16,179.5 -17,179.5"
    data = edited("thunderstorm_polygon_geocode.xml",
                  (THUNDERSTORM_POLYGON, f"<polygon>{fiji}</polygon>"))
    area = only_alert(parse_cap(data, DEFAULTS)).geometry
    assert area.geom_type == "MultiPolygon" and len(area.geoms) == 2
    assert sorted(round(p.bounds[0], 1) for p in area.geoms) == [-180.0, 179.5]
    assert area.area == pytest.approx(1.0)  # one square degree, not the rest of the world


def test_a_circle_across_the_antimeridian_is_split_not_refused():
    data = edited("earthquake_circle_iso8859-1.xml",
                  ("<circle>12.747,-88.783 0.0</circle>", "<circle>-17,179.9 50</circle>"))
    circle = only_alert(parse_cap(data, DEFAULTS)).geometry
    assert circle.geom_type == "MultiPolygon"
    west, _, east, _ = circle.bounds
    assert (west, east) == (-180.0, 180.0)
    edge = [haversine_m(179.9, -17, lon, lat) for part in circle.geoms
            for lon, lat in part.exterior.coords if abs(lon) != 180]
    assert all(abs(d - 50_000) < 1 for d in edge)


@pytest.mark.parametrize("circle, reason", [
    ("12.747,-88.783", "circle '12.747,-88.783' is not 'lat,lon radius'"),
    ("12.747,-88.783 -5", "the radius must be a non-negative number of km"),
    ("12.747,-88.783 nan", "the radius must be a non-negative number of km"),
    ("97,-88.783 5", "latitude out of range [-90, 90]: 97.0"),
])
def test_unusable_circles_are_refused(circle, reason):
    data = edited("earthquake_circle_iso8859-1.xml",
                  ("<circle>12.747,-88.783 0.0</circle>", f"<circle>{circle}</circle>"))
    assert reason in refusal(parse_cap(data, DEFAULTS))


# --- documents that are not CAP at all -----------------------------------------------------

HOSTILE = {
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<alert ' + CAP12.encode() + b'><identifier>&lol3;</identifier></alert>'),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<alert ' + CAP12.encode() + b'><identifier>&xxe;</identifier></alert>'),
    "xinclude": (
        b'<alert ' + CAP12.encode() + b' xmlns:xi="http://www.w3.org/2001/XInclude">'
        b'<identifier><xi:include href="file:///etc/passwd" parse="text"/></identifier></alert>'),
    "dtd": (b'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://example.org/cap.dtd">'
            b'<alert ' + CAP12.encode() + b'><identifier>x</identifier></alert>'),
}


@pytest.mark.parametrize("parse", [parse_cap, parse_cap_index])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_are_refused_before_reading(parse, name):
    with pytest.raises(FeedFormatError, match="^refused: ") as caught:
        parse(HOSTILE[name], DEFAULTS)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaks into the message


@pytest.mark.parametrize("data, message", [
    (b"", "not XML: the document is empty"),
    (b"{}", "not well-formed XML"),
    (b"<alert xmlns='http://www.incident.com/cap/1.0'/>",
     "not a CAP 1.2 or 1.1 alert: namespace 'http://www.incident.com/cap/1.0'"),
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.3'/>", "not a CAP 1.2 or 1.1 alert"),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "not a CAP alert: the root element is <feed>"),
])
def test_documents_that_are_not_cap_alerts(data, message):
    with pytest.raises(FeedFormatError, match=message):
        parse_cap(data, DEFAULTS)


# --- Atom and RSS indexes ------------------------------------------------------------------

def test_an_rss_index_links_to_its_alert():
    parsed = parse_cap_index(sample("amber.rss"), DEFAULTS)
    assert parsed.links == [
        Link("http://cap-validator.appspot.com/examples/KAR0-0306112239-SW.cap", "cap")]
    assert parsed.records == parsed.refused == []


def test_an_atom_index_links_to_each_alert():
    parsed = parse_cap_index(sample("nws_style_weather_index.atom"), DEFAULTS)
    base = "http://www.weather.gov/alerts-beta/wwacapget.php?x="
    assert parsed.links == [
        Link(base + "CT20100831030400OKXAirQualityAlertOKX20100901031500CT", "cap"),
        Link(base + "DC20100830203300LWXAirQualityAlertLWX20100901040000DC", "cap")]
    assert parsed.records == parsed.refused == []


def test_an_alert_embedded_in_an_atom_entry_is_parsed_inline():
    parsed = parse_cap_index(sample("weather_entries.atom"), DEFAULTS)
    assert parsed.links == [] and parsed.refused == [] and parsed.warnings == []
    [alert] = parsed.records
    assert alert.source_id == ("w-nws.webmaster@noaa.gov,"
                               "NOAA-NWS-ALERTS-MT20120830100700TFXFlashFloodWatchTFX20120830180000MT")
    assert alert.infos[0].areas[0].geocodes == {"FIPS6": ["030049"], "UGC": ["MTZ014"]}
    assert alert.title.startswith("Flash Flood Watch issued August 30")


def test_an_rss_item_with_neither_alert_nor_link_is_refused():
    parsed = parse_cap_index(sample("invalid.rss"), DEFAULTS)
    assert parsed.records == [] and parsed.links == []
    [refused] = parsed.refused
    assert (refused.index, refused.item_id, refused.reason) == (
        0, None, "entry has neither an embedded CAP <alert> nor a link")


def atom(*entries: str) -> bytes:
    return ("<feed xmlns='http://www.w3.org/2005/Atom'><id>i</id>" + "".join(
        f"<entry><id>e{n}</id>{body}</entry>" for n, body in enumerate(entries))
        + "</feed>").encode()


def test_index_links_prefer_cap_typed_links_and_refuse_non_http_ones():
    parsed = parse_cap_index(atom(
        "<link href='https://example.org/page.html'/>"
        "<link rel='related' type='application/cap+xml; charset=utf-8'"
        " href='https://example.org/a.cap'/>",
        "<content type='application/cap+xml' src='https://example.org/b.cap'/>",
        "<link rel='self' href='https://example.org/feed'/>",
        "<link href='file:///etc/passwd'/>",
        "<link href='/relative.cap'/>",
    ), DEFAULTS)
    assert parsed.links == [Link("https://example.org/a.cap", "cap"),
                            Link("https://example.org/b.cap", "cap")]
    assert [(r.index, r.item_id, r.reason) for r in parsed.refused] == [
        (2, "e2", "entry has neither an embedded CAP <alert> nor a link"),
        (3, "e3", "link 'file:///etc/passwd' is not an absolute http(s) URL"),
        (4, "e4", "link '/relative.cap' is not an absolute http(s) URL")]


def test_rss_enclosures_typed_as_cap_win_over_the_item_link():
    rss = (b"<rss version='2.0'><channel><title>t</title><item><guid>g1</guid>"
           b"<link>https://example.org/page</link>"
           b"<enclosure url='https://example.org/g1.cap' type='application/cap+xml'/>"
           b"</item></channel></rss>")
    assert parse_cap_index(rss, DEFAULTS).links == [Link("https://example.org/g1.cap", "cap")]


def test_a_refused_embedded_alert_points_at_its_entry():
    missing_scope = sample("missing_scope.xml").decode().split("?>", 1)[1]
    parsed = parse_cap_index(atom("<link href='https://example.org/a.cap'/>",
                                  f"<content type='text/xml'>{missing_scope}</content>"),
                             DEFAULTS)
    assert parsed.links == [Link("https://example.org/a.cap", "cap")]
    assert [(r.index, r.item_id, r.reason) for r in parsed.refused] == [
        (1, "12345", "<scope> is missing")]
    assert parsed.warnings and parsed.warnings[0].startswith("12345: line ")


def test_text_after_an_embedded_alert_does_not_spoil_it():
    alert = sample("thunderstorm_polygon_geocode.xml").decode().split("?>", 1)[1]
    parsed = parse_cap_index(atom(f"<content type='text/xml'>{alert} trailing words</content>"),
                             DEFAULTS)
    assert [r.source_id for r in parsed.records] == ["KSTO@NWS.NOAA.GOV,KSTO1055887203"]
    assert parsed.refused == []


@pytest.mark.parametrize("data, message", [
    (b"<rss version='2.0'/>", "<rss> has no <channel>"),
    (sample("thunderstorm_polygon_geocode.xml"), "not an Atom feed or an RSS 2.0 channel"),
    (b"<html><body/></html>", "the root element is <html>"),
    (b"not xml", "not well-formed XML"),
])
def test_documents_that_are_not_indexes(data, message):
    with pytest.raises(FeedFormatError, match=message):
        parse_cap_index(data, DEFAULTS)

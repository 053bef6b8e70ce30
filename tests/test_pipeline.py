"""Landing a document in parts: writes overlap the parse, nothing is lost, errors stop both."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from dashboard.feeds import FORMATS
from dashboard.feeds.base import FeedDefaults, FeedFormatError, Parsed, Refused, Removal
from dashboard.feeds.geojson import PART_ITEMS
from dashboard.feeds.pipeline import DEPTH, land
from dashboard.model import Incident, Marking

DEFAULTS = FeedDefaults(source="usgs-test", agency="usgs", marking=Marking.CLEAR)


def incident(n: int) -> Incident:
    return Incident(source="t", source_id=f"e{n}", marking=Marking.CLEAR, agency="a")


def parts_of(count: int, size: int = 3) -> Iterator[Parsed]:
    for p in range(count):
        yield Parsed(records=[incident(p * size + i) for i in range(size)],
                     refused=[Refused(p, f"bad{p}", "no")],
                     removals=[Removal(f"gone{p}", "deleted", f"key{p}")],
                     warnings=[f"warning {p}"])


def parse_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "feed-parse-ahead"]


def test_every_record_is_written_in_order_and_the_rest_is_gathered_in_part_order():
    landed = land(parts_of(7), list)
    assert [r.source_id for r in landed.written] == [f"e{n}" for n in range(21)]
    assert landed.records == 21
    assert [r.item_id for r in landed.parsed.refused] == [f"bad{p}" for p in range(7)]
    assert [r.key for r in landed.parsed.removals] == [f"key{p}" for p in range(7)]
    assert landed.parsed.warnings == [f"warning {p}" for p in range(7)]
    assert landed.parsed.records == [] and not parse_threads()


def test_later_parts_are_parsed_while_the_first_ones_are_being_written():
    """Parts after the first wait for the writer to start, and the writer holds on to its
    first record until part 3 exists: only a parse running alongside the writer gets through
    (parsing everything first, or parsing a part only when the writer asks, times out)."""
    writing, third_part = threading.Event(), threading.Event()

    def parts() -> Iterator[Parsed]:
        for p, part in enumerate(parts_of(5)):
            if p == 1:
                assert writing.wait(timeout=10), "the document was parsed before any write"
            if p == 2:
                third_part.set()
            yield part

    def write(records):
        writing.set()
        records = iter(records)
        first = next(records)
        assert third_part.wait(timeout=10), "the parse did not run alongside the writer"
        return [first, *records]

    assert len(land(parts(), write).written) == 15


def test_a_document_that_cannot_be_read_raises_before_anything_is_written():
    written = []
    with pytest.raises(FeedFormatError, match="not JSON"):
        land(FORMATS["usgs"](b"{not json", DEFAULTS), written.extend)
    assert written == [] and not parse_threads()


def test_a_failing_write_stops_the_parse():
    produced = []

    def endless() -> Iterator[Parsed]:
        for part in parts_of(10_000):
            produced.append(part)
            yield part

    def write(records):
        for n, _ in enumerate(records):
            if n == 5:
                raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        land(endless(), write)
    assert not parse_threads()
    assert len(produced) <= 2 + DEPTH + 2  # what was written, queued, being parsed


def test_a_failing_parse_of_a_later_part_is_raised_to_the_caller():
    def breaking() -> Iterator[Parsed]:
        yield from parts_of(2)
        raise ValueError("adapter bug")

    written = []
    with pytest.raises(ValueError, match="adapter bug"):
        land(breaking(), written.extend)
    assert len(written) == 6 and not parse_threads()


def test_a_big_usgs_file_lands_whole_in_a_real_store_with_its_refusals(sqlite_store):
    n = 2 * PART_ITEMS + 300  # three parts
    features = [{"type": "Feature", "id": f"us{i}", "properties": {
                     "mag": 2.0, "time": 1767225600000 + i, "updated": 1767229200000,
                     "title": f"M 2 - {i}", "type": "earthquake"},
                 "geometry": {"type": "Point", "coordinates": [i % 360 - 180, (i % 170) - 85,
                                                               5.0]}}
                for i in range(n)]
    for bad in (3, PART_ITEMS + 7, 2 * PART_ITEMS + 11):  # one in each part
        features[bad]["geometry"]["coordinates"][1] = 91
    document = json.dumps({"type": "FeatureCollection", "features": features}).encode()

    def write(records):
        return sqlite_store.write_many(records, actor="feed:test")

    landed = land(FORMATS["usgs"](document, DEFAULTS), write)
    assert [r.index for r in landed.parsed.refused] == [3, PART_ITEMS + 7, 2 * PART_ITEMS + 11]
    assert landed.parsed.refused[0].reason == "geometry: latitude out of range [-90, 90]: 91.0"
    assert Counter(r.action.value for r in landed.written) == {"created": n - 3}
    again = land(FORMATS["usgs"](document, DEFAULTS), write)
    assert all(r.duplicate for r in again.written) and len(again.written) == n - 3

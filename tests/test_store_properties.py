"""Property tests: idempotency and marking filters hold for any sequence of writes and viewers."""

from __future__ import annotations

import itertools
import math
import uuid

import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dashboard.model import Incident, Marking, Viewer
from dashboard.store import Query
from dashboard.store.schema import entities, events

AGENCIES = ("police", "customs", "fire")
ALL_SEEING = Viewer(agency="police", clearance=Marking.RED)
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])

write = st.tuples(
    st.integers(0, 5),  # source id
    st.integers(1, 3),  # version
    st.sampled_from(list(Marking)),
    st.sampled_from(AGENCIES),
    st.floats(24.0, 25.0), st.floats(60.0, 60.5),
)


def make(source: str, spec, prefix: str) -> Incident:
    sid, version, marking, agency, lon, lat = spec
    return Incident(source=source, source_id=str(sid), version=str(version), marking=marking,
                    agency=f"{prefix}{agency}", geometry=shapely.Point(lon, lat))


def counts(store, source: str) -> tuple[int, int]:
    with store.engine.connect() as conn:
        n_events = conn.execute(select(func.count()).select_from(events)
                                .where(events.c.source == source)).scalar_one()
        n_entities = conn.execute(select(func.count()).select_from(entities)
                                  .where(entities.c.source == source)).scalar_one()
    return n_events, n_entities


@PROPERTY_SETTINGS
@given(specs=st.lists(write, max_size=25), cut=st.integers(0, 25), data=st.data())
def test_writes_are_idempotent(store, specs, cut, data):
    """However writes are batched and repeated, one event per (id, version), one entity per id."""
    source = f"prop-{uuid.uuid4()}"
    records = [make(source, spec, "") for spec in specs]
    store.write_many(records[:cut], actor="p")
    for record in records[cut:]:
        store.write(record, actor="p")
    expected = (len({(r.source_id, r.version) for r in records}),
                len({r.source_id for r in records}))
    assert counts(store, source) == expected
    last = store.last_seq()
    replay = data.draw(st.permutations(records))
    results = store.write_many(replay, actor="p")
    assert all(r.duplicate for r in results)
    assert store.last_seq() == last and counts(store, source) == expected


@PROPERTY_SETTINGS
@given(specs=st.lists(write, min_size=1, max_size=20),
       viewers=st.lists(st.tuples(st.sampled_from(AGENCIES), st.sampled_from(list(Marking))),
                        min_size=1, max_size=4))
def test_no_read_returns_a_record_above_the_viewer(store, specs, viewers):
    """Every read path returns exactly what Viewer.can_see allows: nothing more, nothing less."""
    prefix = f"{uuid.uuid4().hex[:8]}-"
    source = f"prop-{prefix}"
    for record in [make(source, spec, prefix) for spec in specs]:
        store.write(record, actor="p")
    mine = Query(agencies=[prefix + a for a in AGENCIES])
    every = {r.id: r for r in itertools.chain.from_iterable(
        store.query(Viewer(agency=prefix + a, clearance=Marking.RED), mine) for a in AGENCIES)}
    assert len(every) == len({spec[0] for spec in specs})  # RED in each agency sees it all
    for agency, clearance in viewers:
        viewer = Viewer(agency=prefix + agency, clearance=clearance)
        allowed = {i for i, r in every.items() if viewer.can_see(r.marking, r.agency)}
        for q in (mine, Query(agencies=mine.agencies, bbox=(24, 60, 25, 60.5)),
                  Query(agencies=mine.agencies, as_of=store.last_seq())):
            got = store.query(viewer, q)
            assert all(viewer.can_see(r.marking, r.agency) for r in got)
            assert {r.id for r in got} == allowed
        log = [e for e in store.events_after(viewer, 0, limit=100_000) if e.source == source]
        assert all(viewer.can_see(e.marking, e.agency) for e in log)


shape_write = st.tuples(
    st.integers(0, 4),  # source id
    st.sampled_from(("point", "box", "none", "remove")),
    st.floats(24.0, 25.0), st.floats(60.0, 60.5),
    st.floats(0.0, 0.3),  # box size
)


def shaped(source: str, spec, version: int) -> Incident:
    sid, shape, lon, lat, size = spec
    geometry = {"point": shapely.Point(lon, lat), "none": None,
                "box": shapely.box(lon, lat, lon + size + 0.001, lat + size + 0.001)}[shape]
    return Incident(source=source, source_id=str(sid), version=str(version),
                    marking=Marking.GREEN, agency="police", geometry=geometry)


@PROPERTY_SETTINGS
@given(steps=st.lists(st.lists(shape_write, min_size=1, max_size=4), max_size=8))
def test_sqlite_rtrees_index_exactly_the_rows_they_should(sqlite_store, steps):
    """The R*Trees are written by the backend beside the rows (migration 0005): after any
    creates, moves between cells, changes of shape and removals, in batches or alone, the
    entities' R*Tree holds each current extent (bigger than a point) once, with its row id
    and box, and the versions' R*Tree each located version with its seqs."""
    store = sqlite_store
    source = f"prop-{uuid.uuid4()}"
    version = itertools.count(1)
    for batch in steps:
        records = [shaped(source, spec, next(version)) for spec in batch
                   if spec[1] != "remove"]
        if records:
            store.write_many(records, actor="p")
        for sid in {spec[0] for spec in batch if spec[1] == "remove"}:
            current = store.query(ALL_SEEING, Query(agencies=["police"]))
            for record in current:
                if record.source == source and record.source_id == str(sid):
                    store.remove(record.id, actor="p")
    with store.engine.connect() as conn:
        def boxes(sql: str) -> dict[int, tuple]:
            return {row[0]: row[1:] for row in conn.exec_driver_sql(sql)}

        def same(index: dict[int, tuple], rows: dict[int, tuple]) -> bool:
            """The same ids, and boxes equal up to the R*Tree's 32-bit floats."""
            return index.keys() == rows.keys() and all(
                math.isclose(a, b, abs_tol=1e-4)
                for key in rows for a, b in zip(index[key], rows[key], strict=True))

        assert same(boxes("SELECT rid, minx, maxx, miny, maxy FROM entities_rtree"), boxes(
            "SELECT rid, minx, maxx, miny, maxy FROM entities "
            "WHERE minx IS NOT NULL AND (minx < maxx OR miny < maxy)"))
        assert same(boxes("SELECT * FROM versions_rtree"), boxes(
            "SELECT vid, minx, maxx, miny, maxy, valid_from_seq, valid_to_seq "
            "FROM entity_versions WHERE minx IS NOT NULL"))


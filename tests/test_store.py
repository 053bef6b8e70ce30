"""The store's contract, run on SQLite and on PostGIS alike (see conftest.BACKENDS)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from operator import itemgetter

import pytest
import shapely
from sqlalchemy import event, func, select

from dashboard.geometry import GeometryError
from dashboard.layers.features import feature
from dashboard.model import (
    Action,
    Alert,
    AlertArea,
    AlertInfo,
    Annotation,
    Incident,
    Kind,
    Marking,
    Unit,
    Viewer,
)
from dashboard.store import Query, StoreError, open_store
from dashboard.store import backends
from dashboard.store import store as store_module
from dashboard.store.cells import cell_of_row, cells_of
from dashboard.store.schema import entities, entity_versions, events
from tests.support.waiting import wait_until

HELSINKI = (24.94, 60.17)
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ALL = Viewer(agency="police", clearance=Marking.RED)


def incident(source_id: str, lon: float = HELSINKI[0], lat: float = HELSINKI[1], *,
             version: str = "1", marking: Marking = Marking.GREEN, agency: str = "police",
             **fields) -> Incident:
    return Incident(source="test", source_id=source_id, version=version, marking=marking,
                    agency=agency, geometry=shapely.Point(lon, lat), time=fields.pop("time", T0),
                    **fields)


def ids(records) -> set[str]:
    return {r.source_id for r in records}


def found(store, viewer: Viewer, q: Query | None = None) -> set[str]:
    """The source ids q finds, after checking that the map's read (features) finds the same
    records, each shaped as feature() shapes it, in the same order when q has a limit."""
    q = q or Query()
    records = store.query(viewer, q)
    seq, texts = store.features(viewer, q)
    assert seq == store.last_seq()
    drawn = [json.loads(t) for t in texts]
    expected = [json.loads(json.dumps(feature(r))) for r in records]
    if q.limit is None:
        drawn.sort(key=itemgetter("id"))
        expected.sort(key=itemgetter("id"))
    assert drawn == expected
    return ids(records)


def count(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# ------------------------------------------------------------------------- writes

def test_round_trip_keeps_every_field(store):
    alert = Alert(
        source="cap", source_id="urn:oid:1", version="2026-11-25T08:00:00Z",
        marking="TLP:AMBER", agency="fmi", title="Storm warning", category="Met",
        severity="Severe", time=T0, expires=T0 + timedelta(hours=6),
        geometry={"type": "Polygon",
                  "coordinates": [[[24, 60], [25, 60], [25, 61], [24, 61], [24, 60]]]},
        sender="fmi@example.org", sent=T0, msg_type="Alert", references=["a,b,c"],
        infos=[AlertInfo(language="fi-FI", headline="Myrskyvaroitus", severity="severe",
                         areas=[AlertArea(description="Uusimaa", geocodes={"FIPS": ["1"]})]),
               AlertInfo(language="en-GB", headline="Storm warning")],
        attributes={"raw": {"nested": [1, 2]}},
    )
    result = store.write(alert, actor="feed:fmi")
    assert result.action is Action.CREATED and not result.duplicate
    got = store.get(ALL.model_copy(update={"agency": "fmi"}), result.entity_id)
    assert got == alert
    assert got.id == alert.id == result.entity_id


def test_every_kind_is_stored(store):
    records = [
        incident("i1"),
        Unit(source="cad", source_id="u1", marking="GREEN", agency="fire", callsign="RPL101",
             status="en-route", geometry=shapely.Point(24.9, 60.2)),
        Annotation(source="sitroom", source_id="a1", marking="CLEAR", agency="police",
                   label="Cordon", geometry=shapely.Point(24.9, 60.2).buffer(0.01)),
    ]
    store.write_many(records, actor="test")
    got = {r.kind: r for r in store.query(ALL)}
    assert set(got) == {Kind.INCIDENT, Kind.UNIT, Kind.ANNOTATION}
    assert got[Kind.UNIT].callsign == "RPL101"
    assert got[Kind.ANNOTATION].geometry.equals(records[2].geometry)


def test_same_version_twice_is_one_record(store):
    first = store.write(incident("a"), actor="t")
    again = store.write(incident("a", title="changed but same version"), actor="t")
    assert again.duplicate and (again.seq, again.entity_id) == (first.seq, first.entity_id)
    assert count(store, events) == 1 and count(store, entities) == 1
    assert store.get(ALL, first.entity_id).title == ""


def test_idempotency_key_returns_the_first_answer(store):
    first = store.write(incident("a"), actor="phone", idempotency_key="key-1")
    retry = store.write(incident("a", version="2"), actor="phone", idempotency_key="key-1")
    assert retry.duplicate
    assert (retry.seq, retry.entity_id, retry.action) == (first.seq, first.entity_id,
                                                          first.action)
    assert count(store, events) == 1


def test_duplicates_inside_one_batch(store):
    results = store.write_many([incident("a"), incident("a"), incident("b")], actor="t")
    assert [r.duplicate for r in results] == [False, True, False]
    assert count(store, events) == 2


def test_update_keeps_history_and_state_as_of(store):
    created = store.write(incident("a", title="smoke"), actor="t")
    updated = store.write(incident("a", 24.95, version="2", title="fire"), actor="t")
    assert updated.action is Action.UPDATED and updated.entity_id == created.entity_id
    assert [r.title for r in store.query(ALL)] == ["fire"]
    assert [e.action for e in store.history(ALL, created.entity_id)] == [Action.CREATED,
                                                                         Action.UPDATED]
    assert [r.title for r in store.query(ALL, Query(as_of=created.seq))] == ["smoke"]
    assert [r.title for r in store.query(ALL, Query(as_of=updated.seq))] == ["fire"]
    assert store.query(ALL, Query(as_of=0)) == []
    # the old position is found where it was, as of then; not now
    old_box = (24.93, 60.16, 24.945, 60.18)
    assert ids(store.query(ALL, Query(bbox=old_box, as_of=created.seq))) == {"a"}
    assert store.query(ALL, Query(bbox=old_box)) == []


def test_a_moved_entity_is_found_where_it_is_now(store):
    """Rows are keyed by place (store.cells): a move within a cell keeps the row, a move to
    another cell re-keys it, also when one batch moves it twice; boxes find it only where it
    is now, and the old places only as of then."""
    here, near, far = (24.9410, 60.1710), (24.9411, 60.1711), (25.30, 60.40)
    first = store.write(incident("a", *here), actor="t")
    rid = row_ids(store)
    store.write(incident("a", *near, version="2"), actor="t")
    assert row_ids(store) == rid  # the same cell
    moved = store.write_many([incident("a", *far, version="3"),
                              incident("a", *here, version="4"),
                              incident("a", *far, version="5")], actor="t")
    assert row_ids(store) != rid
    assert [cell_of_row(r) for r in row_ids(store)] == cells_of([far * 2])
    around = lambda lon, lat: (lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)  # noqa: E731
    assert ids(store.query(ALL, Query(bbox=around(*far)))) == {"a"}
    assert store.features(ALL, Query(bbox=around(*here)))[1] == []
    assert ids(store.query(ALL, Query(bbox=around(*here), as_of=first.seq))) == {"a"}
    assert ids(store.query(ALL, Query(bbox=around(*here), as_of=moved[1].seq))) == {"a"}


def row_ids(store) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(entities.c.rid)).scalars())


def test_state_as_of_a_time(store):
    store.write(incident("a"), actor="t")
    between = datetime.now(UTC)
    store.write(incident("b"), actor="t")
    assert ids(store.query(ALL, Query(as_of=between))) == {"a"}
    assert ids(store.query(ALL, Query(as_of=between - timedelta(days=1)))) == set()
    assert ids(store.query(ALL, Query(as_of=datetime.now(UTC)))) == {"a", "b"}


def test_several_changes_of_one_entity_in_one_batch(store):
    results = store.write_many(
        [incident("a", title="v1"), incident("a", version="2", title="v2"),
         incident("a", version="3", title="v3")], actor="t")
    assert [r.action for r in results] == [Action.CREATED, Action.UPDATED, Action.UPDATED]
    for result, title in zip(results, ["v1", "v2", "v3"]):
        assert [r.title for r in store.query(ALL, Query(as_of=result.seq))] == [title]
    assert count(store, entity_versions) == 2


def test_remove_takes_it_off_the_picture_but_not_the_log(store):
    created = store.write(incident("a"), actor="t")
    removed = store.remove(created.entity_id, actor="commander", reason="false alarm",
                           idempotency_key="rm-1")
    assert removed.action is Action.REMOVED and removed.seq == created.seq + 1
    assert store.query(ALL) == [] and store.get(ALL, created.entity_id) is None
    history = store.history(ALL, created.entity_id)
    assert [e.action for e in history] == [Action.CREATED, Action.REMOVED]
    assert history[-1].payload == {"reason": "false alarm"}
    assert ids(store.query(ALL, Query(as_of=created.seq))) == {"a"}
    with pytest.raises(StoreError, match="no current entity"):
        store.remove(created.entity_id, actor="t")
    # written again after removal: it comes back, with its history continuous
    again = store.write(incident("a", version="2"), actor="t")
    assert again.action is Action.CREATED and again.entity_id == created.entity_id
    assert found(store, ALL) == {"a"}
    assert len(store.history(ALL, created.entity_id)) == 3


def test_remove_with_the_same_key_answers_the_same(store):
    created = store.write(incident("a"), actor="t")
    first = store.remove(created.entity_id, actor="t", idempotency_key="rm")
    second = store.remove(created.entity_id, actor="t", idempotency_key="rm")
    assert second.duplicate and (second.seq, second.action) == (first.seq, first.action)


def test_seq_is_contiguous_and_in_commit_order(store):
    store.write_many([incident(str(i)) for i in range(7)], actor="t")
    store.write(incident("x"), actor="t")
    seqs = [e.seq for e in store.events_after(ALL, 0)]
    assert seqs == list(range(1, 9))
    assert store.last_seq() == 8


def test_concurrent_writers_get_distinct_contiguous_seqs(store, database_url):
    """Two Store objects (as two processes would) and threads, all writing at once."""
    other = open_store(database_url)
    errors = []

    def writer(target, prefix):
        try:
            for n in range(10):
                target.write_many([incident(f"{prefix}-{n}-{i}") for i in range(5)],
                                  actor=prefix)
        except Exception as exc:  # reported below: a writer must not fail
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s, p))
               for s, p in ((store, "a"), (other, "b"), (store, "c"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert errors == []
    assert [e.seq for e in store.events_after(ALL, 0, limit=10_000)] == list(range(1, 151))


def test_a_failed_batch_writes_nothing(store, monkeypatch):
    store.write(incident("before"), actor="t")
    real_insert = store.backend.insert_many

    def failing(conn, table, rows):
        real_insert(conn, table, rows)
        if table is entities:
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(store.backend, "insert_many", failing)
    with pytest.raises(RuntimeError):
        store.write_many([incident("x"), incident("y")], actor="t")
    monkeypatch.undo()
    assert count(store, events) == 1 and count(store, entities) == 1
    assert store.write(incident("x"), actor="t").seq == 2


def test_a_bulk_load_commits_at_most_transaction_records_at_a_time(store, monkeypatch):
    monkeypatch.setattr(store_module, "CHUNK", 3)
    monkeypatch.setattr(store_module, "TRANSACTION_RECORDS", 9)
    commits = []
    event.listen(store.engine, "commit", lambda conn: commits.append(conn))
    committed_by: dict[int, list[int]] = {}  # commits made when each batch was announced
    store.subscribe(lambda evs: committed_by.setdefault(len(commits), []).extend(
        e.seq for e in evs))
    progress = []
    results = store.write_many([incident(str(i)) for i in range(20)], actor="t",
                               progress=progress.append)
    assert [r.seq for r in results] == list(range(1, 21))
    assert progress == [3] * 6 + [2]  # after every chunk
    assert committed_by == {1: list(range(1, 10)), 2: list(range(10, 19)), 3: [19, 20]}


def test_a_failing_source_keeps_what_was_written_before_it(store, monkeypatch):
    monkeypatch.setattr(store_module, "CHUNK", 2)
    heard = []
    store.subscribe(heard.extend)

    def broken_feed():
        yield from (incident(str(i)) for i in range(5))
        raise ValueError("truncated document")

    with pytest.raises(ValueError, match="truncated"):
        store.write_many(broken_feed(), actor="feed")
    assert count(store, entities) == 4  # the two whole chunks; the half chunk is lost with it
    assert [e.seq for e in heard] == [1, 2, 3, 4]


def test_the_next_chunks_are_read_while_a_bulk_transaction_commits(store, monkeypatch):
    monkeypatch.setattr(store_module, "CHUNK", 2)
    monkeypatch.setattr(store_module, "TRANSACTION_RECORDS", 4)
    committing = threading.Event()

    def slow_commit(conn):
        committing.set()
        threading.Event().wait(0.3)
        committing.clear()

    event.listen(store.engine, "commit", slow_commit)
    read_during_commit = []

    def source():
        for i in range(12):
            # Records 4-5 are read to learn that the first transaction is full; 6-7 are the
            # first ones read ahead, while it commits (without that, after: the wait times out).
            if i == 6:
                read_during_commit.append(committing.wait(timeout=2))
            yield incident(str(i))

    results = store.write_many(source(), actor="import")
    assert [r.seq for r in results] == list(range(1, 13))
    assert count(store, entities) == 12
    assert read_during_commit == [True]


def test_a_bulk_commit_that_fails_loses_only_its_own_transaction(store, monkeypatch):
    monkeypatch.setattr(store_module, "CHUNK", 2)
    monkeypatch.setattr(store_module, "TRANSACTION_RECORDS", 4)
    commits = []

    def second_commit_fails(conn):
        commits.append(conn)
        if len(commits) == 2:
            raise OSError("disk full")

    event.listen(store.engine, "commit", second_commit_fails)
    heard = []
    store.subscribe(heard.extend)
    with pytest.raises(OSError, match="disk full"):
        store.write_many([incident(str(i)) for i in range(10)], actor="import")
    assert count(store, entities) == 4 and count(store, events) == 4
    assert [e.seq for e in heard] == [1, 2, 3, 4]
    assert store.write(incident("after"), actor="t").seq == 5


def test_a_bulk_load_gives_way_to_a_waiting_writer(store, monkeypatch):
    """A report marked during a big import lands after the chunk being written, not the
    import's whole transaction."""
    monkeypatch.setattr(store_module, "CHUNK", 2)
    urgent = []

    def import_records():
        yield from (incident("bulk-0"), incident("bulk-1"))
        # The first chunk is written and its transaction still open when a responder writes.
        responder = threading.Thread(
            target=lambda: urgent.append(store.write(incident("urgent"), actor="responder")))
        responder.start()
        wait_until(lambda: store._write_lock.waiting() == 1)
        yield from (incident(f"bulk-{i}") for i in range(2, 8))
        responder.join()

    results = store.write_many(import_records(), actor="import")
    assert [r.seq for r in results] == [1, 2, 4, 5, 6, 7, 8, 9]
    assert urgent[0].seq == 3


def test_listeners_hear_committed_events_and_cannot_break_writes(store):
    heard = []
    store.subscribe(heard.extend)
    store.subscribe(lambda events: 1 / 0)
    result = store.write(incident("a"), actor="t")
    assert [(e.seq, e.kind, e.entity_id) for e in heard] == [
        (result.seq, "incident.created", result.entity_id)]
    assert heard[0].payload["geometry"] == {"type": "Point", "coordinates": list(HELSINKI)}
    store.write(incident("a"), actor="t")  # a duplicate commits nothing and tells nobody
    assert len(heard) == 1


def test_not_a_record_is_refused(store):
    with pytest.raises(StoreError, match="not a record"):
        store.write({"kind": "incident"}, actor="t")


# ------------------------------------------------------------------------- queries

def test_bbox(store):
    store.write_many([incident("in", 24.94, 60.17), incident("out", 25.5, 60.5),
                      incident("edge", 25.0, 60.2)], actor="t")
    assert found(store, ALL, Query(bbox=(24.9, 60.1, 25.0, 60.2))) == {"in", "edge"}


def test_bbox_is_exact_for_shapes_not_just_their_boxes(store):
    # An L-shaped area whose bounding box covers the query box, but the shape itself does not.
    ell = shapely.Polygon([(24, 60), (25, 60), (25, 60.1), (24.1, 60.1), (24.1, 61), (24, 61)])
    store.write(Annotation(source="t", source_id="ell", marking="CLEAR", agency="police",
                           geometry=ell), actor="t")
    assert found(store, ALL, Query(bbox=(24.5, 60.5, 24.9, 60.9))) == set()
    assert found(store, ALL, Query(bbox=(24.5, 60.05, 24.9, 60.9))) == {"ell"}


def test_bbox_across_the_antimeridian(store):
    store.write_many([incident("fiji", 179.5, -17.0), incident("samoa", -172.0, -13.8),
                      incident("hawaii", -155.0, 19.6)], actor="t")
    assert found(store, ALL, Query(bbox=(178.0, -20.0, -170.0, -10.0))) == {"fiji", "samoa"}


def test_records_without_geometry_are_found_by_everything_but_space(store):
    store.write(Alert(source="cap", source_id="geocode-only", marking="CLEAR", agency="nws",
                      time=T0), actor="t")
    assert found(store, ALL) == {"geocode-only"}
    assert found(store, ALL, Query(located=True)) == set()
    assert store.query(ALL, Query(bbox=(-180, -90, 180, 90))) == []


def test_radius_in_metres(store):
    lon, lat = HELSINKI
    metres_per_degree_lat = 111_195.0
    near = lat + 990 / metres_per_degree_lat
    far = lat + 1010 / metres_per_degree_lat
    store.write_many([incident("990m", lon, near), incident("1010m", lon, far)], actor="t")
    assert found(store, ALL, Query(near=(lon, lat, 1000))) == {"990m"}
    assert found(store, ALL, Query(near=(lon, lat, 1100))) == {"990m", "1010m"}


def test_radius_reaches_the_edge_of_an_area(store):
    lon, lat = HELSINKI
    square = shapely.box(lon + 0.02, lat - 0.01, lon + 0.04, lat + 0.01)  # west edge ~1.1 km
    store.write(Annotation(source="t", source_id="sq", marking="CLEAR", agency="police",
                           geometry=square), actor="t")
    assert store.query(ALL, Query(near=(lon, lat, 1000))) == []
    assert found(store, ALL, Query(near=(lon, lat, 1200))) == {"sq"}


def test_within_polygon(store):
    store.write_many([incident("in", 24.95, 60.17), incident("out", 24.99, 60.19)], actor="t")
    triangle = shapely.Polygon([(24.9, 60.15), (25.0, 60.15), (24.95, 60.2)])
    assert found(store, ALL, Query(within=triangle)) == {"in"}
    with pytest.raises(GeometryError):
        store.query(ALL, Query(within=shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])))


def test_spatial_conditions_combine(store):
    store.write_many([incident("a", 24.94, 60.17), incident("b", 24.96, 60.17)], actor="t")
    got = store.query(ALL, Query(bbox=(24.9, 60.1, 25.0, 60.2), near=(24.94, 60.17, 500)))
    assert ids(got) == {"a"}
    assert store.query(ALL, Query(bbox=(0, 0, 1, 1), near=(24.94, 60.17, 500))) == []


def test_time_window_and_attributes(store):
    store.write_many([
        incident("early", time=T0, category="fire", severity="severe"),
        incident("late", time=T0 + timedelta(hours=2), category="flood", severity="minor",
                 agency="rescue", marking=Marking.AMBER),
        incident("later", time=T0 + timedelta(hours=5), category="fire", status="closed"),
    ], actor="t")
    window = Query(start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=5))
    assert found(store, ALL, window) == {"late"}
    assert found(store, ALL, Query(start=T0, end=T0 + timedelta(hours=2))) == {"early"}
    assert found(store, ALL, Query(categories=["fire"])) == {"early", "later"}
    assert found(store, ALL, Query(severities=["severe", "minor"])) == {"early", "late"}
    assert found(store, ALL, Query(agencies=["rescue"])) == {"late"}
    assert found(store, ALL, Query(statuses=["closed"])) == {"later"}
    assert found(store, ALL, Query(kinds=[Kind.ALERT])) == set()
    assert found(store, ALL, Query(markings=["TLP:GREEN"])) == {"early", "later"}
    assert found(store, ALL, Query(markings=[Marking.RED, "amber"])) == {"late"}


def test_limit_returns_the_newest(store):
    store.write_many([incident(str(h), time=T0 + timedelta(hours=h)) for h in range(6)],
                     actor="t")
    assert [r.source_id for r in store.query(ALL, Query(limit=3))] == ["5", "4", "3"]
    assert found(store, ALL, Query(limit=3, bbox=(24, 60, 25, 61))) == {"5", "4", "3"}
    assert store.query(ALL, Query(limit=0)) == []


# ------------------------------------------------------------------------- markings

MARKED = [(m, a) for m in Marking for a in ("police", "customs")]


@pytest.fixture
def marked_store(store):
    store.write_many([incident(f"{m.name}-{a}", marking=m, agency=a) for m, a in MARKED],
                     actor="t")
    return store


@pytest.mark.parametrize("viewer, expected", [
    (Viewer(agency="public", clearance=Marking.CLEAR),
     {"CLEAR-police", "CLEAR-customs"}),
    (Viewer(agency="customs", clearance=Marking.GREEN),
     {"CLEAR-police", "CLEAR-customs", "GREEN-police", "GREEN-customs"}),
    (Viewer(agency="police", clearance=Marking.AMBER),
     {"CLEAR-police", "CLEAR-customs", "GREEN-police", "GREEN-customs", "AMBER-police",
      "AMBER-customs"}),
    (Viewer(agency="police", clearance=Marking.AMBER_STRICT),
     {"CLEAR-police", "CLEAR-customs", "GREEN-police", "GREEN-customs", "AMBER-police",
      "AMBER-customs", "AMBER_STRICT-police"}),
    (Viewer(agency="customs", clearance=Marking.RED),
     {"CLEAR-police", "CLEAR-customs", "GREEN-police", "GREEN-customs", "AMBER-police",
      "AMBER-customs", "AMBER_STRICT-customs", "RED-customs"}),
])
def test_every_read_path_honours_markings(marked_store, viewer, expected):
    store = marked_store
    assert found(store, viewer) == expected
    assert found(store, viewer, Query(bbox=(24, 60, 26, 61))) == expected
    assert ids(store.query(viewer, Query(as_of=store.last_seq()))) == expected
    assert {e.source_id for e in store.events_after(viewer, 0)} == expected
    assert store.count(viewer) == len(expected)
    for m, a in MARKED:
        record = incident(f"{m.name}-{a}", marking=m, agency=a)
        visible = store.get(viewer, record.id) is not None
        assert visible == (record.source_id in expected) == viewer.can_see(m, a)
        assert bool(store.history(viewer, record.id)) == visible


def test_events_after_pages_in_order(store):
    store.write_many([incident(str(i)) for i in range(10)], actor="t")
    first = store.events_after(ALL, 0, limit=4)
    rest = store.events_after(ALL, first[-1].seq, limit=100)
    assert [e.seq for e in first + rest] == list(range(1, 11))
    with pytest.raises(StoreError):
        store.events_after(ALL, 0, limit=0)


def test_features_come_with_the_seq_they_are_current_at(store):
    store.write_many([incident("a"), incident("b", marking=Marking.RED, agency="customs")],
                     actor="t")
    seq, texts = store.features(ALL)
    assert seq == 2 and [json.loads(t)["id"] for t in texts] == [incident("a").id]
    store.write(incident("c"), actor="t")
    assert store.features(ALL)[0] == 3
    with pytest.raises(StoreError):
        store.features(ALL, Query(as_of=1))


def test_log_after_is_the_unfiltered_log_for_the_hub(store):
    store.write_many([incident("a"), incident("b", marking=Marking.RED, agency="customs")],
                     actor="t")
    assert [e.source_id for e in store.log_after(0)] == ["a", "b"]
    assert [e.source_id for e in store.log_after(1, limit=5)] == ["b"]
    assert [e.source_id for e in store.events_after(ALL, 0)] == ["a"]


def test_events_carry_the_marking_they_replace(store):
    created = store.write(incident("a", marking=Marking.GREEN), actor="t")
    store.write_many([incident("a", version="2", marking=Marking.AMBER),
                      incident("a", version="3", marking=Marking.RED, agency="customs")],
                     actor="t")
    store.remove(created.entity_id, actor="t")
    log = store.log_after(0)
    assert [(e.prior_marking, e.prior_agency) for e in log] == [
        (None, None), (Marking.GREEN, "police"), (Marking.AMBER, "police"),
        (Marking.RED, "customs")]


def test_big_batches_take_the_bulk_path_and_round_trip(store):
    """Hundreds of rows per batch: COPY on PostgreSQL, executemany on SQLite."""
    shapes = [shapely.Point(24.9, 60.1), shapely.box(24.9, 60.1, 25.0, 60.2), None,
              shapely.LineString([(24.9, 60.1), (25.0, 60.2)])]
    records = [Annotation(source="bulk", source_id=str(i), marking="GREEN", agency="police",
                          title=f"item {i} 'quoted' \\ \t tab", geometry=shapes[i % 4],
                          style={"colour": "#fff"}) for i in range(300)]
    results = store.write_many(records, actor="t")
    assert [r.seq for r in results] == list(range(1, 301))
    got = {r.source_id: r for r in store.query(ALL)}
    assert len(got) == 300
    for record in records[:8]:
        assert got[record.source_id] == record
    assert len(store.query(ALL, Query(bbox=(24.95, 60.15, 24.96, 60.16)))) == 150


def test_expired_records_are_found_for_the_sweep(store):
    now = datetime.now(UTC)
    store.write_many([incident("old", expires=now - timedelta(minutes=1)),
                      incident("later", expires=now + timedelta(hours=1)), incident("never")],
                     actor="t")
    assert [(incident("old").id, "1")] == store.expired(now)


def test_feed_health_is_saved_and_read_back(store):
    store.save_feed_health("usgs", {"status": "green", "created": 3})
    store.save_feed_health("usgs", {"status": "red", "created": 3, "last_error": "timeout"})
    store.save_feed_health("gdacs", {"status": "amber"})
    health = store.feed_health()
    assert [(h["name"], h["status"]) for h in health] == [("gdacs", "amber"), ("usgs", "red")]
    assert health[1]["last_error"] == "timeout"


def test_limit_with_an_exact_spatial_test_widens_until_enough_pass(store):
    ell = shapely.Polygon([(24, 60), (25, 60), (25, 60.1), (24.1, 60.1), (24.1, 61), (24, 61)])
    newer_misses = [Annotation(source="t", source_id=f"ell-{i}", marking="CLEAR",
                               agency="police", geometry=ell, time=T0 + timedelta(hours=1))
                    for i in range(200)]
    older_hits = [incident(f"hit-{i}", 24.7, 60.7, time=T0 - timedelta(minutes=i))
                  for i in range(5)]
    store.write_many(older_hits + newer_misses, actor="t")
    box = Query(bbox=(24.5, 60.5, 24.9, 60.9), limit=3)
    assert [r.source_id for r in store.query(ALL, box)] == ["hit-0", "hit-1", "hit-2"]
    as_of = Query(bbox=box.bbox, limit=3, as_of=store.last_seq())
    assert [r.source_id for r in store.query(ALL, as_of)] == ["hit-0", "hit-1", "hit-2"]
    assert len(store.query(ALL, Query(bbox=box.bbox, limit=50))) == 5


@pytest.mark.parametrize("few_made_by", [10_000, 1], ids=["by seq", "by time index"])
def test_the_newest_as_of_s_are_the_same_by_either_plan(store, monkeypatch, few_made_by):
    """SQLite finds "the newest N as of S" among the current entities by their seq when few
    were made by S, by walking the time index otherwise: both answer alike."""
    monkeypatch.setattr(backends, "FEW_MADE_BY", few_made_by)
    store.write_many([incident(str(i), time=T0 + timedelta(minutes=i)) for i in range(6)],
                     actor="t")
    middle = store.last_seq()
    store.write_many([incident(str(i), version="2", time=T0 + timedelta(minutes=10 - i))
                      for i in range(3)], actor="t")
    newest = [r.source_id for r in store.query(ALL, Query(as_of=middle, limit=4))]
    assert newest == ["5", "4", "3", "2"]
    newest = [r.source_id for r in store.query(ALL, Query(as_of=store.last_seq(), limit=4))]
    assert newest == ["0", "1", "2", "5"]


def test_sqlite_finds_the_few_made_by_s_by_their_seq(sqlite_store):
    """Walking the time index read every current entity's row for its seq: at 10% of a
    1,000,000-event log, 50,000 rows for none made by then."""
    sqlite_store.write_many([incident(str(i)) for i in range(3)], actor="t")
    statements = []
    event.listen(sqlite_store.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many:
                     statements.append((sql, params)))
    sqlite_store.query(ALL, Query(as_of=2, limit=10))
    sql, params = next((sql, params) for sql, params in statements if "UNION ALL" in sql)
    with sqlite_store.engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert any("entities USING INDEX ix_entities_seq" in step for step in plan), plan


def test_sqlite_reads_a_box_through_its_ranges_whatever_else_filters(sqlite_store):
    """With no statistics, SQLite's planner preferred a filter's index (kind, time) over the
    box, and a map layer's read of one district went through every incident of the table."""
    from dashboard.store.store import _spatial_filter

    sqlite_store.write(incident("a"), actor="t")
    q = Query(bbox=(24.9, 60.1, 25.0, 60.2), kinds=("incident",), start=T0, located=True)
    boxes, _ = _spatial_filter(q)
    stmt = sqlite_store._narrowed(select(entities.c.feature), entities, ALL, q, boxes)
    with sqlite_store.engine.connect() as conn:
        assert [r[0] for r in conn.execute(stmt)] == sqlite_store.features(ALL, q)[1]
    plan = plan_of(sqlite_store, stmt)
    assert "SEARCH entities USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan
    assert not [step for step in plan if "ix_entities" in step], plan


def test_the_expiry_sweep_reads_only_what_expires(store):
    """The feed runner sweeps every 30 s: a scan of the whole table took 0.3-3 s at a million
    rows. Only entities with an `expires` are in the sweep's (partial) index."""
    later = T0 + timedelta(hours=1)
    store.write_many([incident("lasting"), incident("due", expires=later)], actor="t")
    assert store.expired(T0) == []
    [(entity, version)] = store.expired(later + timedelta(seconds=1))
    assert store.get(ALL, entity).source_id == "due" and version == "1"
    if store.engine.dialect.name == "sqlite":
        stmt = select(entities.c.entity_id).where(entities.c.expires.isnot(None),
                                                  entities.c.expires < T0)
        assert plan_of(store, stmt) == [
            "SEARCH entities USING INDEX ix_entities_expires (expires>? AND expires<?)"]


def plan_of(store, stmt) -> list[str]:
    """SQLite's query plan of stmt, one line per step."""
    with store.engine.connect() as conn:
        sql = stmt.compile(conn, compile_kwargs={"literal_binds": True})
        return [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]

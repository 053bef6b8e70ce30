"""What each room of viewers is sent, decided from committed events (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.live.deltas import coalesce, deltas_for, is_urgent
from dashboard.model import Action, Event, Kind, Marking, Viewer

T = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
GREEN_ROOM = Viewer(agency="rescue", clearance=Marking.GREEN)
POLICE_RED = Viewer(agency="police", clearance=Marking.RED)


def event(seq, entity, action=Action.UPDATED, marking=Marking.GREEN, agency="police",
          prior=None, prior_agency=None, kind=Kind.INCIDENT, **payload):
    return Event(seq=seq, time=T, actor="t", action=action, entity_kind=kind,
                 entity_id=entity, marking=marking, agency=agency, prior_marking=prior,
                 prior_agency=prior_agency or (agency if prior is not None else None),
                 payload={"kind": kind.value, "agency": agency, "marking": marking.label,
                          "geometry": {"type": "Point", "coordinates": [24.9, 60.1]},
                          **payload})


def test_coalesce_keeps_the_latest_state_and_the_first_prior():
    changes = coalesce([
        event(1, "a", Action.CREATED),
        event(2, "b", Action.CREATED),
        event(3, "a", marking=Marking.AMBER, prior=Marking.GREEN),
        event(4, "a", marking=Marking.RED, prior=Marking.AMBER),
    ])
    assert [(c.latest.entity_id, c.latest.seq, c.prior_marking) for c in changes] == [
        ("b", 2, None), ("a", 4, None)]


def test_a_room_loses_what_was_raised_above_it():
    changes = coalesce([event(5, "a", marking=Marking.RED, prior=Marking.GREEN)])
    assert deltas_for(GREEN_ROOM, changes) == [
        {"s": 5, "ts": int(T.timestamp() * 1000), "op": "remove", "id": "a"}]
    upsert, = deltas_for(POLICE_RED, changes)
    assert upsert["op"] == "upsert" and upsert["f"]["properties"]["marking"] == "TLP:RED"


def test_a_room_hears_nothing_of_what_it_never_saw():
    changes = coalesce([event(6, "s", Action.CREATED, marking=Marking.RED),
                        event(7, "s", marking=Marking.AMBER_STRICT, prior=Marking.RED),
                        event(8, "t", Action.REMOVED, marking=Marking.RED,
                              prior=Marking.RED)])
    assert deltas_for(GREEN_ROOM, changes) == []
    assert deltas_for(Viewer(agency="customs", clearance=Marking.RED), changes) == []


def test_removals_reach_those_who_saw_it():
    changes = coalesce([event(9, "a", Action.REMOVED, prior=Marking.GREEN)])
    assert [d["op"] for d in deltas_for(GREEN_ROOM, changes)] == ["remove"]


def test_only_serious_alerts_are_urgent():
    assert is_urgent(event(1, "x", kind=Kind.ALERT, severity="extreme"))
    assert not is_urgent(event(1, "x", kind=Kind.ALERT, severity="minor"))
    assert not is_urgent(event(1, "x", severity="extreme"))

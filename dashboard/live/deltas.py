"""From committed events to what each room of viewers is sent: coalesced, filtered deltas.

Pure functions: the hub calls them on each flush and on each catch-up, and tests call them
directly. The delta dicts a Change builds are shared between the rooms that get it: treat
them as read-only. A delta is {"s": seq, "ts": commit time in ms, "op": "upsert" | "remove",
"id": ..., "f": map feature (upserts only)}.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from dashboard.layers.features import feature_from_payload
from dashboard.model import Action, Event, Kind, Marking, Viewer

URGENT_SEVERITIES = {"extreme", "severe"}


@dataclass(frozen=True)
class Change:
    """The net change of one entity over a run of events: its latest event, and what it was
    marked before the first of them (None if it was new)."""

    latest: Event
    prior_marking: Marking | None
    prior_agency: str | None

    # Built once per flush and shared by every room that is sent it: the map feature is the
    # costly part, and rooms differ only in which changes they get, not in their contents.
    @cached_property
    def upsert(self) -> dict:
        event = self.latest
        return {"s": event.seq, "ts": _ms(event), "op": "upsert", "id": event.entity_id,
                "f": feature_from_payload(event.entity_id, event.payload)}

    @cached_property
    def removal(self) -> dict:
        event = self.latest
        return {"s": event.seq, "ts": _ms(event), "op": "remove", "id": event.entity_id}


def coalesce(events: Iterable[Event]) -> list[Change]:
    """One Change per entity, in the order of each entity's latest event."""
    first_prior: dict[str, tuple[Marking | None, str | None]] = {}
    latest: dict[str, Event] = {}
    for event in events:
        first_prior.setdefault(event.entity_id, (event.prior_marking, event.prior_agency))
        latest.pop(event.entity_id, None)  # re-insert: order by latest seq
        latest[event.entity_id] = event
    return [Change(e, *first_prior[i]) for i, e in latest.items()]


def deltas_for(viewer: Viewer, changes: Iterable[Change]) -> list[dict]:
    """What this viewer is sent: visible changes, and removals of what it can no longer see."""
    out = []
    for change in changes:
        event = change.latest
        visible_now = viewer.can_see(event.marking, event.agency)
        if visible_now and event.action is not Action.REMOVED:
            out.append(change.upsert)
        elif visible_now or (change.prior_marking is not None and viewer.can_see(
                change.prior_marking, change.prior_agency or "")):
            out.append(change.removal)
    return out


def is_urgent(event: Event) -> bool:
    """An alert that should not wait for the next tick."""
    return (event.entity_kind is Kind.ALERT
            and event.payload.get("severity") in URGENT_SEVERITIES)


def _ms(event: Event) -> int:
    return int(event.time.timestamp() * 1000)

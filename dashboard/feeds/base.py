"""What every feed adapter shares: defaults a feed declares, and what a parse returns.

An adapter turns bytes into records and nothing else: `parse(data: bytes, defaults) -> Parsed`,
registered (feeds/__init__.py) as a parser of parts, `(data, defaults) -> Iterator[Parsed]`, so
that a big document can be written while it is still being parsed (`one` wraps a whole-document
parser; the GeoJSON family yields parts itself, `whole` joins them). A document it cannot read
at all raises FeedFormatError; an item it cannot use is refused with a reason, and the other
items still land. Items are built one by one and validated together (`add_items`). What an
adapter cannot do itself it asks of the runner through Parsed: entities to take off the map (a
CAP Cancel), documents to fetch and parse in turn (the alerts an Atom index links to), and
warnings that do not stop the item (schema problems) to count in the feed's health.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import ValidationError

from dashboard.feeds.bulk import build_records
from dashboard.gc_pause import gc_paused
from dashboard.geometry import GeometryError
from dashboard.model import Kind, Marking, Record, parse_record


class FeedFormatError(ValueError):
    """The whole document is unusable (not this format, unparseable); the message says why."""


@dataclass(frozen=True)
class FeedDefaults:
    """What a feed's items get when they do not say: their source, owner, marking and kind."""

    source: str
    agency: str
    marking: Marking
    kind: Kind = Kind.INCIDENT


@dataclass(frozen=True)
class Refused:
    """One item left out, and why."""

    index: int
    item_id: str | None
    reason: str


@dataclass(frozen=True)
class Removal:
    """Take an entity off the current picture (its history stays in the log).

    `key` makes the removal idempotent (the same cancel polled twice removes once).
    """

    entity_id: str
    reason: str
    key: str


@dataclass(frozen=True)
class Link:
    """A document to fetch and parse with `format` (an index entry that links to an alert)."""

    url: str
    format: str


@dataclass
class Parsed:
    """An adapter's answer: usable records, refused items, and what it asks of the runner."""

    records: list[Record] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        """Merge another document's answer into this one (index + linked alerts)."""
        self.records.extend(other.records)
        self.refused.extend(other.refused)
        self.removals.extend(other.removals)
        self.links.extend(other.links)
        self.warnings.extend(other.warnings)


Parts = Iterator[Parsed]  # a document's answer, part by part (most formats: one part)


def whole(parts: Iterable[Parsed]) -> Parsed:
    """A document's parts as one answer.

    The collector is held off across all the parts: resuming it after each part made it
    traverse everything built so far, every time (a fifth of a 200,000-feature parse).
    """
    parsed = Parsed()
    with gc_paused():
        for part in parts:
            parsed.extend(part)
    return parsed


def one(parse: Callable[[bytes, FeedDefaults], Parsed]) -> Callable[[bytes, FeedDefaults], Parts]:
    """A whole-document parser as a parser of parts: its answer is the only part."""
    @functools.wraps(parse)
    def parts(data: bytes, defaults: FeedDefaults) -> Parts:
        yield parse(data, defaults)
    return parts


def validation_reason(exc: ValidationError) -> str:
    """A pydantic error as one short line: 'field: message; field: message'."""
    parts = []
    for error in exc.errors()[:3]:
        loc = list(error["loc"])
        if loc and loc[0] in Kind.__members__.values():  # the union's tag says nothing useful
            loc = loc[1:]
        where = ".".join(str(p) for p in loc) or "item"
        parts.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def content_hash(value: Any) -> str:
    """A stable short digest of JSON-able content: the version of an item that has none."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def parse_time(value: Any) -> datetime | None:
    """A timestamp as feeds write them: ISO 8601, or epoch seconds / milliseconds (by size)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError(f"not a time: {value!r}")


Fields = dict[str, Any]
Build = Callable[[], "Fields | Removal"]


class Item(NamedTuple):
    """One item of a document, still to be built: where it is, its id, how to build it.

    `build` returns the record's fields (or a removal); `label` prefixes a refusal's reason
    (a CSV's "row 7").
    """

    index: int
    item_id: str | None
    build: Build
    label: str = ""


def add_items(parsed: Parsed, items: Iterable[Item]) -> None:
    """Add each item's record (or removal) to `parsed`, or refuse it with the reason.

    Anything an item's build or the model rejects refuses that item alone, so one bad item
    never costs the feed its other items. Records are validated together (bulk.py: the model's
    checks over the whole batch; the model itself for what those cannot vouch for), and
    everything lands in item order.
    """
    with gc_paused():
        _add_items(parsed, items)


def _add_items(parsed: Parsed, items: Iterable[Item]) -> None:
    built: list[tuple[Item, Fields | Removal | Refused]] = []
    for item in items:
        try:
            built.append((item, item.build()))
        except (ValueError, TypeError, GeometryError) as exc:
            built.append((item, Refused(item.index, item.item_id,
                                        _labelled(item.label, str(exc)))))
    fields = [outcome for _, outcome in built if isinstance(outcome, dict)]
    records = iter(zip(fields, build_records(fields)))
    for item, outcome in built:
        if isinstance(outcome, Removal):
            parsed.removals.append(outcome)
        elif isinstance(outcome, Refused):
            parsed.refused.append(outcome)
        else:
            _, record = next(records)
            if record is not None:
                parsed.records.append(record)
            else:
                _add_validated(parsed, item, outcome)


def _add_validated(parsed: Parsed, item: Item, fields: Fields) -> None:
    """The model's own validation of fields bulk.py could not vouch for: record or refusal."""
    try:
        parsed.records.append(parse_record(fields))
    except ValidationError as exc:
        parsed.refused.append(Refused(item.index, item.item_id,
                                      _labelled(item.label, validation_reason(exc))))
    except (ValueError, TypeError, GeometryError) as exc:
        parsed.refused.append(Refused(item.index, item.item_id, _labelled(item.label, str(exc))))


def owned_fields(defaults: FeedDefaults, kind: Kind, source_id: str, version: str) -> Fields:
    """The fields that say where a record comes from and who owns it (the feed's defaults)."""
    return {"kind": kind, "source": defaults.source, "source_id": source_id, "version": version,
            "marking": defaults.marking, "agency": defaults.agency}


def _labelled(label: str, reason: str) -> str:
    return f"{label}: {reason}" if label else reason

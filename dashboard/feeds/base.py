"""What every feed adapter shares: defaults a feed declares, and what a parse returns.

An adapter turns bytes into records and nothing else. A document it cannot read at all raises
FeedFormatError; an item it cannot use is refused with a reason, and the other items still land.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from dashboard.model import Kind, Marking, Record


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


@dataclass
class Parsed:
    """An adapter's answer: the usable records and the refused items."""

    records: list[Record] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


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

"""A feed's health: what a crisis room needs to trust (or distrust) a source at a glance.

green: the last poll worked and refused nothing. amber: it worked but refused items or found
schema problems, or the feed has failed once or twice, or is overdue. red: it has failed three
times in a row or has not worked for five intervals. A failing feed keeps its data on the map
(stale, not deleted); only the log says when it recovers.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta

from dashboard.model import utcnow

log = logging.getLogger(__name__)

HISTORY = 30  # polls kept for the sparkline
RED_AFTER_FAILURES = 3
RED_AFTER_INTERVALS = 5


@dataclass(kw_only=True)
class Counts:
    """Items of a feed by what became of them: one poll's, or a feed's running totals."""

    created: int = 0
    updated: int = 0
    duplicate: int = 0
    refused: int = 0
    removed: int = 0
    warnings: int = 0

    def add_counts(self, other: Counts) -> None:
        for counter in fields(Counts):
            setattr(self, counter.name, getattr(self, counter.name) + getattr(other, counter.name))


@dataclass
class PollOutcome(Counts):
    """What one poll did."""

    not_modified: bool = False
    reasons: list[str] = field(default_factory=list)  # refused items and warnings, for display

    def add(self, other: PollOutcome, prefix: str = "") -> None:
        """Count another part of the same poll in (a watched folder's files)."""
        self.add_counts(other)
        self.reasons.extend(prefix + reason for reason in other.reasons)


@dataclass
class FeedHealth(Counts):
    name: str
    type: str
    interval: float
    status: str = "amber"  # until the first poll says otherwise
    last_poll: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    consecutive_failures: int = 0
    recent_problems: list[str] = field(default_factory=list)
    history: list[list] = field(default_factory=list)  # [poll time, items written]

    def succeeded(self, outcome: PollOutcome, now: datetime | None = None) -> None:
        now = now or utcnow()
        if self.consecutive_failures:
            log.info("feed %s recovered after %d failed polls", self.name,
                     self.consecutive_failures)
        self.consecutive_failures = 0
        self.last_poll = self.last_success = now.isoformat()
        self.add_counts(outcome)
        if outcome.reasons:
            self.recent_problems = outcome.reasons[:10]
        self._remember(now, outcome.created + outcome.updated)
        self.status = "amber" if (outcome.refused or outcome.warnings) else "green"

    def failed(self, reason: str, now: datetime | None = None) -> None:
        now = now or utcnow()
        if self.consecutive_failures == 0:
            log.warning("feed %s failing: %s", self.name, reason)
        self.consecutive_failures += 1
        self.last_poll = self.last_error_at = now.isoformat()
        self.last_error = reason
        self._remember(now, 0)
        self.status = "red" if self._is_red(now) else "amber"

    def _is_red(self, now: datetime) -> bool:
        if self.consecutive_failures >= RED_AFTER_FAILURES:
            return True
        if self.last_success is None:
            return False
        silent = now - datetime.fromisoformat(self.last_success)
        return silent > timedelta(seconds=self.interval * RED_AFTER_INTERVALS)

    def lag_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds since the feed last worked (None if it never has)."""
        if self.last_success is None:
            return None
        return ((now or utcnow()) - datetime.fromisoformat(self.last_success)).total_seconds()

    def _remember(self, now: datetime, items: int) -> None:
        self.history = (self.history + [[now.isoformat(), items]])[-HISTORY:]

    def to_json(self) -> dict:
        return {**asdict(self), "lag_seconds": self.lag_seconds()}

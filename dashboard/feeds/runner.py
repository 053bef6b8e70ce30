"""The one runner for every feed: scheduling, fetching, retries, dedup, writing and health.

Each feed polls in its own thread (a greenlet under gevent), so a slow, failing or crashing
feed never holds up another. A poll: fetch (conditional GET, size limit, transient errors
retried with exponential backoff and jitter), parse with the feed's adapter, fetch what an
index links to, write the records (the store drops what it already has), apply removals (CAP
Cancel), record health. A failing feed is retried later with growing delays and its data stays
on the map. A sweep takes expired records off the map.
"""

from __future__ import annotations

import logging
import random
import shutil
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from dashboard.feeds import FORMATS, detect_format, parser_for
from dashboard.feeds.base import FeedDefaults, FeedFormatError, Parsed, Parts, Refused, whole
from dashboard.feeds.config import FeedConfig
from dashboard.feeds.fetch import Fetched, FetchError, fetch_url, read_file
from dashboard.feeds.health import FeedHealth, PollOutcome
from dashboard.feeds.pipeline import land
from dashboard.model import Record, utcnow
from dashboard.store import Store, StoreError

log = logging.getLogger(__name__)

MAX_LINKS_PER_POLL = 200
SWEEP_EVERY = 30.0  # seconds between expiry sweeps
SETTLE_SECONDS = 1.0  # a dropped file must be this old (still being written otherwise)
MAX_BACKOFF = 900.0


@dataclass
class FeedState:
    """What a feed remembers between polls (in memory: a restart costs one full fetch)."""

    health: FeedHealth
    etag: str | None = None
    last_modified: str | None = None
    file_stamp: tuple[float, int] | None = None
    links_done: set[str] = field(default_factory=set)


class FeedRunner:
    def __init__(self, store: Store, feeds: list[FeedConfig], *,
                 client: httpx.Client | None = None, backoff_base: float = 1.0,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.feeds = [f for f in feeds if f.enabled]
        self.client = client or httpx.Client(follow_redirects=True,
                                             headers={"User-Agent": "Sitroom feed runner"})
        self.backoff_base = backoff_base
        self.rng = rng or random.Random()
        self.states = {f.name: FeedState(FeedHealth(f.name, f.type, f.interval))
                       for f in self.feeds}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        for feed in feeds:
            if not feed.enabled:
                store.save_feed_health(feed.name, {
                    **FeedHealth(feed.name, feed.type, feed.interval).to_json(),
                    "status": "disabled"})

    # ------------------------------------------------------------ running

    def start(self) -> None:
        for feed in self.feeds:
            self._spawn(f"feed-{feed.name}", self._loop, feed)
        self._spawn("feed-expiry", self._sweep_loop)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _spawn(self, name: str, target: Callable, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _loop(self, feed: FeedConfig) -> None:
        # Spread the first polls so that feeds do not all fire together.
        self._stop.wait(self.rng.uniform(0, min(feed.interval, 5.0)))
        while not self._stop.is_set():
            self._stop.wait(self.poll(feed))

    def _sweep_loop(self) -> None:
        while not self._stop.wait(SWEEP_EVERY):
            try:
                self.sweep_expired()
            except Exception:  # the sweep must outlive one bad pass
                log.exception("expiry sweep failed")

    # ------------------------------------------------------------ one poll

    def poll(self, feed: FeedConfig) -> float:
        """Poll a feed once, record its health; return the seconds until its next poll."""
        state = self.states[feed.name]
        try:
            outcome = self._poll(feed, state)
        except (FetchError, FeedFormatError) as exc:
            state.health.failed(str(exc) if isinstance(exc, FetchError)
                                else f"document refused: {exc}")
        except Exception as exc:  # a crashing adapter fails its own feed, nothing else
            log.exception("feed %s crashed", feed.name)
            state.health.failed(f"{type(exc).__name__}: {exc}")
        else:
            state.health.succeeded(outcome)
        self.store.save_feed_health(feed.name, state.health.to_json())
        failures = state.health.consecutive_failures
        if not failures:
            return feed.interval
        delay = min(feed.interval * 2 ** (failures - 1), max(feed.interval, MAX_BACKOFF))
        return delay * self.rng.uniform(0.8, 1.2)

    def _poll(self, feed: FeedConfig, state: FeedState) -> PollOutcome:
        if feed.type == "folder":
            return self._poll_folder(feed)
        fetched = self._fetch(feed, state)
        if fetched is None:
            return PollOutcome(not_modified=True)
        parts = parser_for(feed)(fetched.data, self._defaults(feed))
        return self._land(feed, self._following_links(feed, state, parts))

    def _fetch(self, feed: FeedConfig, state: FeedState) -> Fetched | None:
        """The feed's document, or None when unchanged since the last poll."""
        if feed.path is not None:
            stat = feed.path.stat() if feed.path.exists() else None
            stamp = (stat.st_mtime, stat.st_size) if stat else None
            if stamp is not None and stamp == state.file_stamp:
                return None
            fetched = Fetched(self._retrying(lambda: read_file(feed.path, feed.max_bytes),
                                             feed))
            state.file_stamp = stamp
            return fetched
        fetched = self._retrying(lambda: fetch_url(
            self.client, feed.url, timeout=feed.timeout, max_bytes=feed.max_bytes,
            etag=state.etag, last_modified=state.last_modified), feed)
        if fetched.data is None:
            return None
        state.etag, state.last_modified = fetched.etag, fetched.last_modified
        return fetched

    def _retrying(self, attempt: Callable, feed: FeedConfig):
        """Run attempt(); on a transient error try again after 1, 2, 4... × base (± jitter)."""
        for tries in range(feed.retries + 1):
            try:
                return attempt()
            except FetchError as exc:
                if not exc.retryable or tries == feed.retries:
                    raise
                delay = self.backoff_base * 2 ** tries * self.rng.uniform(0.5, 1.5)
                log.info("feed %s: %s; retrying in %.1f s", feed.name, exc, delay)
                if self._stop.wait(delay):
                    raise
        raise AssertionError("unreachable")

    def _following_links(self, feed: FeedConfig, state: FeedState, parts: Parts) -> Parts:
        """Each part, then the documents its links point to (an index's alerts), parsed.

        A bad link is one refused item; at most MAX_LINKS_PER_POLL are fetched per poll.
        """
        budget = MAX_LINKS_PER_POLL
        for part in parts:
            yield part
            todo = [link for link in part.links if link.url not in state.links_done]
            for link in todo[:budget]:
                try:
                    fetched = self._retrying(lambda u=link.url: fetch_url(
                        self.client, u, timeout=feed.timeout, max_bytes=feed.max_bytes), feed)
                    yield whole(FORMATS[link.format](fetched.data, self._defaults(feed)))
                    state.links_done.add(link.url)
                except (FetchError, FeedFormatError) as exc:
                    yield Parsed(refused=[_refused_link(link.url, str(exc))])
            budget -= min(budget, len(todo))

    def _land(self, feed: FeedConfig, parts: Parts) -> PollOutcome:
        """Write what a parse produces, part by part as it is parsed; count what happened."""
        actor = f"feed:{feed.name}"
        landed = land(parts, lambda records: self.store.write_many(
            (_mapped(r, feed.categories) for r in records), actor=actor))
        parsed = landed.parsed
        counts = Counter("duplicate" if r.duplicate else r.action.value
                         for r in landed.written)
        removed = 0
        for removal in parsed.removals:
            try:
                result = self.store.remove(removal.entity_id, actor=actor, reason=removal.reason,
                                           idempotency_key=removal.key)
                removed += not result.duplicate
            except StoreError:
                pass  # already off the map (cancelled before we saw the alert)
        for item in parsed.refused:
            log.info("feed %s refused item %s (%s): %s", feed.name, item.index, item.item_id,
                     item.reason)
        reasons = [f"item {r.index}" + (f" ({r.item_id})" if r.item_id else "") + f": {r.reason}"
                   for r in parsed.refused] + parsed.warnings
        return PollOutcome(created=counts["created"], updated=counts["updated"],
                           duplicate=counts["duplicate"], refused=len(parsed.refused),
                           removed=removed, warnings=len(parsed.warnings), reasons=reasons)

    # ------------------------------------------------------------ watched folders

    def _poll_folder(self, feed: FeedConfig) -> PollOutcome:
        """Ingest each new file once, then move it to processed/ (or refused/ with a reason)."""
        folder = feed.path
        if not folder.is_dir():
            raise FetchError(f"no such folder: {folder}", retryable=True)
        total = PollOutcome()
        now = utcnow().timestamp()
        for path in sorted(p for p in folder.iterdir() if _is_drop(p)):
            if now - path.stat().st_mtime < SETTLE_SECONDS:
                continue  # may still be being written; next poll
            try:
                data = read_file(path, feed.max_bytes)
                outcome = self._land(feed, FORMATS[detect_format(path, data)](
                    data, self._defaults(feed)))
            except (FetchError, FeedFormatError) as exc:
                _file_away(path, folder / "refused", reason=str(exc))
                total.refused += 1
                total.reasons.append(f"{path.name}: {exc}")
                continue
            _file_away(path, folder / "processed")
            total.add(outcome, prefix=f"{path.name}: ")
        return total

    # ------------------------------------------------------------ expiry

    def sweep_expired(self) -> int:
        """Take records whose `expires` has passed off the map; return how many."""
        removed = 0
        for entity, version in self.store.expired(utcnow()):
            try:
                result = self.store.remove(entity, actor="feed-runner", reason="expired",
                                           idempotency_key=f"expired:{entity}:{version}")
                removed += not result.duplicate
            except StoreError:
                pass
        return removed

    def _defaults(self, feed: FeedConfig) -> FeedDefaults:
        return FeedDefaults(source=feed.source, agency=feed.agency, marking=feed.marking,
                            kind=feed.kind)


def _mapped(record: Record, categories: dict[str, str]) -> Record:
    if record.category in categories:
        return record.model_copy(update={"category": categories[record.category]})
    return record


def _refused_link(url: str, reason: str) -> Refused:
    return Refused(index=-1, item_id=url, reason=reason)


def _is_drop(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith(
        (".part", ".tmp", ".reason.txt"))


def _file_away(path: Path, folder: Path, reason: str | None = None) -> None:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():  # the same name dropped again: keep both
        target = folder / f"{path.stem}.{utcnow():%Y%m%dT%H%M%S%f}{path.suffix}"
    shutil.move(str(path), target)
    if reason is not None:
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n")

"""The `sitroom` command."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from dashboard import __version__
from dashboard.demo.scenario import ScenarioRunner
from dashboard.feeds import FORMATS, detect_format
from dashboard.feeds.base import FeedDefaults, FeedFormatError, Parsed, whole
from dashboard.feeds.config import FeedConfig, FeedConfigError, load_feeds
from dashboard.feeds.pipeline import land
from dashboard.feeds.runner import FeedRunner
from dashboard.live.notify import RedisNotifier
from dashboard.model import Kind, Marking
from dashboard.settings import Settings, SettingsError, get_settings
from dashboard.store import Store, StoreError, migrate
from dashboard.store.open import open_configured_store
from dashboard.store.store import open_store

PROGRESS_FROM = 5000  # records written: show progress for files at least this big
REFUSED_SHOWN = 20  # refused items listed per file in the human summary


class Failure(click.ClickException):
    """An error the user can act on: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"sitroom: {self.message}", err=True)


def _settings() -> Settings:
    try:
        settings = get_settings()
    except SettingsError as exc:
        raise Failure(str(exc)) from None
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_level != "DEBUG":  # migration chatter is noise at the command line
        logging.getLogger("alembic").setLevel(logging.WARNING)
    return settings


def _store(settings: Settings) -> Store:
    """The configured store; with a message queue, every commit also wakes the live hubs."""
    try:
        store = open_configured_store(settings)
    except (StoreError, SettingsError) as exc:
        raise Failure(str(exc)) from None
    except OperationalError as exc:
        raise Failure(f"cannot open the database: {exc.orig}") from None
    if settings.message_queue:
        store.subscribe(RedisNotifier(settings.message_queue).publish)
    return store


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sitroom")
def main() -> None:
    """Sitroom: the shared common operating picture of a crisis room.

    Settings come from config/sitroom.toml and SITROOM_* environment variables
    (SITROOM_DATABASE_URL, SITROOM_DATA_DIR, ...).
    """


@main.group()
def db() -> None:
    """The database schema."""


@db.command()
def upgrade() -> None:
    """Create or migrate the schema to the newest revision."""
    settings = _settings()
    if settings.database_url.startswith("sqlite:"):
        try:
            settings.ensure_data_dir()
        except SettingsError as exc:
            raise Failure(str(exc)) from None
    with _engine(settings) as engine:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
    head = migrate.head_revision()
    if before == head:
        click.echo(f"schema already at {head}")
    else:
        click.echo(f"schema upgraded from {before or 'empty'} to {head}")


@db.command()
def current() -> None:
    """Print the schema revision of the database and of this code."""
    with _engine(_settings()) as engine:
        revision = migrate.current_revision(engine)
    click.echo(f"database: {revision or 'empty'}; code: {migrate.head_revision()}")


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    """The configured database's engine, for schema work; connection errors made readable."""
    store = open_store(settings.database_url)
    try:
        yield store.engine
    except OperationalError as exc:
        raise Failure(f"cannot open the database: {exc.orig}") from None
    finally:
        store.close()


@dataclass
class FileSummary:
    """What happened to one ingested file."""

    file: str
    format: str | None = None
    status: str = "ok"  # "ok" or "refused"
    reason: str | None = None
    records: int = 0
    created: int = 0
    updated: int = 0
    duplicate: int = 0
    refused: int = 0
    refused_items: list[dict[str, Any]] = field(default_factory=list)

    def line(self) -> str:
        if self.status == "refused":
            return f"{self.file}: refused: {self.reason}"
        return (f"{self.file}: {self.records} records: {self.created} created, "
                f"{self.updated} updated, {self.duplicate} already known, "
                f"{self.refused} refused")


def _marking(_ctx, _param, value: str | None) -> Marking | None:
    try:
        return None if value is None else Marking.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)),
              help="The files' format (default: detected from the name and content).")
@click.option("--source", help="Source name for dedup (default: file:<name>).")
@click.option("--agency", help="Owning agency of items that do not say (default: setting).")
@click.option("--marking", callback=_marking,
              help="TLP marking of items that do not say, e.g. TLP:AMBER (default: setting).")
@click.option("--kind", type=click.Choice([k.value for k in Kind]), default="incident",
              show_default=True, help="Record kind of items that do not say.")
@click.option("--strict", is_flag=True,
              help="Refuse a whole file, writing nothing of it, if any item is refused.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def ingest(files: tuple[Path, ...], fmt: str | None, source: str | None, agency: str | None,
           marking: Marking | None, kind: str, strict: bool, as_json: bool) -> None:
    """Read feed files into the store; exit 1 if any file was refused.

    A file that cannot be read as its format is refused whole. An unusable item (bad geometry,
    unknown marking, ...) is refused with its reason and the file's other items still land,
    unless --strict. Ingesting the same file twice writes nothing new.
    """
    settings = _settings()
    store = _store(settings)
    summaries = []
    try:
        for path in files:
            defaults = FeedDefaults(
                source=source or f"file:{path.name}",
                agency=agency or settings.default_agency,
                marking=marking if marking is not None else settings.default_marking,
                kind=Kind(kind),
            )
            summary = _ingest_file(store, path, fmt, defaults, strict, quiet=as_json)
            summaries.append(summary)
            if not as_json:
                _echo_summary(summary)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([asdict(s) for s in summaries], indent=2))
    if any(s.status == "refused" for s in summaries):
        sys.exit(1)


def _ingest_file(store: Store, path: Path, fmt: str | None, defaults: FeedDefaults,
                 strict: bool, quiet: bool) -> FileSummary:
    """Parse a file and write its records, the writes overlapping the parse (pipeline.py).

    With --strict every item must be known good before anything is written, so the file is
    parsed whole first.
    """
    summary = FileSummary(file=str(path))
    actor = f"ingest:{path.name}"
    progress = None if quiet else _WrittenCounter(f"ingesting {path.name}")
    try:
        data = path.read_bytes()
        summary.format = fmt or detect_format(path, data)
        parts = FORMATS[summary.format](data, defaults)
        if strict:
            parsed = whole(parts)
            if parsed.refused:
                _count_refused(summary, parsed, len(parsed.records))
                summary.status = "refused"
                summary.reason = f"{len(parsed.refused)} item(s) refused and --strict given"
                return summary
            parts = iter([parsed])
        landed = land(parts, lambda records: store.write_many(records, actor=actor,
                                                              progress=progress))
    except OSError as exc:
        summary.status, summary.reason = "refused", f"cannot read: {exc.strerror}"
        return summary
    except FeedFormatError as exc:
        summary.status, summary.reason = "refused", str(exc)
        return summary
    finally:
        if progress is not None:
            progress.close()
    _count_refused(summary, landed.parsed, landed.records)
    counts = Counter("duplicate" if r.duplicate else r.action.value for r in landed.written)
    summary.created, summary.updated = counts["created"], counts["updated"]
    summary.duplicate = counts["duplicate"]
    return summary


def _count_refused(summary: FileSummary, parsed: Parsed, records: int) -> None:
    summary.records = records + len(parsed.refused)
    summary.refused = len(parsed.refused)
    summary.refused_items = [asdict(r) for r in parsed.refused]


class _WrittenCounter:
    """Progress of a big ingest on stderr: records written so far, once there are enough.

    A counter rather than a bar: records are written while the file is still being parsed, so
    their number is not known until the end.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.written = 0

    def __call__(self, n: int) -> None:
        self.written += n
        if self.written >= PROGRESS_FROM:
            click.echo(f"\r{self.label}: {self.written:,} records written", nl=False, err=True)

    def close(self) -> None:
        if self.written >= PROGRESS_FROM:
            click.echo(err=True)


def _echo_summary(summary: FileSummary) -> None:
    click.echo(summary.line(), err=summary.status == "refused")
    for item in summary.refused_items[:REFUSED_SHOWN]:
        label = f"item {item['index']}" + (f" (id {item['item_id']})" if item["item_id"] else "")
        click.echo(f"  {label}: {item['reason']}")
    hidden = len(summary.refused_items) - REFUSED_SHOWN
    if hidden > 0:
        click.echo(f"  ... and {hidden} more refused (see --json)")


@main.command()
@click.option("--once", is_flag=True, help="Poll each enabled feed once, print, and stop.")
def feeds(once: bool) -> None:
    """Run the feed runner: poll every enabled feed of feeds.toml into the store."""
    settings = _settings()
    feed_list = _feeds(settings)
    store = _store(settings)
    runner = FeedRunner(store, feed_list)
    try:
        if once:
            for feed in runner.feeds:
                runner.poll(feed)
                health = runner.states[feed.name].health
                click.echo(f"{feed.name}: {health.status}: {health.created} created, "
                           f"{health.updated} updated, {health.duplicate} already known, "
                           f"{health.refused} refused"
                           + (f"; error: {health.last_error}" if health.last_error else ""))
            return
        click.echo(f"polling {len(runner.feeds)} feed(s); Ctrl-C to stop", err=True)
        runner.start()
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
        store.close()


def _feeds(settings: Settings) -> list[FeedConfig]:
    """The declared feeds, relative paths taken from the data directory."""
    path = settings.feeds_path()
    if path is None:
        return []
    try:
        declared = load_feeds(path)
    except FeedConfigError as exc:
        raise Failure(str(exc)) from None
    return [f.model_copy(update={"path": settings.data_dir / f.path})
            if f.path is not None and not f.path.is_absolute() else f for f in declared]


@main.command()
@click.option("--with-feeds", is_flag=True, help="Also run the feed runner in this process.")
def serve(with_feeds: bool) -> None:
    """Serve the COP web app on the configured store."""
    settings = _settings()
    _run_app(settings, _store(settings), _feeds(settings) if with_feeds else [])


@main.command()
@click.option("--speed", type=click.FloatRange(0.1, 100), default=1.0, show_default=True,
              help="How fast the scenario's clock runs.")
@click.option("--with-feeds", is_flag=True, help="Also run the feed runner in this process.")
def demo(speed: float, with_feeds: bool) -> None:
    """Serve the COP on a fresh embedded store while a Helsinki scenario unfolds live."""
    settings = _settings()
    try:
        data_dir = settings.ensure_data_dir()
    except SettingsError as exc:
        raise Failure(str(exc)) from None
    database = data_dir / "demo.db"
    for stale in (database, database.with_name("demo.db-wal"), database.with_name("demo.db-shm")):
        stale.unlink(missing_ok=True)
    store = _store(settings.model_copy(update={"database_url": f"sqlite:///{database}"}))
    runner = ScenarioRunner(store, speed=speed)
    runner.start()
    try:
        _run_app(settings, store, _feeds(settings) if with_feeds else [])
    finally:
        runner.stop()


def _run_app(settings: Settings, store: Store, feed_list: list[FeedConfig]) -> None:
    from dashboard.server import serve  # Dash loads its pages on import: only when serving

    feed_runner = FeedRunner(store, feed_list) if feed_list else None
    if feed_runner:
        feed_runner.start()
    click.echo(f"Sitroom COP on http://{settings.host}:{settings.port}/", err=True)
    try:
        serve(settings, store)
    finally:
        if feed_runner:
            feed_runner.stop()
        store.close()


if __name__ == "__main__":
    main()

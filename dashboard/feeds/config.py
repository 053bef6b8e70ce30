"""Feeds as declared in config/feeds.toml: checked once, with errors that name feed and field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dashboard.model import Kind, MarkingField

FEED_TYPES = ("cap", "cap-index", "geojson", "mapped-geojson", "usgs", "eonet", "nws",
              "georss", "csv", "folder")


class FeedConfigError(ValueError):
    """feeds.toml is wrong; the message names the feed and the field."""


class FeedConfig(BaseModel):
    """One feed. `url` is polled over HTTP(S); `path` is read from disk (a file, or for type
    "folder" a directory whose new files are ingested once each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")
    type: Literal[FEED_TYPES]  # type: ignore[valid-type]
    url: str | None = Field(default=None, pattern=r"^https?://")
    path: Path | None = None
    interval: float = Field(default=60.0, ge=1.0, le=86_400.0)
    agency: str = Field(min_length=1, max_length=100)
    marking: MarkingField
    kind: Kind = Kind.INCIDENT
    enabled: bool = True
    timeout: float = Field(default=20.0, gt=0, le=300)
    max_bytes: int = Field(default=20_000_000, ge=1024)
    retries: int = Field(default=3, ge=0, le=10)
    categories: dict[str, str] = Field(default_factory=dict)  # source category -> ours
    mapping: dict[str, str] = Field(default_factory=dict)  # mapped-geojson / csv columns

    @model_validator(mode="after")
    def _where(self) -> FeedConfig:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of url or path")
        if self.type == "folder" and self.path is None:
            raise ValueError("a folder feed needs a path")
        if self.type == "mapped-geojson" and not self.mapping:
            raise ValueError("a mapped-geojson feed needs a mapping")
        return self

    @property
    def source(self) -> str:
        return f"feed:{self.name}"


def load_feeds(path: Path) -> list[FeedConfig]:
    """Every feed declared in `path` (a [[feeds]] array of tables), enabled or not."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FeedConfigError(f"{path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FeedConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(document) - {"feeds"}
    if unknown:
        raise FeedConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
    feeds = []
    for index, table in enumerate(document.get("feeds", [])):
        name = table.get("name", f"#{index + 1}") if isinstance(table, dict) else f"#{index + 1}"
        try:
            feeds.append(FeedConfig.model_validate(table))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            where = f"feed {name}: {field}" if field else f"feed {name}"
            raise FeedConfigError(f"{path}: {where}: {message}") from None
    names = [f.name for f in feeds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FeedConfigError(f"{path}: feed name(s) used twice: {duplicates}")
    return feeds

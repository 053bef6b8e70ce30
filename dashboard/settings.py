"""Settings, loaded once and validated before anything starts.

Precedence, highest first: `SITROOM_*` environment variables, the TOML file (`SITROOM_CONFIG`, or
config/sitroom.toml in the working directory, or the one beside the package in a checkout), then
the defaults below. A wrong value stops start-up with one line that names the setting.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dashboard.model import Marking, MarkingField

ENV_PREFIX = "SITROOM_"
CHECKOUT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "sitroom.toml"


class SettingsError(Exception):
    """A setting is wrong; the message is one line naming it."""


def config_file() -> Path | None:
    """Where the TOML settings come from, or None when there is no file to read."""
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise SettingsError(f"{ENV_PREFIX}CONFIG: no such file: {path}")
        return path
    for candidate in (Path.cwd() / "config" / "sitroom.toml", CHECKOUT_CONFIG):
        if candidate.is_file():
            return candidate
    return None


class Settings(BaseSettings):
    """Every setting Sitroom reads. Each is documented in config/sitroom.toml."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid",
                                      validate_default=True)

    data_dir: Path = Path("var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    default_agency: str = Field(default="sitroom", min_length=1)
    default_marking: MarkingField = Marking.GREEN
    message_queue: str = ""
    feeds_file: Path | None = None  # default: feeds.toml beside the settings file
    live_tick: float = Field(default=0.025, gt=0, le=5)
    live_poll: float = Field(default=0.5, gt=0, le=60)
    live_lag_seconds: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    @field_validator("message_queue")
    @classmethod
    def _message_queue(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// (or rediss://, unix://) URL, or empty")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return value
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if value.startswith(("sqlite:///", "postgresql+psycopg://")):
            return value
        raise ValueError("must start with sqlite:/// or postgresql:// (or postgresql+psycopg://)")

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'sitroom.db'}"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def feeds_path(self) -> Path | None:
        """The feeds declaration to read, if there is one."""
        if self.feeds_file is not None:
            return self.feeds_file
        settings_file = config_file()
        beside = (settings_file.parent if settings_file else CHECKOUT_CONFIG.parent) / "feeds.toml"
        return beside if beside.is_file() else None

    def ensure_data_dir(self) -> Path:
        """Create the data directory if needed; refuse one that cannot be written."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(f"{ENV_PREFIX}DATA_DIR (data_dir): cannot create "
                                f"{self.data_dir}: {exc.strerror}") from None
        if not os.access(self.data_dir, os.W_OK):
            raise SettingsError(f"{ENV_PREFIX}DATA_DIR (data_dir): {self.data_dir} is not writable")
        return self.data_dir


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, turning the first problem into a one-line SettingsError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        if name in Settings.model_fields:
            where = f"{ENV_PREFIX}{name.upper()} ({name})"
        else:
            where = f"unknown setting {name!r}"
        value = error.get("input")
        shown = f" (got {value!r})" if isinstance(value, (str, int, float)) else ""
        message = error["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{where}: {message}{shown}") from None
    except (ValueError, OSError) as exc:  # a TOML file that cannot be parsed or read
        raise SettingsError(f"settings file {config_file()}: {exc}") from None


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()

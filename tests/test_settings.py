"""Settings: defaults, the TOML file, SITROOM_* variables, and one clear line when wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard.model import Marking
from dashboard.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("SITROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no config/ here: the checkout's file is the one read


def write_config(tmp_path: Path, text: str, monkeypatch) -> None:
    path = tmp_path / "sitroom.toml"
    path.write_text(text)
    monkeypatch.setenv("SITROOM_CONFIG", str(path))


def test_defaults_come_from_the_checkout_config():
    settings = load_settings()
    assert settings.data_dir == Path("var")
    assert settings.database_url == "sqlite:///var/sitroom.db"
    assert settings.default_marking is Marking.GREEN


def test_environment_beats_file_beats_default(tmp_path, monkeypatch):
    write_config(tmp_path, 'port = 9000\nlog_level = "debug"\ndata_dir = "/srv/x"\n', monkeypatch)
    monkeypatch.setenv("SITROOM_PORT", "9100")
    settings = load_settings()
    assert settings.port == 9100 and settings.log_level == "DEBUG"
    assert settings.database_url == "sqlite:////srv/x/sitroom.db"


def test_postgres_urls_use_psycopg(monkeypatch):
    monkeypatch.setenv("SITROOM_DATABASE_URL", "postgresql://u:p@db:5432/sitroom")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/sitroom"


@pytest.mark.parametrize("name, value, expected", [
    ("SITROOM_PORT", "abc", "SITROOM_PORT (port): Input should be a valid integer"),
    ("SITROOM_PORT", "70000", "SITROOM_PORT (port): Input should be less than or equal to 65535"),
    ("SITROOM_DATABASE_URL", "mysql://x", "SITROOM_DATABASE_URL (database_url): must start"),
    ("SITROOM_DEFAULT_MARKING", "purple", "SITROOM_DEFAULT_MARKING (default_marking): unknown"),
    ("SITROOM_LOG_LEVEL", "loud", "SITROOM_LOG_LEVEL (log_level):"),
])
def test_a_wrong_value_names_its_setting_in_one_line(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_unknown_key_in_the_file(tmp_path, monkeypatch):
    write_config(tmp_path, "prot = 80\n", monkeypatch)
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        load_settings()


def test_broken_file_and_missing_file(tmp_path, monkeypatch):
    write_config(tmp_path, "port = = 1\n", monkeypatch)
    with pytest.raises(SettingsError, match="settings file"):
        load_settings()
    monkeypatch.setenv("SITROOM_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match="SITROOM_CONFIG: no such file"):
        load_settings()


def test_data_dir_must_be_writable(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SITROOM_DATA_DIR", str(blocker / "sub"))
    with pytest.raises(SettingsError, match="SITROOM_DATA_DIR"):
        load_settings().ensure_data_dir()

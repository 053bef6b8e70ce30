"""The `sitroom` command, run as a user runs it: the installed console script, in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.store import migrate, open_store
from dashboard.store.schema import events

DATA = Path(__file__).parent / "data" / "geojson"
SITROOM = shutil.which("sitroom", path=str(Path(sys.executable).parent)) or "sitroom"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SITROOM_")}
    environment.update({"SITROOM_DATA_DIR": str(cwd / "var")}, **(env or {}))
    return subprocess.run([SITROOM, *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=120)


def event_count(cwd: Path) -> int:
    store = open_store(f"sqlite:///{cwd / 'var' / 'sitroom.db'}")
    with store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(events)).scalar_one()
    store.close()
    return n


def test_help_lists_the_commands(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("db", "ingest"):
        assert command in result.stdout


def test_db_upgrade_then_current(tmp_path):
    first = run("db", "upgrade", cwd=tmp_path)
    head = migrate.head_revision()
    assert first.returncode == 0 and f"schema upgraded from empty to {head}" in first.stdout
    assert f"schema already at {head}" in run("db", "upgrade", cwd=tmp_path).stdout
    assert run("db", "current", cwd=tmp_path).stdout.strip() == f"database: {head}; code: {head}"


def test_ingest_summary_and_idempotency(tmp_path):
    files = [str(DATA / "all_hour_2017-12-03.geojson"),
             str(DATA / "v3_events_geojson_2025-09_raw_whitespace.geojson")]
    result = run("ingest", *files, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "all_hour_2017-12-03.geojson: 8 records: 8 created, 0 updated" in result.stdout
    # EONET repeats an event id along a storm track: one incident per event, at its latest point
    assert "3 records: 3 created, 0 updated" in result.stdout
    written = event_count(tmp_path)
    again = run("ingest", "--json", *files, cwd=tmp_path)
    summary = json.loads(again.stdout)
    assert [s["duplicate"] for s in summary] == [8, 3]
    assert event_count(tmp_path) == written


def test_ingest_refuses_bad_files_and_exits_1(tmp_path):
    (tmp_path / "notes.geojson").write_text("this is not json")
    good = str(DATA / "significant_week_2017-12-11.geojson")
    result = run("ingest", "--json", str(tmp_path / "notes.geojson"), good,
                 str(tmp_path / "missing.geojson"), cwd=tmp_path)
    assert result.returncode == 1
    summary = {Path(s["file"]).name: s for s in json.loads(result.stdout)}
    assert summary["notes.geojson"]["status"] == "refused"
    assert summary["notes.geojson"]["reason"].startswith("not JSON")
    assert summary["missing.geojson"]["reason"] == "cannot read: No such file or directory"
    assert summary["significant_week_2017-12-11.geojson"]["created"] == 4


def test_ingest_bad_items_land_the_rest_unless_strict(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "ok", "properties": {},
         "geometry": {"type": "Point", "coordinates": [24.9, 60.1]}},
        {"type": "Feature", "id": "bad", "properties": {},
         "geometry": {"type": "Point", "coordinates": [24.9, 95]}},
    ]}
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps(doc))
    strict = run("ingest", "--strict", str(path), cwd=tmp_path)
    assert strict.returncode == 1 and "--strict" in strict.stderr
    assert event_count(tmp_path) == 0
    lenient = run("ingest", str(path), cwd=tmp_path)
    assert lenient.returncode == 0
    assert "1 created" in lenient.stdout and "1 refused" in lenient.stdout
    assert "item 1 (id bad): geometry: latitude out of range [-90, 90]: 95.0" in lenient.stdout
    assert event_count(tmp_path) == 1


@pytest.mark.parametrize("env, message", [
    ({"SITROOM_PORT": "eighty"}, "sitroom: SITROOM_PORT (port): Input should be a valid integer"),
    ({"SITROOM_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
     "sitroom: cannot open the database"),
])
def test_bad_settings_stop_with_one_line(tmp_path, env, message):
    result = run("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_bad_option_values(tmp_path):
    result = run("ingest", "--marking", "purple", str(DATA / "all_hour_2017-12-03.geojson"),
                 cwd=tmp_path)
    assert result.returncode == 2 and "unknown marking 'purple'" in result.stderr


def test_ingest_reads_every_format(tmp_path):
    data = Path(__file__).parent / "data"
    files = [data / "cap" / "valid" / "thunderstorm_polygon_geocode.xml",
             data / "georss" / "gdacs_rss_small.xml",
             data / "geojson" / "alerts_active_zone_ORZ004_1.geojson"]
    csv_file = tmp_path / "points.csv"
    csv_file.write_text("id;lat;lon;title\n1;60,17;24,94;Boat adrift\n")
    result = run("ingest", "--json", *map(str, files), str(csv_file), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [s["format"] for s in summary] == ["cap", "georss", "nws", "csv"]
    assert all(s["created"] == 1 for s in summary)

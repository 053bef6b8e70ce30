"""Under gevent, as served: the drivers cooperate and the hub emits from greenlets only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.postgis
def test_drivers_cooperate_and_nothing_emits_from_an_os_thread(postgres_server, tmp_path):
    postgres_server.reset()
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.gevent_check", postgres_server.url,
         f"sqlite:///{tmp_path / 'g.db'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["postgres_two_slow_queries_s"] < 0.9  # side by side, not 1.0 s in a row
    assert report["emits"] > 0
    assert report["emitting_threads"] == [report["main_thread"]]

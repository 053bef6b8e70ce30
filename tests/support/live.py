"""Real serving processes and real Socket.IO screens, for the live tests and the benchmark."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import socketio

from tests.support.postgres import free_port

SITROOM = shutil.which("sitroom", path=str(Path(sys.executable).parent)) or "sitroom"


class ServeProcess:
    """`sitroom serve` (or `demo`) in a subprocess on a free loopback port."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None,
                 command: str = "serve") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SITROOM_")}
        environment.update({
            "SITROOM_DATA_DIR": str(workdir / "var"),
            "SITROOM_PORT": str(self.port),
            "SITROOM_LOG_LEVEL": "WARNING",
        })
        environment.update(env or {})
        self.log = open(workdir / f"serve-{self.port}.log", "w")  # noqa: SIM115 (kept open)
        self.process = subprocess.Popen([SITROOM, command], cwd=workdir, env=environment,
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30) -> ServeProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sitroom exited with {self.process.returncode}: "
                                   f"{Path(self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"sitroom did not answer on {self.url}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def post_report(base_url: str, lon: float, lat: float, *, marking: str = "TLP:GREEN",
                agency: str = "police", key: str | None = None, **properties: Any
                ) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"marking": marking, "agency": agency, **properties}}
    return httpx.post(base_url + "/api/v1/reports", json=feature, headers=headers, timeout=10)


class Screen:
    """A python-socketio client that keeps a COP the way the browser does."""

    def __init__(self, base_url: str, agency: str | None = None, clearance: str | None = None,
                 on_batch: Callable[[dict], None] | None = None) -> None:
        self.base_url = base_url
        self.auth: dict[str, Any] = {"agency": agency, "clearance": clearance}
        self.features: dict[str, dict] = {}
        self.seen: list[int] = []  # seq of every delta applied, in order
        self.cursor: int | None = None
        self.snapshots = 0
        self.batches = 0
        self.errors: list[str] = []
        self._snapshot: list[dict] = []
        self._on_batch = on_batch
        self.changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", self._snapshot_page, namespace="/cop")
        self.client.on("batch", self._batch, namespace="/cop")
        self.client.on("connect_error", lambda data: self.errors.append(str(data)),
                       namespace="/cop")

    def connect(self, cursor: int | None = None) -> Screen:
        self.client.connect(self.base_url, namespaces=["/cop"], transports=["websocket"],
                            auth={**self.auth, "cursor": cursor}, wait_timeout=10)
        return self

    def disconnect(self) -> None:
        self.client.disconnect()

    def _snapshot_page(self, msg: dict) -> None:
        if msg["page"] == 0:
            self._snapshot = []
        self._snapshot.extend(msg["features"])
        if msg["page"] + 1 == msg["pages"]:
            with self.changed:
                self.features = {f["id"]: f for f in self._snapshot}
                self.cursor = msg["seq"]
                self.snapshots += 1
                self.changed.notify_all()

    def _batch(self, msg: dict) -> None:
        if self._on_batch:
            self._on_batch(msg)
        with self.changed:
            if self.cursor is None or msg["from"] > self.cursor:
                self.errors.append(f"gap: batch from {msg['from']}, cursor {self.cursor}")
                return
            for delta in msg["d"]:
                if delta["s"] <= self.cursor:
                    continue
                self.seen.append(delta["s"])
                if delta["op"] == "remove":
                    self.features.pop(delta["id"], None)
                else:
                    self.features[delta["id"]] = delta["f"]
            self.cursor = max(self.cursor, msg["to"])
            self.batches += 1
            self.changed.notify_all()
        try:
            self.client.emit("ack", {"cursor": self.cursor}, namespace="/cop")
        except socketio.exceptions.BadNamespaceError:
            pass  # disconnected meanwhile

    def wait_for(self, condition: Callable[[Screen], bool], timeout: float = 5) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True

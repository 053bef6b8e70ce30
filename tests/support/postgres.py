"""A throwaway PostgreSQL + PostGIS server on a free loopback port, for tests and benchmarks.

It runs from a temporary directory with fsync off (its data is thrown away), as the `postgres`
user when we are root (PostgreSQL refuses to run as root), and is stopped by `stop()`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory that has PostGIS beside it."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        version = Path(bindir).parent.name
        if glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            return Path(bindir)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """Start with `start()`, use `url`, end with `stop()`; or use it as a context manager."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="sitroom-pg-"))
        self.data = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/sitroom"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        if self.user:
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "--auth=trust", "--username=postgres",
                  "--encoding=UTF8", "--no-sync")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c shared_buffers=256MB -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres "
                                     "dbname=postgres", autocommit=True) as conn:
                    conn.execute("CREATE DATABASE sitroom")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self

    def reset(self) -> None:
        """Drop and recreate the database: a clean slate for the next test."""
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS sitroom WITH (FORCE)")
            conn.execute("CREATE DATABASE sitroom")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:  # a half-started server is still stopped and removed
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

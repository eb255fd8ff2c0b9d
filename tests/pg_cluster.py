"""A throwaway PostgreSQL cluster for the storage tests (initdb + pg_ctl on a free port).

Debian's ``postgresql`` package (installed by ``.ci/run``) puts ``initdb`` and ``pg_ctl``
under ``/usr/lib/postgresql/<version>/bin``. Without them the PostgreSQL tests are skipped
on a developer machine, and fail when ``REQUIRE_POSTGRES=1`` (CI). As root, the cluster
runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

PORTS = range(55432, 55500)


def unavailable(reason: str):
    """Skip on a developer machine; fail in CI (``REQUIRE_POSTGRES=1``)."""
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(
            f"REQUIRE_POSTGRES=1 but PostgreSQL cannot run: {reason}. Install Debian's "
            "postgresql (`apt-get install -y postgresql`, as .ci/run does).",
            pytrace=False,
        )
    pytest.skip(
        f"PostgreSQL tests skipped: {reason} (set REQUIRE_POSTGRES=1 to make this an error)"
    )


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    for port in PORTS:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
            contextlib.suppress(OSError),
        ):
            sock.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free port for PostgreSQL")


class Cluster:
    """A started cluster; :meth:`new_database` gives each test its own empty database."""

    def __init__(self):
        bin_dir = _bin_dir()
        if bin_dir is None:
            unavailable("no pg_ctl on PATH nor under /usr/lib/postgresql/*/bin")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="territorial-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.prefix = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.root / "log"), "start")  # fmt: skip
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, str(self.bin / tool), *args], capture_output=True, text=True
        )
        if done.returncode != 0:
            unavailable(f"{tool} failed: {done.stderr[-1500:] or done.stdout[-1500:]}")

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.prefix,
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)

"""A PostgreSQL cluster of a test's own, to stop and start under a running server.

The shared server on 5432 is never stopped: other tests and processes use it.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from server.db.migrate import upgrade
from server.settings import Settings, normalise_database_url
from tests.conftest import run_async, run_in_thread
from tests.server_process import free_port
from tests.world import World, build_world


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    assert found[-1], f"PostgreSQL's {name} is not installed (apt-get install postgresql)"
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


@dataclass
class PrivateCluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([_bin("pg_ctl"), "-D", str(self.directory / "data"), "-w", *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        # fsync off: a test's cluster holds nothing worth keeping across a power cut.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -k {self.directory}"
        self._ctl("-o", options, "-l", str(self.directory / "postgres.log"), "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    # Not under pytest's tmp_path: its folders are private to root, where postgres cannot go.
    parent = Path(tempfile.mkdtemp(prefix="zayavka-pg-"))
    parent.chmod(0o755)
    directory = parent / "pg"
    directory.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        _as_postgres(
            [_bin("initdb"), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = PrivateCluster(directory, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped by the test
        shutil.rmtree(parent, ignore_errors=True)


@contextmanager
def town_on_private_cluster(settings: Settings, **changes: Any) -> Iterator[Town]:
    """The small town, migrated onto a cluster of its own, and the settings to serve it (the
    event bus on the same cluster, so that it goes down with the database)."""
    with private_cluster() as cluster:
        own = dataclasses.replace(
            settings,
            database_url=normalise_database_url(cluster.url),
            broadcast_url=cluster.url,
            **changes,
        )
        run_in_thread(upgrade, own.database_url)  # Playwright may own this thread's loop
        yield Town(own, cluster, run_async(build_world, own))


@dataclass
class Town:
    settings: Settings
    cluster: PrivateCluster
    world: World


def wait_ready(base: str, ready: bool, within: float = 30.0) -> httpx.Response:
    """/readyz once it says `ready` (or the last answer after `within` seconds)."""
    deadline = time.monotonic() + within
    while True:
        response = httpx.get(base + "/readyz", timeout=5)
        if (response.status_code == 200) == ready or time.monotonic() > deadline:
            return response
        time.sleep(0.2)

"""Real server processes (uvicorn) for tests that need a network: browsers, several processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(settings: Settings, port: int, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": settings.secret_key,
            "BASE_URL": f"http://127.0.0.1:{port}",
            "MEDIA_DIR": str(settings.media_dir),
            "BROADCAST_URL": settings.broadcast_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@contextmanager
def running_server(
    settings: Settings,
    *,
    port: int | None = None,
    app: str = "server.asgi:app",
    ready_path: str = "/login",
    **extra_env: str,
) -> Iterator[str]:
    """Start uvicorn with `app` on 127.0.0.1 and yield its base URL; stop it after. The
    settings are those of `python -m server serve` (no per-message compression)."""
    port = port or free_port()
    env = server_env(settings, port, **extra_env)
    log = open(settings.media_dir.parent / f"server-{port}.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--ws-per-message-deflate",
            "false",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    "server exited: "
                    + (settings.media_dir.parent / f"server-{port}.log").read_text()
                )
            try:
                if httpx.get(base + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()

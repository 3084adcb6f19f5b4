"""/healthz and /readyz, as a load balancer asks them."""

from __future__ import annotations

from litestar.testing import TestClient

from server.app import create_app
from tests.world import World


def test_a_running_app_is_alive_and_ready(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": True, "bus": True}
        assert ready.headers["cache-control"] == "no-store"


def test_probes_need_no_session_and_set_no_cookie(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        for path in ("/healthz", "/readyz"):
            response = client.get(path)
            assert response.status_code == 200
            assert "zayavka_session" not in response.headers.get("set-cookie", "")

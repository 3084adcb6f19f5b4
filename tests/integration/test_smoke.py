from __future__ import annotations

from litestar.testing import TestClient

from server.app import create_app
from tests.http import login, post
from tests.world import World


def test_resident_files_a_request_and_sees_it(world: World) -> None:
    app = create_app(world.settings)
    with TestClient(app) as client:
        login(client, "resident")
        page = client.get("/requests/new")
        assert page.status_code == 200, page.text
        response = post(
            client,
            "/requests/new",
            {
                "building_id": world.buildings["lenina12"],
                "category_id": world.categories["leak"],
                "flat": "5",
                "description": "Течёт труба в ванной",
                "idempotency_key": "k1",
            },
        )
        assert response.status_code == 303, response.text
        detail = client.get(response.headers["location"])
        assert "Течёт труба в ванной" in detail.text
        assert "УК Заинск-Сервис" in detail.text

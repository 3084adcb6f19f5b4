"""Filing a request: routing, validation in Russian, photos, nothing half-written."""

from __future__ import annotations

import io
import re

from litestar.testing import TestClient
from PIL import Image

from server.app import create_app
from tests.http import login, people, post
from tests.world import World


def jpeg(color: str = "green") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(out, "JPEG")
    return out.getvalue()


def form(world: World, building: str = "lenina12", category: str = "leak") -> dict[str, object]:
    return {
        "building_id": world.buildings[building],
        "category_id": world.categories[category],
        "flat": "3",
        "description": "Описание проблемы для проверки",
    }


def test_request_with_photos_shows_them_to_the_resident_and_the_dispatcher(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher") as p:
        response = post(
            p["resident"],
            "/requests/new",
            form(world),
            files=[
                ("photos", ("a.jpg", jpeg(), "image/jpeg")),
                ("photos", ("b.jpg", jpeg("blue"), "image/jpeg")),
            ],
        )
        assert response.status_code == 303
        page = p["resident"].get(response.headers["location"]).text
        photos = re.findall(r'<img src="(/media/[^"]+)"', page)
        assert len(photos) == 2
        for url in photos:
            for who in ("resident", "dispatcher"):
                got = p[who].get(url)
                assert got.status_code == 200
                assert got.headers["content-type"] == "image/jpeg"


def test_non_image_is_refused_and_nothing_is_stored(world: World) -> None:
    app = create_app(world.settings)
    with TestClient(app) as client:
        login(client, "resident")
        response = post(
            client,
            "/requests/new",
            form(world),
            files=[("photos", ("photo.jpg", b"MZ\x90\x00 not a picture", "image/jpeg"))],
        )
        assert response.status_code == 422
        assert "Файл не похож на изображение" in response.text
        assert "Описание проблемы для проверки" in response.text  # what was typed is kept
        assert "У вас пока нет заявок" in client.get("/requests").text
    media = world.settings.media_dir
    assert not media.exists() or not any(media.iterdir())


def test_missing_fields_are_named_in_russian(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        response = post(client, "/requests/new", {"description": "abc"})
        assert response.status_code == 422
        for message in ("Выберите адрес из списка", "Выберите, что случилось", "Опишите проблему"):
            assert message in response.text


def test_more_than_five_photos_are_refused(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        files = [("photos", (f"{i}.jpg", jpeg(), "image/jpeg")) for i in range(6)]
        response = post(client, "/requests/new", form(world), files=files)
        assert response.status_code == 422
        assert "Не больше 5 фотографий" in response.text


def test_unserved_address_waits_in_triage(world: World) -> None:
    app = create_app(world.settings)
    with TestClient(app) as client:
        login(client, "resident")
        response = post(client, "/requests/new", form(world, building="orphan"))
        page = client.get(response.headers["location"]).text
        assert "Ожидает разбора в администрации" in page
        assert "ждёт разбора" in page


def test_water_category_goes_to_the_water_supplier(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher_rso", "dispatcher") as p:
        response = post(p["resident"], "/requests/new", form(world, category="water"))
        request_id = response.headers["location"].rsplit("/", 1)[1]
        assert f'id="row-{request_id}"' in p["dispatcher_rso"].get("/board").text
        assert f'id="row-{request_id}"' not in p["dispatcher"].get("/board").text


def test_building_search_finds_addresses_as_you_type(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        found = client.get(
            "/buildings/search", params={"q": "ленина 12"}, headers={"HX-Request": "true"}
        )
        assert "улица Ленина, 12" in found.text
        assert "проспект Мира" not in found.text
        assert "<html" not in found.text  # a fragment, not a page

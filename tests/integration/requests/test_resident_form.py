"""The resident's filing form: remembered address, address search order, the town's number,
the description's limit."""

from __future__ import annotations

import dataclasses
import re

from litestar.testing import TestClient

from server.app import create_app
from tests.conftest import run_async
from tests.http import login, people, post
from tests.world import World, add_houses

TOWN_PHONE_LINK = '<a class="town-phone" href="tel:+78555800000">+7 85558 0-00-00</a>'


def shown_addresses(html: str) -> list[str]:
    return re.findall(r'name="building_id" value="\d+"[^>]*> ([^<]+)</label>', html)


def search(client: TestClient, q: str) -> str:  # type: ignore[type-arg]
    response = client.get("/buildings/search", params={"q": q}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.text


def file(client: TestClient, world: World, building: str, flat: str) -> None:  # type: ignore[type-arg]
    form = {
        "building_id": world.buildings[building],
        "category_id": world.categories["leak"],
        "flat": flat,
        "description": "Течёт труба под раковиной",
    }
    assert post(client, "/requests/new", form).status_code == 303


def test_address_search_lists_house_numbers_in_natural_order(world: World) -> None:
    run_async(
        add_houses, world.settings, "проспект Нефтяников", ["15", "5/2", "50", "5к1", "5А", "5"]
    )
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        found = shown_addresses(search(client, "Нефтяников 5"))
        houses = [address.removeprefix("проспект Нефтяников, ") for address in found]
        assert houses == ["5", "5А", "5к1", "5/2", "15", "50"]


def test_a_house_number_typed_exactly_comes_first_whatever_the_street(world: World) -> None:
    run_async(add_houses, world.settings, "проспект Нефтяников", ["15", "5"])
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        found = shown_addresses(search(client, "5"))
        assert found[:2] == ["проспект Нефтяников, 5", "улица Ленина, 5"]
        assert found[2:] == ["проспект Нефтяников, 15"]


def test_the_form_offers_the_house_and_flat_of_the_residents_last_request(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "resident2") as p:
        file(p["resident"], world, "sovet7", "42")
        file(p["resident"], world, "lenina12", "3")
        page = p["resident"].get("/requests/new").text
        chosen = re.findall(r'name="building_id" value="(\d+)" required checked>', page)
        assert chosen == [str(world.buildings["lenina12"])]
        assert "Адрес вашей прошлой заявки" in page
        assert 'id="flat" name="flat" inputmode="numeric" maxlength="20" value="3"' in page
        assert 'id="address" name="q" type="search"' in page  # another house is a search away
        # Someone else's address is never offered.
        other = p["resident2"].get("/requests/new").text
        assert 'name="building_id"' not in other
        assert 'id="flat" name="flat" inputmode="numeric" maxlength="20" value=""' in other


def test_the_town_phone_is_a_link_that_dials_it(world: World) -> None:
    settings = dataclasses.replace(world.settings, town_phone="+7 85558 0-00-00")
    with TestClient(create_app(settings)) as client:
        assert TOWN_PHONE_LINK in client.get("/").text
        login(client, "resident")
        not_found = search(client, "Несуществующая 99")
        assert "Адрес не найден" in not_found
        assert TOWN_PHONE_LINK in not_found


def test_without_a_town_phone_the_pages_name_the_service_without_a_number(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        landing = client.get("/").text
        assert "по телефону единой диспетчерской службы" in landing
        assert "tel:" not in landing


def test_an_over_long_description_is_refused_beside_the_field_and_kept(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        form = {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "description": "в" * 4001,
        }
        response = post(client, "/requests/new", form)
        assert response.status_code == 422
        field = re.search(r'<label for="description">.*?</div>', response.text, re.S)
        assert field is not None
        assert "Описание слишком длинное (до 4000 знаков)." in field.group()
        assert "в" * 4001 in field.group()  # nothing typed is lost
        assert "У вас пока нет заявок" in client.get("/requests").text
        # Exactly the limit is fine.
        accepted = post(client, "/requests/new", {**form, "description": "в" * 4000})
        assert accepted.status_code == 303

"""Who may declare, update, resolve, see and follow an incident: another organisation is
refused on every route and on the live channel; the rules decide which buildings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from server.app import create_app
from tests.http import login, post
from tests.integration.incidents.test_incident_journey import declare, incident_id_of, version_on
from tests.world import World

ORIGIN = {"origin": "http://testserver.local"}


@pytest.fixture
def app(world: World) -> Any:
    return create_app(dataclasses.replace(world.settings, push_worker_in_process=False))


@pytest.fixture
def clients(app: Any) -> Iterator[dict[str, TestClient[Any]]]:
    opened: dict[str, TestClient[Any]] = {}
    with TestClient(app) as first:

        def use(name: str) -> TestClient[Any]:
            if name not in opened:
                client = first if not opened else TestClient(app)
                if client is not first:
                    client.blocking_portal = first.blocking_portal
                login(client, name)
                opened[name] = client
            return opened[name]

        yield _Lazy(use)  # type: ignore[misc]


class _Lazy(dict):  # type: ignore[type-arg]
    def __init__(self, use: Any) -> None:
        super().__init__()
        self.use = use

    def __missing__(self, name: str) -> TestClient[Any]:
        return self.use(name)


def test_another_organisation_can_neither_see_nor_change_the_incident(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    incident = incident_id_of(declare(clients["dispatcher"], world, [world.buildings["lenina12"]]))
    version = version_on(clients["dispatcher"], incident)
    for name in ("dispatcher2", "dispatcher_rso"):
        foreign = clients[name]
        assert foreign.get(f"/incidents/{incident}").status_code == 404
        listed = foreign.get("/incidents")
        assert f'data-incident-id="{incident}"' not in listed.text
        update = {"version": version, "text": "Чужая организация пишет жителям"}
        assert post(foreign, f"/incidents/{incident}/update", update).status_code == 404
        response = post(foreign, f"/incidents/{incident}/resolve", {"version": version})
        assert response.status_code == 404
    # Nothing was changed by them.
    assert version_on(clients["dispatcher"], incident) == version
    # The organisation's other dispatcher and the administration may.
    assert clients["dispatcher_b"].get(f"/incidents/{incident}").status_code == 200
    response = post(clients["cityadmin"], f"/incidents/{incident}/resolve", {"version": version})
    assert response.status_code == 303


@pytest.mark.parametrize("name", ["resident", "operator", "contractor", "worker", "sysadmin"])
def test_people_who_do_not_declare_are_refused_the_management_pages(
    clients: dict[str, TestClient[Any]], world: World, name: str
) -> None:
    incident = incident_id_of(declare(clients["dispatcher"], world, [world.buildings["lenina12"]]))
    client = clients[name]
    assert client.get("/incidents").status_code == 403
    assert client.get(f"/incidents/{incident}").status_code == 403
    assert post(client, f"/incidents/{incident}/resolve", {"version": "1"}).status_code == 403
    assert declare(client, world, [world.buildings["lenina12"]]).status_code == 403


def test_buildings_are_declared_only_by_who_serves_them(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    lenina12, orphan = world.buildings["lenina12"], world.buildings["orphan"]
    # Another УК's building, a building nobody manages: refused.
    assert declare(clients["dispatcher2"], world, [lenina12]).status_code == 403
    assert declare(clients["dispatcher"], world, [lenina12, orphan]).status_code == 403
    # The water supplier serves cold water everywhere, not leaks inside the building.
    rso = clients["dispatcher_rso"]
    assert declare(rso, world, [lenina12]).status_code == 403
    water = {"category_id": world.categories["water"]}
    assert declare(rso, world, [lenina12, orphan], **water).status_code == 303
    # The administration declares for any building.
    assert declare(clients["cityadmin"], world, [orphan]).status_code == 303


def test_all_we_serve_on_a_street_takes_only_the_organisations_own_houses(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    # улица Ленина: 12 is УК Заинск-Сервис's, 5 the ТСЖ's.
    response = declare(clients["dispatcher"], world, [], scope="street", street="улица Ленина")
    incident = incident_id_of(response)
    page = clients["dispatcher"].get(f"/incidents/{incident}").text
    assert "улица Ленина, 12" in page and "улица Ленина, 5" not in page
    response = declare(clients["dispatcher2"], world, [], scope="street", street="улица Ленина")
    assert response.status_code == 422
    assert "Нет домов, которые вы обслуживаете" in response.text
    response = declare(clients["dispatcher"], world, [], scope="all")
    page = clients["dispatcher"].get(f"/incidents/{incident_id_of(response)}").text
    assert "проспект Мира, 3" in page and "улица Советская" not in page


def test_bad_input_is_said_beside_the_field_and_nothing_is_written(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    client = clients["dispatcher"]
    response = declare(client, world, [world.buildings["lenina12"]], text="", expected_end="")
    assert response.status_code == 422
    assert "Напишите текст для жителей" in response.text
    assert "Укажите ожидаемое окончание" in response.text
    response = declare(client, world, [world.buildings["lenina12"]], starts_at="вчера")
    assert response.status_code == 422
    assert "Укажите дату и время" in response.text
    assert 'data-incident-id="' not in client.get("/incidents").text


def test_only_residents_follow_and_only_residents_and_operators_read_the_notice(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    incident = incident_id_of(declare(clients["dispatcher"], world, [world.buildings["lenina12"]]))
    notice = f"/incidents/notice?building_id={world.buildings['lenina12']}"
    notice += f"&category_id={world.categories['leak']}"
    for name in ("dispatcher", "contractor", "worker", "cityadmin"):
        assert clients[name].get(notice).status_code == 403
        assert post(clients[name], f"/incidents/{incident}/follow").status_code == 403
    assert "Связать звонок с аварией" in clients["operator"].get(notice).text
    assert "Меня это тоже касается" in clients["resident"].get(notice).text
    assert clients["contractor"].get("/incidents/mine").status_code == 403


@pytest.mark.parametrize("name", ["contractor", "worker", "sysadmin"])
def test_the_live_channel_refuses_who_sees_no_incidents(
    clients: dict[str, TestClient[Any]], name: str
) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        clients[name].websocket_connect("/live/incidents", headers=ORIGIN) as ws,
    ):
        ws.receive_text(timeout=2)
    assert closed.value.code == 4403


def test_the_live_channel_refuses_another_site(clients: dict[str, TestClient[Any]]) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        clients["resident"].websocket_connect(
            "/live/incidents", headers={"origin": "https://evil.example"}
        ) as ws,
    ):
        ws.receive_text(timeout=2)
    assert closed.value.code == 4403


def test_a_resident_page_is_signalled_when_an_incident_is_declared(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    with clients["resident"].websocket_connect("/live/incidents", headers=ORIGIN) as ws:
        ws.send_text('{"type":"hello"}')
        assert "incident-notices" in ws.receive_text(timeout=3)
        declare(clients["dispatcher"], world, [world.buildings["lenina12"]])
        assert "incident-notices" in ws.receive_text(timeout=3)


def test_the_operator_links_a_call_to_the_incident_in_one_click(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    lenina12 = world.buildings["lenina12"]
    incident = incident_id_of(declare(clients["dispatcher"], world, [lenina12]))
    operator = clients["operator"]
    call = {"building_id": str(lenina12), "caller_phone": "+7 917 555-11-22", "flat": "4"}
    response = post(operator, f"/operator/incidents/{incident}/call", call)
    assert response.status_code == 303, response.text[:2000]
    request_page = operator.get(response.headers["location"]).text
    assert "Звонок по аварии" in request_page
    assert "заявок: 1" in clients["dispatcher"].get(f"/incidents/{incident}").text
    # Without the caller's phone: said beside the button, nothing filed.
    response = post(operator, f"/operator/incidents/{incident}/call", {"building_id": lenina12})
    assert response.status_code == 422
    assert "Укажите телефон звонящего" in response.text
    # Not an incident of that building: refused.
    other = {**call, "building_id": str(world.buildings["sovet7"])}
    assert post(operator, f"/operator/incidents/{incident}/call", other).status_code == 422


def test_a_resident_subscribes_to_a_building_from_the_filing_form(
    clients: dict[str, TestClient[Any]], world: World
) -> None:
    building = world.buildings["mira3"]
    resident = clients["resident"]
    notice = resident.get(f"/incidents/notice?building_id={building}").text
    assert f"/incidents/buildings/{building}/subscription" in notice
    response = post(
        resident,
        f"/incidents/buildings/{building}/subscription",
        {"on": "1"},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 200
    assert "Вы будете получать уведомления об отключениях" in response.text
    incident = incident_id_of(declare(clients["dispatcher"], world, [building]))
    assert f'data-incident-id="{incident}"' in resident.get("/incidents/mine").text
    assert (
        post(clients["operator"], f"/incidents/buildings/{building}/subscription").status_code
        == 403
    )

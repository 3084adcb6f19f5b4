"""Open311 GeoReport v2 conformance: every endpoint, both formats, every filter and error.

The specification: http://wiki.open311.org/GeoReport_v2 and /Service_Discovery. XML answers are
read back into the same shape as JSON (lists of dicts of strings), so each test checks both.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from server.app import create_app
from server.db.models import ApiToken, Building, Category, Request, User
from server.db.session import Database
from tests.conftest import run_async
from tests.integration.oversight.oversight_fixture import History, build_history
from tests.world import World

KEY = "demo-open311-key"
FORMATS = ["json", "xml"]
MARCH = {"start_date": "2026-03-01T00:00:00+03:00", "end_date": "2026-03-19T23:59:59+03:00"}
LISTS = {"services", "service_requests", "errors", "attributes", "endpoints", "formats", "values"}


# --- reading answers ---------------------------------------------------------------------


def _element(node: ET.Element) -> Any:
    children = list(node)
    if node.tag in LISTS:
        return [_element(child) for child in children]
    if not children:
        return node.text or ""
    return {child.tag: _element(child) for child in children}


def parse(response: Any, fmt: str) -> Any:
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json")
        return json.loads(response.text)
    assert response.headers["content-type"].startswith("text/xml")
    assert "charset=utf-8" in response.headers["content-type"]
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return _element(ET.fromstring(response.content))


def text(value: Any) -> str:
    """A JSON value as XML carries it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_error(response: Any, fmt: str, status: int, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    errors = parse(response, fmt)
    assert isinstance(errors, list) and errors
    assert text(errors[0]["code"]) == str(status)
    assert fragment in errors[0]["description"]


# --- the town -------------------------------------------------------------------------------


async def _prepare(world: World) -> None:
    db = Database(world.settings.database_url)
    try:
        async with db.begin() as session:
            # The demo stores its key as hashlib.sha256(key.encode()).hexdigest(); so does this.
            session.add(
                ApiToken(
                    name="Демо-клиент Open311",
                    kind="open311",
                    token_hash=hashlib.sha256(KEY.encode()).hexdigest(),
                )
            )
            session.add(
                ApiToken(
                    name="Старый ключ",
                    kind="open311",
                    token_hash=hashlib.sha256(b"revoked-key").hexdigest(),
                    active=False,
                )
            )
            session.add(
                ApiToken(
                    name="JSON API",
                    kind="api",
                    token_hash=hashlib.sha256(b"json-api-key").hexdigest(),
                )
            )
            for key, lat, lon in (("lenina12", 55.2990, 52.0080), ("mira3", 55.3050, 52.0200)):
                await session.execute(
                    update(Building)
                    .where(Building.id == world.buildings[key])
                    .values(latitude=lat, longitude=lon)
                )
    finally:
        await db.dispose()


@pytest.fixture
def history(world: World) -> History:
    history = run_async(build_history, world)
    run_async(_prepare, world)
    return history


@pytest.fixture
def client(world: World, history: History) -> Any:
    with TestClient(create_app(world.settings)) as client:
        yield client


async def _rows(world: World, model: Any, *where: Any) -> list[Any]:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            return list(await session.scalars(select(model).where(*where)))
    finally:
        await db.dispose()


def post_request(client: TestClient[Any], fmt: str, **fields: str) -> Any:
    data = {"api_key": KEY, "service_code": "leak", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/open311/v2/requests.{fmt}", data=data)


# --- discovery ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["/open311/discovery", "/open311/v2/discovery"])
def test_discovery_names_the_endpoint_and_its_formats(
    client: TestClient[Any], fmt: str, path: str
) -> None:
    response = client.get(f"{path}.{fmt}")
    assert response.status_code == 200
    found = parse(response, fmt)
    for name in ("changeset", "contact", "key_service"):
        assert found[name]
    [endpoint] = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver.local/open311/v2"
    assert endpoint["type"] in ("production", "test")
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]


# --- services -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_active_categories(
    client: TestClient[Any], world: World, fmt: str
) -> None:
    async def retire_water() -> None:
        db = Database(world.settings.database_url)
        try:
            async with db.begin() as session:
                await session.execute(
                    update(Category).where(Category.code == "water").values(active=False)
                )
        finally:
            await db.dispose()

    run_async(retire_water)
    response = client.get(f"/open311/v2/services.{fmt}")
    assert response.status_code == 200
    services = parse(response, fmt)
    assert [s["service_code"] for s in services] == ["leak", "lift", "window", "other"]
    leak = services[0]
    assert leak["service_name"] == "Протечка трубы"
    assert text(leak["metadata"]) == "true"
    assert leak["type"] == "realtime"
    assert leak["description"] and leak["group"]
    assert "keywords" in leak


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_offers_the_flat_attribute(client: TestClient[Any], fmt: str) -> None:
    response = client.get(f"/open311/v2/services/leak.{fmt}")
    assert response.status_code == 200
    definition = parse(response, fmt)
    assert definition["service_code"] == "leak"
    [attribute] = definition["attributes"]
    assert attribute["code"] == "flat"
    assert attribute["datatype"] == "string"
    assert text(attribute["variable"]) == "true"
    assert text(attribute["required"]) == "false"
    assert text(attribute["order"]) == "1"
    assert attribute["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_definition_is_not_found(client: TestClient[Any], fmt: str) -> None:
    assert_error(client.get(f"/open311/v2/services/no-such.{fmt}"), fmt, 404, "no-such")


# --- POST requests --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_files_a_request_at_the_address_given(
    client: TestClient[Any], world: World, fmt: str
) -> None:
    response = post_request(
        client,
        fmt,
        address_string="ул. Ленина, д. 12, Заинск, 423520",
        description="Капает с потолка в ванной",
        phone="8 (917) 444-55-66",
        first_name="Ильдар",
        last_name="Хакимов",
        **{"attribute[flat]": "45"},
    )
    assert response.status_code == 201, response.text
    [created] = parse(response, fmt)
    request_id = int(created["service_request_id"])
    assert "Срок выполнения" in created["service_notice"]
    assert "account_id" in created
    [stored] = run_async(_rows, world, Request, Request.id == request_id)
    assert stored.source == "open311"
    assert stored.building_id == world.buildings["lenina12"]
    assert stored.organisation_id == world.orgs["uk1"]  # routed like any other request
    assert stored.flat == "45"
    assert stored.description == "Капает с потолка в ванной"
    [resident] = run_async(_rows, world, User, User.id == stored.resident_id)
    assert (resident.phone, resident.name, resident.role) == (
        "+79174445566",
        "Ильдар Хакимов",
        "resident",
    )


def test_post_by_address_id(client: TestClient[Any], world: World) -> None:
    response = post_request(client, "json", address_id=str(world.buildings["sovet7"]))
    assert response.status_code == 201
    [created] = response.json()
    [stored] = run_async(_rows, world, Request, Request.id == created["service_request_id"])
    assert stored.organisation_id == world.orgs["uk2"]
    assert stored.description == "Протечка трубы"  # no description: the service's name


def test_post_by_coordinates_takes_the_nearest_building(
    client: TestClient[Any], world: World
) -> None:
    response = post_request(client, "xml", lat="55.30495", long="52.01995")
    assert response.status_code == 201, response.text
    [created] = parse(response, "xml")
    [stored] = run_async(_rows, world, Request, Request.id == int(created["service_request_id"]))
    assert stored.building_id == world.buildings["mira3"]
    assert (stored.latitude, stored.longitude) == (55.30495, 52.01995)


def test_post_without_phone_files_for_the_clients_anonymous_resident(
    client: TestClient[Any], world: World
) -> None:
    first = post_request(client, "json", address_string="Ленина 12").json()[0]
    second = post_request(client, "json", address_string="Мира 3").json()[0]
    stored = run_async(
        _rows,
        world,
        Request,
        Request.id.in_([first["service_request_id"], second["service_request_id"]]),
    )
    assert len({r.resident_id for r in stored}) == 1
    [resident] = run_async(_rows, world, User, User.id == stored[0].resident_id)
    assert resident.password_hash is None and resident.phone is None


def test_post_to_our_jurisdiction_is_accepted(client: TestClient[Any]) -> None:
    response = post_request(
        client, "json", address_string="Ленина 12", jurisdiction_id="testserver.local"
    )
    assert response.status_code == 201


POST_ERRORS = [
    pytest.param({"api_key": None}, 403, "api_key", id="missing-api-key"),
    pytest.param({"api_key": "wrong"}, 403, "api_key", id="invalid-api-key"),
    pytest.param({"api_key": "json-api-key"}, 403, "api_key", id="key-of-the-json-api"),
    pytest.param({"api_key": "revoked-key"}, 403, "api_key", id="revoked-key"),
    pytest.param({"service_code": None}, 400, "service_code", id="missing-service-code"),
    pytest.param({"service_code": "potholes"}, 404, "potholes", id="unknown-service-code"),
    pytest.param({"address_string": None}, 400, "address_string", id="no-location"),
    pytest.param({"address_string": "Пушкина 99"}, 400, "Пушкина 99", id="unknown-address"),
    pytest.param({"address_string": None, "address_id": "9999"}, 400, "9999", id="unknown-id"),
    pytest.param({"address_string": None, "address_id": "x"}, 400, "address_id", id="bad-id"),
    pytest.param({"address_string": None, "lat": "55.3"}, 400, "long", id="lat-without-long"),
    pytest.param(
        {"address_string": None, "lat": "north", "long": "52"}, 400, "lat", id="lat-not-number"
    ),
    pytest.param(
        {"address_string": None, "lat": "95", "long": "52"}, 400, "lat", id="lat-out-of-range"
    ),
    pytest.param(
        {"address_string": None, "lat": "55.75", "long": "37.61"}, 400, "55.75", id="far-away"
    ),
    pytest.param({"phone": "12"}, 400, "phone", id="bad-phone"),
    pytest.param({"jurisdiction_id": "kazan.ru"}, 404, "kazan.ru", id="other-jurisdiction"),
]


@pytest.mark.parametrize(("fields", "status", "fragment"), POST_ERRORS)
def test_post_errors_as_the_specification_says(
    client: TestClient[Any],
    world: World,
    fields: dict[str, str | None],
    status: int,
    fragment: str,
) -> None:
    base: dict[str, str | None] = {"address_string": "Ленина 12", **fields}
    for fmt in FORMATS:
        response = post_request(client, fmt, **base)  # type: ignore[arg-type]
        assert_error(response, fmt, status, fragment)
    assert run_async(_rows, world, Request, Request.source == "open311") == []


def test_post_in_an_unknown_format_is_a_bad_request(client: TestClient[Any]) -> None:
    response = client.post(
        "/open311/v2/requests.csv", data={"api_key": KEY, "service_code": "leak"}
    )
    assert_error(response, "xml", 400, "csv")


# --- GET requests ---------------------------------------------------------------------------


def get_requests(client: TestClient[Any], fmt: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"/open311/v2/requests.{fmt}", params=params)
    assert response.status_code == 200, response.text
    return parse(response, fmt)  # type: ignore[no-any-return]


def ids(found: list[dict[str, Any]]) -> set[int]:
    return {int(r["service_request_id"]) for r in found}


def keys(history: History, *names: str) -> set[int]:
    return {history.ids[n] for n in names}


COHORT = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R11", "R13")


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_between_dates(client: TestClient[Any], history: History, fmt: str) -> None:
    found = get_requests(client, fmt, **MARCH)
    # R11 was filed at the first second of the range; R10 just before it, R12 just after.
    assert ids(found) == keys(history, *COHORT)
    same_in_utc = get_requests(
        client, fmt, start_date="2026-02-28T21:00:00Z", end_date="2026-03-19T20:59:59Z"
    )
    assert ids(same_in_utc) == ids(found)
    by_days = get_requests(client, fmt, start_date="2026-03-01", end_date="2026-03-19")
    assert ids(by_days) == ids(found)


def test_requests_default_to_the_last_90_days(client: TestClient[Any], history: History) -> None:
    filed = post_request(client, "json", address_string="Ленина 12").json()[0]
    found = get_requests(client, "json")
    assert ids(found) == {filed["service_request_id"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_by_service_code(client: TestClient[Any], history: History, fmt: str) -> None:
    found = get_requests(client, fmt, service_code="leak,window", **MARCH)
    assert ids(found) == keys(history, "R1", "R2", "R3", "R13")
    assert get_requests(client, fmt, service_code="potholes", **MARCH) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_by_status(client: TestClient[Any], history: History, fmt: str) -> None:
    closed = get_requests(client, fmt, status="closed", **MARCH)
    # Closed, declined and cancelled requests are all «closed» for Open311.
    assert ids(closed) == keys(history, "R1", "R2", "R3", "R7", "R9", "R13")
    open_ = get_requests(client, fmt, status="open", **MARCH)
    assert ids(open_) == keys(history, "R4", "R5", "R6", "R8", "R11")
    both = get_requests(client, fmt, status="open,closed", **MARCH)
    assert ids(both) == keys(history, *COHORT)


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_ids_override_every_other_argument(
    client: TestClient[Any], history: History, fmt: str
) -> None:
    wanted = f"{history.ids['R1']},{history.ids['R14']}"
    found = get_requests(
        client, fmt, service_request_id=wanted, status="open", service_code="lift", **MARCH
    )
    assert ids(found) == keys(history, "R1", "R14")


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_fields_map_our_states(
    client: TestClient[Any], world: World, history: History, fmt: str
) -> None:
    found = {
        int(r["service_request_id"]): r
        for r in get_requests(client, fmt, service_request_id=",".join(
            str(history.ids[k]) for k in ("R1", "R4", "R7", "R8")
        ))
    }  # fmt: skip
    r1 = found[history.ids["R1"]]
    assert r1["status"] == "closed"
    assert r1["status_notes"] == "Закрыта"
    assert r1["service_code"] == "leak" and r1["service_name"] == "Протечка трубы"
    assert r1["agency_responsible"] == "ООО «УК Заинск-Сервис»"
    assert r1["requested_datetime"] == "2026-03-02T12:00:00+03:00"
    assert r1["expected_datetime"] == "2026-03-02T14:00:00+03:00"
    assert r1["updated_datetime"] == "2026-03-02T14:00:00+03:00"  # closed: when it was closed
    assert r1["address"] == "улица Ленина, 12, Заинск"
    assert text(r1["address_id"]) == str(world.buildings["lenina12"])
    assert text(r1["lat"]) == "55.299" and text(r1["long"]) == "52.008"
    assert text(r1["media_url"]) == ""
    r4 = found[history.ids["R4"]]
    assert r4["status"] == "open" and "Срок выполнения истёк" in r4["status_notes"]
    assert found[history.ids["R7"]]["status"] == "closed"  # declined
    r8 = found[history.ids["R8"]]
    assert r8["status"] == "open" and "Ожидает подтверждения жителем" in r8["status_notes"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_descriptions_only_for_key_holders_and_never_personal_data(
    client: TestClient[Any], history: History, fmt: str
) -> None:
    public = client.get(f"/open311/v2/requests.{fmt}", params=MARCH)
    assert all(text(r["description"]) == "" for r in parse(public, fmt))
    for personal in ("Тест resident", "+79170000001", "Описание заявки"):
        assert personal not in public.text
    keyed = get_requests(client, fmt, api_key=KEY, **MARCH)
    assert all(r["description"].startswith("Описание заявки") for r in keyed)


GET_ERRORS = [
    pytest.param({"status": "pending"}, 400, "status", id="unknown-status"),
    pytest.param({"start_date": "вчера"}, 400, "start_date", id="bad-start-date"),
    pytest.param({"end_date": "2026-13-45"}, 400, "end_date", id="bad-end-date"),
    pytest.param(
        {"start_date": "2026-03-10", "end_date": "2026-03-01"}, 400, "start_date", id="reversed"
    ),
    pytest.param(
        {"start_date": "2026-01-01", "end_date": "2026-06-01"}, 400, "90", id="longer-than-90-days"
    ),
    pytest.param({"service_request_id": "1,abc"}, 400, "service_request_id", id="bad-ids"),
    pytest.param({"jurisdiction_id": "kazan.ru"}, 404, "kazan.ru", id="other-jurisdiction"),
]


@pytest.mark.parametrize(("params", "status", "fragment"), GET_ERRORS)
def test_get_requests_errors(
    client: TestClient[Any], params: dict[str, str], status: int, fragment: str
) -> None:
    for fmt in FORMATS:
        response = client.get(f"/open311/v2/requests.{fmt}", params=params)
        assert_error(response, fmt, status, fragment)


# --- GET one request, tokens, unknown URLs --------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request(client: TestClient[Any], history: History, fmt: str) -> None:
    response = client.get(f"/open311/v2/requests/{history.ids['R2']}.{fmt}")
    assert response.status_code == 200
    [found] = parse(response, fmt)
    assert int(found["service_request_id"]) == history.ids["R2"]
    assert found["status"] == "closed"
    keyed = client.get(f"/open311/v2/requests/{history.ids['R2']}.{fmt}", params={"api_key": KEY})
    assert parse(keyed, fmt)[0]["description"] == "Описание заявки R2, подъезд 2"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["999999", "abc"])
def test_one_unknown_request_is_not_found(client: TestClient[Any], fmt: str, name: str) -> None:
    assert_error(client.get(f"/open311/v2/requests/{name}.{fmt}"), fmt, 404, name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_is_the_request_number(client: TestClient[Any], history: History, fmt: str) -> None:
    response = client.get(f"/open311/v2/tokens/2026-000002.{fmt}")
    assert response.status_code == 200
    [found] = parse(response, fmt)
    assert int(found["service_request_id"]) == history.ids["R2"]
    assert text(found["token"]) == "2026-000002"
    assert_error(client.get(f"/open311/v2/tokens/2026-999999.{fmt}"), fmt, 404, "2026-999999")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_urls_answer_in_the_error_format(client: TestClient[Any], fmt: str) -> None:
    assert_error(client.get(f"/open311/v2/potholes.{fmt}"), fmt, 404)
    assert_error(client.get(f"/open311/v2/requests/1/notes.{fmt}"), fmt, 404)
    assert_error(client.get(f"/open311/v3/services.{fmt}"), fmt, 404)


def test_unsupported_format_is_a_bad_request_in_xml(client: TestClient[Any]) -> None:
    assert_error(client.get("/open311/v2/services.html"), "xml", 400, "html")
    assert_error(client.get("/open311/v2/services"), "xml", 400, ".json")

"""The JSON API for integrators: tokens, what each token may see, filing, timelines, webhooks."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from server.app import create_app
from server.db.models import OutboxMessage, Request, User, Webhook
from server.db.session import Database
from server.integrations import tokens as api_tokens
from server.live.bus import EventBus
from server.notify import webhooks
from server.requests.actions import ActionInput, perform
from server.requests.workflow import Action
from server.shared.roles import Actor, Role
from server.shared.services import Services
from tests.conftest import run_async
from tests.world import World

# --- set-up -------------------------------------------------------------------------------


@dataclasses.dataclass
class Tokens:
    uk1: str
    uk2: str
    town: str
    contractor: str
    open311: str
    revoked: str


async def _issue(world: World) -> Tokens:
    db = Database(world.settings.database_url)
    try:
        made = {}
        for key, kind, org in (
            ("uk1", "api", "uk1"),
            ("uk2", "api", "uk2"),
            ("town", "api", None),
            ("contractor", "api", "c1"),
            ("open311", "open311", None),
            ("revoked", "api", "uk1"),
        ):
            token, plain = await api_tokens.issue(
                db, name=f"Интеграция {key}", kind=kind, organisation_id=world.orgs.get(org or "")
            )
            made[key] = plain
            if key == "revoked":
                await api_tokens.revoke(db, token.id)
        return Tokens(**made)
    finally:
        await db.dispose()


@pytest.fixture
def tokens(world: World) -> Tokens:
    return run_async(_issue, world)


@pytest.fixture
def client(world: World, tokens: Tokens) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(world.settings)) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def file(client: TestClient[Any], token: str, **fields: Any) -> Any:
    body = {
        "category": "leak",
        "description": "Течёт труба в подвале",
        "phone": "+7 917 111-22-33",
        "building_id": None,
        "address": "улица Ленина, 12",
        **fields,
    }
    return client.post("/api/v1/requests", json=body, headers=auth(token))


async def _with_services(world: World, fn: Any) -> Any:
    db = Database(world.settings.database_url)
    try:
        svc = Services(settings=world.settings, db=db, bus=EventBus())
        svc.outbox_writers.append(webhooks.write_messages)
        return await fn(svc)
    finally:
        await db.dispose()


def assign(world: World, request_id: int) -> None:
    """The uk1 dispatcher assigns contractor c1, as on the board, to the request as it is."""
    dispatcher = Actor(world.users["dispatcher"], Role.DISPATCHER, world.orgs["uk1"])

    async def go(svc: Services) -> None:
        async with svc.db.read() as session:
            request = await session.get(Request, request_id)
        assert request is not None
        data = ActionInput(expected_version=request.version, contractor_id=world.orgs["c1"])
        await perform(svc, dispatcher, request_id, Action.ASSIGN, data)

    run_async(_with_services, world, go)


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "token"],
    ids=["none", "empty", "unknown", "basic", "no-scheme"],
)
def test_calls_without_a_valid_token_are_refused(
    client: TestClient[Any], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/requests", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "unauthorized"


def test_revoked_and_open311_keys_do_not_open_the_api(
    client: TestClient[Any], tokens: Tokens
) -> None:
    for token in (tokens.revoked, tokens.open311):
        assert client.get("/api/v1/requests", headers=auth(token)).status_code == 401


def test_tokens_are_stored_only_as_hashes(world: World, tokens: Tokens) -> None:
    async def stored(svc: Services) -> list[str]:
        from server.db.models import ApiToken

        async with svc.db.read() as session:
            return list(await session.scalars(select(ApiToken.token_hash)))

    hashes = run_async(_with_services, world, stored)
    assert hashlib.sha256(tokens.uk1.encode()).hexdigest() in hashes
    assert tokens.uk1 not in hashes


# --- filing -------------------------------------------------------------------------------


def test_filing_creates_the_request_and_its_resident(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    response = file(client, tokens.uk1, name="Алсу Гарипова", flat="7")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["number"].startswith("20") and body["state"] == "new"
    assert body["source"] == "api"
    assert body["organisation"]["id"] == world.orgs["uk1"]
    assert body["building"]["id"] == world.buildings["lenina12"]
    assert body["category"]["code"] == "leak"
    assert body["resident"] == {"name": "Алсу Гарипова", "phone": "+79171112233"}
    assert body["due_at"] and body["overdue"] is False
    # The same phone again: the same resident, a second request.
    again = file(client, tokens.uk1, description="Опять течёт, уже сильнее").json()
    assert again["id"] != body["id"]

    async def residents(svc: Services) -> list[User]:
        async with svc.db.read() as session:
            return list(await session.scalars(select(User).where(User.phone == "+79171112233")))

    [resident] = run_async(_with_services, world, residents)
    assert resident.role == "resident" and resident.password_hash is None


def test_same_idempotency_key_files_once(client: TestClient[Any], tokens: Tokens) -> None:
    first = file(client, tokens.uk1, idempotency_key="crm-42")
    second = client.post(
        "/api/v1/requests",
        json={
            "category": "leak",
            "description": "Течёт труба в подвале",
            "phone": "+79171112233",
            "building_id": None,
            "address": "Ленина 12",
        },
        headers={**auth(tokens.uk1), "Idempotency-Key": "crm-42"},
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    # Another integration's key of the same text is its own.
    assert file(client, tokens.uk2, idempotency_key="crm-42").status_code == 201


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": "potholes"}, "category"),
        ({"phone": "12345"}, "phone"),
        ({"address": "улица Пушкина, 99"}, "address"),
        ({"address": None}, "building_id"),
        ({"description": "ой"}, "description"),
    ],
    ids=["unknown-category", "bad-phone", "unknown-address", "no-address", "short-description"],
)
def test_filing_errors_name_the_field(
    client: TestClient[Any], tokens: Tokens, fields: dict[str, Any], field: str
) -> None:
    response = file(client, tokens.uk1, **fields)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_filing_by_building_id(client: TestClient[Any], world: World, tokens: Tokens) -> None:
    response = file(client, tokens.town, address=None, building_id=world.buildings["sovet7"])
    assert response.status_code == 201
    assert response.json()["organisation"]["id"] == world.orgs["uk2"]


def test_categories_list_codes_to_file_with(client: TestClient[Any], tokens: Tokens) -> None:
    codes = [c["code"] for c in client.get("/api/v1/categories", headers=auth(tokens.uk2)).json()]
    assert codes == ["leak", "lift", "window", "water", "other"]


# --- reading: organisation scope ----------------------------------------------------------


def test_organisation_token_sees_only_its_organisations_requests(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    ours = file(client, tokens.town).json()  # routed to uk1
    theirs = file(client, tokens.town, address="улица Советская, 7").json()  # routed to uk2
    uk1 = client.get("/api/v1/requests", headers=auth(tokens.uk1)).json()
    assert [r["id"] for r in uk1["items"]] == [ours["id"]] and uk1["total"] == 1
    uk2 = client.get("/api/v1/requests", headers=auth(tokens.uk2)).json()
    assert [r["id"] for r in uk2["items"]] == [theirs["id"]]
    # Another organisation's request does not exist for this token.
    refused = client.get(f"/api/v1/requests/{ours['id']}", headers=auth(tokens.uk2))
    assert refused.status_code == 404
    assert "Течёт" not in refused.text
    # Asking for the other organisation by filter changes nothing.
    sneaky = client.get(
        f"/api/v1/requests?organisation_id={world.orgs['uk1']}", headers=auth(tokens.uk2)
    ).json()
    assert sneaky["items"] == [] and sneaky["total"] == 0
    town = client.get("/api/v1/requests", headers=auth(tokens.town)).json()
    assert {r["id"] for r in town["items"]} == {ours["id"], theirs["id"]}


def test_contractor_token_sees_only_its_work_orders(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    assigned = file(client, tokens.town).json()
    waiting = file(client, tokens.town, description="Вторая протечка, другой стояк").json()
    assign(world, assigned["id"])
    found = client.get("/api/v1/requests", headers=auth(tokens.contractor)).json()
    assert [r["id"] for r in found["items"]] == [assigned["id"]]
    waiting_url = f"/api/v1/requests/{waiting['id']}"
    assert client.get(waiting_url, headers=auth(tokens.contractor)).status_code == 404


def test_read_returns_the_timeline_without_peoples_names(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()
    assign(world, filed["id"])
    body = client.get(f"/api/v1/requests/{filed['id']}", headers=auth(tokens.uk1)).json()
    assert body["state"] == "assigned"
    assert body["contractor"]["id"] == world.orgs["c1"]
    kinds = [(e["kind"], e["to_state"]) for e in body["timeline"]]
    assert kinds == [("file", "new"), ("assign", "assigned")]
    assign_entry = body["timeline"][1]
    assert assign_entry["label"] == "Назначен подрядчик"
    assert assign_entry["actor_role"] == "dispatcher"
    assert assign_entry["actor_organisation"] == "ООО «УК Заинск-Сервис»"
    assert "Тест dispatcher" not in json.dumps(body, ensure_ascii=False)


def test_list_filters_and_pages(client: TestClient[Any], world: World, tokens: Tokens) -> None:
    made = [file(client, tokens.uk1, description=f"Протечка номер {n}").json() for n in range(5)]
    window = file(client, tokens.uk1, category="window").json()
    assign(world, made[0]["id"])
    h = auth(tokens.uk1)
    assert client.get("/api/v1/requests?state=assigned", headers=h).json()["total"] == 1
    assert (
        client.get("/api/v1/requests?category=window", headers=h).json()["items"][0]["id"]
        == window["id"]
    )
    page1 = client.get("/api/v1/requests?per_page=4", headers=h).json()
    page2 = client.get("/api/v1/requests?per_page=4&page=2", headers=h).json()
    assert (page1["total"], page1["next_page"], page2["next_page"]) == (6, 2, None)
    assert len(page1["items"]) == 4 and len(page2["items"]) == 2
    seen = [r["id"] for r in page1["items"] + page2["items"]]
    assert sorted(seen, reverse=True) == seen and len(set(seen)) == 6
    future = client.get("/api/v1/requests?updated_since=2100-01-01T00:00:00Z", headers=h)
    assert future.json()["total"] == 0
    assert client.get("/api/v1/requests?state=nonsense", headers=h).status_code == 422
    assert client.get("/api/v1/requests?per_page=1000", headers=h).status_code == 400


# --- webhooks -----------------------------------------------------------------------------


class Receiver:
    """An integrator's HTTP endpoint on 127.0.0.1 that records what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    receiver.paths.append(self.path)
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as receiver:
        yield receiver


@pytest.fixture
def quiet_client(world: World, tokens: Tokens) -> Iterator[TestClient[Any]]:
    """The app without its own outbox worker: the test delivers, step by step."""
    settings = dataclasses.replace(world.settings, push_worker_in_process=False)
    with TestClient(create_app(settings)) as client:
        yield client


def deliver(world: World) -> int:
    return run_async(_with_services, world, webhooks.deliver_pending)  # type: ignore[no-any-return]


def subscribe(client: TestClient[Any], token: str, url: str) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks", json={"url": url}, headers=auth(token))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_webhook_delivers_signed_changes_the_token_may_see(
    quiet_client: TestClient[Any], world: World, tokens: Tokens, receiver: Receiver
) -> None:
    hook = subscribe(quiet_client, tokens.uk1, receiver.url)
    assert hook["secret"] and hook["active"] is True
    other = subscribe(quiet_client, tokens.uk2, receiver.url + "/uk2")
    mine = file(quiet_client, tokens.uk1).json()
    assign(world, mine["id"])
    file(quiet_client, tokens.town, address="улица Советская, 7")  # uk2's: only uk2 is told
    deliver(world)
    receiver.wait_for(3)
    by_hook: dict[str, list[dict[str, Any]]] = {"/hook": [], "/hook/uk2": []}
    for path, (headers, body) in zip(receiver.paths, receiver.received, strict=True):
        secret = hook["secret"] if path == "/hook" else other["secret"]
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-zayavka-signature"] == f"sha256={expected}"
        payload = json.loads(body)
        assert headers["x-zayavka-event"] == payload["event"]
        by_hook[path].append(payload)
    mine_events = [(p["event"], p["state"], p["entry_kind"]) for p in by_hook["/hook"]]
    assert mine_events == [
        ("request.filed", "new", "file"),
        ("request.changed", "assigned", "assign"),
    ]
    assert {p["request_id"] for p in by_hook["/hook"]} == {mine["id"]}
    [theirs] = by_hook["/hook/uk2"]
    assert theirs["event"] == "request.filed" and theirs["request_id"] != mine["id"]
    assert deliver(world) == 0  # nothing is sent twice


def test_failed_delivery_is_retried_with_backoff(
    quiet_client: TestClient[Any], world: World, tokens: Tokens, receiver: Receiver
) -> None:
    subscribe(quiet_client, tokens.uk1, receiver.url)
    receiver.statuses = [503]
    file(quiet_client, tokens.uk1)
    assert deliver(world) == 0
    receiver.wait_for(1)

    async def outbox(svc: Services) -> list[OutboxMessage]:
        async with svc.db.read() as session:
            return list(await session.scalars(select(OutboxMessage)))

    [message] = run_async(_with_services, world, outbox)
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "HTTP 503")
    assert deliver(world) == 0  # not due yet: it waits out the backoff

    async def make_due(svc: Services) -> None:
        async with svc.db.begin() as session:
            await session.execute(update(OutboxMessage).values(next_attempt_at=message.created_at))

    run_async(_with_services, world, make_due)
    assert deliver(world) == 1
    receiver.wait_for(2)
    [message] = run_async(_with_services, world, outbox)
    assert (message.status, message.attempts) == ("sent", 2)


def test_receiver_that_answers_gone_is_unsubscribed(
    quiet_client: TestClient[Any], world: World, tokens: Tokens, receiver: Receiver
) -> None:
    hook = subscribe(quiet_client, tokens.uk1, receiver.url)
    receiver.statuses = [410]
    file(quiet_client, tokens.uk1)
    deliver(world)
    listed = quiet_client.get("/api/v1/webhooks", headers=auth(tokens.uk1)).json()
    assert listed == [
        {"id": hook["id"], "url": receiver.url, "active": False, "created_at": hook["created_at"],
         "secret": None}
    ]  # fmt: skip
    file(quiet_client, tokens.uk1)
    deliver(world)
    assert len(receiver.received) == 1


def test_webhooks_are_managed_per_token(
    client: TestClient[Any], world: World, tokens: Tokens, receiver: Receiver
) -> None:
    hook = subscribe(client, tokens.uk1, receiver.url)
    assert client.get("/api/v1/webhooks", headers=auth(tokens.uk2)).json() == []
    assert (
        client.delete(f"/api/v1/webhooks/{hook['id']}", headers=auth(tokens.uk2)).status_code == 404
    )
    assert (
        client.delete(f"/api/v1/webhooks/{hook['id']}", headers=auth(tokens.uk1)).status_code == 204
    )
    bad = client.post("/api/v1/webhooks", json={"url": "ftp://example"}, headers=auth(tokens.uk1))
    assert bad.status_code == 422 and "url" in bad.json()["errors"]

    async def hooks(svc: Services) -> list[Webhook]:
        async with svc.db.read() as session:
            return list(await session.scalars(select(Webhook)))

    assert run_async(_with_services, world, hooks) == []


def test_running_app_delivers_webhooks_by_itself(
    world: World, tokens: Tokens, receiver: Receiver
) -> None:
    with TestClient(create_app(world.settings)) as client:
        subscribe(client, tokens.town, receiver.url)
        filed = file(client, tokens.town).json()
        receiver.wait_for(1)
    payload = json.loads(receiver.received[0][1])
    assert payload["request_id"] == filed["id"] and payload["number"] == filed["number"]


# --- documentation ------------------------------------------------------------------------


def test_openapi_schema_documents_the_api(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for path, method in (
        ("/api/v1/requests", "get"),
        ("/api/v1/requests", "post"),
        ("/api/v1/requests/{request_id}", "get"),
        ("/api/v1/categories", "get"),
        ("/api/v1/webhooks", "post"),
        ("/api/v1/webhooks/{webhook_id}", "delete"),
    ):
        operation = paths[path][method]
        assert operation["summary"] and operation["description"], (path, method)
        assert operation["security"] == [{"BearerToken": []}]
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert "RequestOut" in schema["components"]["schemas"]
    # No HTML viewer that would load scripts from a CDN.
    root = client.get("/schema")
    assert "cdn" not in root.text.lower()


def test_requests_filed_through_the_api_are_the_same_requests_staff_see(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()

    async def stored(svc: Services) -> Request | None:
        async with svc.db.read() as session:
            return await session.get(Request, filed["id"])

    request = run_async(_with_services, world, stored)
    assert request is not None and request.source == "api"
    assert request.organisation_id == world.orgs["uk1"]


def test_production_refuses_webhooks_into_the_private_network(world: World, tokens: Tokens) -> None:
    settings = dataclasses.replace(world.settings, production=True)
    with TestClient(create_app(settings)) as client:
        for url in (
            "http://127.0.0.1:9/hook",
            "https://10.0.0.5/hook",
            "https://localhost/x",
            "http://hooks.example.org/x",
        ):
            refused = client.post("/api/v1/webhooks", json={"url": url}, headers=auth(tokens.uk1))
            assert refused.status_code == 422, url
            assert "публичный адрес" in refused.json()["errors"]["url"]
        accepted = client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.org/x"},
            headers=auth(tokens.uk1),
        )
        assert accepted.status_code == 201

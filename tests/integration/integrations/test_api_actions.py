"""Workflow actions through the JSON API: the version the client last read is required, a stale
one is refused, only the token's own organisation may act, and every error has one body."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from litestar.testing import TestClient
from sqlalchemy import select

from server.db.models import TimelineEntry
from server.db.session import Database
from tests.conftest import run_async
from tests.integration.integrations.test_api import Tokens, auth, client, file, tokens
from tests.server_process import running_server
from tests.world import World

__all__ = ["client", "tokens"]  # fixtures shared with test_api


def act(client: Any, token: str, request_id: int, action: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/requests/{request_id}/actions/{action}", json=body, headers=auth(token)
    )


def read(client: TestClient[Any], token: str, request_id: int) -> Any:
    response = client.get(f"/api/v1/requests/{request_id}", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def assert_error_body(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The one documented error body: a message, a code, and the fields it is about."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body["errors"]) == set(fields), body
    assert all(isinstance(m, str) and m for m in body["errors"].values())
    return body


async def _entries(world: World, request_id: int, kind: str) -> int:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            found = await session.scalars(
                select(TimelineEntry).where(
                    TimelineEntry.request_id == request_id, TimelineEntry.kind == kind
                )
            )
            return len(list(found))
    finally:
        await db.dispose()


def test_assign_through_the_api_moves_the_request_and_answers_it(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()
    response = act(
        client, tokens.uk1, filed["id"], "assign",
        version=filed["version"], contractor_id=world.orgs["c1"],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    answered = response.json()
    assert answered["state"] == "assigned"
    assert answered["contractor"]["name"] == "ООО «Сантехмонтаж»"
    assert answered["version"] > filed["version"]
    assert [e["kind"] for e in answered["timeline"]][-1] == "assign"


def test_marking_a_duplicate_through_the_api_names_the_original_or_the_field(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    original = file(client, tokens.uk1).json()
    duplicate = file(client, tokens.uk1).json()
    refused = act(
        client, tokens.uk1, duplicate["id"], "mark_duplicate",
        version=duplicate["version"], original_number=duplicate["number"],
    )  # fmt: skip
    body = assert_error_body(refused, 422, "original_number")
    assert body["errors"]["original_number"] == "Заявка не может быть дубликатом самой себя."
    response = act(
        client, tokens.uk1, duplicate["id"], "mark_duplicate",
        version=duplicate["version"], original_number=original["number"],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "duplicate"
    # Another organisation's token does not reach it at all.
    other = act(
        client, tokens.uk2, original["id"], "mark_duplicate",
        version=original["version"], original_number=duplicate["number"],
    )  # fmt: skip
    assert other.status_code == 404


def test_an_action_without_version_is_refused_naming_the_field(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()
    response = act(client, tokens.uk1, filed["id"], "assign", contractor_id=world.orgs["c1"])
    body = assert_error_body(response, 422, "version")
    assert body["code"] == "invalid"
    assert body["errors"]["version"] == "Заполните это поле."
    assert read(client, tokens.uk1, filed["id"])["state"] == "new"
    assert run_async(_entries, world, filed["id"], "assign") == 0


def test_a_stale_version_is_a_conflict_and_changes_nothing(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()
    seen = filed["version"]
    first = act(
        client, tokens.uk1, filed["id"], "assign", version=seen, contractor_id=world.orgs["c1"]
    )
    assert first.status_code == 200
    late = act(
        client, tokens.uk1, filed["id"], "assign", version=seen, contractor_id=world.orgs["c2"]
    )
    body = assert_error_body(late, 409)
    assert body["code"] == "stale"
    assert "уже изменена" in body["detail"]
    now = read(client, tokens.uk1, filed["id"])
    assert now["contractor"]["name"] == "ООО «Сантехмонтаж»"  # the first choice stands
    assert run_async(_entries, world, filed["id"], "assign") == 1


def test_bad_action_bodies_name_each_field(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()
    version = filed["version"]
    nul = act(client, tokens.uk1, filed["id"], "comment", version=version, reason="a\x00b")
    body = assert_error_body(nul, 422, "reason")
    assert body["errors"]["reason"] == "Текст содержит недопустимые символы."
    huge = act(client, tokens.uk1, filed["id"], "assign", version=version, contractor_id=2**31)
    assert_error_body(huge, 422, "contractor_id")
    assert_error_body(act(client, tokens.uk1, filed["id"], "comment", version=-1), 422, "version")
    missing_reason = act(client, tokens.uk1, filed["id"], "decline", version=filed["version"])
    assert_error_body(missing_reason, 422, "reason")
    unknown = act(client, tokens.uk1, filed["id"], "explode", version=filed["version"])
    assert_error_body(unknown, 400, "action")


def test_other_organisations_tokens_cannot_act(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()
    body = {"version": filed["version"], "contractor_id": world.orgs["c1"]}
    # Another УК does not even see the request; the contractor holds no work order of it yet.
    for token in (tokens.uk2, tokens.contractor):
        assert_error_body(act(client, token, filed["id"], "assign", **body), 404)
    assert_error_body(act(client, tokens.revoked, filed["id"], "assign", **body), 401)
    assert read(client, tokens.uk1, filed["id"])["state"] == "new"
    assigned = act(client, tokens.uk1, filed["id"], "assign", **body).json()
    # The contractor now sees the job, but choosing contractors is the УК's.
    again = {**body, "version": assigned["version"]}
    assert_error_body(act(client, tokens.contractor, filed["id"], "assign", **again), 403)
    started = act(client, tokens.contractor, filed["id"], "start", version=assigned["version"])
    assert started.status_code == 200 and started.json()["state"] == "in_progress"


def test_ten_concurrent_assigns_with_one_version_one_succeeds(
    client: TestClient[Any], world: World, tokens: Tokens
) -> None:
    filed = file(client, tokens.uk1).json()
    body = {"version": filed["version"], "contractor_id": world.orgs["c1"]}
    with running_server(world.settings) as base:
        url = f"{base}/api/v1/requests/{filed['id']}/actions/assign"

        def assign(_: int) -> int:
            return httpx.post(url, json=body, headers=auth(tokens.uk1), timeout=30).status_code

        with ThreadPoolExecutor(10) as pool:
            statuses = sorted(pool.map(assign, range(10)))
    assert statuses == [200] + [409] * 9
    assert run_async(_entries, world, filed["id"], "assign") == 1


def test_every_api_error_has_the_documented_body(client: TestClient[Any], tokens: Tokens) -> None:
    key = auth(tokens.uk1)
    assert_error_body(client.get("/api/v1/requests?organisation_id=2204934769", headers=key), 400,
                      "organisation_id")  # fmt: skip
    assert_error_body(client.get("/api/v1/requests?page=0", headers=key), 400, "page")
    assert_error_body(client.get("/api/v1/requests?state=lost", headers=key), 422, "state")
    assert_error_body(client.get("/api/v1/requests/99999999999", headers=key), 404)
    assert_error_body(client.get("/api/v1/requests/5", headers=key), 404)
    assert_error_body(client.get("/api/v1/requests"), 401)
    broken = client.post("/api/v1/requests", content=b"{not json", headers=key)
    assert_error_body(broken, 400)
    assert_error_body(file(client, tokens.uk1, description="Течёт\x00"), 422, "description")
    assert_error_body(file(client, tokens.uk1, flat="1" * 21), 422, "flat")


def test_the_openapi_document_lists_each_endpoints_errors(client: TestClient[Any]) -> None:
    doc = client.get("/schema/openapi.json").json()
    action = doc["paths"]["/api/v1/requests/{request_id}/actions/{action}"]["post"]
    assert set(action["responses"]) == {"200", "400", "401", "403", "404", "409", "422", "503"}
    error = {"$ref": "#/components/schemas/ErrorBody"}
    assert action["responses"]["409"]["content"]["application/json"]["schema"] == error
    assert doc["components"]["schemas"]["ActionIn"]["required"] == ["version"]
    state = doc["components"]["schemas"]["State"]
    assert set(state["enum"]) == {
        "new", "assigned", "in_progress", "done", "verified", "closed", "rework", "declined",
        "cancelled", "duplicate",
    }  # fmt: skip
    body = doc["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"detail", "code", "errors"}
    assert not [path for path in doc["paths"] if not path.startswith(("/api/v1/", "/open311/"))]


def test_webhook_urls_with_control_characters_are_refused(
    client: TestClient[Any], tokens: Tokens
) -> None:
    refused = client.post(
        "/api/v1/webhooks", json={"url": "http://hooks.example.org/\x00x"}, headers=auth(tokens.uk1)
    )
    assert_error_body(refused, 422, "url")
    listed = client.get("/api/v1/webhooks", headers=auth(tokens.uk1))
    assert listed.json() == []

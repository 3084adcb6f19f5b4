"""schemathesis over the whole OpenAPI document, against a real server with valid keys: no
server errors, and every answer matches what the document promises (status, content type,
body and headers).

Bounded and seeded (`derandomize`), so a run takes the same cases every time. `make test` runs
it on SQLite and on PostgreSQL; it fails rather than skips when schemathesis or the server is
not there."""

from __future__ import annotations

import io
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.db.session import Database
from server.integrations import tokens
from server.settings import Settings
from tests.conftest import run_async
from tests.server_process import running_server
from tests.world import World

EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


async def _keys(world: World) -> dict[str, str]:
    db = Database(world.settings.database_url)
    try:
        # An organisation's key, so that actions reach the rules rather than stop at «no role».
        _, api = await tokens.issue(
            db, name="schemathesis", kind="api", organisation_id=world.orgs["uk1"]
        )
        _, open311 = await tokens.issue(db, name="schemathesis 311", kind="open311")
    finally:
        await db.dispose()
    return {"api": api, "open311": open311}


def _probe(operation: Any, base: str, keys: dict[str, str]) -> str | None:
    """The first broken promise of one operation over its generated cases, or None."""
    headers = (
        {"Authorization": f"Bearer {keys['api']}"} if operation.path.startswith("/api/") else {}
    )
    found: list[str] = []

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def probe(case: Any) -> None:
        if found:
            return
        if case.method.upper() == "POST" and case.path.startswith("/open311/"):
            if isinstance(case.body, dict):
                case.body = {**case.body, "api_key": keys["open311"]}
        try:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=30)
        except (Exception, BaseExceptionGroup) as exc:  # one error naming every failed check
            found.append(f"{type(exc).__name__}: {exc}"[:3000])

    probe()
    return found[0] if found else None


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "teal").save(out, "JPEG")
    return out.getvalue()


class Known:
    """Cases on real rows, so that full answers (not only refusals) meet the document."""

    def __init__(self, schema: Any, base: str, keys: dict[str, str]) -> None:
        self.schema, self.base, self.keys = schema, base, keys
        self.failures: dict[str, str] = {}
        self.statuses: dict[str, int] = {}

    def __call__(self, method: str, path: str, label: str = "", **case: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys['api']}"} if "/api/" in path else {}
        label = label or f"{method} {path}"
        try:
            response = (
                self.schema[path][method]
                .Case(**case)
                .call_and_validate(base_url=self.base, headers=headers, checks=CHECKS, timeout=30)
            )
        except (Exception, BaseExceptionGroup) as exc:
            self.failures[label] = f"{type(exc).__name__}: {exc}"[:3000]
            return None
        self.statuses[label] = response.status_code
        return response.json() if "json" in response.headers.get("content-type", [""])[0] else None

    def run(self, world: World) -> None:
        filing = {
            "category": "leak",
            "description": "Течёт труба в подвале",
            "phone": "+79171112233",
        }
        made = self("POST", "/api/v1/requests", body={**filing, "address": "улица Ленина, 12"})
        orphan = self(
            "POST",
            "/api/v1/requests",
            "triage",
            body={**filing, "building_id": world.buildings["orphan"]},
        )
        assert made and orphan, self.failures
        one = {"request_id": made["id"]}
        path = "/api/v1/requests/{request_id}/actions/{action}"
        self("POST", path, "no version", path_parameters={**one, "action": "assign"}, body={})
        assign = {"version": made["version"], "contractor_id": world.orgs["c1"]}
        self("POST", path, "assign", path_parameters={**one, "action": "assign"}, body=assign)
        self("POST", path, "stale", path_parameters={**one, "action": "assign"}, body=assign)
        self("GET", "/api/v1/requests/{request_id}", path_parameters=one)
        self("GET", "/api/v1/requests", query={"state": "assigned"})
        hook = self("POST", "/api/v1/webhooks", body={"url": "http://127.0.0.1:9/hook"})
        assert hook, self.failures
        self("DELETE", "/api/v1/webhooks/{webhook_id}", path_parameters={"webhook_id": hook["id"]})
        for fmt in ("json", "xml"):
            for request in (made, orphan):
                named = {"name": f"{request['id']}.{fmt}"}
                self("GET", "/open311/v2/requests/{name}", f"one {fmt}", path_parameters=named)
                self(
                    "GET",
                    "/open311/v2/tokens/{name}",
                    path_parameters={"name": f"{request['number']}.{fmt}"},
                )
            self("GET", f"/open311/v2/requests.{fmt}", query={"api_key": self.keys["open311"]})
            self("GET", "/open311/v2/services/{name}", path_parameters={"name": f"leak.{fmt}"})
            self(
                "POST",
                f"/open311/v2/requests.{fmt}",
                f"file with media {fmt}",
                body={
                    "api_key": self.keys["open311"],
                    "service_code": "leak",
                    "address_string": "Ленина 12",
                    "media": _photo(),
                },
                media_type="multipart/form-data",
            )


def test_the_api_keeps_its_documented_promises(world: World, settings: Settings) -> None:
    keys = run_async(_keys, world)
    with running_server(settings) as base:
        schema = schemathesis.openapi.from_url(base + "/schema/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        paths = {op.path for op in operations}
        assert all(p.startswith(("/api/v1/", "/open311/")) for p in paths), paths
        assert len(operations) >= 20, "the JSON API and each Open311 resource are described"
        known = Known(schema, base, keys)
        known.run(world)
        failures = {op.label: _probe(op, base, keys) for op in operations}
    broken = {**known.failures, **{label: text for label, text in failures.items() if text}}
    assert broken == {}, "\n\n".join(f"{k}\n{v}" for k, v in broken.items())
    # The real rows were answered in full, not refused.
    assert known.statuses["no version"] == 422 and known.statuses["stale"] == 409
    assert known.statuses["assign"] == 200
    assert known.statuses["file with media json"] == 201

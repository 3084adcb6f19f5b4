"""schemathesis over the whole OpenAPI document, against a real server with valid keys: no
server errors, and every answer matches what the document promises."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from server.db.session import Database
from server.integrations import tokens
from server.settings import Settings
from tests.conftest import run_async
from tests.server_process import running_server
from tests.world import World

EXAMPLES_PER_OPERATION = 25


async def _keys(settings: Settings) -> dict[str, str]:
    db = Database(settings.database_url)
    try:
        _, api = await tokens.issue(db, name="schemathesis", kind="api")
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
        if case.path.startswith("/open311/") and case.method.upper() == "POST":
            case.query = {**(case.query or {}), "api_key": keys["open311"]}
        try:
            case.call_and_validate(base_url=base, headers=headers, timeout=30)
        except (Exception, BaseExceptionGroup) as exc:  # one error naming every failed check
            found.append(f"{type(exc).__name__}: {exc}"[:3000])

    probe()
    return found[0] if found else None


def test_the_api_keeps_its_documented_promises(world: World, settings: Settings) -> None:
    keys = run_async(_keys, settings)
    with running_server(settings) as base:
        schema = schemathesis.openapi.from_url(base + "/schema/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 10, "the JSON API and Open311 are described"
        failures = {op.label: _probe(op, base, keys) for op in operations}
    broken = {label: text for label, text in failures.items() if text}
    assert broken == {}, "\n\n".join(f"{k}\n{v}" for k, v in broken.items())

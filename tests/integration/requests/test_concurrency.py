"""Two people changing one request at once, and one person sending the same form twice."""

from __future__ import annotations

import asyncio

from litestar.testing import TestClient
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import Request, TimelineEntry, WorkOrder
from server.db.session import Database
from server.live.bus import EventBus
from server.requests.actions import ActionInput, perform
from server.requests.filing import NewRequest, file_request
from server.requests.workflow import Action
from server.shared.errors import StaleChange
from server.shared.roles import Actor, Role
from server.shared.services import Services
from tests.conftest import run_async
from tests.http import login, people, post, version_of
from tests.world import World


def _services(world: World) -> Services:
    return Services(world.settings, Database(world.settings.database_url), EventBus())


def _file(world: World) -> tuple[int, int]:
    async def go() -> tuple[int, int]:
        svc = _services(world)
        try:
            outcome = await file_request(
                svc,
                Actor(world.users["resident"], Role.RESIDENT),
                NewRequest(world.buildings["lenina12"], world.categories["leak"], "Течёт кран"),
            )
            return outcome.request.id, outcome.request.version
        finally:
            await svc.db.dispose()

    return run_async(go)


def test_second_dispatcher_sees_the_request_was_changed(world: World) -> None:
    request_id, _ = _file(world)
    app = create_app(world.settings)
    with people(app, "dispatcher", "dispatcher_b") as p:
        first, second = p["dispatcher"], p["dispatcher_b"]
        seen_first = version_of(first.get(f"/requests/{request_id}").text)
        seen_second = version_of(second.get(f"/requests/{request_id}").text)
        ok = post(
            first,
            f"/requests/{request_id}/actions/assign",
            {"version": seen_first, "contractor_id": world.orgs["c1"]},
        )
        assert ok.status_code == 303
        late = post(
            second,
            f"/requests/{request_id}/actions/assign",
            {"version": seen_second, "contractor_id": world.orgs["c2"]},
            headers={"HX-Request": "true", "HX-Target": "request"},
        )
        assert late.status_code == 409
        assert "Заявка уже изменена" in late.text
        assert "Сантехмонтаж" in late.text  # the fresh state: the first choice stands
        page = second.get(f"/requests/{request_id}").text
        assert page.count("Назначен подрядчик") == 1


def test_ten_simultaneous_assignments_of_one_version_one_wins(world: World) -> None:
    request_id, version = _file(world)
    dispatchers = [
        Actor(world.users[n], Role.DISPATCHER, world.orgs["uk1"])
        for n in ("dispatcher", "dispatcher_b")
    ]

    async def race() -> list[object]:
        svc = _services(world)
        try:
            return await asyncio.gather(
                *(
                    perform(
                        svc,
                        dispatchers[i % 2],
                        request_id,
                        Action.ASSIGN,
                        ActionInput(
                            expected_version=version,
                            contractor_id=world.orgs["c1" if i % 2 else "c2"],
                        ),
                    )
                    for i in range(10)
                ),
                return_exceptions=True,
            )
        finally:
            await svc.db.dispose()

    results = run_async(race)
    assert sum(not isinstance(r, BaseException) for r in results) == 1, results
    assert sum(isinstance(r, StaleChange) for r in results) == 9, results

    async def recorded() -> tuple[int, int]:
        db = Database(world.settings.database_url)
        try:
            async with db.read() as session:
                entries = await session.scalar(
                    select(func.count())
                    .select_from(TimelineEntry)
                    .where(TimelineEntry.request_id == request_id, TimelineEntry.kind == "assign")
                )
                orders = await session.scalar(
                    select(func.count())
                    .select_from(WorkOrder)
                    .where(WorkOrder.request_id == request_id)
                )
                return int(entries or 0), int(orders or 0)
        finally:
            await db.dispose()

    assert run_async(recorded) == (1, 1), "one assignment on the timeline, one work order"


def test_double_submit_files_one_request(world: World) -> None:
    app = create_app(world.settings)
    form = {
        "building_id": world.buildings["mira3"],
        "category_id": world.categories["other"],
        "description": "Не горит лампа в подъезде",
        "idempotency_key": "same-form-twice",
    }
    with TestClient(app) as client:
        login(client, "resident")
        first = post(client, "/requests/new", form)
        second = post(client, "/requests/new", form)
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]

    async def count() -> int:
        db = Database(world.settings.database_url)
        try:
            async with db.read() as session:
                return int(await session.scalar(select(func.count()).select_from(Request)) or 0)
        finally:
            await db.dispose()

    assert run_async(count) == 1


def test_concurrent_retries_with_one_key_file_one_request(world: World) -> None:
    async def race() -> set[int]:
        svc = _services(world)
        try:
            actor = Actor(world.users["resident"], Role.RESIDENT)
            form = NewRequest(
                world.buildings["mira3"],
                world.categories["other"],
                "Сломан почтовый ящик",
                idempotency_key="retry-key",
            )
            outcomes = await asyncio.gather(*(file_request(svc, actor, form) for _ in range(4)))
            return {o.request.id for o in outcomes}
        finally:
            await svc.db.dispose()

    assert len(run_async(race)) == 1

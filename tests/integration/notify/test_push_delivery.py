"""Push notifications end to end: real requests through the app, the in-process worker, and a
push service on 127.0.0.1 that checks VAPID, headers and decrypts every message."""

from __future__ import annotations

import dataclasses
import io
import re
import time
from typing import Any

from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import OutboxMessage
from server.db.session import Database
from server.notify.push_keys import generate
from server.settings import Settings
from tests.conftest import run_async
from tests.http import people, post, version_of
from tests.push_service import PushService, push_service
from tests.world import World


def push_settings(world: World, **changes: Any) -> Settings:
    keys = generate()
    return dataclasses.replace(
        world.settings,
        vapid_private_key=keys.private_key,
        vapid_public_key=keys.public_key,
        vapid_subject="mailto:dispatch@zainsk.example",
        **changes,
    )


def subscribe(client: TestClient[Any], service: PushService, device: str) -> int:
    browser = service.browser(device)
    response = client.post(
        "/push/subscriptions",
        json=browser.subscription(),
        headers={"x-csrftoken": client.cookies["zayavka_csrf"], "user-agent": "Chrome/130 Android"},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def file_request(client: TestClient[Any], world: World, category: str = "leak") -> int:
    response = post(
        client,
        "/requests/new",
        {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories[category],
            "flat": "5",
            "description": "Течёт труба под раковиной, вода на полу",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[-1])


def act(client: TestClient[Any], request_id: int, action: str, **fields: Any) -> None:
    page = client.get(f"/requests/{request_id}")
    assert page.status_code == 200, page.text
    files = fields.pop("files", None)
    data = {"version": str(version_of(page.text)), **{k: str(v) for k, v in fields.items()}}
    response = post(client, f"/requests/{request_id}/actions/{action}", data, files=files)
    assert response.status_code == 303, (action, response.status_code, response.text[:500])


def photo() -> dict[str, tuple[str, bytes, str]]:
    image = Image.new("RGB", (640, 480), "#8899aa")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return {"photo": ("order.jpg", out.getvalue(), "image/jpeg")}


def number_of(client: TestClient[Any], request_id: int) -> str:
    match = re.search(r"\d{4}-\d{6}", client.get(f"/requests/{request_id}").text)
    assert match
    return match.group(0)


def wait_until_outbox_settled(settings: Settings, timeout: float = 10.0) -> None:
    async def pending() -> int:
        db = Database(settings.database_url)
        try:
            async with db.read() as session:
                return int(
                    await session.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.status.in_(("pending", "sending")))
                    )
                    or 0
                )
        finally:
            await db.dispose()

    deadline = time.monotonic() + timeout
    while run_async(pending) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run_async(pending) == 0


EVERYONE = [
    "resident",
    "resident2",
    "dispatcher",
    "dispatcher2",
    "dispatcher_rso",
    "contractor",
    "contractor2",
    "worker",
    "worker_b",
    "worker2",
]


def test_every_status_change_reaches_exactly_the_people_concerned(world: World) -> None:
    settings = push_settings(world)
    with (
        push_service(settings.vapid_public_key or "") as service,
        people(create_app(settings), *EVERYONE) as clients,
    ):
        for name, client in clients.items():
            subscribe(client, service, name)
        subscribe(clients["resident"], service, "resident-laptop")  # a second device

        rid = file_request(clients["resident"], world)
        number = number_of(clients["resident"], rid)
        act(clients["dispatcher"], rid, "assign", contractor_id=world.orgs["c1"])
        act(clients["contractor"], rid, "assign_worker", worker_id=world.users["worker"])
        act(clients["worker"], rid, "start")
        act(clients["worker"], rid, "complete", files=photo())
        act(clients["dispatcher"], rid, "verify")
        act(clients["resident"], rid, "dispute", reason="Всё ещё капает")
        act(clients["dispatcher"], rid, "comment", reason="Мастер придёт завтра с 9 до 12")
        act(clients["worker"], rid, "complete", files=photo())
        act(clients["dispatcher"], rid, "verify")
        act(clients["resident"], rid, "confirm")

        resident_sees = [
            f"Заявка №{number}: Назначена",
            f"Заявка №{number}: В работе",
            f"Заявка №{number}: Выполнена",
            f"Заявка №{number}: Проверена",
            f"Заявка №{number}: новый комментарий",
            f"Заявка №{number}: Выполнена",
            f"Заявка №{number}: Проверена",
        ]
        service.wait_for(2 * len(resident_sees) + 4)
        wait_until_outbox_settled(settings)
        assert service.problems == []

        assert service.titles("resident") == resident_sees
        assert service.titles("resident-laptop") == resident_sees
        assert service.titles("dispatcher") == [
            f"Новая заявка №{number}",
            f"Заявка №{number} оспорена жителем",
        ]
        assert service.titles("contractor") == [f"Новый заказ-наряд по заявке №{number}"]
        assert service.titles("worker") == [f"Вам поручена заявка №{number}"]
        for stranger in ("resident2", "dispatcher2", "dispatcher_rso", "contractor2"):
            assert service.to(stranger) == [], stranger
        for stranger in ("worker_b", "worker2"):
            assert service.to(stranger) == [], stranger
        assert len(service.delivered) == 2 * len(resident_sees) + 4

        comment = service.to("resident")[4].payload
        assert comment["body"] == "Диспетчер: Мастер придёт завтра с 9 до 12"
        new = service.to("dispatcher")[0].payload
        assert new["body"] == "Авария: Протечка трубы, улица Ленина, 12, кв. 5"
        for delivered in service.delivered:
            # A leak is an emergency: it must wake the phone.
            assert delivered.urgency == "high"
            assert delivered.ttl == 86400
            assert delivered.topic == f"req-{rid}"
            assert delivered.payload["tag"] == f"req-{rid}"
            assert delivered.payload["url"] == f"/requests/{rid}"
            assert delivered.payload["request_id"] == rid
            assert delivered.payload["icon"] == "/static/icons/icon-192.png"
            assert delivered.payload["badge"] == "/static/icons/badge-72.png"
            assert delivered.claims["sub"] == "mailto:dispatch@zainsk.example"


def test_an_ordinary_request_goes_out_with_normal_urgency(world: World) -> None:
    settings = push_settings(world)
    with (
        push_service(settings.vapid_public_key or "") as service,
        people(create_app(settings), "resident", "dispatcher") as clients,
    ):
        subscribe(clients["dispatcher"], service, "dispatcher")
        rid = file_request(clients["resident"], world, category="window")
        service.wait_for(1)
        assert service.problems == []
        [delivered] = service.to("dispatcher")
        assert delivered.urgency == "normal"
        assert delivered.topic == f"req-{rid}"
        assert delivered.payload["body"].startswith("Разбито окно в подъезде")


def test_dispatcher_who_turned_off_new_requests_is_not_told(world: World) -> None:
    settings = push_settings(world)
    with (
        push_service(settings.vapid_public_key or "") as service,
        people(create_app(settings), "resident", "dispatcher", "contractor") as clients,
    ):
        subscribe(clients["dispatcher"], service, "dispatcher")
        subscribe(clients["contractor"], service, "contractor")
        subscribe(clients["resident"], service, "resident")
        response = post(clients["dispatcher"], "/push/settings", {}, headers={"hx-request": "true"})
        assert response.status_code == 200, response.text
        assert "checked" not in response.text

        rid = file_request(clients["resident"], world)
        act(clients["dispatcher"], rid, "assign", contractor_id=world.orgs["c1"])
        service.wait_for(2)  # the resident's «Назначена» and the contractor's work order
        wait_until_outbox_settled(settings)
        assert service.problems == []
        assert service.to("dispatcher") == []
        assert len(service.to("contractor")) == 1
        assert len(service.to("resident")) == 1


def test_a_long_comment_still_fits_in_one_push_message(world: World) -> None:
    settings = push_settings(world)
    with (
        push_service(settings.vapid_public_key or "") as service,
        people(create_app(settings), "resident", "dispatcher") as clients,
    ):
        subscribe(clients["resident"], service, "resident")
        rid = file_request(clients["resident"], world)
        act(clients["dispatcher"], rid, "comment", reason="Очень подробно. " * 120)
        service.wait_for(1)
        assert service.problems == []
        [delivered] = service.to("resident")
        assert delivered.payload["body"].startswith("Диспетчер: Очень подробно.")
        assert len(delivered.payload["body"]) <= 180


def test_nothing_is_written_for_people_without_devices(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with people(create_app(settings), "resident", "dispatcher") as clients:
        rid = file_request(clients["resident"], world)
        act(clients["dispatcher"], rid, "assign", contractor_id=world.orgs["c1"])

    async def count() -> int:
        db = Database(settings.database_url)
        try:
            async with db.read() as session:
                return int(
                    await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
                )
        finally:
            await db.dispose()

    assert run_async(count) == 0

"""The QR check of a signed photo is the organisation's business: a photo that needs checking
is flagged for the staff and never shown to the resident. Each timeline step reads once."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image, ImageDraw

from server.app import create_app
from server.db.models import Request, TimelineEntry, utcnow
from server.db.session import Database
from tests.conftest import run_async
from tests.http import post, version_of
from tests.integration.live.test_live import ORIGIN, file, page
from tests.integration.requests.test_journey import print_url_of, signed_order_photo
from tests.live_client import Users, hello, receive_until
from tests.world import World

FLAG = "Фото требует проверки"
CONFIRMED = "QR-код заказ-наряда подтверждён"


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    with TestClient(create_app(world.settings)) as client:
        yield Users(client)


def act(users: Users, who: str, request_id: int, action: str, **data: Any) -> None:
    client = users.use(who)
    files = data.pop("files", None)
    version = version_of(client.get(f"/requests/{request_id}").text)
    response = post(
        client,
        f"/requests/{request_id}/actions/{action}",
        {"version": version, **data},
        files=files,
    )
    assert response.status_code == 303, response.text


def photo_without_qr() -> bytes:
    sheet = Image.new("RGB", (1200, 1600), "white")
    ImageDraw.Draw(sheet).line([(100, 1400), (500, 1350)], fill="navy", width=6)
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=75)
    return out.getvalue()


def completed(users: Users, world: World, photo: bytes | None = None) -> int:
    """A request whose worker sent the signed photo (by default one without the QR code)."""
    request_id = file(users, world)
    act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
    act(users, "contractor", request_id, "assign_worker", worker_id=world.users["worker"])
    shot = photo or photo_without_qr()
    act(users, "worker", request_id, "complete", files={"photo": ("p.jpg", shot, "image/jpeg")})
    return request_id


def test_resident_never_sees_that_the_photo_needs_checking(users: Users, world: World) -> None:
    request_id = completed(users, world)
    staff = page(users, "dispatcher", request_id)
    assert FLAG in staff  # the badge and the timeline note are there for the organisation

    resident_live = users.use("resident").websocket_connect(
        f"/live/requests/{request_id}", headers=ORIGIN
    )
    with resident_live:
        resident_live.send_text(hello(last_entry=0))
        opening, _ = receive_until(resident_live, lambda m: "request-state" in m)
        assert "entry-" in opening
        assert FLAG not in opening and "Нужна проверка диспетчером" not in opening
        act(users, "dispatcher", request_id, "verify")
        update, _ = receive_until(resident_live, lambda m: "request-state" in m)
        assert FLAG not in update
    assert FLAG not in page(users, "resident", request_id)
    assert FLAG not in users.use("resident").get("/requests").text  # «Мои заявки»

    act(users, "resident", request_id, "confirm")  # closed: still the organisation's business
    closed = page(users, "resident", request_id)
    assert "Закрыта" in closed
    assert FLAG not in closed and "Нужна проверка диспетчером" not in closed
    assert FLAG not in users.use("resident").get("/requests").text
    assert FLAG in page(users, "dispatcher", request_id)


def timeline_texts(html: str) -> list[str]:
    """Every headline and body of the timeline, in order."""
    timeline = html[html.index('id="timeline"') :]
    return re.findall(r'<(?:strong|p class="timeline-body")>(.*?)</', timeline, re.S)


def test_a_confirmed_qr_code_reads_once_on_the_timeline(users: Users, world: World) -> None:
    request_id = file(users, world)
    act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
    sheet = users.use("contractor").get(print_url_of(page(users, "contractor", request_id)))
    job_url = re.search(r"(http://testserver\.local/jobs/[A-Za-z0-9_-]+)", sheet.text)
    assert job_url
    photo = signed_order_photo(job_url.group(1))
    act(
        users, "contractor", request_id, "complete", files={"photo": ("p.jpg", photo, "image/jpeg")}
    )
    for who in ("resident", "dispatcher"):
        texts = timeline_texts(page(users, who, request_id))
        assert texts.count(CONFIRMED) == 1, (who, texts)
        assert len(texts) == len(set(texts)), (who, texts)


def test_a_stored_text_that_repeats_its_headline_is_shown_once(users: Users, world: World) -> None:
    request_id = file(users, world)

    async def note_as_before() -> None:
        db = Database(world.settings.database_url)
        try:
            async with db.begin() as session:
                request = await session.get(Request, request_id)
                assert request is not None
                session.add(
                    TimelineEntry(
                        request_id=request_id,
                        at=utcnow(),
                        kind="qr_confirmed",
                        actor_role="system",
                        text=CONFIRMED,
                        data={"status": "confirmed"},
                    )
                )
        finally:
            await db.dispose()

    run_async(note_as_before)
    assert timeline_texts(page(users, "dispatcher", request_id)).count(CONFIRMED) == 1

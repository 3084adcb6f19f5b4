"""Open311 submissions with a photo, refused links and odd values, and who answers for a
request that still waits in the administration's triage queue."""

from __future__ import annotations

import io
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import func, select

from server.db.models import Attachment, Request, User
from server.db.session import Database
from tests.conftest import run_async
from tests.integration.integrations.test_open311 import (
    FORMATS,
    KEY,
    assert_error,
    client,
    history,
    parse,
    text,
)
from tests.world import World

__all__ = ["client", "history"]  # fixtures shared with test_open311

FIELDS = {"api_key": KEY, "service_code": "leak", "address_string": "Ленина 12"}


def jpeg_with_location() -> bytes:
    """A phone photo: JPEG with EXIF (here the camera make) that must not be kept."""
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (800, 600), "orange").save(out, "JPEG", exif=exif)
    return out.getvalue()


def submit(client: TestClient[Any], fmt: str, files: Any = None, **fields: str) -> Any:
    return client.post(f"/open311/v2/requests.{fmt}", data={**FIELDS, **fields}, files=files)


async def _counts(world: World) -> tuple[int, int, int]:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            requests = await session.scalar(
                select(func.count()).select_from(Request).where(Request.source == "open311")
            )
            photos = await session.scalar(select(func.count()).select_from(Attachment))
            people = await session.scalar(select(func.count()).select_from(User))
            return int(requests or 0), int(photos or 0), int(people or 0)
    finally:
        await db.dispose()


async def _photos_of(world: World, request_id: int) -> list[Attachment]:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            found = await session.scalars(
                select(Attachment).where(Attachment.request_id == request_id)
            )
            return list(found)
    finally:
        await db.dispose()


@pytest.mark.parametrize("fmt", FORMATS)
def test_media_is_stored_as_the_requests_photo(
    client: TestClient[Any], world: World, fmt: str
) -> None:
    response = submit(
        client, fmt, files={"media": ("leak.jpg", jpeg_with_location(), "image/jpeg")}
    )
    assert response.status_code == 201, response.text
    [created] = parse(response, fmt)
    [photo] = run_async(_photos_of, world, int(created["service_request_id"]))
    assert photo.kind == "photo" and (photo.width, photo.height) == (800, 600)
    stored = (world.settings.media_dir / photo.filename).read_bytes()
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert 0x010F not in image.getexif()  # re-encoded without what the phone wrote


@pytest.mark.parametrize(
    ("media", "fragment"),
    [
        pytest.param(b"this is not a picture", "Файл не похож на изображение", id="not-image"),
        pytest.param(b"", "Файл пустой", id="empty"),
        pytest.param(jpeg_with_location()[:300], "повреждено", id="truncated"),
    ],
)
def test_a_bad_media_file_is_refused_and_nothing_is_stored(
    client: TestClient[Any], world: World, media: bytes, fragment: str
) -> None:
    before = run_async(_counts, world)
    for fmt in FORMATS:
        response = submit(
            client, fmt, files={"media": ("x.jpg", media, "image/jpeg")}, phone="+79175550011"
        )
        assert_error(response, fmt, 400, "media")
        assert fragment in parse(response, fmt)[0]["description"]
    # No request, no photo, and not even the caller was written.
    assert run_async(_counts, world) == before


def test_media_url_is_refused_with_a_clear_error(client: TestClient[Any], world: World) -> None:
    before = run_async(_counts, world)
    for fmt in FORMATS:
        response = submit(client, fmt, media_url="https://example.org/leak.jpg")
        assert_error(response, fmt, 400, "media_url не принимается")
        assert "поле media" in parse(response, fmt)[0]["description"]
    assert run_async(_counts, world) == before


def test_discovery_says_how_to_send_a_photo(client: TestClient[Any]) -> None:
    found = client.get("/open311/discovery.json").json()
    assert isinstance(found["contact"], str) and "Заинск" in found["contact"]
    assert "media_url не принимается" in found["key_service"]
    doc = client.get("/schema/openapi.json").json()
    form = doc["paths"]["/open311/v2/requests.json"]["post"]["requestBody"]["content"]
    assert form["multipart/form-data"]["schema"]["properties"]["media"]["format"] == "binary"
    assert (
        "Refused" in form["multipart/form-data"]["schema"]["properties"]["media_url"]["description"]
    )


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        pytest.param({"description": "Течёт\x00труба"}, "description", id="nul"),
        pytest.param({"first_name": "Иван\x07"}, "first_name", id="bell"),
        pytest.param({"description": "а" * 4001}, "4000", id="too-long"),
        pytest.param({"attribute[flat]": "1" * 21}, "attribute[flat]", id="long-flat"),
        pytest.param({"address_id": "99999999999", "address_string": ""}, "99999999999", id="id"),
    ],
)
def test_odd_values_are_refused_never_cut_or_failed(
    client: TestClient[Any], world: World, fields: dict[str, str], fragment: str
) -> None:
    before = run_async(_counts, world)
    for fmt in FORMATS:
        assert_error(submit(client, fmt, **fields), fmt, 400, fragment)
    assert run_async(_counts, world) == before


def test_ids_beyond_the_database_are_not_found(client: TestClient[Any]) -> None:
    for fmt in FORMATS:
        assert_error(client.get(f"/open311/v2/requests/99999999999.{fmt}"), fmt, 404)
        listed = client.get(
            f"/open311/v2/requests.{fmt}", params={"service_request_id": "99999999999"}
        )
        assert listed.status_code == 200 and parse(listed, fmt) == []
        early = client.get(
            f"/open311/v2/requests.{fmt}", params={"end_date": "0001-01-01T00:00:00+10:00"}
        )
        assert_error(early, fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_in_the_triage_queue_names_the_administration(
    client: TestClient[Any], fmt: str
) -> None:
    # улица Новая, 1 has no managing organisation: the request waits in triage.
    response = submit(client, "json", address_string="Новая 1")
    assert response.status_code == 201, response.text
    request_id = response.json()[0]["service_request_id"]
    [found] = parse(client.get(f"/open311/v2/requests/{request_id}.{fmt}"), fmt)
    assert text(found["agency_responsible"]) == "Исполнительный комитет Заинского района"
    served = submit(client, "json").json()[0]["service_request_id"]
    [other] = parse(client.get(f"/open311/v2/requests/{served}.{fmt}"), fmt)
    assert text(other["agency_responsible"]) == "ООО «УК Заинск-Сервис»"
    # The list says the same, alone and beside a request an organisation serves.
    for ids in (f"{request_id}", f"{request_id},{served}"):
        listed = parse(
            client.get(f"/open311/v2/requests.{fmt}", params={"service_request_id": ids}), fmt
        )
        agencies = {
            int(text(r["service_request_id"])): text(r["agency_responsible"]) for r in listed
        }
        assert agencies[request_id] == "Исполнительный комитет Заинского района"
        assert agencies.get(served, "ООО «УК Заинск-Сервис»") == "ООО «УК Заинск-Сервис»"
    listed = parse(client.get(f"/open311/v2/requests.{fmt}"), fmt)
    [waiting] = [r for r in listed if int(text(r["service_request_id"])) == request_id]
    assert text(waiting["agency_responsible"]) == "Исполнительный комитет Заинского района"

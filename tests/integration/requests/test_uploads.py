"""Every place a photo is sent: phone photos in HEIC are taken and served as JPEG; an empty or
unreadable file is refused with a Russian message beside the field and nothing is written; a
file input left empty (the browser's part without a file name) means «no photo»."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pillow_heif
import pytest
from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import Attachment, OutboxMessage, Request, TimelineEntry, User
from server.db.session import Database
from server.requests.workflow import State
from tests.conftest import run_async
from tests.fixtures.field import Job, open_job, stored
from tests.http import login, post
from tests.images.work_order import draw_sheet, photograph, sign
from tests.integration.integrations.test_open311 import KEY
from tests.integration.integrations.test_open311 import _prepare as prepare_open311
from tests.integration.requests.test_filing import form as filing_form
from tests.integration.requests.test_filing import jpeg
from tests.world import World


def heic(picture: Image.Image) -> bytes:
    """The picture as an iPhone saves it: HEVC in a HEIF container with the «heic» brand."""
    out = io.BytesIO()
    pillow_heif.from_pillow(picture).save(out, format="HEIF", quality=90)
    data = out.getvalue()
    assert data[4:12] == b"ftypheic", "a real HEIC file, not a JPEG under another name"
    return data


# What a person may pick instead of a photo, and the words that refuse it.
BAD_FILES = [
    pytest.param(b"", "Файл пустой", id="zero-bytes"),
    pytest.param(b"MZ\x90\x00 this is a program, not a picture" * 4, "не похож", id="garbage"),
    pytest.param(jpeg()[:400], "повреждено", id="truncated-jpeg"),
    pytest.param(heic(Image.new("RGB", (640, 480), "red"))[:-60], "повреждено", id="cut-heic"),
]


@dataclass(frozen=True)
class Path:
    """One place where a photo is sent: who sends it, to which field, and how it answers."""

    name: str
    sender: str  # a login, or "" for an Open311 client with its key
    field: str
    refusal: int  # status of a refused upload
    needs_job: bool = False

    def send(self, client: TestClient[Any], world: World, job: Job | None, part: Any) -> Any:
        files = [(self.field, part)]
        if self.name == "filing":
            return post(client, "/requests/new", filing_form(world), files=files)
        assert job is not None or self.name == "open311"
        if self.name == "field":
            return post(
                client,
                f"/field/jobs/{job.request_id}/complete",
                {"version": job.version},
                files=files,
            )
        if self.name == "field-json":
            return post(
                client,
                f"/field/jobs/{job.request_id}/complete",
                {"completion_key": "upload-1", "version": job.version},
                files=files,
                headers={"accept": "application/json"},
            )
        if self.name == "request-page":
            return post(
                client,
                f"/requests/{job.request_id}/actions/complete",
                {"version": job.version},
                files=files,
            )
        return client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": KEY,
                "service_code": "leak",
                "address_string": "Ленина 12",
                "description": "Описание проблемы для проверки",
            },
            files=files,
        )

    def message(self, response: Any) -> str:
        """The refusal as the person reads it; on a page, only what stands beside the field."""
        if self.name == "field-json":
            return str(response.json()["message"])
        if self.name == "open311":
            [error] = response.json()
            return str(error["description"])
        field_input = rf'<input[^>]*name="{self.field}"[^>]*>'
        alert = r'<p class="error[^"]*" role="alert">([^<]*)</p>'
        beside = re.search(field_input + r"\s*" + alert, response.text)
        assert beside, "the message stands right under the file input"
        return beside.group(1)


PATHS = [
    pytest.param(Path("filing", "resident", "photos", 422), id="resident-filing"),
    pytest.param(Path("field", "worker", "photo", 422, needs_job=True), id="field-form"),
    pytest.param(Path("field-json", "worker", "photo", 422, needs_job=True), id="field-phone"),
    pytest.param(
        Path("request-page", "contractor", "photo", 422, needs_job=True), id="request-page"
    ),
    pytest.param(Path("open311", "", "media", 400), id="open311"),
]


async def _everything(world: World) -> tuple[Any, ...]:
    """What an upload could have written: rows of every kind, each request's state."""
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            counts = [
                await session.scalar(select(func.count()).select_from(model))
                for model in (Request, Attachment, TimelineEntry, OutboxMessage, User)
            ]
            states = (
                await session.execute(select(Request.id, Request.state, Request.version))
            ).all()
            return (*counts, sorted(tuple(row) for row in states))
    finally:
        await db.dispose()


def _media_files(world: World) -> list[str]:
    media = world.settings.media_dir
    return sorted(p.name for p in media.iterdir()) if media.exists() else []


@pytest.fixture
def client(world: World):  # type: ignore[no-untyped-def]
    run_async(prepare_open311, world)
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


def _ready(client: TestClient[Any], world: World, path: Path) -> Job | None:
    job = run_async(lambda: open_job(world.settings, world)) if path.needs_job else None
    if path.sender:
        login(client, path.sender)
    return job


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("content", "words"), BAD_FILES)
def test_an_empty_or_unreadable_file_is_refused_beside_the_field_and_nothing_is_stored(
    client: TestClient[Any], world: World, path: Path, content: bytes, words: str
) -> None:
    job = _ready(client, world, path)
    before, files_before = run_async(_everything, world), _media_files(world)

    response = path.send(client, world, job, ("photo.jpg", content, "image/jpeg"))

    assert response.status_code == path.refusal, response.text
    assert words in path.message(response)
    assert run_async(_everything, world) == before  # no request, photo, entry or state change
    assert _media_files(world) == files_before
    if path.name == "filing":
        assert "Описание проблемы для проверки" in response.text  # what was typed is kept


@pytest.mark.parametrize("path", PATHS)
def test_a_file_input_left_empty_means_no_photo(
    client: TestClient[Any], world: World, path: Path
) -> None:
    """The browser sends a part without a file name and bytes when nothing was picked."""
    job = _ready(client, world, path)

    response = path.send(client, world, job, ("", b"", "application/octet-stream"))

    if path.needs_job:
        # Completing needs the signed sheet: asked for, not called an empty file.
        assert response.status_code == 422, response.text
        assert "Приложите фото подписанного заказ-наряда" in path.message(response)
        assert "Файл пустой" not in response.text
        assert job is not None
        assert run_async(stored, world.settings, job.request_id).state == State.ASSIGNED
        return
    assert response.status_code in (201, 303), response.text
    assert run_async(_everything, world)[1] == 0  # filed, with no photo
    assert _media_files(world) == []


def test_resident_heic_photo_is_filed_and_served_as_jpeg(
    client: TestClient[Any], world: World
) -> None:
    login(client, "resident")
    photo = heic(Image.new("RGB", (800, 600), (30, 120, 200)))

    response = post(
        client,
        "/requests/new",
        filing_form(world),
        files=[("photos", ("IMG_0001.HEIC", photo, "image/heic"))],
    )

    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    [url] = re.findall(r'<img src="(/media/[^"]+)"', page)
    served = client.get(url)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as picture:
        assert picture.format == "JPEG" and picture.size == (800, 600)
        red, _green, blue = picture.convert("RGB").getpixel((400, 300))
        assert blue > 150 and red < 80  # the same picture, not a blank one


def test_open311_heic_media_is_stored_as_jpeg(client: TestClient[Any], world: World) -> None:
    path = Path("open311", "", "media", 400)
    photo = heic(Image.new("RGB", (640, 480), "green"))

    response = path.send(client, world, None, ("leak.heic", photo, "image/heif"))

    assert response.status_code == 201, response.text
    [name] = _media_files(world)
    with Image.open(world.settings.media_dir / name) as picture:
        assert picture.format == "JPEG" and picture.size == (640, 480)


def test_worker_heic_photo_of_the_signed_sheet_completes_the_job_with_the_qr_confirmed(
    client: TestClient[Any], world: World
) -> None:
    path = Path("field-json", "worker", "photo", 422, needs_job=True)
    job = _ready(client, world, path)
    assert job is not None
    sheet = Image.open(io.BytesIO(photograph(sign(draw_sheet(job.url(world.settings.base_url))))))

    response = path.send(client, world, job, ("IMG_0002.HEIC", heic(sheet), "image/heic"))

    assert response.status_code == 200, response.text
    assert response.json()["qr"] == "confirmed"
    after = run_async(stored, world.settings, job.request_id)
    assert after.state == State.DONE and after.signed_photos == ["confirmed"]
    [name] = _media_files(world)
    assert (world.settings.media_dir / name).read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG

"""Field mode over HTTP: the worker's phone pages, completing with a photo, and who may do it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from tests.conftest import run_async
from tests.fixtures.field import Job, open_job, stored
from tests.http import login, post
from tests.images.work_order import draw_sheet, photograph, sign
from tests.world import World

JSON = {"accept": "application/json"}


@pytest.fixture
def client(world: World):  # type: ignore[no-untyped-def]
    with TestClient(create_app(world.settings)) as test_client:
        yield test_client


def job(world: World, **kwargs: Any) -> Job:
    return run_async(lambda: open_job(world.settings, world, **kwargs))


def signed_photo(world: World, of: Job | None, **kwargs: Any) -> bytes:
    """A phone photo of the signed sheet of `of` (None: a sheet without a QR code)."""
    url = of.url(world.settings.base_url) if of is not None else None
    return photograph(sign(draw_sheet(url)), **kwargs)


def complete(
    client: TestClient[Any],
    of: Job,
    photo: bytes | None,
    key: str | None = "k-1",
    version: int | None = None,
) -> Any:
    """The phone's send of a completion, with the version its job page showed."""
    files = {"photo": ("photo.jpg", photo, "image/jpeg")} if photo is not None else None
    data = {"version": str(of.version if version is None else version)}
    if key:
        data["completion_key"] = key
    return post(client, f"/field/jobs/{of.request_id}/complete", data, files=files, headers=JSON)


def test_worker_list_shows_overdue_first_then_by_deadline_with_call_links(
    world: World, client: TestClient[Any]
) -> None:
    later = job(world, flat="1", due_in=timedelta(hours=5))
    overdue = job(world, flat="2", due_in=timedelta(hours=-1))
    soon = job(world, flat="3", due_in=timedelta(hours=1))
    unassigned = job(world, flat="4", worker=None, due_in=timedelta(hours=3))
    others = job(world, flat="5", contractor="c2", worker="worker2")
    login(client, "worker")

    page = client.get("/field")

    assert page.status_code == 200
    order = [int(n) for n in re.findall(r'href="/field/jobs/(\d+)"', page.text)]
    assert order == [overdue.request_id, soon.request_id, unassigned.request_id, later.request_id]
    assert others.request_id not in order
    assert "улица Ленина, 12, кв. 2" in page.text
    assert "Протечка трубы" in page.text
    assert 'href="tel:+79170000001"' in page.text
    assert "Просрочена" in page.text
    assert "Сканировать заказ-наряд" in page.text


def test_worker_signing_in_lands_on_the_phone_view(world: World, client: TestClient[Any]) -> None:
    login(client, "worker")
    response = client.get("/jobs", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/field"
    assert client.get("/jobs?state=all").status_code == 200


def test_printed_qr_link_opens_the_job_on_the_phone_for_a_worker(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")
    response = client.get(f"/jobs/{the_job.token}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/field/jobs/{the_job.request_id}"

    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "улица Ленина, 12, кв. 12" in page.text
    assert "Сфотографировать подписанный заказ-наряд" in page.text
    assert 'capture="environment"' in page.text
    assert 'href="tel:+79170000001"' in page.text


def test_phone_camera_app_opening_the_qr_link_signs_in_then_opens_the_job(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    first = client.get(f"/jobs/{the_job.token}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/login?next=/jobs/{the_job.token}"
    signed_in = post(
        client,
        "/login",
        {"login": "worker", "password": "password123", "next": f"/jobs/{the_job.token}"},
    )
    assert signed_in.headers["location"] == f"/jobs/{the_job.token}"
    opened = client.get(signed_in.headers["location"], follow_redirects=False)
    assert opened.headers["location"] == f"/field/jobs/{the_job.request_id}"


def test_contractor_dispatcher_scanning_at_the_desk_gets_the_full_request_page(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "contractor")
    response = client.get(f"/jobs/{the_job.token}", follow_redirects=False)
    assert response.headers["location"] == f"/requests/{the_job.request_id}"


@pytest.mark.parametrize("intruder", ["worker2", "worker_b"])
def test_worker_of_another_contractor_or_crew_gets_404_and_cannot_complete(
    world: World, client: TestClient[Any], intruder: str
) -> None:
    the_job = job(world)  # c1's job, given to «worker»
    login(client, intruder)

    assert client.get(f"/field/jobs/{the_job.request_id}").status_code == 404
    assert client.get(f"/jobs/{the_job.token}", follow_redirects=False).status_code == 404
    response = complete(client, the_job, signed_photo(world, the_job))
    assert response.status_code == 404
    assert response.json()["ok"] is False
    assert the_job.request_id not in [
        int(n) for n in re.findall(r'href="/field/jobs/(\d+)"', client.get("/field").text)
    ]
    assert run_async(stored, world.settings, the_job.request_id).completions == 0


@pytest.mark.parametrize("outsider", ["resident", "dispatcher"])
def test_field_pages_are_for_contractors_and_workers_only(
    world: World, client: TestClient[Any], outsider: str
) -> None:
    the_job = job(world)
    login(client, outsider)
    assert client.get("/field").status_code == 403
    assert client.get(f"/field/jobs/{the_job.request_id}").status_code == 403
    assert complete(client, the_job, signed_photo(world, the_job)).status_code == 403
    assert run_async(stored, world.settings, the_job.request_id).completions == 0


def test_photo_of_this_work_order_confirms_the_qr_code(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")

    response = complete(client, the_job, signed_photo(world, the_job, angle=4))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["created"] is True
    assert body["state"] == "done"
    assert body["qr"] == "confirmed"
    facts = run_async(stored, world.settings, the_job.request_id)
    # The headline «QR-код заказ-наряда подтверждён» says it all: the entry keeps no text.
    assert facts.qr_entries == [("qr_confirmed", "")]
    assert facts.signed_photos == ["confirmed"]
    assert facts.needs_check is False
    page = client.get(body["url"]).text
    assert "Работа выполнена" in page
    assert "QR-код заказ-наряда подтверждён" in page
    assert "Сфотографировать подписанный заказ-наряд" not in page


def test_photo_of_another_jobs_work_order_is_kept_and_flagged_for_the_dispatcher(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world, flat="7")
    other = job(world, flat="8")
    login(client, "worker")

    response = complete(client, the_job, signed_photo(world, other, angle=-3))

    assert response.status_code == 200, response.text
    assert response.json()["qr"] == "mismatch"
    facts = run_async(stored, world.settings, the_job.request_id)
    assert facts.state == "done"
    assert facts.signed_photos == ["mismatch"]
    assert facts.needs_check is True
    assert [kind for kind, _ in facts.qr_entries] == ["qr_flagged"]
    assert "другого заказ-наряда" in facts.check_reason
    assert "другого заказ-наряда" in client.get(f"/field/jobs/{the_job.request_id}").text

    dispatcher = TestClient(create_app(world.settings))
    with dispatcher:
        login(dispatcher, "dispatcher")
        page = dispatcher.get(f"/requests/{the_job.request_id}").text
        board = dispatcher.get("/board").text
    assert "Фото требует проверки" in page
    assert "На фото QR-код другого заказ-наряда" in page
    flagged_row = board.split(f'id="row-{the_job.request_id}"', 1)[1].split("</li>", 1)[0]
    assert "Фото требует проверки" in flagged_row
    other_row = board.split(f'id="row-{other.request_id}"', 1)[1].split("</li>", 1)[0]
    assert "Фото требует проверки" not in other_row


def test_photo_without_a_qr_code_is_kept_and_flagged_with_the_reason(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")

    response = complete(client, the_job, signed_photo(world, None))

    assert response.status_code == 200, response.text
    assert response.json()["qr"] == "missing"
    facts = run_async(stored, world.settings, the_job.request_id)
    assert facts.signed_photos == ["missing"]
    assert facts.needs_check is True
    timeline = client.get(f"/requests/{the_job.request_id}").text
    assert "Фото требует проверки" in timeline
    assert "На фото не найден QR-код заказ-наряда" in timeline


def test_the_same_completion_sent_twice_is_recorded_once(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")
    photo = signed_photo(world, the_job)

    first = complete(client, the_job, photo, key="phone-key-1")
    again = complete(client, the_job, photo, key="phone-key-1")

    assert first.json()["created"] is True
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created": False}
    facts = run_async(stored, world.settings, the_job.request_id)
    assert facts.completions == 1
    assert len(facts.signed_photos) == 1
    # A different completion of a finished job is refused, and changes nothing either.
    other = complete(client, the_job, photo, key="phone-key-2")
    assert other.status_code == 409
    assert run_async(stored, world.settings, the_job.request_id).completions == 1


def test_completion_key_of_one_job_cannot_complete_another(
    world: World, client: TestClient[Any]
) -> None:
    first, second = job(world, flat="1"), job(world, flat="2")
    login(client, "worker")
    assert complete(client, first, signed_photo(world, first), key="k").status_code == 200
    response = complete(client, second, signed_photo(world, second), key="k")
    assert response.status_code == 422
    assert run_async(stored, world.settings, second.request_id).state == "assigned"


def test_completion_without_a_photo_is_refused_and_the_job_stays_open(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")

    response = complete(client, the_job, None)
    assert response.status_code == 422
    assert "Приложите фото подписанного заказ-наряда" in response.json()["message"]

    # Without JavaScript the form posts as a page and comes back with the message.
    page = post(
        client,
        f"/field/jobs/{the_job.request_id}/complete",
        {"completion_key": "", "version": the_job.version},
    )
    assert page.status_code == 422
    assert "Приложите фото подписанного заказ-наряда" in page.text
    assert run_async(stored, world.settings, the_job.request_id).state == "assigned"


def test_completion_without_the_csrf_token_is_refused(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")
    response = client.post(
        f"/field/jobs/{the_job.request_id}/complete",
        files={"photo": ("p.jpg", signed_photo(world, the_job), "image/jpeg")},
        headers=JSON,
    )
    assert response.status_code == 403
    assert run_async(stored, world.settings, the_job.request_id).completions == 0


def test_plain_form_post_without_javascript_completes_and_shows_the_result(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")
    response = post(
        client,
        f"/field/jobs/{the_job.request_id}/complete",
        {"version": the_job.version},
        files={"photo": ("p.jpg", signed_photo(world, the_job), "image/jpeg")},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/field/jobs/{the_job.request_id}"
    page = client.get(response.headers["location"]).text
    assert "Готово: выполнение отмечено." in page
    assert "QR-код заказ-наряда подтверждён" in page


def test_completed_job_moves_to_done_today_on_the_list(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")
    complete(client, the_job, signed_photo(world, the_job))
    page = client.get("/field").text
    done_part = page.split("Выполнено сегодня", 1)[1]
    assert f'href="/field/jobs/{the_job.request_id}"' in done_part


def test_service_worker_can_load_the_offline_sync_and_its_queue(
    world: World, client: TestClient[Any]
) -> None:
    sync = client.get("/sw-field-sync.js")
    assert sync.status_code == 200
    assert "javascript" in sync.headers["content-type"]
    assert "no-cache" in sync.headers["cache-control"]
    assert 'addEventListener("sync"' in sync.text
    imported = re.search(r'importScripts\("([^"]+)"\)', sync.text)
    assert imported
    queue = client.get(imported.group(1))
    assert queue.status_code == 200
    assert "FieldQueue" in queue.text


def test_a_finished_job_shows_neither_a_deadline_nor_a_call_link(
    world: World, client: TestClient[Any]
) -> None:
    the_job = job(world)
    login(client, "worker")
    complete(client, the_job, signed_photo(world, the_job))
    page = client.get("/field").text
    done_part = page.split("Выполнено сегодня", 1)[1]
    assert f'href="/field/jobs/{the_job.request_id}"' in done_part
    assert "tel:" not in done_part and "Срок:" not in done_part
    job_page = client.get(f"/field/jobs/{the_job.request_id}").text
    assert 'id="field-result"' in job_page and 'id="complete-form"' not in job_page


def test_a_photo_over_the_upload_limit_is_refused_and_the_job_stays_open(
    world: World, client: TestClient[Any]
) -> None:
    from server.shared.forms import UPLOAD_LIMIT_BYTES

    the_job = job(world)
    login(client, "worker")
    response = complete(client, the_job, b"\xff" * (UPLOAD_LIMIT_BYTES + 1))
    assert response.status_code == 422
    assert "больше 15 МБ" in response.json()["message"]
    page = client.get(f"/field/jobs/{the_job.request_id}").text
    assert 'id="complete-form"' in page and 'id="field-result"' not in page

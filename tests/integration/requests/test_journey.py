"""The whole journey of a request over HTTP, for a web filing and a phone filing."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import qrcode
import zxingcpp
from litestar.testing import TestClient
from PIL import Image, ImageDraw

from server.app import create_app
from tests.http import people, post, version_of
from tests.world import World


def signed_order_photo(job_url: str) -> bytes:
    """A sheet with the work order's QR code and a scribbled signature, as a phone shoots it."""
    page = Image.new("RGB", (1240, 1754), "white")
    qr = qrcode.make(job_url, box_size=10, border=4).get_image().convert("RGB")
    page.paste(qr, (780, 80))
    draw = ImageDraw.Draw(page)
    draw.text((80, 120), "ZAKAZ-NARYAD", fill="black")
    draw.line([(200, 1500), (320, 1440), (420, 1530), (560, 1460)], fill="navy", width=6)
    photo = page.rotate(3, expand=True, fillcolor="#dddddd")
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=70)
    return out.getvalue()


def act(client: TestClient[Any], request_id: int, action: str, **fields: Any) -> Any:
    page = client.get(f"/requests/{request_id}")
    assert page.status_code == 200, page.text
    files = fields.pop("files", None)
    data = {"version": str(version_of(page.text)), **{k: str(v) for k, v in fields.items()}}
    response = post(client, f"/requests/{request_id}/actions/{action}", data, files=files)
    assert response.status_code == 303, (action, response.status_code, response.text[:2000])
    return response


def timeline_headlines(html: str) -> list[str]:
    return re.findall(r'<li class="timeline-entry".*?<strong>(.*?)</strong>', html, re.S)


def print_url_of(html: str) -> str:
    match = re.search(r'href="(/work-orders/\d+/print)"', html)
    assert match, "the request page links the printable work order"
    return match.group(1)


def job_url_from_print(svg_page: str) -> str:
    match = re.search(r"(http://testserver\.local/jobs/[A-Za-z0-9_-]+)", svg_page)
    assert match, "the sheet prints the job URL"
    return match.group(1)


def decode_svg_qr(html: str) -> str:
    """Render the SVG path of the printed QR code and decode it like a phone would."""
    view = re.search(r'viewBox="0 0 (\d+) (\d+)"', html)
    assert view
    size = int(view.group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path d="([^"]+)"', html)
    assert path
    for x, y in re.findall(r"M(\d+),(\d+)H", path.group(1)):
        draw.rectangle(
            [int(x) * scale, int(y) * scale, (int(x) + 1) * scale - 1, (int(y) + 1) * scale - 1],
            fill=0,
        )
    results = zxingcpp.read_barcodes(image)
    assert results, "the printed QR code decodes"
    return results[0].text


def run_journey(world: World, filed_by: str) -> None:
    app = create_app(world.settings)
    names = ["resident", "dispatcher", "contractor", "worker"]
    if filed_by != "resident":
        names.append(filed_by)
    with people(app, *names) as staff:
        resident = staff["resident"]

        # 1. Filing: on the web by the resident, or by phone through the operator.
        form = {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "flat": "17",
            "description": "Течёт стояк в ванной, вода на полу",
            "idempotency_key": f"journey-{filed_by}",
        }
        if filed_by == "operator":
            form |= {"caller_phone": "8 (917) 000-00-01", "caller_name": "Тест resident"}
            response = post(staff["operator"], "/operator/new", form)
        else:
            response = post(resident, "/requests/new", form)
        assert response.status_code == 303, response.text
        request_id = int(response.headers["location"].rsplit("/", 1)[1])

        page = resident.get(f"/requests/{request_id}").text
        assert "УК Заинск-Сервис" in page  # routed to the building's УК at once
        assert "Новая" in page

        # 2. The dispatcher sees it on the board and assigns a contractor.
        board = staff["dispatcher"].get("/board").text
        assert f'id="row-{request_id}"' in board
        act(staff["dispatcher"], request_id, "assign", contractor_id=world.orgs["c1"])

        # 3. The contractor assigns a worker, prints the work order and starts the work.
        act(staff["contractor"], request_id, "assign_worker", worker_id=world.users["worker"])
        detail = staff["contractor"].get(f"/requests/{request_id}").text
        sheet = staff["contractor"].get(print_url_of(detail))
        assert sheet.status_code == 200
        job_url = job_url_from_print(sheet.text)
        assert decode_svg_qr(sheet.text) == job_url
        assert post(staff["contractor"], print_url_of(detail)).status_code == 303
        assert "В работе" not in resident.get(f"/requests/{request_id}").text  # printed only
        act(staff["contractor"], request_id, "start")
        assert "В работе" in resident.get(f"/requests/{request_id}").text

        # 4. The worker opens the QR link (signed in) and completes with the signed photo.
        opened = staff["worker"].get(
            job_url.replace("http://testserver.local", ""), follow_redirects=False
        )
        assert opened.status_code in (302, 303)
        photo = signed_order_photo(job_url)
        act(
            staff["worker"],
            request_id,
            "complete",
            files={"photo": ("order.jpg", photo, "image/jpeg")},
        )
        assert "QR-код заказ-наряда подтверждён" in resident.get(f"/requests/{request_id}").text

        # 5. The dispatcher returns it; the worker completes again; the dispatcher verifies.
        act(staff["dispatcher"], request_id, "return", reason="Не убран мусор после работ")
        act(
            staff["worker"],
            request_id,
            "complete",
            files={"photo": ("order.jpg", photo, "image/jpeg")},
        )
        act(staff["dispatcher"], request_id, "verify")

        # 6. The resident disputes; rework; verified again; the resident confirms and rates.
        act(resident, request_id, "dispute", reason="Всё ещё капает")
        act(
            staff["worker"],
            request_id,
            "complete",
            files={"photo": ("order.jpg", photo, "image/jpeg")},
        )
        act(staff["dispatcher"], request_id, "verify")
        act(resident, request_id, "confirm")
        act(resident, request_id, "rate", score=5, reason="Спасибо!")

        final = resident.get(f"/requests/{request_id}").text
        assert "Закрыта" in final
        assert timeline_headlines(final) == [
            "Заявка подана",
            "Назначен подрядчик",
            "Назначен исполнитель",
            "Заказ-наряд распечатан",
            "Работы начаты",
            "Работы выполнены",
            "QR-код заказ-наряда подтверждён",
            "Возвращена на доработку",
            "Работы выполнены",
            "QR-код заказ-наряда подтверждён",
            "Выполнение подтверждено диспетчером",
            "Житель оспорил выполнение",
            "Работы выполнены",
            "QR-код заказ-наряда подтверждён",
            "Выполнение подтверждено диспетчером",
            "Житель подтвердил выполнение",
            "Оценка работы",
        ]
        # Who did each step is named by role and organisation; the worker's name stays hidden.
        assert "Диспетчер · УК Заинск-Сервис" in final
        assert "Исполнитель · Сантехмонтаж" in final
        assert "Тест worker" not in final
        staff_view = staff["dispatcher"].get(f"/requests/{request_id}").text
        assert "Тест worker" in staff_view
        if filed_by == "operator":
            assert "По телефону" in final


@pytest.mark.parametrize("filed_by", ["resident", "operator"])
def test_request_goes_the_whole_way_from_filing_to_closing(world: World, filed_by: str) -> None:
    run_journey(world, filed_by)

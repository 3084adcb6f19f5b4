"""The administration's dashboard over HTTP: who may open it, what it shows, what it exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from litestar.testing import TestClient

from server.app import create_app
from tests.conftest import run_async
from tests.http import login
from tests.integration.oversight.oversight_fixture import History, build_history
from tests.world import World

MARCH = "from=2026-03-01&to=2026-03-19"


@pytest.fixture
def history(world: World) -> History:
    return run_async(build_history, world)


@pytest.fixture
def admin(world: World, history: History) -> Any:
    with TestClient(create_app(world.settings)) as client:
        login(client, "cityadmin")
        yield client


def kpi(html: str, label: str) -> str:
    match = re.search(
        r'<strong class="kpi-value"[^>]*>([^<]+)</strong><figcaption class="kpi-label">'
        + re.escape(label),
        html,
    )
    assert match, label
    return match.group(1)


def test_city_admin_sees_the_figures_of_the_chosen_period(admin: TestClient[Any]) -> None:
    page = admin.get(f"/admin?{MARCH}")
    assert page.status_code == 200
    html = page.text
    assert "Заявки, поданные с 01.03.2026 по 19.03.2026" in html
    assert kpi(html, "Подано заявок") == "11"
    assert kpi(html, "Закрыто (подтвердил житель)") == "4"
    assert kpi(html, "Отклонено") == "1"
    assert kpi(html, "Средняя оценка жителей") == "4,0"
    assert kpi(html, "Возвраты диспетчером / споры жителей") == "2 / 1"
    # Medians of the hand-worked history: assignment 40 min, closing 4 h 30 min.
    assert "40 мин" in html and "4 ч 30 мин" in html
    assert "ООО «УК Заинск-Сервис»" in html and "ООО «УК Уютный дом»" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html  # charts are drawn on the server
    assert 'id="live-counts"' in html


def test_overdue_list_links_every_overdue_request(admin: TestClient[Any], history: History) -> None:
    html = admin.get(f"/admin?{MARCH}").text
    section = html[html.index('id="overdue"') :]
    for key in ("R4", "R6", "R14"):  # R14 was filed in January: listed whatever the period
        assert f'href="/requests/{history.ids[key]}"' in section
    for key in ("R1", "R7", "R8"):  # closed, declined, verified: not overdue
        assert f'href="/requests/{history.ids[key]}"' not in section


def test_filters_by_organisation_and_category(admin: TestClient[Any], world: World) -> None:
    uk2 = admin.get(f"/admin?{MARCH}&org={world.orgs['uk2']}").text
    assert kpi(uk2, "Подано заявок") == "2"
    leak = admin.get(f"/admin?{MARCH}&category={world.categories['leak']}").text
    assert kpi(leak, "Подано заявок") == "3"
    assert kpi(leak, "Закрыто (подтвердил житель)") == "3"


def test_period_picker_presets_and_nonsense(admin: TestClient[Any]) -> None:
    year = admin.get("/admin?period=365").text
    assert kpi(year, "Подано заявок") != ""
    assert "последний год" in year
    # Unreadable input falls back to the last 30 days rather than failing.
    assert admin.get("/admin?period=abc&from=nope&org=x").status_code == 200


def test_htmx_request_gets_only_the_figures_block(admin: TestClient[Any]) -> None:
    response = admin.get(f"/admin?{MARCH}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in response.text


def test_live_counts_fragment_renders_alone(admin: TestClient[Any]) -> None:
    response = admin.get("/admin/counts")
    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith('<div id="live-counts"') and "<html" not in html
    # Open now: R4 R5 R6 R8 R11 R12 R14; overdue now (all deadlines are in the past): R4 R5
    # R6 R11 R12 R14; new and unassigned: R6 R11 R12 R14.
    assert re.search(r'data-count="open">7<', html)
    assert re.search(r'data-count="overdue">6<', html)
    assert re.search(r'data-count="new">4<', html)
    assert re.search(r'data-count="triage">0<', html)


def test_csv_export_has_a_row_per_request_with_the_time_of_every_step(
    admin: TestClient[Any], history: History
) -> None:
    response = admin.get(f"/admin/export.csv?{MARCH}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(body) == 11
    r1 = dict(zip(header, next(r for r in body if r[0] == "2026-000001"), strict=True))
    # Filed 12:00 town time; assigned after 10 min, done after 60, closed after 120.
    assert r1["Подана"] == "02.03.2026 12:00"
    assert r1["Назначен подрядчик"] == "02.03.2026 12:10"
    assert r1["Выполнена"] == "02.03.2026 13:00"
    assert r1["Закрыта жителем"] == "02.03.2026 14:00"
    assert r1["Срок"] == "02.03.2026 14:00"
    assert r1["Выполнена в срок"] == "да"
    assert (r1["До назначения, мин"], r1["До закрытия, мин"]) == ("10", "120")
    assert r1["Оценка"] == "5"
    r3 = dict(zip(header, next(r for r in body if r[0] == "2026-000003"), strict=True))
    assert (r3["Возвратов"], r3["Споров"]) == ("1", "1")
    # The export is for counting: no residents, flats or descriptions in it.
    assert "Тест resident" not in text and "+79170000001" not in text
    assert "Описание заявки" not in text


def test_xlsx_export_opens_with_openpyxl(admin: TestClient[Any]) -> None:
    response = admin.get(f"/admin/export.xlsx?{MARCH}")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["content-type"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["Заявки"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[0] == "Номер" and "Закрыта жителем" in header
    assert len(rows) == 12
    r1 = dict(zip(header, next(r for r in rows if r[0] == "2026-000001"), strict=True))
    assert r1["Подана"] == datetime(2026, 3, 2, 12, 0)
    assert r1["Закрыта жителем"] == datetime(2026, 3, 2, 14, 0)
    figures = list(book["По организациям"].iter_rows(values_only=True))
    totals = next(r for r in figures if r[0] == "Всего")
    assert totals[1] == 11


@pytest.mark.parametrize(
    "login_name", ["dispatcher", "resident", "worker", "operator", "contractor", "sysadmin"]
)
def test_everyone_but_the_city_admin_is_refused(
    world: World, history: History, login_name: str
) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, login_name)
        for url in ("/admin", "/admin/counts", "/admin/export.csv", "/admin/export.xlsx"):
            response = client.get(f"{url}?{MARCH}", follow_redirects=False)
            assert response.status_code == 403, url
            assert "2026-000001" not in response.text


def test_anonymous_visitor_is_sent_to_sign_in(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = client.get("/admin/export.csv", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_cached_figures_are_named_in_each_readers_language(world: World, history: History) -> None:
    from server.db.models import Request
    from server.db.session import Database
    from tests.http import post

    async def file_for_triage() -> None:
        db = Database(world.settings.database_url)
        try:
            async with db.begin() as session:
                source = await session.get(Request, history.ids["R1"])
                assert source is not None
                session.add(
                    Request(
                        number="2026-900002",
                        resident_id=source.resident_id,
                        building_id=source.building_id,
                        category_id=source.category_id,
                        description="Не знаем, чья это крыша",
                        source="web",
                        state="new",
                        organisation_id=None,
                        due_at=source.due_at,
                        created_at=source.created_at,
                        updated_at=source.created_at,
                    )
                )
        finally:
            await db.dispose()

    run_async(file_for_triage)
    # One app, one figures cache: the second look reads the figures the first one computed.
    with TestClient(create_app(world.settings)) as client:
        login(client, "cityadmin")
        assert "Ожидают разбора в администрации" in client.get(f"/admin?{MARCH}").text
        post(client, "/language", {"lang": "en"})
        english = client.get(f"/admin?{MARCH}").text
        assert "Awaiting triage by the administration" in english
        assert "Ожидают разбора в администрации" not in english

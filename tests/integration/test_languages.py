"""Each language reads as itself: the dashboard and the public figures in Russian, Tatar and
English show no text of another language, and the JavaScript's messages come from the
catalogue."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import update

from server.app import create_app
from server.db.models import Category, Organisation
from server.db.session import Database
from server.demo.names import CATEGORY_NAMES, ORGANISATION_NAMES
from server.demo.town import CATEGORIES, ORGANISATIONS
from server.settings import ROOT
from tests.conftest import run_async
from tests.http import login, post
from tests.integration.oversight.oversight_fixture import History, build_history
from tests.world import World

MARCH = "from=2026-03-01&to=2026-03-19"
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
TATAR_LETTERS = re.compile(r"[әөүҗңһӘӨҮҖҢҺ]")
# A person's name is theirs in every language: the signed-in administrator's, in the top bar.
PROPER_NAMES = ("Тест cityadmin",)


class VisibleText(HTMLParser):
    """The text a reader sees (SVG labels included), without scripts, styles and passages
    marked as another language (`lang="…"`, as the language switcher names each language)."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source", "area", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.page_lang = ""
        self.stack: list[bool] = []  # per open element: is its text hidden from the check
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.page_lang = found.get("lang") or ""
        hidden = bool(self.stack and self.stack[-1]) or tag in ("script", "style")
        lang = found.get("lang")
        if lang and tag != "html" and lang != self.page_lang:
            hidden = True
        for name in ("title", "aria-label", "placeholder", "alt", "data-label"):
            if found.get(name) and not hidden:
                self.parts.append(found[name] or "")
        if tag not in self.VOID:
            self.stack.append(hidden)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]) and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    for name in PROPER_NAMES:
        text = text.replace(name, "")
    return text


def foreign_words(text: str, language: str) -> list[str]:
    """Words of the text that belong to another language than the page's."""
    words = re.findall(r"\S+", text)
    if language == "en":
        return [w for w in words if CYRILLIC.search(w)]
    if language == "ru":
        return [w for w in words if TATAR_LETTERS.search(w)]
    return []


@pytest.fixture
def history(world: World) -> History:
    """The hand-worked history, its organisations and categories named in every language as a
    system administrator would type them."""
    history = run_async(build_history, world)

    async def name_everything() -> None:
        db = Database(world.settings.database_url)
        try:
            async with db.begin() as session:
                for org_id in world.orgs.values():
                    await session.execute(
                        update(Organisation)
                        .where(Organisation.id == org_id)
                        .values(
                            name_tt=f"Оешма {org_id} (татарча)",
                            name_en=f"Company {org_id}",
                            short_name_tt=f"Оешма {org_id}",
                            short_name_en=f"Co {org_id}",
                        )
                    )
                for category_id in world.categories.values():
                    await session.execute(
                        update(Category)
                        .where(Category.id == category_id)
                        .values(name_tt=f"Төркем {category_id}", name_en=f"Kind {category_id}")
                    )
        finally:
            await db.dispose()

    run_async(name_everything)
    return history


@pytest.fixture
def city_admin(world: World, history: History) -> Iterator[TestClient[Any]]:
    """The city administration, signed in; one app, so one figures cache, for the whole test."""
    with TestClient(create_app(world.settings)) as client:
        login(client, "cityadmin")
        yield client


def read_in(client: TestClient[Any], language: str, url: str) -> str:
    post(client, "/language", {"lang": language})
    page = client.get(url)
    assert page.status_code == 200, url
    assert f'<html lang="{language}">' in page.text
    return page.text


def test_figures_computed_in_tatar_read_in_russian_and_english_hold_no_tatar(
    city_admin: TestClient[Any],
) -> None:
    # Tatar computes first; the other languages read what it cached.
    tatar = read_in(city_admin, "tt", f"/admin?{MARCH}")
    assert "Company " not in tatar and "Оешма " in tatar
    for language in ("ru", "en"):
        for url in (f"/admin?{MARCH}", f"/stats?{MARCH}"):
            text = visible_text(read_in(city_admin, language, url))
            assert foreign_words(text, language) == [], (language, url)
            assert not TATAR_LETTERS.search(text), (language, url)
            assert "Оешма" not in text and "Төркем" not in text, (language, url)


@pytest.mark.parametrize("url", [f"/admin?{MARCH}", f"/stats?{MARCH}", "/stats"])
def test_english_dashboard_and_public_figures_have_no_russian(
    city_admin: TestClient[Any], url: str
) -> None:
    html = read_in(city_admin, "en", url)
    assert foreign_words(visible_text(html), "en") == []
    assert "Zainsk" in html
    if "from=" in url:
        # Dates by name, decimals with a point.
        assert "1 Mar 2026" in html and "19 Mar 2026" in html
        assert "01.03.2026" not in html
        assert re.search(r'class="kpi-value"[^>]*>4\.0<', html)


def test_russian_figures_keep_russian_dates_numbers_and_names(
    city_admin: TestClient[Any],
) -> None:
    html = read_in(city_admin, "ru", f"/admin?{MARCH}")
    assert "Заявки, поданные с 01.03.2026 по 19.03.2026" in html
    assert re.search(r'class="kpi-value"[^>]*>4,0<', html)
    assert "ООО «УК Заинск-Сервис»" in html and "Company " not in html
    assert not TATAR_LETTERS.search(visible_text(html))


def test_tatar_pages_name_the_town_and_organisations_in_tatar(
    world: World, history: History
) -> None:
    with TestClient(create_app(world.settings)) as client:
        html = read_in(client, "tt", f"/stats?{MARCH}")
        assert "Зәй" in html and "Оешма " in html
        assert "Заинск" not in visible_text(html)


def test_a_name_left_blank_falls_back_to_russian(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        html = read_in(client, "en", "/stats")
        assert "ООО «УК Заинск-Сервис»" in html  # nobody gave it an English name


def test_sysadmin_gives_an_organisation_its_english_name(world: World) -> None:
    org_id = world.orgs["uk1"]
    with TestClient(create_app(world.settings)) as client:
        login(client, "sysadmin")
        form = client.get(f"/sysadmin/organisations/{org_id}").text
        assert 'name="name_en"' in form and 'name="short_name_tt"' in form
        answer = post(
            client,
            f"/sysadmin/organisations/{org_id}",
            {
                "kind": "uk",
                "name": "ООО «УК Заинск-Сервис»",
                "short_name": "УК Заинск-Сервис",
                "name_en": "Zainsk-Service Management Co",
                "short_name_en": "Zainsk-Service",
                "name_tt": "",
                "short_name_tt": "",
            },
        )
        assert answer.status_code in (200, 303), answer.text
        too_long = post(
            client,
            f"/sysadmin/organisations/{org_id}",
            {"kind": "uk", "name": "ООО «УК Заинск-Сервис»", "name_en": "x" * 201},
        )
        assert too_long.status_code == 422
        assert "Не длиннее 200 знаков." in too_long.text
        english = read_in(client, "en", "/stats")
        assert "Zainsk-Service Management Co" in english
        assert "Zainsk-Service Management Co" not in read_in(client, "ru", "/stats")


JS_FILES = [ROOT / "web/static/js/push.js", ROOT / "service_worker/sw.js"]


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: Path(p).name)
def test_javascript_holds_no_russian_texts(path: Path) -> None:
    code = path.read_text(encoding="utf-8")
    # Comments may quote a Russian text; the code itself says nothing of its own.
    without_comments = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)
    assert not CYRILLIC.search(without_comments)


def push_messages(html: str) -> dict[str, str]:
    match = re.search(
        r"<script type=\"application/json\" data-push-messages>(.*?)</script>", html, re.S
    )
    assert match
    return dict(json.loads(match.group(1)))


def worker_messages(script: str) -> dict[str, str]:
    match = re.search(r"const MESSAGES = (\{.*?\});", script, re.S)
    assert match
    return dict(json.loads(match.group(1)))


def test_push_and_service_worker_messages_are_served_in_each_language(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        seen: dict[str, tuple[dict[str, str], dict[str, str], str]] = {}
        for language in ("ru", "tt", "en"):
            page = read_in(client, language, "/profile")
            script = client.get("/sw.js")
            version = re.search(r'const VERSION = "([0-9a-f]+)";', script.text)
            assert version
            seen[language] = (push_messages(page), worker_messages(script.text), version[1])
    ru, tt, en = seen["ru"], seen["tt"], seen["en"]
    assert ru[0]["on"] == "Уведомления включены на этом устройстве."
    assert en[0]["on"] == "Notifications are on for this device."
    assert TATAR_LETTERS.search(tt[0]["working"] + tt[0]["off"])
    assert set(ru[0]) == set(tt[0]) == set(en[0])
    assert all(value and not CYRILLIC.search(value) for value in en[0].values())
    assert ru[1]["offline"].startswith("Нет связи") and en[1]["offline"].startswith("No internet")
    assert en[1]["lang"] == "en" and all(not CYRILLIC.search(v) for v in en[1].values())
    # Another language is another worker: the browser installs it and re-caches the shell.
    assert len({ru[2], tt[2], en[2]}) == 3


@pytest.mark.parametrize(
    ("accept", "fragment"),
    [
        (None, "Нужен действующий ключ"),
        ("en-GB,en;q=0.9", "valid key"),
        ("tt-RU, ru;q=0.5", "ачкыч"),
        ("de-DE, fr;q=0.8", "Нужен действующий ключ"),
    ],
    ids=["none", "english", "tatar", "unknown"],
)
def test_api_errors_speak_the_callers_language_and_keep_their_code(
    world: World, accept: str | None, fragment: str
) -> None:
    headers = {
        "Authorization": "Bearer nonsense",
        **({"Accept-Language": accept} if accept else {}),
    }
    with TestClient(create_app(world.settings)) as client:
        answer = client.get("/api/v1/requests", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthorized"
    assert fragment in answer.json()["detail"]


def test_open311_errors_speak_the_callers_language(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        english = client.get("/open311/v2/requests/999999.json", headers={"Accept-Language": "en"})
        russian = client.get("/open311/v2/requests/999999.json")
    assert english.status_code == russian.status_code == 404
    assert english.json()[0]["code"] == russian.json()[0]["code"] == 404
    assert english.json()[0]["description"] == "Request 999999 not found."
    assert russian.json()[0]["description"] == "Заявка 999999 не найдена."


def test_open311_names_services_in_the_callers_language(world: World, history: History) -> None:
    with TestClient(create_app(world.settings)) as client:
        english = client.get("/open311/v2/services.json", headers={"Accept-Language": "en"})
        russian = client.get("/open311/v2/services.json")
    assert english.status_code == russian.status_code == 200
    assert all(s["service_name"].startswith("Kind ") for s in english.json())
    assert not any(s["service_name"].startswith("Kind ") for s in russian.json())
    assert [s["service_code"] for s in english.json()] == [
        s["service_code"] for s in russian.json()
    ]


def test_the_demo_town_names_every_organisation_and_category_in_every_language() -> None:
    assert set(ORGANISATION_NAMES) == {o[0] for o in ORGANISATIONS}
    assert set(CATEGORY_NAMES) == {c[0] for c in CATEGORIES}
    english = [n[1] for n in ORGANISATION_NAMES.values()] + [
        n[3] for n in ORGANISATION_NAMES.values()
    ]
    english += [n[1] for n in CATEGORY_NAMES.values()]
    assert all(name and not CYRILLIC.search(name) for name in english)
    assert all(all(names) for names in [*ORGANISATION_NAMES.values(), *CATEGORY_NAMES.values()])


def test_sysadmin_gives_a_category_its_tatar_name_and_the_filing_form_shows_it(
    world: World,
) -> None:
    category_id = world.categories["window"]
    with TestClient(create_app(world.settings)) as client:
        login(client, "sysadmin")
        post(client, "/language", {"lang": "ru"})
        form = {
            "name": "Разбито окно в подъезде",
            "name_tt": "Подъездда тәрәзә ватылган",
            "name_en": "",
            "code": "window",
            "priority": "normal",
            "deadline_value": "1",
            "deadline_unit": "day",
            "summer_deadline_value": "3",
            "summer_deadline_unit": "day",
            "handler": "manager",
            "active": "1",
            "sort": "2",
        }
        assert post(client, f"/sysadmin/categories/{category_id}", form).status_code == 303
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        tatar = read_in(client, "tt", "/requests/new")
        english = read_in(client, "en", "/requests/new")
    assert "Подъездда тәрәзә ватылган" in tatar
    assert "Подъездда тәрәзә ватылган" not in english and "Разбито окно в подъезде" in english

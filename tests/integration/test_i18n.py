"""Tatar and English: pages, labels and dates follow the choice; the catalogues are complete."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from litestar.testing import TestClient

from server import i18n
from server.app import create_app
from server.i18n import TRANSLATIONS_DIR
from server.requests.deadlines import TOWN_TZ
from tests.http import login, post
from tests.world import World

# What a person sees, written out by hand: a catalogue that loses these fails the test.
SEEN = {
    "en": {
        "sign_in_title": "<title>Sign in — ",
        "sign_in_button": ">Sign in</button>",
        "wrong_password": "Wrong login or password.",
        "my_requests_title": "<title>My requests — ",
        "new_request_link": ">New request</a>",
        "request_title": "<title>Request No. {n} — ",
        "new_badge": '<span class="badge badge-new">New</span>',
        "explanation": "Request received and passed to the managing organisation.",
        "flash": "Request No. {n} filed.",
    },
    "tt": {
        "sign_in_title": "<title>Керү — ",
        "sign_in_button": ">Керү</button>",
        "wrong_password": "Логин яки серсүз дөрес түгел.",
        "my_requests_title": "<title>Минем гаризаларым — ",
        "new_request_link": ">Яңа гариза</a>",
        "request_title": "<title>№{n} гариза — ",
        "new_badge": '<span class="badge badge-new">Яңа</span>',
        "explanation": "Гариза кабул ителде һәм хезмәт күрсәтүче оешмага тапшырылды.",
        "flash": "№{n} гариза бирелде.",
    },
}
RUSSIAN_ONLY = ("Мои заявки", "Новая заявка", "Войти", "Срок выполнения")


def choose_language(client: TestClient[Any], lang: str, page: str) -> None:
    response = post(
        client, "/language", {"lang": lang}, headers={"referer": f"http://testserver.local{page}"}
    )
    assert response.status_code == 303


def file_request(client: TestClient[Any], world: World) -> str:
    response = post(
        client,
        "/requests/new",
        {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "flat": "3",
            "description": "Течёт кран на кухне",
        },
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


@pytest.mark.parametrize("lang", ["en", "tt"])
def test_sign_in_page_and_its_error_are_in_the_chosen_language(world: World, lang: str) -> None:
    seen = SEEN[lang]
    with TestClient(create_app(world.settings)) as client:
        choose_language(client, lang, "/login")
        page = client.get("/login").text
        assert f'<html lang="{lang}">' in page
        assert seen["sign_in_title"] in page
        assert seen["sign_in_button"] in page
        assert "Войти" not in page

        refused = post(client, "/login", {"login": "resident", "password": "wrong-password"})
        assert refused.status_code == 422
        assert seen["wrong_password"] in refused.text


@pytest.mark.parametrize("lang", ["en", "tt"])
def test_resident_sees_requests_state_and_dates_in_the_chosen_language(
    world: World, lang: str
) -> None:
    seen = SEEN[lang]
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        choose_language(client, lang, "/requests")
        listing = client.get("/requests").text
        assert seen["my_requests_title"] in listing
        assert seen["new_request_link"] in listing

        url = file_request(client, world)
        page = client.get(url).text
        title = re.escape(seen["request_title"]).replace(re.escape("{n}"), r"([\d-]+)")
        number = re.search(title, page)
        assert number, "the page title names the request in the chosen language"
        assert seen["flash"].format(n=number.group(1)) in page
        assert seen["new_badge"] in page
        assert seen["explanation"] in page
        for russian in RUSSIAN_ONLY:
            assert russian not in page

        due = re.search(r'<time datetime="([^"]+)"[^>]*>([^<]+)</time>', page)
        assert due, "the request page shows its deadline"
        moment = datetime.fromisoformat(due.group(1))
        assert due.group(2) == format_datetime(
            moment, "d MMMM yyyy, HH:mm", tzinfo=TOWN_TZ, locale=lang
        )
        assert due.group(2) != format_datetime(
            moment, "d MMMM yyyy, HH:mm", tzinfo=TOWN_TZ, locale="ru"
        )

        # The htmx fragment of the same page, which live updates swap in, speaks it too.
        fragment = client.get(url, headers={"HX-Request": "true"}).text
        assert seen["new_badge"] in fragment
        assert "<title>" not in fragment


def test_month_names_in_dates_follow_the_language() -> None:
    moment = datetime(2026, 3, 5, 11, 7, tzinfo=TOWN_TZ)
    shown = {}
    for lang in ("ru", "tt", "en"):
        i18n.set_locale(lang)
        shown[lang] = i18n.local_time(moment)
    i18n.set_locale(i18n.DEFAULT_LOCALE)
    assert shown == {
        "ru": "5 марта 2026, 11:07",
        "tt": "5 март 2026, 11:07",
        "en": "5 March 2026, 11:07",
    }


# ---------------------------------------------------------------------------------------------
# The catalogues themselves

PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def _catalogue(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("lang", ["en", "tt"])
def test_every_message_has_a_translation_with_the_same_placeholders(lang: str) -> None:
    template = _catalogue(TRANSLATIONS_DIR / "messages.pot")
    catalogue = _catalogue(TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po")
    problems: list[str] = []
    ids = [m.id for m in template if m.id]
    assert len(ids) > 500, "messages.pot holds the extracted texts"
    for msgid in ids:
        message = catalogue.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        sources = list(msgid) if isinstance(msgid, tuple) else [msgid]
        strings = list(message.string) if isinstance(message.string, tuple) else [message.string]
        for i, text in enumerate(strings):
            if not text.strip():
                problems.append(f"empty: {msgid!r}")
                continue
            source = sources[min(i, len(sources) - 1)]
            if _placeholders(text) != _placeholders(source):
                problems.append(f"placeholders differ: {source!r} -> {text!r}")
    assert not problems, "\n".join(problems)


def test_messages_pot_holds_every_text_of_the_code() -> None:
    """A text added to the code without `make messages` would silently stay Russian."""
    root = TRANSLATIONS_DIR.parent.parent
    with (root / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "gettext_lazy": None}
    in_code = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(root), method_map, options_map, keywords=keywords
        )
    }
    in_pot = {m.id for m in _catalogue(TRANSLATIONS_DIR / "messages.pot") if m.id}
    missing = sorted(map(str, in_code - in_pot))
    assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)

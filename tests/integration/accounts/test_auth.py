"""Signing in, registering, signing out."""

from __future__ import annotations

from litestar.testing import TestClient

from server.app import create_app
from tests.http import login, post
from tests.world import World


def test_sign_in_issues_a_new_session_id(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        client.cookies.set("zayavka_session", "a" * 64, domain="testserver.local")
        client.get("/login")  # an id planted by someone else is in the browser
        login(client, "resident")
        assert [c.value for c in client.cookies.jar if c.name == "zayavka_session"] != ["a" * 64]
        assert "a" * 64 not in {c.value for c in client.cookies.jar}
        assert client.get("/requests").status_code == 200
    with TestClient(create_app(world.settings)) as attacker:
        attacker.cookies.set("zayavka_session", "a" * 64)
        assert attacker.get("/requests", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_in_russian(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = post(client, "/login", {"login": "resident", "password": "wrong-password"})
        assert response.status_code == 422
        assert "Неверный логин или пароль" in response.text
        assert client.get("/requests", follow_redirects=False).status_code == 303


def test_resident_registers_with_phone_and_signs_in_by_phone(world: World) -> None:
    app = create_app(world.settings)
    with TestClient(app) as client:
        response = post(
            client,
            "/register",
            {"phone": "8 917 555-44-33", "name": "Айгуль", "password": "secret-pass"},
        )
        assert response.status_code == 303
        assert client.get("/requests/new").status_code == 200
        post(client, "/logout")
        assert client.get("/requests", follow_redirects=False).status_code == 303
        login(client, "+7 917 555 44 33", "secret-pass")
        assert "Айгуль" in client.get("/profile").text


def test_registration_errors_are_shown_next_to_fields(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = post(client, "/register", {"phone": "123", "name": "", "password": "short"})
        assert response.status_code == 422
        assert "Укажите номер телефона" in response.text
        assert "Укажите имя" in response.text
        assert "не короче 8 символов" in response.text
        taken = post(
            client, "/register", {"phone": "+79170000001", "name": "X", "password": "long-enough"}
        )
        assert taken.status_code == 422
        assert "уже зарегистрирован" in taken.text


def test_caller_filed_by_phone_can_claim_the_account(world: World) -> None:
    app = create_app(world.settings)
    with TestClient(app) as operator:
        login(operator, "operator")
        response = post(
            operator,
            "/operator/new",
            {
                "caller_phone": "+7 917 222-11-00",
                "caller_name": "Рустам",
                "building_id": world.buildings["sovet7"],
                "category_id": world.categories["lift"],
                "description": "Лифт не едет",
            },
        )
        assert response.status_code == 303
    with TestClient(app) as caller:
        response = post(
            caller,
            "/register",
            {"phone": "89172221100", "name": "Рустам Х.", "password": "my-password"},
        )
        assert response.status_code == 303
        assert "Не работает лифт" in caller.get("/requests").text


def test_form_without_csrf_token_is_refused(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        client.get("/login")
        response = client.post("/login", data={"login": "resident", "password": "password123"})
        assert response.status_code == 403
        assert "Страница устарела" in response.text


def test_password_guessing_is_slowed_down(world: World) -> None:
    from dataclasses import replace

    with TestClient(create_app(replace(world.settings, login_attempts_per_minute=3))) as client:
        codes = [
            post(client, "/login", {"login": "resident", "password": f"guess-{i}"}).status_code
            for i in range(5)
        ]
        assert codes[:3] == [422, 422, 422]
        assert codes[3:] == [429, 429]
        assert "Слишком много попыток" in post(client, "/login", {"login": "x"}).text


def test_language_choice_is_remembered(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        response = post(
            client,
            "/language",
            {"lang": "en"},
            headers={"referer": "http://testserver.local/requests"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/requests"
        assert '<html lang="en">' in client.get("/requests").text
        post(client, "/language", {"lang": "xx"})
        assert '<html lang="ru">' in client.get("/requests").text


def test_language_picked_before_sign_in_is_kept(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        post(client, "/language", {"lang": "en"})
        login(client, "resident")
        assert '<html lang="en">' in client.get("/requests").text


def test_a_password_with_blanks_around_it_works_exactly_as_typed(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        registered = post(
            client,
            "/register",
            {"phone": "8 917 555-00-11", "name": "Лейла", "password": "  sea breeze  "},
        )
        assert registered.status_code == 303
        post(client, "/logout")
        refused = post(client, "/login", {"login": "89175550011", "password": "sea breeze"})
        assert refused.status_code == 422
        login(client, "89175550011", "  sea breeze  ")


def test_sign_in_with_control_characters_is_an_ordinary_refusal(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = post(
            client, "/login", {"login": "resident\x00", "password": "password123", "next": "/x"}
        )
        assert response.status_code == 422
        assert "Неверный логин или пароль" in response.text


def test_registration_name_with_control_characters_is_refused_beside_the_field(
    world: World,
) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = post(
            client,
            "/register",
            {"phone": "+7 917 555-00-12", "name": "Бот\x07", "password": "long-enough"},
        )
        assert response.status_code == 422
        assert "Текст содержит недопустимые символы." in response.text


def test_registration_refuses_common_and_personal_passwords_beside_the_field(
    world: World,
) -> None:
    with TestClient(create_app(world.settings)) as client:
        for password, why in [
            ("password", "слишком распространён"),
            ("qwerty123", "слишком распространён"),
            ("Пароль2024", "слишком распространён"),
            ("89175554433", "не должен совпадать"),
        ]:
            response = post(
                client,
                "/register",
                {"phone": "8 917 555-44-33", "name": "Айгуль", "password": password},
            )
            assert response.status_code == 422, password
            assert why in response.text, password
            assert 'aria-invalid="true"' in response.text or "field-error" in response.text
        accepted = post(
            client,
            "/register",
            {"phone": "8 917 555-44-33", "name": "Айгуль", "password": "кот на крыше 7"},
        )
        assert accepted.status_code == 303

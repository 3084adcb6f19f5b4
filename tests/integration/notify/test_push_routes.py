"""The profile's push controls: who may subscribe, see and remove which devices."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.testing import TestClient
from sqlalchemy import select

from server.app import create_app
from server.db.models import PushSubscription, User
from server.db.session import Database
from server.notify import push_keys, subscriptions
from server.shared.errors import InvalidInput
from tests.conftest import run_async
from tests.http import people, post
from tests.integration.notify.test_push_delivery import push_settings
from tests.push_service import FakeBrowser, b64d
from tests.world import World

ROOT = Path(__file__).resolve().parents[3]


def browser(name: str) -> FakeBrowser:
    return FakeBrowser(name, f"https://push.example.net/send/{name}")


def send_json(client: TestClient[Any], url: str, body: Any) -> Any:
    return client.post(
        url,
        json=body,
        headers={"x-csrftoken": client.cookies["zayavka_csrf"]},
        follow_redirects=False,
    )


def stored(settings: Any) -> list[tuple[str, str]]:
    async def load() -> list[tuple[str, str]]:
        db = Database(settings.database_url)
        try:
            async with db.read() as session:
                rows = await session.execute(
                    select(PushSubscription.endpoint, User.login)
                    .join(User, User.id == PushSubscription.user_id)
                    .order_by(PushSubscription.id)
                )
                return [(endpoint, login) for endpoint, login in rows]
        finally:
            await db.dispose()

    return run_async(load)


def test_the_page_gets_the_public_key_as_an_uncompressed_point(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with people(create_app(settings), "resident") as clients:
        answer = clients["resident"].get("/push/key").json()
    assert answer == {"enabled": True, "publicKey": settings.vapid_public_key}
    point = b64d(answer["publicKey"])
    assert len(point) == 65 and point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def test_strangers_get_neither_the_key_nor_a_subscription(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/push/key", follow_redirects=False).status_code in (302, 303, 401)
        client.get("/login")
        response = send_json(client, "/push/subscriptions", browser("x").subscription())
        assert response.status_code in (302, 303, 401)
    assert stored(settings) == []


def test_subscribe_status_and_unsubscribe_for_this_device(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    phone = browser("phone")
    with people(create_app(settings), "resident") as clients:
        client = clients["resident"]
        endpoint = {"endpoint": phone.endpoint}
        assert send_json(client, "/push/status", endpoint).json() == {"known": False, "id": None}
        created = send_json(client, "/push/subscriptions", phone.subscription())
        assert created.status_code == 201
        device_id = created.json()["id"]
        assert send_json(client, "/push/status", endpoint).json() == {
            "known": True,
            "id": device_id,
        }
        # Subscribing again (the page re-sends it) keeps one device.
        assert send_json(client, "/push/subscriptions", phone.subscription()).json()["id"] == (
            device_id
        )
        assert stored(settings) == [(phone.endpoint, "resident")]
        assert send_json(client, "/push/unsubscribe", endpoint).json() == {"removed": True}
        assert stored(settings) == []


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "ftp://push.example.net/x"},
        {"endpoint": ""},
        {"keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
        {"keys": {"auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
        {"keys": "nonsense"},
    ],
)
def test_a_broken_subscription_is_refused(world: World, change: dict[str, Any]) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with people(create_app(settings), "resident") as clients:
        response = send_json(
            clients["resident"], "/push/subscriptions", {**browser("x").subscription(), **change}
        )
    assert response.status_code == 422
    assert response.json()["message"]
    assert stored(settings) == []


def test_production_accepts_only_public_https_push_services() -> None:
    good = browser("x").subscription()
    assert subscriptions.parse(good, production=True).endpoint == good["endpoint"]
    for endpoint in (
        "http://push.example.net/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://[::1]/x",
        "http://127.0.0.1:9999/x",
    ):
        with pytest.raises(InvalidInput):
            subscriptions.parse({**good, "endpoint": endpoint}, production=True)
    # A local push service is fine while developing (and in these tests).
    local = {**good, "endpoint": "http://127.0.0.1:9999/x"}
    assert subscriptions.parse(local, production=False)


def test_a_shared_browser_belongs_to_whoever_subscribed_last(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    shared = browser("shared")
    with people(create_app(settings), "resident", "resident2") as clients:
        send_json(clients["resident"], "/push/subscriptions", shared.subscription())
        send_json(clients["resident2"], "/push/subscriptions", shared.subscription())
        assert stored(settings) == [(shared.endpoint, "resident2")]
        # The first person can no longer remove or query it.
        gone = send_json(clients["resident"], "/push/unsubscribe", {"endpoint": shared.endpoint})
        assert gone.json() == {"removed": False}
    assert stored(settings) == [(shared.endpoint, "resident2")]


def test_people_see_and_remove_only_their_own_devices(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with people(create_app(settings), "dispatcher", "dispatcher2") as clients:
        mine = send_json(
            clients["dispatcher"], "/push/subscriptions", browser("mine").subscription()
        ).json()["id"]
        send_json(clients["dispatcher2"], "/push/subscriptions", browser("theirs").subscription())

        listing = clients["dispatcher"].get("/push/devices")
        assert listing.status_code == 200
        assert f'data-device-id="{mine}"' in listing.text
        assert listing.text.count("data-device-id=") == 1
        other = clients["dispatcher2"].get("/push/devices").text
        assert f'data-device-id="{mine}"' not in other

        # A dispatcher of another organisation cannot remove it.
        refused = post(clients["dispatcher2"], f"/push/devices/{mine}/delete")
        assert refused.status_code == 404
        assert len(stored(settings)) == 2

        removed = post(clients["dispatcher"], f"/push/devices/{mine}/delete")
        assert removed.status_code == 200
        assert "push-device-removed" in removed.headers["hx-trigger"]
        assert "data-device-id=" not in removed.text
    assert [login for _, login in stored(settings)] == ["dispatcher2"]


def test_only_dispatchers_have_the_new_work_switch(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with people(create_app(settings), "resident", "dispatcher", "worker") as clients:
        for name in ("resident", "worker"):
            profile = clients[name].get("/profile").text
            assert 'name="notify_new_requests"' not in profile
            refused = post(clients[name], "/push/settings", {"notify_new_requests": "1"})
            assert refused.status_code == 403
        profile = clients["dispatcher"].get("/profile").text
        assert 'name="notify_new_requests" value="1" checked' in profile
        response = post(clients["dispatcher"], "/push/settings", {})
        assert response.status_code == 303
        assert 'value="1" checked' not in clients["dispatcher"].get("/profile").text
        post(clients["dispatcher"], "/push/settings", {"notify_new_requests": "1"})
        assert 'value="1" checked' in clients["dispatcher"].get("/profile").text


def test_profile_offers_the_button_and_asks_nothing_by_itself(world: World) -> None:
    settings = push_settings(world, push_worker_in_process=False)
    with people(create_app(settings), "resident") as clients:
        profile = clients["resident"].get("/profile").text
    assert "Включить уведомления" in profile
    assert "data-push-enable" in profile
    assert '<script src="/static/js/push.js" defer></script>' in profile
    script = (ROOT / "web/static/js/push.js").read_text()
    # The permission prompt lives only in the click handler.
    assert script.count("Notification.requestPermission") == 1
    assert script.index("Notification.requestPermission") > script.index("function enable()")
    assert script.index("Notification.requestPermission") < script.index("function disable()")


# ---------------------------------------------------------------------------------------------
# Keys


def test_vapid_keys_command_prints_a_matching_pair() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "server", "vapid-keys"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    ).stdout
    lines = dict(
        line.split("=", 1) for line in output.splitlines() if line and not line.startswith("#")
    )
    private = b64d(lines["VAPID_PRIVATE_KEY"])
    assert len(private) == 32
    key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert b64d(lines["VAPID_PUBLIC_KEY"]) == point
    assert lines["VAPID_SUBJECT"].startswith("mailto:")


def test_local_runs_generate_keys_once_and_keep_them(world: World, tmp_path: Path) -> None:
    settings = dataclasses.replace(world.settings, vapid_private_key=None, vapid_public_key=None)
    first = push_keys.load_keys(settings, var_dir=tmp_path)
    assert first is not None
    assert (tmp_path / "vapid_private_key").stat().st_mode & 0o777 == 0o600
    push_keys._cache.clear()  # as after a restart
    assert push_keys.load_keys(settings, var_dir=tmp_path) == first


def test_production_without_keys_has_push_off(world: World, tmp_path: Path) -> None:
    settings = dataclasses.replace(
        world.settings, production=True, vapid_private_key=None, vapid_public_key=None
    )
    assert push_keys.load_keys(settings, var_dir=tmp_path) is None
    assert not (tmp_path / "vapid_private_key").exists()


def test_a_public_key_that_does_not_match_is_replaced_by_the_right_one(world: World) -> None:
    right, wrong = push_keys.generate(), push_keys.generate()
    settings = dataclasses.replace(
        world.settings, vapid_private_key=right.private_key, vapid_public_key=wrong.public_key
    )
    assert push_keys.load_keys(settings) == right

"""One problem, several requests: the open requests shown while filing, following one, and a
dispatcher marking a request as the duplicate of another — who sees what, who is told."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from server.accounts.people import hash_password
from server.app import create_app
from server.db.models import (
    OutboxMessage,
    PushSubscription,
    Request,
    RequestFollower,
    TimelineEntry,
    User,
    utcnow,
)
from server.db.session import Database
from server.live.bus import EventBus
from server.oversight import figures
from server.oversight.periods import Period, Scope, town_today
from server.requests.duplicates import SIMILAR_WINDOW
from server.requests.workflow import State
from server.shared.roles import Role
from server.shared.services import Services
from tests.conftest import run_async
from tests.http import post, version_of
from tests.live_client import Users, hello, last_entry, receive_until
from tests.world import PASSWORD, World

ORIGIN = {"origin": "http://testserver.local"}
# What the resident who filed writes about themself: none of it may reach anyone else.
PERSONAL = "Иванов Пётр Сергеевич, телефон 89171234567"
FLAT = "117"
NAME = "Иванов Пётр Сергеевич"


async def _prepare(world: World) -> None:
    """A third resident, every resident with a phone subscribed to push, and the filer's name."""
    db = Database(world.settings.database_url)
    try:
        async with db.begin() as session:
            third = User(
                login="resident3",
                name="Сафина Гульнара",
                role=Role.RESIDENT,
                password_hash=hash_password(PASSWORD),
                phone="+79170000003",
            )
            session.add(third)
            await session.flush()
            world.users["resident3"] = third.id
            await session.execute(
                update(User).where(User.id == world.users["resident"]).values(name=NAME)
            )
            for login in ("resident", "resident2", "resident3", "dispatcher"):
                session.add(
                    PushSubscription(
                        user_id=world.users[login],
                        endpoint=f"https://push.example/{login}",
                        p256dh="key",
                        auth="auth",
                    )
                )
    finally:
        await db.dispose()


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    run_async(_prepare, world)
    with TestClient(create_app(world.settings)) as client:
        yield Users(client)


def file(
    users: Users,
    world: World,
    who: str = "resident",
    building: str = "lenina12",
    category: str = "lift",
) -> int:
    response = post(
        users.use(who),
        "/requests/new",
        {
            "building_id": world.buildings[building],
            "category_id": world.categories[category],
            "description": f"Лифт стоит. {PERSONAL}",
            "flat": FLAT,
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def act(users: Users, who: str, request_id: int, action: str, **data: Any) -> Any:
    client = users.use(who)
    version = version_of(client.get(f"/requests/{request_id}").text)
    return post(client, f"/requests/{request_id}/actions/{action}", {"version": version, **data})


def similar(users: Users, who: str, world: World, building: str, category: str) -> Any:
    return users.use(who).get(
        "/requests/similar",
        params={
            "building_id": world.buildings[building],
            "category_id": world.categories[category],
        },
    )


def listed(html: str) -> list[int]:
    return [
        int(n) for n in re.findall(r'class="similar-request[^"]*" data-request-id="(\d+)"', html)
    ]


async def _read(world: World, request_id: int) -> Request:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            request = await session.get(Request, request_id)
            assert request is not None
            return request
    finally:
        await db.dispose()


def number_of(world: World, request_id: int) -> str:
    number = run_async(_read, world, request_id).number
    assert number
    return number


async def _pushes(world: World) -> list[tuple[str, dict[str, Any]]]:
    """Every push row written so far: (whose device, payload), oldest first."""
    db = Database(world.settings.database_url)
    logins = {v: k for k, v in world.users.items()}
    try:
        async with db.read() as session:
            rows = await session.execute(
                select(PushSubscription.user_id, OutboxMessage.payload)
                .join(PushSubscription, PushSubscription.id == OutboxMessage.target_id)
                .where(OutboxMessage.channel == "push")
                .order_by(OutboxMessage.id)
            )
            return [(logins[user_id], payload) for user_id, payload in rows]
    finally:
        await db.dispose()


def pushes_since(world: World, before: int) -> list[tuple[str, dict[str, Any]]]:
    return run_async(_pushes, world)[before:]


def push_count(world: World) -> int:
    return len(run_async(_pushes, world))


async def _scalars(world: World, query: Any) -> list[Any]:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            return list(await session.scalars(query))
    finally:
        await db.dispose()


def followers(world: World, request_id: int) -> set[int]:
    query = select(RequestFollower.user_id).where(RequestFollower.request_id == request_id)
    return set(run_async(_scalars, world, query))


def entries(world: World, request_id: int) -> list[str]:
    query = (
        select(TimelineEntry.kind)
        .where(TimelineEntry.request_id == request_id)
        .order_by(TimelineEntry.id)
    )
    return list(run_async(_scalars, world, query))


async def _set(world: World, request_id: int, values: dict[str, Any]) -> None:
    db = Database(world.settings.database_url)
    try:
        async with db.begin() as session:
            await session.execute(update(Request).where(Request.id == request_id).values(**values))
    finally:
        await db.dispose()


def assert_nothing_personal(html: str) -> None:
    assert NAME not in html
    assert "89171234567" not in html and "+79170000001" not in html
    assert FLAT not in html
    assert "Лифт стоит" not in html


# --------------------------------------------------------------------------------------------
# The filing form


def test_the_form_lists_open_requests_of_that_building_and_category_without_personal_data(
    users: Users, world: World
) -> None:
    shown = file(users, world)
    declined = file(users, world)
    old = file(users, world)
    other_category = file(users, world, category="window")
    other_building = file(users, world, building="mira3")
    # Cold water in the same house is the water company's, another organisation: still the
    # building's problem, so still listed.
    water = file(users, world, category="water")
    assert act(users, "dispatcher", declined, "decline", reason="Не наш дом").status_code == 303
    run_async(_set, world, old, {"created_at": utcnow() - SIMILAR_WINDOW - timedelta(hours=1)})

    response = similar(users, "resident2", world, "lenina12", "lift")
    assert response.status_code == 200
    assert listed(response.text) == [shown]
    html = response.text
    assert f"№{number_of(world, shown)}, Не работает лифт, подана " in html
    assert "назад, новая" in html
    assert "Следить за этой заявкой" in html
    assert_nothing_personal(html)
    assert listed(similar(users, "resident2", world, "lenina12", "water").text) == [water]
    assert listed(similar(users, "resident2", world, "lenina12", "window").text) == [other_category]
    assert listed(similar(users, "resident2", world, "mira3", "lift").text) == [other_building]

    # The resident's own request is theirs, not one to follow.
    own = similar(users, "resident", world, "lenina12", "lift").text
    assert "Это ваша заявка" in own and "Следить за этой заявкой" not in own

    # The operator filing for a caller sees the same list, with nothing to follow for them.
    operator = similar(users, "operator", world, "lenina12", "lift")
    assert operator.status_code == 200 and listed(operator.text) == [shown]
    assert "Следить за этой заявкой" not in operator.text
    assert_nothing_personal(operator.text)
    assert 'hx-get="/requests/similar"' in users.use("operator").get("/operator/new").text

    # Nothing chosen yet, or nonsense: nothing listed, never an error.
    client = users.use("resident2")
    assert listed(client.get("/requests/similar").text) == []
    assert client.get("/requests/similar?building_id=x&category_id=99999999999").status_code == 200

    # The form itself asks for the list.
    form = client.get("/requests/new").text
    assert 'hx-get="/requests/similar"' in form


def test_the_list_is_for_those_who_file_only(users: Users, world: World) -> None:
    file(users, world)
    for outsider in ("dispatcher", "dispatcher2", "contractor", "worker", "cityadmin"):
        response = similar(users, outsider, world, "lenina12", "lift")
        assert response.status_code == 403, outsider
    response = users.use(None).get("/requests/similar", follow_redirects=False)
    assert response.status_code in (302, 303, 401), response.status_code


# --------------------------------------------------------------------------------------------
# Following


def test_a_follower_sees_the_page_and_is_told_without_the_residents_personal_data(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    assert users.use("resident2").get(f"/requests/{request_id}").status_code == 404
    response = post(users.use("resident2"), f"/requests/{request_id}/follow")
    assert response.status_code == 303
    assert response.headers["location"] == f"/requests/{request_id}"
    assert followers(world, request_id) == {world.users["resident2"]}

    page = users.use("resident2").get(f"/requests/{request_id}")
    assert page.status_code == 200
    assert "Не работает лифт" in page.text and "улица Ленина, 12" in page.text
    assert "Не следить" in page.text
    assert_nothing_personal(page.text)
    assert 'action="/requests/' + str(request_id) + "/actions/" not in page.text

    # The owner does not see who follows.
    owner = users.use("resident").get(f"/requests/{request_id}").text
    assert "Не следить" not in owner and "resident2" not in owner
    assert FLAT in owner

    # Their list shows it apart from their own requests.
    mine = users.use("resident2").get("/requests").text
    followed = mine[mine.index('id="followed-requests"') :]
    assert f'href="/requests/{request_id}"' in followed
    assert f'href="/requests/{request_id}"' not in mine[: mine.index('id="followed-requests"')]

    # A change of state reaches the follower's phone, without the flat or any text.
    before = push_count(world)
    act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
    told = pushes_since(world, before)
    whom = sorted(login for login, _ in told)
    assert whom == ["resident", "resident2"], told
    follower = next(p for login, p in told if login == "resident2")
    assert follower["reason"] == "followed"
    assert follower["url"] == f"/requests/{request_id}"
    assert FLAT not in follower["body"] and FLAT not in follower["title"]
    assert "Назначена" in follower["title"]

    # A comment is not a change of state: the follower is not told.
    before = push_count(world)
    act(users, "dispatcher", request_id, "comment", reason="Жителю кв. 117 позвонили")
    assert [login for login, _ in pushes_since(world, before)] == ["resident"]
    assert "позвонили" not in users.use("resident2").get(f"/requests/{request_id}").text

    # Stop following: the page is closed again and nothing more is sent.
    response = post(users.use("resident2"), f"/requests/{request_id}/unfollow")
    assert response.status_code == 303
    assert users.use("resident2").get(f"/requests/{request_id}").status_code == 404
    assert 'id="followed-requests"' not in users.use("resident2").get("/requests").text
    before = push_count(world)
    act(users, "dispatcher", request_id, "decline", reason="Ошибка")
    assert [login for login, _ in pushes_since(world, before)] == ["resident"]


def test_following_is_refused_where_it_makes_no_sense(users: Users, world: World) -> None:
    request_id = file(users, world)
    # One's own request.
    response = post(users.use("resident"), f"/requests/{request_id}/follow")
    assert response.status_code == 303
    assert followers(world, request_id) == set()
    # A finished one.
    done = file(users, world)
    act(users, "dispatcher", done, "decline", reason="Дубль")
    post(users.use("resident2"), f"/requests/{done}/follow")
    assert followers(world, done) == set()
    # One that does not exist, or is not followed.
    assert post(users.use("resident2"), "/requests/99999/follow").status_code == 404
    assert post(users.use("resident2"), f"/requests/{request_id}/unfollow").status_code == 404
    # Staff of any organisation, the operator and the administration do not follow.
    for outsider in ("dispatcher", "dispatcher2", "operator", "contractor", "cityadmin"):
        for route in ("follow", "unfollow"):
            response = post(users.use(outsider), f"/requests/{request_id}/{route}")
            assert response.status_code == 403, (outsider, route)
    # Without the CSRF token nothing happens.
    client = users.use("resident2")
    response = client.post(f"/requests/{request_id}/follow", follow_redirects=False)
    assert response.status_code == 403
    assert followers(world, request_id) == set()


def test_the_followers_live_page_is_their_own_and_closes_when_they_stop(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    post(users.use("resident2"), f"/requests/{request_id}/follow")
    post(users.use("resident3"), f"/requests/{request_id}/follow")
    path = f"/live/requests/{request_id}"
    opened = users.use("resident2").get(f"/requests/{request_id}").text
    follower = users.use("resident2").websocket_connect(path, headers=ORIGIN)
    owner_page = users.use("resident").get(f"/requests/{request_id}").text
    owner = users.use("resident").websocket_connect(path, headers=ORIGIN)
    with follower, owner:
        follower.send_text(hello(last_entry=last_entry(opened)))
        owner.send_text(hello(last_entry=last_entry(owner_page)))
        first, _ = receive_until(follower, lambda m: "request-state" in m)
        assert "Не следить" in first
        assert_nothing_personal(first)
        receive_until(owner, lambda m: "request-state" in m)
        act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
        theirs, _ = receive_until(follower, lambda m: "badge-assigned" in m)
        assert_nothing_personal(theirs)
        owners, _ = receive_until(owner, lambda m: "badge-assigned" in m)
        assert FLAT in owners and "Не следить" not in owners
    # Refused to whoever may not see it: a non-follower, the other organisation.
    for outsider in ("dispatcher2", "contractor2"):
        assert refused(users, outsider, path), outsider
    # Stopping closes the page they still have open, and it may not reconnect.
    with users.use("resident2").websocket_connect(path, headers=ORIGIN) as ws:
        ws.send_text(hello(last_entry=0))
        receive_until(ws, lambda m: "request-state" in m)
        post(users.use("resident2"), f"/requests/{request_id}/unfollow")
        gone, _ = receive_until(ws, lambda m: '"gone"' in m)
        assert "больше не доступна" in gone
    assert refused(users, "resident2", path)
    assert not refused(users, "resident3", path)


def refused(users: Users, who: str, path: str) -> bool:
    from litestar.exceptions import WebSocketDisconnect

    try:
        with users.use(who).websocket_connect(path, headers=ORIGIN) as ws:
            ws.send_text(hello(last_entry=0))
            ws.receive_text(timeout=2)
    except WebSocketDisconnect as exc:
        return exc.code == 4403
    return False


# --------------------------------------------------------------------------------------------
# Marking a duplicate


def _dashboard(world: World) -> figures.Figures:
    async def go() -> figures.Figures:
        db = Database(world.settings.database_url)
        try:
            svc = Services(settings=world.settings, db=db, bus=EventBus())
            today = town_today()
            period = Period.of_dates(today - timedelta(days=1), today)
            board = await figures.dashboard(svc, period, Scope(), now=utcnow())
            return board.total
        finally:
            await db.dispose()

    return run_async(go)


def test_a_duplicate_ends_apart_and_its_resident_follows_the_original(
    users: Users, world: World
) -> None:
    original = file(users, world)
    duplicate = file(users, world, who="resident2")
    number = number_of(world, original)
    board = users.use("dispatcher").get("/board").text
    assert f'id="row-{duplicate}"' in board

    before = push_count(world)
    response = act(users, "dispatcher", duplicate, "mark_duplicate", original_number=f"№{number}")
    assert response.status_code == 303, response.text

    stored = run_async(_read, world, duplicate)
    assert stored.state == State.DUPLICATE and stored.duplicate_of_id == original
    assert run_async(_read, world, original).state == State.NEW
    assert followers(world, original) == {world.users["resident2"]}
    # Its resident is told, on their own request, which request they now follow.
    told = pushes_since(world, before)
    assert [login for login, _ in told] == ["resident2"]
    assert told[0][1]["reason"] == "state" and number in told[0][1]["body"]
    page = users.use("resident2").get(f"/requests/{duplicate}").text
    assert "Отмечена как дубликат" in page and f'href="/requests/{original}"' in page
    assert "Вы следите за ней" in page
    # It has left the board, and the original is the follower's to watch.
    assert f'id="row-{duplicate}"' not in users.use("dispatcher").get("/board").text
    follower_view = users.use("resident2").get(f"/requests/{original}")
    assert follower_view.status_code == 200
    assert_nothing_personal(follower_view.text)
    # The original's resident sees nothing of it.
    owner = users.use("resident").get(f"/requests/{original}").text
    assert "дубликат" not in owner.lower() and "Сафина" not in owner

    # Later changes of the original reach the follower.
    before = push_count(world)
    act(users, "dispatcher", original, "assign", contractor_id=world.orgs["c1"])
    assert sorted(login for login, _ in pushes_since(world, before)) == ["resident", "resident2"]

    # Counted apart from fixed and declined.
    declined = file(users, world, who="resident3")
    act(users, "dispatcher", declined, "decline", reason="Не наш дом")
    total = _dashboard(world)
    assert (total.duplicates, total.declined, total.closed, total.open) == (1, 1, 0, 1)
    assert total.filed == 3


def test_the_same_residents_duplicate_needs_no_following(users: Users, world: World) -> None:
    original = file(users, world)
    again = file(users, world)
    # Whoever followed the duplicate follows the original from then on, and is told.
    post(users.use("resident3"), f"/requests/{again}/follow")
    before = push_count(world)
    act(users, "dispatcher", again, "mark_duplicate", original_number=number_of(world, original))
    assert run_async(_read, world, again).state == State.DUPLICATE
    assert followers(world, original) == {world.users["resident3"]}
    told = pushes_since(world, before)
    assert sorted((login, p["reason"]) for login, p in told) == [
        ("resident", "state"),
        ("resident3", "followed"),
    ]


def _refusal(users: Users, request_id: int, number: str) -> str:
    response = act(users, "dispatcher", request_id, "mark_duplicate", original_number=number)
    assert response.status_code == 422, response.status_code
    return response.text


def test_marking_refuses_itself_another_organisation_a_final_or_a_duplicate_request(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    other_org = file(users, world, building="sovet7")
    declined = file(users, world)
    act(users, "dispatcher", declined, "decline", reason="Не наш дом")
    first = file(users, world)
    marked = file(users, world)
    act(users, "dispatcher", marked, "mark_duplicate", original_number=number_of(world, first))
    cases = {
        number_of(world, request_id): "не может быть дубликатом самой себя",
        number_of(world, other_org): "другой организации",
        number_of(world, declined): "уже завершена",
        number_of(world, marked): "сама отмечена как дубликат",
        "2026-999999": "с таким номером не найдена",
        "": "с таким номером не найдена",
    }
    for number, message in cases.items():
        html = _refusal(users, request_id, number)
        assert message in html, (number, message)
        assert 'id="original-number"' in html, "the message stands beside the field"
    stored = run_async(_read, world, request_id)
    assert stored.state == State.NEW and stored.duplicate_of_id is None
    assert followers(world, request_id) == set()


def test_another_organisation_cannot_mark_nor_see_a_duplicate(users: Users, world: World) -> None:
    original = file(users, world)
    duplicate = file(users, world, who="resident2")
    number = number_of(world, original)
    for outsider in ("dispatcher2", "dispatcher_rso"):
        response = act_as_outsider(users, outsider, duplicate, number)
        assert response.status_code == 404, outsider
    # Nor the resident, the contractor or the operator.
    for stranger in ("resident", "resident2", "operator"):
        response = act_as_outsider(users, stranger, duplicate, number)
        assert response.status_code in (403, 404), stranger
    assert run_async(_read, world, duplicate).state == State.NEW
    act(users, "dispatcher", duplicate, "mark_duplicate", original_number=number)
    assert users.use("dispatcher2").get(f"/requests/{duplicate}").status_code == 404
    assert refused(users, "dispatcher2", f"/live/requests/{duplicate}")
    assert refused(users, "dispatcher2", f"/live/requests/{original}")


def act_as_outsider(users: Users, who: str, request_id: int, number: str) -> Any:
    """An action posted by someone who may not even open the page: version 1, as first read."""
    return post(
        users.use(who),
        f"/requests/{request_id}/actions/mark_duplicate",
        {"version": 1, "original_number": number},
    )


def test_marking_writes_one_entry_on_the_duplicate_and_none_on_the_original(
    users: Users, world: World
) -> None:
    original = file(users, world)
    duplicate = file(users, world, who="resident2")
    act(
        users, "dispatcher", duplicate, "mark_duplicate", original_number=number_of(world, original)
    )
    assert entries(world, duplicate) == ["file", "mark_duplicate"]
    assert entries(world, original) == ["file"]

"""The demo town: loaded once into an empty database, believable, and usable by every role."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import func, select

from server.accounts.routes import HOME_BY_ROLE
from server.app import create_app
from server.db.models import (
    ApiToken,
    Attachment,
    Building,
    Category,
    Organisation,
    Rating,
    Request,
    TimelineEntry,
    User,
    WorkOrder,
    utcnow,
)
from server.db.session import Database
from server.demo.loading import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from server.requests.deadlines import DeadlineRule, due_at
from server.requests.workflow import OPEN_WORK_STATES, State
from server.settings import Settings
from server.shared.roles import Role
from tests.conftest import run_async
from tests.http import login, post


async def _snapshot(settings: Settings) -> dict[str, Any]:
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            counts = {
                model.__tablename__: await session.scalar(select(func.count()).select_from(model))
                for model in (
                    Organisation,
                    Building,
                    Category,
                    User,
                    Request,
                    TimelineEntry,
                    WorkOrder,
                    Attachment,
                    Rating,
                    ApiToken,
                )
            }
            requests = list(await session.scalars(select(Request).order_by(Request.id)))
            categories = {c.id: c for c in await session.scalars(select(Category))}
            entries = list(await session.scalars(select(TimelineEntry).order_by(TimelineEntry.id)))
            attachments = list(await session.scalars(select(Attachment)))
            orders = list(await session.scalars(select(WorkOrder)))
            tokens = list(await session.scalars(select(ApiToken)))
            roles = {u.login: u.role for u in await session.scalars(select(User))}
    finally:
        await db.dispose()
    return {
        "counts": counts,
        "requests": requests,
        "categories": categories,
        "entries": entries,
        "attachments": attachments,
        "orders": orders,
        "tokens": tokens,
        "roles": roles,
    }


def test_demo_fills_an_empty_database_with_every_state_once(settings: Settings) -> None:
    assert run_async(load_demo, settings) is True
    town = run_async(_snapshot, settings)
    counts, requests = town["counts"], town["requests"]
    now = utcnow()

    assert counts["buildings"] >= 30
    assert counts["categories"] >= 15
    assert 35 <= counts["requests"] <= 45
    states = Counter(r.state for r in requests)
    assert set(states) == set(State), states
    triage = [r for r in requests if r.organisation_id is None]
    assert len(triage) >= 2 and all(r.state == State.NEW for r in triage)
    overdue = [r for r in requests if r.state in OPEN_WORK_STATES and r.due_at < now]
    assert 2 <= len(overdue) <= 10
    assert sum(r.source == "phone" for r in requests) >= 2
    assert states[State.CLOSED] > counts["ratings"] >= states[State.CLOSED] // 2

    # Spread over the last three weeks, in order of their numbers, each due on its deadline.
    assert min(r.created_at for r in requests) > now - timedelta(days=22)
    assert max(r.created_at for r in requests) > now - timedelta(days=1)
    assert [r.created_at for r in requests] == sorted(r.created_at for r in requests)
    for r in requests:
        category = town["categories"][r.category_id]
        rule = DeadlineRule(category.deadline_minutes, category.summer_deadline_minutes)
        assert r.due_at == due_at(r.created_at, rule), r.number
        assert r.number == f"{r.created_at.year}-{r.id:06d}"

    # Each timeline is what the services wrote, moved back in time without reordering.
    by_request: dict[int, list[TimelineEntry]] = {}
    for entry in town["entries"]:
        by_request.setdefault(entry.request_id, []).append(entry)
    for r in requests:
        timeline = by_request[r.id]
        assert timeline[0].kind == "file" and timeline[0].at == r.created_at
        assert [e.at for e in timeline] == sorted(e.at for e in timeline), r.number
        assert all(e.at < now for e in timeline)
        moves = [e for e in timeline if e.to_state and e.from_state != e.to_state]
        assert (moves[-1].to_state if moves else State.NEW) == r.state, r.number

    # Completed work carries signed photos: most with the QR code read, one flagged.
    signed = [a for a in town["attachments"] if a.kind == "signed_order"]
    assert sum(a.qr_status == "confirmed" for a in signed) >= 10
    assert [a.qr_status for a in signed].count("missing") == 1
    assert any(o.needs_check for o in town["orders"])
    assert any(a.kind == "photo" for a in town["attachments"])

    assert [t.token_hash for t in town["tokens"] if t.kind == "open311"] == [
        hashlib.sha256(b"demo-open311-key").hexdigest()
    ]
    assert set(DEMO_LOGINS) <= set(town["roles"])
    assert {town["roles"][login] for login in DEMO_LOGINS} == {r.value for r in Role} - {
        Role.SYSTEM
    }

    assert run_async(load_demo, settings) is False
    assert run_async(_snapshot, settings)["counts"] == counts


def test_demo_refuses_a_database_that_already_has_data(settings: Settings) -> None:
    async def add_organisation() -> None:
        db = Database(settings.database_url)
        try:
            async with db.begin() as session:
                session.add(Organisation(kind="uk", name="ООО «Своя УК»", short_name="Своя УК"))
        finally:
            await db.dispose()

    run_async(add_organisation)
    assert run_async(load_demo, settings) is False
    assert run_async(_snapshot, settings)["counts"]["requests"] == 0


def test_every_demo_login_signs_in_with_demo_and_sees_their_work(settings: Settings) -> None:
    run_async(load_demo, settings)
    roles = run_async(_snapshot, settings)["roles"]
    # Sign-in attempts are throttled per address: a fresh app (and limit) for every ten.
    batches = [DEMO_LOGINS[i : i + 10] for i in range(0, len(DEMO_LOGINS), 10)]
    for batch in batches:
        with TestClient(create_app(settings)) as client:
            _sign_in_each(client, batch, roles)


def _sign_in_each(client: TestClient[Any], logins: list[str], roles: dict[str, str]) -> None:
    for name in logins:
        login(client, name, DEMO_PASSWORD)
        role = Role(roles[name])
        homes = [HOME_BY_ROLE[role]]
        if role is Role.CITY_ADMIN:
            homes.append("/admin/triage")
        for home in homes:
            page = client.get(home)
            assert page.status_code == 200, (name, home, page.status_code)
            if name in ("resident", "dispatcher", "contractor", "worker", "admin"):
                numbers = set(re.findall(r"№(\d{4}-\d{6})", page.text))
                assert len(numbers) >= 2, (name, home)
        post(client, "/logout")

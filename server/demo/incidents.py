"""The demo town's outages: a burst main on проспект Нефтяников now (the main demo resident
lives at 7) and a planned heating shut-off on улица Ленина tomorrow, each with followers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from server.incidents import commands
from server.incidents.commands import Declaration, Scope
from server.shared.roles import Actor, Role
from server.shared.services import Services

if TYPE_CHECKING:
    from server.demo.loading import Town as DemoTown

BURST_MAIN = (
    "water",
    "dispatcher_water",
    "cold_water",
    ["neft1", "neft3", "neft5", "neft7", "neft9"],
    "Нет холодной воды: порыв на магистрали по проспекту Нефтяников, бригада Водоканала устраняет.",
    ["resident2", "resident3"],
)
HEATING_WORKS = (
    "uk2",
    "dispatcher_uk2",
    "heating",
    ["lenina2", "lenina4", "lenina6", "lenina8", "lenina10"],
    "Плановое отключение отопления: промывка и опрессовка системы. Просим закрыть окна.",
    ["resident4", "resident5"],
)


def _as(town: DemoTown, login: str) -> Actor:
    user = town.users[login]
    return Actor(user.id, Role(user.role), user.organisation_id)


async def declare_incidents(svc: Services, town: DemoTown, now: datetime) -> None:
    tomorrow_9 = (now + timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)
    moments = {
        "cold_water": (now - timedelta(hours=2), now + timedelta(hours=4)),
        "heating": (tomorrow_9, tomorrow_9 + timedelta(hours=8)),
    }
    for kind, spec in (("emergency", BURST_MAIN), ("planned", HEATING_WORKS)):
        _org, dispatcher, category, houses, text, followers = spec
        starts, ends = moments[category]
        incident = await commands.declare(
            svc,
            _as(town, dispatcher),
            Declaration(
                kind=kind,
                category_id=town.categories[category].id,
                text=text,
                starts_at=starts,
                expected_end=ends,
                scope=Scope.PICKED,
                building_ids=[town.buildings[h].id for h in houses],
            ),
        )
        for login in followers:
            await commands.follow(svc, _as(town, login), incident.id)
    await commands.subscribe(svc, _as(town, "resident6"), town.buildings["lenina4"].id, True)

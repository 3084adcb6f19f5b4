"""Who may touch the settings: the system admin changes them, the city administration reads."""

from __future__ import annotations

from server.shared.errors import Forbidden
from server.shared.roles import Actor, Role

# A settings list shows at most this many rows; the search narrows it.
LIST_LIMIT = 300


def require_sysadmin(actor: Actor) -> None:
    if actor.role is not Role.SYSADMIN:
        raise Forbidden()


def require_reader(actor: Actor) -> None:
    if actor.role not in (Role.SYSADMIN, Role.CITY_ADMIN):
        raise Forbidden()

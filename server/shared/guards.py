"""Who may open a route at all. Finer checks (this organisation, this request) are in services.

Guards are coroutines: Litestar runs a plain function guard on a worker thread, a thread hop
on every request that costs more than the check itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from server.accounts.people import actor_of
from server.db.models import User
from server.shared.roles import Actor, Role


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("user") is None:
        raise NotAuthorizedException()


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def roles(*allowed: Role) -> Guard:
    """A guard that admits signed-in users with one of these roles."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        if user is None:
            raise NotAuthorizedException()
        if Role(user.role) not in allowed:
            raise PermissionDeniedException()

    guard.__name__ = "roles_" + "_".join(allowed)
    return guard


STAFF = (Role.OPERATOR, Role.DISPATCHER, Role.CONTRACTOR, Role.WORKER, Role.CITY_ADMIN)


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException()
    assert isinstance(user, User)
    return user


def current_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    return actor_of(current_user(connection))

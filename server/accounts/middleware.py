"""Who is asking: loads the signed-in user for every HTTP request and WebSocket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.middleware import AbstractMiddleware, DefineMiddleware

from server.accounts.people import get_user
from server.accounts.sessions import user_read_with_session
from server.db.session import Database
from server.i18n import DEFAULT_LOCALE, accepted_locale, set_locale

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from server.db.models import User


SESSION_USER = "uid"


class CurrentUserMiddleware(AbstractMiddleware):
    """Puts the user on `scope["user"]`, where guards, CSRF pages and handlers all read it.

    Sessions kept in the database bring their user along (one joined read, see
    `RotatingSessionBackend`); only sessions kept elsewhere (Redis) cost a user read here."""

    def __init__(self, app: ASGIApp, db: Database) -> None:
        super().__init__(app)
        self.db = db

    @classmethod
    def define(cls, db: Database) -> DefineMiddleware:
        """The middleware as `create_app` lists it, reading users from this database."""
        return DefineMiddleware(cls, db=db)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Nothing read here stays in this frame, which lives as long as a live socket does.
        scope["user"] = await self._user_of(scope)
        set_locale(_locale_of(scope))
        await self.app(scope, receive, send)

    async def _user_of(self, scope: Scope) -> User | None:
        session = scope.get("session") or {}
        user_id = session.get(SESSION_USER) if isinstance(session, dict) else None
        if not isinstance(user_id, int):
            return None
        read, user = user_read_with_session(scope)
        return user if read else await get_user(self.db, user_id)


# Programs calling the JSON API and Open311 name their language in the standard header; pages
# follow the account's or the visitor's choice.
MACHINE_PATHS = ("/api/", "/open311/")


def _locale_of(scope: Scope) -> str:
    if str(scope.get("path", "")).startswith(MACHINE_PATHS):
        for name, value in scope.get("headers", []):
            if name == b"accept-language":
                return accepted_locale(value.decode("latin-1"))
        return DEFAULT_LOCALE
    user: User | None = scope["user"]
    return user.locale if user is not None else _cookie_locale(scope)


def _cookie_locale(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                if key == "lang":
                    return val
    return "ru"

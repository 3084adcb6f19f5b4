"""Server-side sessions kept in the database, so every process sees the same sign-ins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Message
from sqlalchemy import delete, select

from server.db.models import WebSession, utcnow
from server.db.session import Database


def _seconds(value: int | timedelta | None) -> int | None:
    if value is None:
        return None
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


class DatabaseStore(Store):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        expires = utcnow() + timedelta(seconds=seconds) if seconds else None
        async with self.db.begin() as session:
            row = await session.get(WebSession, key)
            if row is None:
                session.add(WebSession(key=key, data=data, expires_at=expires))
            else:
                row.data = data
                row.expires_at = expires

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        async with self.db.read() as session:
            row = await session.get(WebSession, key)
        if row is None:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            await self.delete(key)
            return None
        seconds = _seconds(renew_for)
        if seconds:
            await self.set(key, row.data, seconds)
        return row.data

    async def delete(self, key: str) -> None:
        async with self.db.begin() as session:
            await session.execute(delete(WebSession).where(WebSession.key == key))

    async def delete_all(self) -> None:
        async with self.db.begin() as session:
            await session.execute(delete(WebSession))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        async with self.db.read() as session:
            expires = await session.scalar(
                select(WebSession.expires_at).where(WebSession.key == key)
            )
        if expires is None:
            return None
        return max(0, int((expires - utcnow()).total_seconds()))

    async def delete_expired(self) -> None:
        async with self.db.begin() as session:
            await session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))


ROTATE_KEY = "_rotate"
_NEW_ID = "zayavka.new_session_id"


def _extras(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    """The request's scope as a plain dict, for the one key of our own it carries."""
    return cast("dict[str, Any]", connection.scope)


class RotatingSessionBackend(ServerSideSessionBackend):
    """Issues a fresh session id on sign-in, so an id planted before sign-in is worth nothing."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        forced = _extras(connection).get(_NEW_ID)
        return str(forced) if forced else super().get_session_id(connection)

    async def _forget_sent(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Delete the stored session whose id the request came with."""
        old = connection.cookies.get(self.config.key)
        if old and old != "null":
            await self.delete(old, store=self.config.get_store_from_app(connection.app))

    async def store_in_message(
        self, scope_session: Any, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if isinstance(scope_session, dict) and not scope_session:
            # Nothing to keep: forget the stored copy, but send no cookie. Re-sending the id a
            # request came with could put back one that a sign-in replaced meanwhile (a request
            # still in flight then, e.g. the service worker's), signing the person out.
            await self._forget_sent(connection)
            return
        if isinstance(scope_session, dict) and scope_session.pop(ROTATE_KEY, None):
            await self._forget_sent(connection)
            _extras(connection)[_NEW_ID] = self.generate_session_id()
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class: type[ServerSideSessionBackend] = field(
        default=RotatingSessionBackend, init=False
    )

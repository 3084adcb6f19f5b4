"""Server-side sessions kept in the database, so every process sees the same sign-ins."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from litestar.types import Message
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy import ColumnElement, Delete, Integer, Text, bindparam, delete, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

from server.db.models import User, WebSession, utcnow
from server.db.session import Database


def _seconds(value: int | timedelta | None) -> int | None:
    if value is None:
        return None
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


class DatabaseStore(Store):
    """Each method is one statement: a request's session costs one read and, when it changed,
    one upsert, with no BEGIN and COMMIT around either."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Built once: building a statement costs more than running it.
        self._load_with_user = (
            select(WebSession.data, WebSession.expires_at, User)
            .outerjoin(User, User.id == _session_uid(db))
            .where(WebSession.key == bindparam("key"))
        )
        self._reading: dict[str, asyncio.Future[Loaded | None]] = {}

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = _seconds(expires_in)
        expires = utcnow() + timedelta(seconds=seconds) if seconds else None
        upsert = _insert_for(self.db)(WebSession).values(key=key, data=data, expires_at=expires)
        upsert = upsert.on_conflict_do_update(
            index_elements=[WebSession.key],
            set_={"data": upsert.excluded.data, "expires_at": upsert.excluded.expires_at},
        )
        async with self.db.single() as session:
            await session.execute(upsert)
            await session.commit()

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        loaded = await self.load(key, with_user=False)
        if loaded is None:
            return None
        seconds = _seconds(renew_for)
        if seconds:
            await self.set(key, loaded.data, seconds)
        return loaded.data

    async def load(self, key: str, *, with_user: bool) -> Loaded | None:
        """The live session stored under `key` and, in the same statement, the user it names
        (its `uid`), so that who is asking costs one read per request."""
        query = self._load_with_user if with_user else _LOAD
        async with self.db.single() as session:
            row = (await session.execute(query, {"key": key})).first()
        if row is None:
            return None
        if row.expires_at is not None and row.expires_at <= utcnow():
            await self.delete(key)
            return None
        user = row.User if with_user else None
        return Loaded(row.data, row.expires_at, user if user is not None and user.active else None)

    async def load_shared(self, key: str) -> Loaded | None:
        """`load(key, with_user=True)`, one read for every caller asking while it runs: pages
        that open at once (a dispatcher's tabs coming back) share the handshake's read. Only
        a read already under way is shared, so none is older than the handshake it answers
        by more than that read's own time; the `User` it brings is read-only for them."""
        running = self._reading.get(key)
        if running is None:
            running = asyncio.ensure_future(self.load(key, with_user=True))
            self._reading[key] = running
            running.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(running)

    def _finished(self, key: str, done: asyncio.Future[Loaded | None]) -> None:
        if self._reading.get(key) is done:
            del self._reading[key]
        if not done.cancelled():
            done.exception()  # observed, even when every waiter went away

    async def delete(self, key: str) -> None:
        async with self.db.single() as session:
            await session.execute(delete(WebSession).where(WebSession.key == key))
            await session.commit()

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


_LOAD = select(WebSession.data, WebSession.expires_at).where(WebSession.key == bindparam("key"))


@dataclass(frozen=True)
class Loaded:
    data: bytes
    expires_at: datetime | None
    user: User | None  # active users only


def _insert_for(db: Database) -> Callable[..., Any]:
    return postgresql.insert if db.is_postgres else sqlite.insert


def _session_uid(db: Database) -> ColumnElement[Any]:
    """The signed-in user's id inside the stored session (Litestar keeps it as JSON bytes)."""
    if db.is_postgres:
        document = sql_cast(func.convert_from(WebSession.data, "UTF8"), JSONB)
        return sql_cast(document["uid"].astext, Integer)
    return func.json_extract(sql_cast(WebSession.data, Text), "$.uid")


def sessions_of(db: Database, user_id: int) -> Delete:
    """The statement removing every session of one person kept in the database: all their
    devices are signed out, in the transaction that runs it."""
    return delete(WebSession).where(_session_uid(db) == user_id)


async def end_sessions_in(store: Store, user_id: int) -> None:
    """Remove every session of one person from a store outside the database (Redis).

    Redis keeps no index by person, so this reads the namespace through; it runs only when an
    account is deleted. Sessions in the database are removed by `sessions_of` instead."""
    if not isinstance(store, RedisStore):
        return
    # The store's own client: RedisStore offers no way to list its keys.
    client = store._redis
    async for key in client.scan_iter(match=f"{store.namespace}:*", count=500):
        data = await client.get(key)
        if data is not None and _uid_in(data) == user_id:
            await client.delete(key)


def _uid_in(data: bytes | str) -> object:
    try:
        document = json.loads(data)
    except ValueError:
        return None
    return document.get("uid") if isinstance(document, dict) else None


ROTATE_KEY = "_rotate"
_NEW_ID = "zayavka.new_session_id"
# Set by the session backend when it read the signed-in user along with the session.
SESSION_USER_LOADED = "zayavka.session_user"
_LOADED = "zayavka.session_loaded"
# A stored session whose expiry is further away than this is not rewritten only to move it.
_REFRESH_AFTER = timedelta(days=1)


def _extras(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
    """The request's scope as a plain dict, for the one key of our own it carries."""
    return cast("dict[str, Any]", connection.scope)


def user_read_with_session(scope: Any) -> tuple[bool, User | None]:
    """Whether the session backend already read who is signed in, and who (None: nobody)."""
    extras = cast("dict[str, Any]", scope)
    if SESSION_USER_LOADED not in extras:
        return False, None
    user = extras[SESSION_USER_LOADED]
    return True, user if isinstance(user, User) else None


def _sent_session_id(connection: ASGIConnection[Any, Any, Any, Any], key: str) -> str | None:
    """The session cookie of a request. A WebSocket's cookies are parsed and dropped: the
    connection would keep them, and its headers, for as long as the socket is open."""
    if connection.scope["type"] != "websocket":
        return connection.cookies.get(key)
    for name, value in connection.scope["headers"]:
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                found, _, sent = part.strip().partition("=")
                if found == key:
                    return sent.strip('"')
    return None


class RotatingSessionBackend(ServerSideSessionBackend):
    """Issues a fresh session id on sign-in, so an id planted before sign-in is worth nothing."""

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        forced = _extras(connection).get(_NEW_ID)
        if forced:
            return str(forced)
        if connection.scope["type"] == "websocket":
            sent = _sent_session_id(connection, self.config.key)
            return sent if sent and sent != "null" else self.generate_session_id()
        return super().get_session_id(connection)

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        store = self.config.get_store_from_app(connection.scope["app"])
        session_id = _sent_session_id(connection, self.config.key)
        if not isinstance(store, DatabaseStore) or not session_id:
            return await super().load_from_connection(connection)
        if connection.scope["type"] == "websocket":
            loaded = await store.load_shared(session_id)
        else:
            loaded = await store.load(session_id, with_user=True)
        if loaded is None:
            _extras(connection)[SESSION_USER_LOADED] = None
            return {}
        _extras(connection)[SESSION_USER_LOADED] = loaded.user
        _extras(connection)[_LOADED] = loaded
        return self.deserialize_data(loaded.data)

    def _unchanged(
        self, scope_session: Any, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> bool:
        """Stored as it is now, and far from expiring: nothing to write back."""
        loaded = _extras(connection).get(_LOADED)
        if not isinstance(loaded, Loaded) or _extras(connection).get(_NEW_ID):
            return False
        if loaded.expires_at is not None and self.config.max_age:
            written_at = loaded.expires_at - timedelta(seconds=self.config.max_age)
            if utcnow() - written_at > _REFRESH_AFTER:
                return False
        return self.serialize_data(scope_session, connection.scope) == loaded.data

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
        elif isinstance(scope_session, dict) and self._unchanged(scope_session, connection):
            self._send_cookie(message, connection)
            return
        await super().store_in_message(scope_session, message, connection)

    def _send_cookie(
        self, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        """The cookie as Litestar sends it after storing, so the browser's expiry moves on."""
        params = extract_dataclass_items(
            self.config, exclude_none=True, include=Cookie.__dict__.keys()
        )
        cookie = Cookie(value=self.get_session_id(connection), key=self.config.key, **dict(params))
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class: type[ServerSideSessionBackend] = field(
        default=RotatingSessionBackend, init=False
    )


def forget_sign_in(scope: Any) -> None:
    """Drop what the middleware read for a connection (the session, the user, the stored row).
    An admitted live socket keeps its scope for hours and needs none of it any more."""
    extras = cast("dict[str, Any]", scope)
    for key in ("session", "user", SESSION_USER_LOADED, _LOADED):
        extras.pop(key, None)

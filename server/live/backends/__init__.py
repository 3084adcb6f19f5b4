"""The carriers of the event bus, chosen by BROADCAST_URL: memory://, postgresql://, redis://.

`broadcaster` carries the messages (its `Broadcast` fans them out inside a process); the
backends for PostgreSQL and Redis are ours, because the stock ones share one connection between
LISTEN and publishing (upstream issue #22) and never reconnect: a dropped connection silently
stops every live page. Ours

- listen on a connection of their own and publish through another (a small pool);
- notice a dropped listening connection (asyncpg's termination callback, a periodic health
  query, Redis read errors), reconnect with capped, jittered exponential backoff, and then
  hand every subscriber a `Resync`: whatever was published meanwhile is lost to the bus, but
  not to the database, from which subscribers catch up.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from server.live.backends.memory import MemoryBackend
from server.live.backends.postgres import PostgresBackend
from server.live.backends.redis import RedisBackend
from server.live.backends.supervised import LISTEN_NAME, PUBLISH_NAME, SupervisedBackend

DEFAULT_CHANNEL = "zayavka_events"

# Every backend has `connected`, an event set while it carries messages.
Backend = MemoryBackend | SupervisedBackend


def split_url(url: str) -> tuple[str, str, str]:
    """(scheme, backend URL, channel). `?channel=NAME` picks a channel: several deployments
    (or test runs) can then share one Redis, whose pub/sub ignores database numbers."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    query = dict(parse_qsl(parts.query))
    channel = query.pop("channel", "") or DEFAULT_CHANNEL
    if scheme == "postgres":
        scheme = "postgresql"
    clean = urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return scheme, clean, channel


def backend_for(scheme: str, url: str) -> Backend:
    if scheme == "memory":
        return MemoryBackend(url)
    if scheme == "postgresql":
        return PostgresBackend(url)
    if scheme in ("redis", "rediss"):
        return RedisBackend(url)
    raise ValueError(f"BROADCAST_URL: unsupported scheme {scheme!r} (memory, postgresql, redis)")


__all__ = [
    "LISTEN_NAME",
    "PUBLISH_NAME",
    "Backend",
    "MemoryBackend",
    "PostgresBackend",
    "RedisBackend",
    "SupervisedBackend",
    "backend_for",
    "split_url",
]

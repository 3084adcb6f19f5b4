"""A person's devices: subscribe, unsubscribe, list, remove, and the dispatcher's switch."""

from __future__ import annotations

import binascii
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update

from server.db.models import PushSubscription, User, utcnow
from server.db.session import Database
from server.i18n import gettext as _
from server.notify.push_keys import b64url_decode
from server.shared.errors import InvalidInput, NotFound
from server.shared.roles import Role

MAX_ENDPOINT = 2000
# Who gets «new work» notifications and may turn them off.
NEW_WORK_ROLES = frozenset({Role.DISPATCHER, Role.CONTRACTOR})


@dataclass(frozen=True)
class NewSubscription:
    endpoint: str
    p256dh: str
    auth: str
    user_agent: str = ""


def parse(data: object, user_agent: str = "", *, production: bool = True) -> NewSubscription:
    """Check a browser's PushSubscription JSON (`subscription.toJSON()`)."""
    if not isinstance(data, dict):
        raise InvalidInput(subscription=_("Неверные данные подписки."))
    endpoint = str(data.get("endpoint") or "").strip()
    given = data.get("keys")
    keys: dict[str, object] = given if isinstance(given, dict) else {}
    p256dh = str(keys.get("p256dh") or "").strip()
    auth = str(keys.get("auth") or "").strip()
    check_endpoint(endpoint, production=production)
    try:
        point = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except (binascii.Error, ValueError):
        raise InvalidInput(subscription=_("Неверные ключи подписки.")) from None
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise InvalidInput(subscription=_("Неверные ключи подписки."))
    return NewSubscription(endpoint, p256dh, auth, user_agent[:300])


def check_endpoint(endpoint: str, *, production: bool) -> None:
    """Push services are public HTTPS servers. Refusing anything else keeps the worker from
    being pointed at the private network (the server would POST wherever it is told)."""
    if not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise InvalidInput(subscription=_("Неверный адрес подписки."))
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    loopback = host == "localhost" or _is_ip(host, loopback=True)
    if parts.scheme == "https" and host and not _is_ip(host, private=True):
        return
    if not production and loopback and parts.scheme in ("http", "https"):
        return  # a local push service in development and tests
    raise InvalidInput(subscription=_("Неверный адрес подписки."))


def _is_ip(host: str, *, loopback: bool = False, private: bool = False) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if loopback:
        return address.is_loopback
    if private:
        return not address.is_global
    return True


async def subscribe(db: Database, user_id: int, new: NewSubscription) -> PushSubscription:
    """Remember this device for this person. A browser has one endpoint: if someone else
    subscribed it before (a shared phone), it now belongs to whoever subscribed last."""
    async with db.begin() as session:
        existing = (
            await session.scalars(
                select(PushSubscription).where(PushSubscription.endpoint == new.endpoint)
            )
        ).first()
        if existing is None:
            existing = PushSubscription(endpoint=new.endpoint, created_at=utcnow())
            session.add(existing)
        elif existing.user_id != user_id:
            existing.created_at = utcnow()
            existing.last_success_at = None
        existing.user_id = user_id
        existing.p256dh = new.p256dh
        existing.auth = new.auth
        existing.user_agent = new.user_agent
        await session.flush()
        return existing


async def find(db: Database, user_id: int, endpoint: str) -> PushSubscription | None:
    async with db.read() as session:
        return (
            await session.scalars(
                select(PushSubscription).where(
                    PushSubscription.endpoint == endpoint, PushSubscription.user_id == user_id
                )
            )
        ).first()


async def unsubscribe(db: Database, user_id: int, endpoint: str) -> bool:
    async with db.begin() as session:
        result = await session.execute(
            delete(PushSubscription).where(
                PushSubscription.endpoint == endpoint, PushSubscription.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def devices(db: Database, user_id: int) -> list[PushSubscription]:
    async with db.read() as session:
        return list(
            await session.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id == user_id)
                .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
            )
        )


async def remove_device(db: Database, user_id: int, device_id: int) -> None:
    """Forget one of this person's devices. Someone else's device is simply not found."""
    async with db.begin() as session:
        result = await session.execute(
            delete(PushSubscription).where(
                PushSubscription.id == device_id, PushSubscription.user_id == user_id
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(_("Устройство не найдено."))


async def set_new_work_notifications(db: Database, user: User, on: bool) -> None:
    if Role(user.role) not in NEW_WORK_ROLES:
        raise InvalidInput(notify_new_requests=_("Эта настройка только для диспетчеров."))
    async with db.begin() as session:
        await session.execute(update(User).where(User.id == user.id).values(notify_new_requests=on))


# Checked in this order: a Chrome User-Agent also says «Safari», an Edge one also «Chrome».
BROWSERS = (
    ("YaBrowser", "Яндекс Браузер"),
    ("SamsungBrowser", "Samsung Internet"),
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    """«Chrome, Android» from a User-Agent string: enough to tell one's devices apart."""
    ua = user_agent or ""
    found = (
        next((name for token, name in table if token in ua), "") for table in (BROWSERS, SYSTEMS)
    )
    name = ", ".join(part for part in found if part)
    return name or _("Неизвестное устройство")


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    created_at: datetime
    last_success_at: datetime | None


def as_devices(rows: list[PushSubscription]) -> list[Device]:
    return [Device(r.id, device_name(r.user_agent), r.created_at, r.last_success_at) for r in rows]

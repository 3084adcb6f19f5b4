"""Tokens for integrators (JSON API) and Open311 clients.

A token is shown once when it is made; only its SHA-256 is stored, so a copy of the database
opens nothing. `hash_token(token) == hashlib.sha256(token.encode()).hexdigest()` — the demo
loader stores the Open311 key `demo-open311-key` the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from server.db.models import ApiToken, Organisation, utcnow
from server.db.session import Database
from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.roles import HANDLING_KINDS, Actor, OrgKind, Role

KINDS = ("api", "open311", "pbx")  # pbx: the voice menu's status phrases (server/phone/)
# Writing last_used_at on every call would turn each read into a write.
TOUCH_EVERY = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenHolder:
    """Who is calling: the token, and what it may see."""

    token_id: int
    name: str
    kind: str
    organisation_id: int | None
    organisation_kind: str | None

    @property
    def actor(self) -> Actor:
        """The reach of this token, expressed as the staff role with the same reach.

        A token of a УК/ТСЖ/РСО sees that organisation's requests, a contractor's token its
        work orders, and a town-wide token (no organisation, or the administration) all of them.
        """
        kind = self.organisation_kind
        if kind is not None and OrgKind(kind) in HANDLING_KINDS:
            return Actor(None, Role.DISPATCHER, self.organisation_id)
        if kind == OrgKind.CONTRACTOR:
            return Actor(None, Role.CONTRACTOR, self.organisation_id)
        return Actor(None, Role.SYSTEM)

    @property
    def filer(self) -> Actor:
        """Requests filed through a token are filed by the service itself."""
        return Actor(None, Role.SYSTEM, self.organisation_id)


async def issue(
    db: Database, *, name: str, kind: str, organisation_id: int | None = None
) -> tuple[ApiToken, str]:
    """Make a token; the plain value is returned once and never stored."""
    name = " ".join(name.split())
    errors: dict[str, str] = {}
    if not name or len(name) > 200:
        errors["name"] = _("Укажите название интеграции (до 200 знаков).")
    if kind not in KINDS:
        errors["kind"] = _("Неизвестный вид ключа.")
    if errors:
        raise InvalidInput(**errors)
    plain = ("o311_" if kind == "open311" else "zk_") + secrets.token_urlsafe(32)
    async with db.begin() as session:
        if organisation_id is not None and await session.get(Organisation, organisation_id) is None:
            raise InvalidInput(organisation_id=_("Организация не найдена."))
        token = ApiToken(
            name=name, kind=kind, organisation_id=organisation_id, token_hash=hash_token(plain)
        )
        session.add(token)
        await session.flush()
    return token, plain


async def store(
    db: Database, plain: str, *, name: str, kind: str, organisation_id: int | None = None
) -> ApiToken:
    """Store a token whose value is chosen elsewhere (the demo's well-known key)."""
    async with db.begin() as session:
        existing = (
            await session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
        ).first()
        if existing is not None:
            return existing
        token = ApiToken(
            name=name, kind=kind, organisation_id=organisation_id, token_hash=hash_token(plain)
        )
        session.add(token)
        await session.flush()
        return token


async def authenticate(
    db: Database, plain: str | None, kind: str, *, now: datetime | None = None
) -> TokenHolder | None:
    """The holder of an active token of this kind, or None."""
    if not plain or len(plain) > 200:
        return None
    now = now or utcnow()
    async with db.read() as session:
        row = (
            await session.execute(
                select(ApiToken, Organisation.kind)
                .outerjoin(Organisation, Organisation.id == ApiToken.organisation_id)
                .where(ApiToken.token_hash == hash_token(plain))
            )
        ).first()
    if row is None:
        return None
    token, org_kind = row
    # The lookup is by hash, so timing tells nothing about the plain value.
    if not token.active or token.kind != kind:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        async with db.begin() as session:
            await session.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
    return TokenHolder(token.id, token.name, token.kind, token.organisation_id, org_kind)


async def revoke(db: Database, token_id: int) -> None:
    async with db.begin() as session:
        await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(active=False))

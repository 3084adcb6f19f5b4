"""The stored data: typed SQLAlchemy 2 models. The schema itself is made by Alembic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from server.i18n import in_reader_language

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def pair_key(table: str, *, index: bool = False) -> Mapped[int]:
    """One half of the primary key of a table of pairs: the id of a row of `table`, and the pair
    goes when that row does."""
    return mapped_column(
        ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True, index=index
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes on both PostgreSQL and SQLite (which forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # domain.roles.OrgKind
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(80))
    # Optional names in the other languages; empty shows the Russian one.
    name_tt: Mapped[str] = mapped_column(String(200), default="", server_default="")
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    short_name_tt: Mapped[str] = mapped_column(String(80), default="", server_default="")
    short_name_en: Mapped[str] = mapped_column(String(80), default="", server_default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    inn: Mapped[str | None] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def shown_name(self) -> str:
        """The name in the reader's language, the Russian one when none was given."""
        return in_reader_language(self.name, tt=self.name_tt, en=self.name_en)

    @property
    def shown_short_name(self) -> str:
        return in_reader_language(self.short_name, tt=self.short_name_tt, en=self.short_name_en)


class OrganisationContractor(Base):
    """Which contractors work for which УК/ТСЖ/РСО."""

    __tablename__ = "organisation_contractors"

    organisation_id: Mapped[int] = pair_key("organisations")
    contractor_id: Mapped[int] = pair_key("organisations")


class Building(Base):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    street: Mapped[str] = mapped_column(String(200))
    house: Mapped[str] = mapped_column(String(20))
    # Lower-cased «улица дом» for search as you type.
    search_key: Mapped[str] = mapped_column(String(240), index=True)
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    floors: Mapped[int | None]
    flats: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    manager: Mapped[Organisation | None] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("street", "house", name="uq_buildings_address"),)

    @property
    def address(self) -> str:
        return f"{self.street}, {self.house}"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # also the Open311 service_code
    name: Mapped[str] = mapped_column(String(200))
    name_tt: Mapped[str] = mapped_column(String(200), default="", server_default="")
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column(String(100), default="")
    priority: Mapped[str] = mapped_column(String(20), default="normal")  # emergency|urgent|normal
    deadline_minutes: Mapped[int] = mapped_column(Integer)
    summer_deadline_minutes: Mapped[int | None] = mapped_column(Integer)
    handler: Mapped[str] = mapped_column(String(20), default="manager")  # domain.routing.Handler
    handler_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=100)

    @property
    def shown_name(self) -> str:
        return in_reader_language(self.name, tt=self.name_tt, en=self.name_en)

    @property
    def emergency(self) -> bool:
        return self.priority == "emergency"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # +7XXXXXXXXXX
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)  # domain.roles.Role
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    # None for residents created by an operator on a call: they may register later.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    notify_new_requests: Mapped[bool] = mapped_column(Boolean, default=True)
    # SMS even when a push subscription exists (callers without one get SMS anyway).
    notify_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")


class Request(Base):
    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # 2026-000123
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    flat: Mapped[str] = mapped_column(String(20), default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10))  # web | phone | api | open311
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), index=True)  # domain.workflow.State
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    due_warned_at: Mapped[datetime | None]
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    # A key made by the form or the client: the same key filed twice makes one request.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Marked by the dispatcher as the same problem as this earlier request.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))

    building: Mapped[Building] = relationship(lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    resident: Mapped[User] = relationship(lazy="raise", foreign_keys=[resident_id])
    organisation: Mapped[Organisation | None] = relationship(
        lazy="raise", foreign_keys=[organisation_id]
    )
    contractor: Mapped[Organisation | None] = relationship(
        lazy="raise", foreign_keys=[contractor_id]
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        Index("ix_requests_org_state", "organisation_id", "state"),
        Index("ix_requests_contractor_state", "contractor_id", "state"),
    )


class RequestFollower(Base):
    """A resident who follows someone else's request: its page and its notifications, without
    the personal data of the resident who filed it."""

    __tablename__ = "request_followers"

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    user_id: Mapped[int] = pair_key("users", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimelineEntry(Base):
    """The append-only history of a request: never updated, never deleted."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # What happened: a workflow action ("assign", "comment", ...), "file", or a system note
    # such as "qr_confirmed" / "qr_flagged".
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="raise")
    actor_organisation: Mapped[Organisation | None] = relationship(lazy="raise")


class WorkOrder(Base):
    """Заказ-наряд: one per assignment of a contractor to a request."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The unguessable part of the job URL printed in the QR code. It opens nothing by itself.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    printed_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # The key the phone made for a completion, so a repeated send changes nothing.
    completion_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    needs_check: Mapped[bool] = mapped_column(Boolean, default=False)
    check_reason: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[Request] = relationship(lazy="raise")
    contractor: Mapped[Organisation] = relationship(lazy="raise")
    worker: Mapped[User | None] = relationship(lazy="raise")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    timeline_entry_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_entries.id"))
    kind: Mapped[str] = mapped_column(String(20))  # photo | signed_order
    filename: Mapped[str] = mapped_column(String(80), unique=True)  # random, under MEDIA_DIR
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # For signed work orders: confirmed | missing | mismatch (see services.work_orders).
    qr_status: Mapped[str | None] = mapped_column(String(20))
    qr_text: Mapped[str | None] = mapped_column(Text)


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_success_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A message to deliver after commit (web push, webhook, …), written with the event."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))  # its deliverer: push, webhook, …
    target_id: Mapped[int] = mapped_column(Integer, index=True)  # subscription or webhook id
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    topic: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class SmsMessage(Base):
    """One SMS to or from a resident: what it said, and how far it got (server/notify/sms_*)."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # out | in
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    phone: Mapped[str] = mapped_column(String(20), index=True)  # +7XXXXXXXXXX
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # notify.sms_texts.SmsKind, or «reply»
    text: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # notify.sms_texts.SmsStatus
    provider: Mapped[str] = mapped_column(String(10))  # smsru | smsc | smpp
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class ApiToken(Base):
    """A token for integrators (JSON API) or Open311 clients, stored only as a hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # api | open311
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """Server-side sessions, shared by every process."""

    __tablename__ = "web_sessions"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class AuditEntry(Base):
    """A system administrator's change to people, roles or organisations, kept for review."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))  # catalog.audit.AuditAction
    object_type: Mapped[str] = mapped_column(
        String(20)
    )  # user | organisation | building | category
    object_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="raise")


class Call(Base):
    """A call on the single number, as the PBX reported it (server/phone/)."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))  # mango | zadarma | generic
    external_id: Mapped[str] = mapped_column(String(100))  # the PBX's id of the call
    caller_phone: Mapped[str] = mapped_column(String(40), index=True)  # +7XXXXXXXXXX if known
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # The first request filed during the call.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)

    operator: Mapped[User | None] = relationship(lazy="raise")

    __table_args__ = (UniqueConstraint("provider", "external_id", name="uq_calls_external"),)


class CallSignal(Base):
    """Every PBX event taken in, by its own id: a replayed event finds itself and changes
    nothing."""

    __tablename__ = "call_signals"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(200))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("provider", "event_key", name="uq_call_signals_event"),)


class Incident(Base):
    """An outage or a planned shut-off declared for a set of buildings (server.incidents)."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # incidents.rules.IncidentKind
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    text: Mapped[str] = mapped_column(Text)  # what residents read, and the operator reads out
    starts_at: Mapped[datetime] = mapped_column(index=True)
    expected_end: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the residents of its buildings were told of a planned one ahead of time.
    announced_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class IncidentBuilding(Base):
    __tablename__ = "incident_buildings"

    incident_id: Mapped[int] = pair_key("incidents")
    building_id: Mapped[int] = pair_key("buildings", index=True)


class IncidentEntry(Base):
    """The append-only history of an incident: declared, updated, resolved."""

    __tablename__ = "incident_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # incidents.rules.Change
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IncidentFollower(Base):
    """A resident who said «Меня это тоже касается» instead of filing."""

    __tablename__ = "incident_followers"

    incident_id: Mapped[int] = pair_key("incidents")
    user_id: Mapped[int] = pair_key("users", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IncidentRequest(Base):
    """A request filed about an incident: at most one incident per request."""

    __tablename__ = "incident_requests"

    request_id: Mapped[int] = pair_key("requests")
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)


class BuildingSubscription(Base):
    """A resident told of planned shut-offs and outages of a building, request or not."""

    __tablename__ = "building_subscriptions"

    user_id: Mapped[int] = pair_key("users")
    building_id: Mapped[int] = pair_key("buildings", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

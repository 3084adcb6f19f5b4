"""Requests and what hangs on them: followers, timeline, work orders, media, ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.accounts import User
from server.db.models.base import Base, pair_key, utcnow
from server.db.models.catalog import Building, Category, Organisation


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

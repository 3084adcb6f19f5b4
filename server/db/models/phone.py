"""Calls on the single number and the PBX events they were built from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.accounts import User
from server.db.models.base import Base, utcnow


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

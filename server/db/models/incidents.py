"""Outages and planned shut-offs, and who is told of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, pair_key, utcnow


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

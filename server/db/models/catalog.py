"""Organisations, the contractors working for them, buildings and categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.models.base import Base, pair_key, utcnow
from server.i18n import in_reader_language


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

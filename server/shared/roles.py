"""Who is acting: roles and the kinds of organisation they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    OPERATOR = "operator"
    DISPATCHER = "dispatcher"  # диспетчер УК/ТСЖ/РСО
    CONTRACTOR = "contractor"  # диспетчер подрядной организации
    WORKER = "worker"  # исполнитель
    CITY_ADMIN = "city_admin"
    SYSADMIN = "sysadmin"
    SYSTEM = "system"  # the service itself (routing, integrations)


class OrgKind(StrEnum):
    UK = "uk"  # управляющая компания
    TSJ = "tsj"  # товарищество собственников жилья
    RSO = "rso"  # ресурсоснабжающая организация
    CONTRACTOR = "contractor"  # подрядная организация
    ADMINISTRATION = "administration"


# Organisations that receive requests and employ dispatchers.
HANDLING_KINDS = frozenset({OrgKind.UK, OrgKind.TSJ, OrgKind.RSO})
# Which kind of organisation a staff role must belong to.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.DISPATCHER: HANDLING_KINDS,
    Role.CONTRACTOR: frozenset({OrgKind.CONTRACTOR}),
    Role.WORKER: frozenset({OrgKind.CONTRACTOR}),
    Role.CITY_ADMIN: frozenset({OrgKind.ADMINISTRATION}),
}
STAFF_ROLES = frozenset(Role) - {Role.RESIDENT, Role.SYSTEM}


@dataclass(frozen=True, slots=True)
class Actor:
    """The person (or the system) asking to see or do something."""

    user_id: int | None
    role: Role
    organisation_id: int | None = None

    def stamp(self) -> dict[str, object]:
        """The columns that record who took a step, as every timeline of the service keeps them."""
        return {
            "actor_id": self.user_id,
            "actor_role": self.role,
            "actor_organisation_id": self.organisation_id,
        }


SYSTEM_ACTOR = Actor(user_id=None, role=Role.SYSTEM)

"""Who may declare, change and resolve an incident, and which buildings it may cover.

Written as a table: for each role and kind of organisation, the reach of its people over
incidents. «Served» means the buildings (for the incident's category) whose requests would be
routed to the person's own organisation by `requests.routing.route`, so the organisation that
would receive the forty requests is the one that may say «we know». Plain Python, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from server.requests.workflow import OPEN_WORK_STATES, State
from server.shared.roles import OrgKind, Role


class IncidentKind(StrEnum):
    EMERGENCY = "emergency"  # авария
    PLANNED = "planned"  # плановое отключение


class Change(StrEnum):
    """What an incident's timeline entry records."""

    DECLARE = "declare"
    UPDATE = "update"
    RESOLVE = "resolve"
    ANNOUNCE = "announce"  # a planned one was announced to its buildings ahead of time


class IncidentReach(StrEnum):
    SERVED = "served"  # the buildings its organisation serves for the category
    ANY = "any"  # any building of the town


# Who may declare an incident, and for which buildings. Update and resolve: the same people,
# on the incidents of their own organisation (the administration: on any).
REACH: dict[tuple[Role, OrgKind], IncidentReach] = {
    (Role.DISPATCHER, OrgKind.UK): IncidentReach.SERVED,
    (Role.DISPATCHER, OrgKind.TSJ): IncidentReach.SERVED,
    (Role.DISPATCHER, OrgKind.RSO): IncidentReach.SERVED,
    (Role.CITY_ADMIN, OrgKind.ADMINISTRATION): IncidentReach.ANY,
}

# Requests an incident absorbs: those whose work is still owed. Resolving moves them on.
LINKABLE_STATES = OPEN_WORK_STATES
AFTER_RESOLVE = State.DONE


@dataclass(frozen=True, slots=True)
class Declarer:
    """The person asking, as the rules need them: role and the kind of their organisation."""

    role: Role
    organisation_id: int | None
    org_kind: OrgKind | None


def reach_of(person: Declarer) -> IncidentReach | None:
    if person.org_kind is None or person.organisation_id is None:
        return None
    return REACH.get((person.role, person.org_kind))


def may_declare(person: Declarer, served: list[bool]) -> bool:
    """May this person declare an incident over buildings, given for each whether their
    organisation serves it for the category? An empty choice is never allowed."""
    reach = reach_of(person)
    if reach is None or not served:
        return False
    return reach is IncidentReach.ANY or all(served)


def may_manage(person: Declarer, incident_organisation_id: int) -> bool:
    """May this person update or resolve (and see the management page of) this incident?"""
    reach = reach_of(person)
    if reach is None:
        return False
    return reach is IncidentReach.ANY or person.organisation_id == incident_organisation_id


def is_active(starts_at: datetime, resolved_at: datetime | None, now: datetime) -> bool:
    return resolved_at is None and starts_at <= now


def is_overdue(expected_end: datetime, resolved_at: datetime | None, now: datetime) -> bool:
    return resolved_at is None and expected_end < now


def absorbs(*, active: bool, same_category: bool, affected_building: bool, state: State) -> bool:
    """Is a request filed now linked to the incident?"""
    return active and same_category and affected_building and state in LINKABLE_STATES

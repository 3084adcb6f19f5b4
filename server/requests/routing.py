"""Where a new request goes: the building's manager, a named organisation, or triage."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Handler(StrEnum):
    MANAGER = "manager"  # the building's УК or ТСЖ
    ORGANISATION = "organisation"  # a named organisation, e.g. the water supplier (РСО)


@dataclass(frozen=True, slots=True)
class CategoryRoute:
    handler: Handler
    organisation_id: int | None = None  # for Handler.ORGANISATION
    organisation_active: bool = True


@dataclass(frozen=True, slots=True)
class BuildingRoute:
    manager_id: int | None
    manager_active: bool = True


def route(building: BuildingRoute, category: CategoryRoute) -> int | None:
    """The organisation that must handle the request, or None for the triage queue.

    A request is never dropped: when nobody serves the address (no manager, or the
    organisation is switched off), it waits in the administration's triage queue.
    """
    if category.handler is Handler.ORGANISATION:
        if category.organisation_id is not None and category.organisation_active:
            return category.organisation_id
        # A category whose supplier is missing still belongs to the building's manager.
    if building.manager_id is not None and building.manager_active:
        return building.manager_id
    return None

"""Audiences: the viewers to whom a live page shows the same bytes.

A page shows what its viewer may see and the buttons they may press; both follow from the
workflow's reach rules (`workflow.VIEW_REACH` and each action's reach). A reach is decided by
the role and, for some reaches, by the person's organisation or by the person themself, so
two viewers with the same role and the same deciding ids see the same page. Live updates are
read and rendered once per audience, never once per open page."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from server.requests.workflow import ACTIONS, VIEW_REACH, Reach
from server.shared.roles import Actor, Role

# What each reach is decided by, besides the role (see `workflow.within`).
DECIDED_BY: dict[Reach, frozenset[str]] = {
    Reach.ANY: frozenset(),
    Reach.OWN_REQUEST: frozenset({"person"}),
    Reach.OWN_ORGANISATION: frozenset({"organisation"}),
    Reach.OWN_CONTRACTOR: frozenset({"organisation"}),
    Reach.OWN_JOB: frozenset({"organisation", "person"}),
    Reach.TRIAGE_QUEUE: frozenset(),
}


class Audience(NamedTuple):
    role: Role
    organisation_id: int | None
    person_id: int | None


def reaches_of(role: Role) -> set[Reach]:
    """Every reach that decides what a person of this role sees or may do."""
    reaches = {spec.reach[role] for spec in ACTIONS.values() if role in spec.reach}
    if role in VIEW_REACH:
        reaches.add(VIEW_REACH[role])
    return reaches


@cache  # asked for every open page on every change: the tables are fixed
def decided_by(role: Role) -> frozenset[str]:
    return frozenset().union(*(DECIDED_BY[reach] for reach in reaches_of(role)))


def audience_of(actor: Actor) -> Audience:
    deciding = decided_by(actor.role)
    return Audience(
        role=actor.role,
        organisation_id=actor.organisation_id if "organisation" in deciding else None,
        person_id=actor.user_id if "person" in deciding else None,
    )

"""Audiences: the viewers to whom a live page shows the same bytes.

A page shows what its viewer may see and the buttons they may press; both follow from the
workflow's reach rules (`workflow.VIEW_REACH` and each action's reach). A reach is decided by
the role and, for some reaches, by the person's organisation or by the person themself, so
two viewers with the same role and the same deciding ids see the same page. Live updates are
read and rendered once per audience, never once per open page."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from server.i18n import DEFAULT_LOCALE
from server.requests.workflow import ACTIONS, VIEW_REACH, Reach, RequestFacts, is_follower
from server.shared.roles import Actor, Role

# What each reach is decided by, besides the role (see `workflow.within`).
DECIDED_BY: dict[Reach, frozenset[str]] = {
    Reach.ANY: frozenset(),
    Reach.OWN_REQUEST: frozenset({"person"}),
    Reach.OWN_ORGANISATION: frozenset({"organisation"}),
    Reach.OWN_CONTRACTOR: frozenset({"organisation"}),
    Reach.OWN_JOB: frozenset({"organisation", "person"}),
    Reach.TRIAGE_QUEUE: frozenset(),
    Reach.FOLLOWED: frozenset({"person"}),
}


class Audience(NamedTuple):
    role: Role
    organisation_id: int | None
    person_id: int | None
    # Followers of a request see one page without its resident's personal data, whoever
    # they are: they share it (and the owner's page never shows them).
    following: bool = False
    locale: str = DEFAULT_LOCALE  # the language the page is in


def reaches_of(role: Role) -> set[Reach]:
    """Every reach that decides what a person of this role sees or may do."""
    reaches = {spec.reach[role] for spec in ACTIONS.values() if role in spec.reach}
    reaches.update(VIEW_REACH.get(role, ()))
    return reaches


@cache  # asked for every open page on every change: the tables are fixed
def decided_by(role: Role) -> frozenset[str]:
    return frozenset().union(*(DECIDED_BY[reach] for reach in reaches_of(role)))


def audience_of(actor: Actor, *, locale: str) -> Audience:
    deciding = decided_by(actor.role)
    return Audience(
        role=actor.role,
        organisation_id=actor.organisation_id if "organisation" in deciding else None,
        person_id=actor.user_id if "person" in deciding else None,
        locale=locale,
    )


# A follower takes no action on the request and sees nothing that depends on who they are.
FOLLOWERS = Audience(role=Role.RESIDENT, organisation_id=None, person_id=None, following=True)


def request_audience(actor: Actor, request: RequestFacts, *, locale: str) -> Audience:
    """The audience of one request's page: its followers share one, apart from its resident."""
    if is_follower(actor, request):
        return FOLLOWERS._replace(locale=locale)
    return audience_of(actor, locale=locale)

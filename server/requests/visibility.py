"""«Who may see this request» as SQL, for every list and search.

`workflow.may_view` decides for one request already loaded; `visible_to` is the same rule as a
WHERE clause, so lists never load what their viewer may not see. The two are written as one
match on the role each, in the same order, case for case; a test builds every role ×
organisation × state × own/foreign request in the database and checks they agree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, false, or_, select, true
from sqlalchemy.orm import QueryableAttribute

from server.db.models import Request, RequestFollower, WorkOrder
from server.shared.roles import Actor, Role


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The requests `workflow.may_view(actor, …)` allows, as a condition on `Request`."""
    match actor.role:
        case Role.RESIDENT:
            # Own requests, and those the person follows.
            return or_(
                _equals(Request.resident_id, actor.user_id),
                false() if actor.user_id is None else Request.id.in_(followed_by(actor.user_id)),
            )
        case Role.OPERATOR | Role.CITY_ADMIN | Role.SYSTEM:
            return true()
        case Role.DISPATCHER:
            return _equals(Request.organisation_id, actor.organisation_id)
        case Role.CONTRACTOR:
            return _equals(Request.contractor_id, actor.organisation_id)
        case Role.WORKER:
            # Own jobs of one's own contractor, and those not yet given to anyone.
            worker = active_worker_id()
            return and_(
                _equals(Request.contractor_id, actor.organisation_id),
                or_(worker.is_(None), _equals(worker, actor.user_id)),
            )
        case _:
            return false()


def followed_by(user_id: int) -> Select[Any]:
    """The ids of the requests this person follows."""
    return select(RequestFollower.request_id).where(RequestFollower.user_id == user_id)


def active_worker_id() -> ScalarSelect[int | None]:
    """The worker on the request's active work order, as `timeline.active_work_order` finds it
    (None when there is no such order or nobody is on it yet)."""
    return (
        select(WorkOrder.worker_id)
        .where(WorkOrder.request_id == Request.id, WorkOrder.active.is_(True))
        .order_by(WorkOrder.id.desc())
        .limit(1)
        .correlate(Request)
        .scalar_subquery()
    )


def _equals(
    column: QueryableAttribute[Any] | ColumnElement[Any], value: int | None
) -> ColumnElement[bool]:
    # may_view never matches a missing id of the viewer, not even against a missing column.
    return false() if value is None else column == value

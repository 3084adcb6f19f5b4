"""An action taken on many requests in one transaction (resolving an incident moves every
request linked to it, and its dispatcher then checks them all), in a number of statements that
does not grow with them.

The rules and the use cases are those of `actions.perform`: `workflow.may` decides, the
action's use case (`actions.USE_CASES`) moves each request and builds its timeline entries, in
memory. The requests' rows are then written by one UPDATE per distinct change (a resolution
changes every request alike: one UPDATE), checked against the versions read, and the entries
by one INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, inspect, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from server.db.models import Request, TimelineEntry
from server.requests import workflow
from server.requests.actions import USE_CASES, ActionInput, Step
from server.requests.timeline import active_work_orders, facts_of
from server.requests.workflow import ACTIONS, SERVICE_ACTIONS, Action
from server.shared.errors import StaleChange
from server.shared.roles import SYSTEM_ACTOR, Actor

_TABLE = cast(Table, Request.__table__)
_VERSION = "version"


async def take_on_all(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    requests: Sequence[Request],
    reason: str,
    now: datetime,
) -> list[tuple[Request, TimelineEntry]]:
    """Take an action on every request where the rules allow it now (the others are left as
    they are); each moved request with its last timeline entry, both written.

    The entries are in `actor`'s name. The rules are asked as `actor`, or, for a service
    action, as the service, which takes it on whoever's behalf caused it. Raises StaleChange if
    a request changed since it was read."""
    spec = ACTIONS[action]
    taker = SYSTEM_ACTOR if action in SERVICE_ACTIONS else actor
    orders = await active_work_orders(session, [r.id for r in requests])
    moved: list[Request] = []
    entries: list[TimelineEntry] = []
    with session.no_autoflush:
        for request in requests:
            order = orders.get(request.id)
            if not workflow.may(taker, action, facts_of(request, order)):
                continue
            data = ActionInput(request.version)
            step = Step(session, actor, spec, request, order, data, reason, now, flush=False)
            entries += await USE_CASES[action](step)
            request.updated_at = now
            moved.append(request)
        await _write_rows(session, moved)
        last = await _write_entries(session, entries, now)
    return [(request, last[request.id]) for request in moved]


async def _write_rows(session: AsyncSession, requests: Sequence[Request]) -> None:
    """What the use case changed on each request, as one UPDATE per distinct change.

    Every UPDATE names the (id, version) pairs read and bumps the version; a row fewer than
    named means someone changed one meanwhile. The objects are then marked as written, so the
    flush does not write them again one by one."""
    columns = {a.key: a.columns[0].name for a in inspect(Request).column_attrs}
    changes: dict[tuple[tuple[str, object], ...], list[Request]] = {}
    for request in requests:
        state = inspect(request)
        changed = tuple(
            sorted(
                (key, history.added[0])
                for key in columns
                if key != _VERSION and (history := state.attrs[key].history).added
            )
        )
        changes.setdefault(changed, []).append(request)
    for changed, group in changes.items():
        values: dict[str, object] = {columns[key]: value for key, value in changed}
        result = await session.execute(
            update(_TABLE)
            .where(tuple_(_TABLE.c.id, _TABLE.c.version).in_([(r.id, r.version) for r in group]))
            .values(**values, version=_TABLE.c.version + 1)
        )
        if result.rowcount != len(group):  # type: ignore[attr-defined]
            raise StaleChange()
        for request in group:
            for key, value in changed:
                set_committed_value(request, key, value)
            set_committed_value(request, _VERSION, request.version + 1)


async def _write_entries(
    session: AsyncSession, entries: Sequence[TimelineEntry], now: datetime
) -> dict[int, TimelineEntry]:
    """The entries in one INSERT, then read back in one SELECT: the last one of each request.

    Not flushed as objects: a flush must learn each new row's id, which SQLite's driver
    returns one INSERT at a time."""
    if not entries:
        return {}
    keys = [a.key for a in inspect(TimelineEntry).column_attrs if a.key != "id"]
    rows = [{key: getattr(entry, key) for key in keys} for entry in entries]
    for entry in entries:
        session.expunge(entry)
    await session.execute(insert(TimelineEntry), rows)
    # The requests' rows are locked by their UPDATE: nobody else writes this action's entries
    # for them meanwhile.
    written = await session.scalars(
        select(TimelineEntry)
        .where(
            TimelineEntry.request_id.in_({entry.request_id for entry in entries}),
            TimelineEntry.kind.in_({entry.kind for entry in entries}),
            TimelineEntry.at == now,
        )
        .order_by(TimelineEntry.id)
    )
    return {entry.request_id: entry for entry in written}

"""A town history whose dashboard figures were worked out by hand (see test_stats.py).

All times are UTC. The period under test is 1–19 March 2026 in the town's time zone
(Europe/Moscow, UTC+3): from 2026-02-28 21:00Z to 2026-03-19 21:00Z. «Now» is 2026-03-20 12:00Z.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from server.db.models import Rating, Request, TimelineEntry
from server.db.session import Database
from tests.world import World

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 12:00 in the town, 2 March
PERIOD_START = datetime(2026, 2, 28, 21, 0, tzinfo=UTC)
PERIOD_END = datetime(2026, 3, 19, 21, 0, tzinfo=UTC)


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


@dataclass
class Spec:
    key: str
    org: str
    category: str
    state: str
    created: datetime
    due: datetime
    assigned: timedelta | None = None  # after filing
    done: timedelta | None = None
    closed: timedelta | None = None
    rework: int = 0
    returns: int = 0
    disputes: int = 0
    rating: int | None = None
    description: str = ""
    flat: str = ""


SPECS = [
    # УК 1: nine requests filed on 2 March.
    Spec("R1", "uk1", "leak", "closed", T0, T0 + m(120), m(10), m(60), m(120), rating=5),
    Spec(
        "R2",
        "uk1",
        "leak",
        "closed",
        T0,
        T0 + m(120),
        m(20),
        m(180),
        m(300),
        rework=1,
        returns=1,
        rating=3,
    ),
    Spec(
        "R3",
        "uk1",
        "leak",
        "closed",
        T0,
        T0 + m(120),
        m(30),
        m(90),
        m(240),
        rework=2,
        returns=1,
        disputes=1,
        rating=4,
    ),
    # Due one minute before «now»: overdue now, not two minutes ago.
    Spec("R4", "uk1", "lift", "in_progress", T0, NOW - m(1), m(40)),
    # Due one minute after «now»: not overdue yet, overdue two minutes later.
    Spec("R5", "uk1", "lift", "assigned", T0, NOW + m(1), m(100)),
    Spec("R6", "uk1", "other", "new", T0, NOW - m(60)),
    Spec("R7", "uk1", "other", "declined", T0, T0 + m(600)),
    Spec("R8", "uk1", "other", "verified", T0, T0 + m(120), m(50), m(70)),
    Spec("R9", "uk1", "other", "cancelled", T0, T0 + m(600)),
    # Filed one minute before the period: outside it, but its closing falls on 3 March.
    Spec(
        "R10",
        "uk1",
        "leak",
        "closed",
        PERIOD_START - m(1),
        PERIOD_START + m(60),
        m(30),
        m(50),
        timedelta(days=2, hours=13, minutes=1),
    ),
    # УК 2: one filed exactly when the period starts, one whose work was done at the deadline.
    Spec("R11", "uk2", "lift", "new", PERIOD_START, NOW + timedelta(days=30)),
    Spec(
        "R13",
        "uk2",
        "window",
        "closed",
        datetime(2026, 3, 5, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 6, 10, 0, tzinfo=UTC),
        m(60),
        timedelta(days=1),
        timedelta(days=2),
    ),
    # Filed at 00:00 on 20 March in the town: outside the period.
    Spec("R12", "uk2", "lift", "new", PERIOD_END, NOW + timedelta(days=30)),
    # Filed in January and still waiting: overdue now, whatever period is shown.
    Spec(
        "R14",
        "uk1",
        "other",
        "new",
        datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
        datetime(2026, 1, 18, 8, 0, tzinfo=UTC),
    ),
]


@dataclass
class History:
    ids: dict[str, int] = field(default_factory=dict)


async def build_history(world: World) -> History:
    history = History()
    db = Database(world.settings.database_url)
    try:
        async with db.begin() as session:
            for n, spec in enumerate(SPECS, start=1):
                created = spec.created
                request = Request(
                    number=f"2026-{n:06d}",
                    resident_id=world.users["resident"],
                    building_id=world.buildings["lenina12"],
                    flat=spec.flat or str(10 + n),
                    category_id=world.categories[spec.category],
                    description=spec.description or f"Описание заявки {spec.key}, подъезд 2",
                    source="web",
                    state=spec.state,
                    organisation_id=world.orgs[spec.org],
                    contractor_id=world.orgs["c1"] if spec.assigned else None,
                    due_at=spec.due,
                    created_at=created,
                    updated_at=created,
                    assigned_at=created + spec.assigned if spec.assigned else None,
                    done_at=created + spec.done if spec.done else None,
                    closed_at=created + spec.closed if spec.closed else None,
                    rework_count=spec.rework,
                )
                session.add(request)
                await session.flush()
                history.ids[spec.key] = request.id
                session.add(
                    TimelineEntry(
                        request_id=request.id,
                        at=created,
                        kind="file",
                        to_state="new",
                        actor_id=world.users["resident"],
                        actor_role="resident",
                    )
                )
                for kind, count in (("return", spec.returns), ("dispute", spec.disputes)):
                    for _ in range(count):
                        session.add(
                            TimelineEntry(
                                request_id=request.id,
                                at=created + m(100),
                                kind=kind,
                                from_state="done",
                                to_state="rework",
                                actor_role="dispatcher" if kind == "return" else "resident",
                                text="Течёт снова",
                            )
                        )
                if spec.rating is not None:
                    session.add(
                        Rating(
                            request_id=request.id,
                            resident_id=world.users["resident"],
                            score=spec.rating,
                        )
                    )
    finally:
        await db.dispose()
    return history

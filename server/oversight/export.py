"""Requests of a period with the time of every step, as CSV or XLSX, for the administration.

Rows name the building but not the flat, the resident or the description: the export is for
counting and checking deadlines, and files travel further than pages do.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from server.db.models import (
    Building,
    Category,
    Organisation,
    Rating,
    Request,
    TimelineEntry,
    utcnow,
)
from server.i18n import gettext as _
from server.oversight.cohort import filed_in
from server.oversight.figures import Dashboard, Row
from server.oversight.formatting import row_name
from server.oversight.periods import Period, Scope
from server.requests.deadlines import TOWN_TZ, is_overdue
from server.requests.labels import source_label, state_label
from server.requests.workflow import CLOSED_STATES, FIXED_STATES, Action, State
from server.shared.services import Services

# Timeline steps whose first (or last) moment gets a column.
FIRST_STEPS = tuple(a.value for a in (Action.ASSIGN, Action.START, Action.DECLINE, Action.CANCEL))
LAST_STEPS = tuple(a.value for a in (Action.COMPLETE, Action.VERIFY, Action.CONFIRM))
REWORK_STEPS = (Action.RETURN.value, Action.DISPUTE.value)


def columns() -> list[str]:
    return [
        _("Номер"),
        _("Подана"),
        _("Категория"),
        _("Организация"),
        _("Подрядчик"),
        _("Источник"),
        _("Дом"),
        _("Состояние"),
        _("Срок"),
        _("Назначен подрядчик"),
        _("Работы начаты"),
        _("Выполнена"),
        _("Проверена диспетчером"),
        _("Закрыта жителем"),
        _("Отклонена"),
        _("Отменена"),
        _("Просрочена сейчас"),
        _("Выполнена в срок"),
        _("Возвратов"),
        _("Споров"),
        _("Оценка"),
        _("До назначения, мин"),
        _("До выполнения, мин"),
        _("До закрытия, мин"),
    ]


def _minutes(later: datetime | None, earlier: datetime) -> int | None:
    return None if later is None else round((later - earlier).total_seconds() / 60)


def _step(kind: str, first: bool = True) -> Any:
    at = TimelineEntry.at
    return (func.min(at) if first else func.max(at)).filter(TimelineEntry.kind == kind)


async def export_rows(
    svc: Services, period: Period, scope: Scope = Scope(), *, now: datetime | None = None
) -> list[list[Any]]:
    """One row per request filed in the period, oldest first; times are aware datetimes."""
    now = now or utcnow()
    cohort = filed_in(period, scope)
    # One row per request with the first (or last) time of each step and the rework counts.
    steps = (
        select(
            TimelineEntry.request_id.label("request_id"),
            *(_step(kind).label(kind) for kind in FIRST_STEPS),
            *(_step(kind, first=False).label(kind) for kind in LAST_STEPS),
            func.count().filter(TimelineEntry.kind == Action.RETURN).label("returns"),
            func.count().filter(TimelineEntry.kind == Action.DISPUTE).label("disputes"),
        )
        .where(
            TimelineEntry.kind.in_([*FIRST_STEPS, *LAST_STEPS, *REWORK_STEPS]),
            TimelineEntry.request_id.in_(select(Request.id).where(*cohort)),
        )
        .group_by(TimelineEntry.request_id)
        .subquery()
    )
    contractor = aliased(Organisation)
    query = (
        select(
            Request.number,
            Request.created_at,
            Category.name,
            Organisation.name,
            contractor.name,
            Request.source,
            Building.street,
            Building.house,
            Request.state,
            Request.due_at,
            Request.assigned_at,
            Request.done_at,
            Request.closed_at,
            Rating.score,
            *(steps.c[kind] for kind in (*FIRST_STEPS, *LAST_STEPS)),
            steps.c.returns,
            steps.c.disputes,
        )
        .join(Category, Category.id == Request.category_id)
        .join(Building, Building.id == Request.building_id)
        .outerjoin(Organisation, Organisation.id == Request.organisation_id)
        .outerjoin(contractor, contractor.id == Request.contractor_id)
        .outerjoin(Rating, Rating.request_id == Request.id)
        .outerjoin(steps, steps.c.request_id == Request.id)
        .where(*cohort)
        .order_by(Request.created_at, Request.id)
    )
    async with svc.db.read() as session:
        found = (await session.execute(query)).all()

    waiting = _("Ожидает разбора")
    yes, no = _("да"), _("нет")
    states = {s.value: state_label(s.value) for s in State}
    sources = {name: source_label(name) for name in ("web", "phone", "api", "open311")}
    rows: list[list[Any]] = []
    for (
        number,
        created,
        category,
        org,
        contractor_name,
        source,
        street,
        house,
        state_value,
        due,
        assigned,
        done_at,
        closed_at,
        score,
        assign,
        start,
        decline,
        cancel,
        complete,
        verify,
        confirm,
        returns,
        disputes,
    ) in found:
        state = State(state_value)
        done = done_at if state in FIXED_STATES else None
        closed = closed_at if state in CLOSED_STATES else None
        rows.append(
            [
                number,
                created,
                category,
                org or waiting,
                contractor_name or "",
                sources.get(source, source),
                f"{street}, {house}",
                states.get(state_value, state_value),
                due,
                assigned or _aware(assign),
                _aware(start),
                done_at or _aware(complete),
                _aware(verify),
                closed_at or _aware(confirm),
                _aware(decline),
                _aware(cancel),
                yes if is_overdue(state, due, now) else "",
                (yes if done <= due else no) if done else "",
                returns or 0,
                disputes or 0,
                score or "",
                _minutes(assigned, created),
                _minutes(done, created),
                _minutes(closed, created),
            ]
        )
    return rows


def _aware(value: datetime | str | None) -> datetime | None:
    # Aggregates lose the column type on SQLite, so a string or a naive value may come back.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _local(value: Any) -> Any:
    """The town's wall-clock time: spreadsheets have no time zones."""
    if isinstance(value, datetime):
        return value.astimezone(TOWN_TZ).replace(tzinfo=None)
    return value


def _csv_time(value: datetime) -> str:
    # An f-string is about twice as fast as strftime, which counts over a year of rows.
    d = value.astimezone(TOWN_TZ)
    return f"{d.day:02d}.{d.month:02d}.{d.year} {d.hour:02d}:{d.minute:02d}"


def to_csv(rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM and semicolons, as Excel in a Russian locale opens without asking."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns())
    for row in rows:
        writer.writerow([_csv_time(v) if isinstance(v, datetime) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], board: Dashboard | None = None) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Заявки"))
    bold = Font(bold=True)
    sheet.append([_header(sheet, name, bold) for name in columns()])
    sheet.freeze_panes = "A2"
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=_local(value))
                cell.number_format = "DD.MM.YYYY HH:MM"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    if board is not None:
        _figures_sheet(book, board, bold)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: Any, name: str, bold: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=name)
    cell.font = bold
    return cell


def _figures_sheet(book: Workbook, board: Dashboard, bold: Font) -> None:
    sheet = book.create_sheet(_("По организациям"))
    names = [
        _("Организация"),
        _("Подано"),
        _("Закрыто"),
        _("Отклонено"),
        _("Открыто"),
        _("Просрочено"),
        _("В срок, %"),
        _("Назначение: медиана, мин"),
        _("Назначение: 90-й процентиль, мин"),
        _("Выполнение: медиана, мин"),
        _("Выполнение: 90-й процентиль, мин"),
        _("Закрытие: медиана, мин"),
        _("Закрытие: 90-й процентиль, мин"),
        _("Без доработки, %"),
        _("Возвратов"),
        _("Споров"),
        _("Передано другим"),
        _("Средняя оценка"),
    ]
    sheet.append([_header(sheet, n, bold) for n in names])
    for row in [*board.by_organisation, Row(None, _("Всего"), board.total)]:
        f = row.figures
        sheet.append(
            [
                row_name(row),
                f.filed,
                f.closed,
                f.declined,
                f.open,
                f.overdue,
                _pct(f.on_time_share),
                _min(f.to_assign.median),
                _min(f.to_assign.p90),
                _min(f.to_done.median),
                _min(f.to_done.p90),
                _min(f.to_close.median),
                _min(f.to_close.p90),
                _pct(f.without_rework_share),
                f.returns,
                f.disputes,
                f.transferred,
                round(f.rating, 2) if f.rating is not None else None,
            ]
        )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _min(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)

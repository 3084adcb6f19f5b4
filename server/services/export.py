"""Requests of a period with the time of every step, as CSV or XLSX, for the administration.

Rows name the building but not the flat, the resident or the description: the export is for
counting and checking deadlines, and files travel further than pages do.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
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
from server.domain.deadlines import TOWN_TZ, is_overdue
from server.domain.workflow import State
from server.i18n import gettext as _
from server.labels import source_label, state_label
from server.services import stats
from server.services.context import Services
from server.services.stats import Period, Scope

# Timeline steps whose first (or last) moment gets a column.
FIRST_STEPS = ("assign", "start", "decline", "cancel")
LAST_STEPS = ("complete", "verify", "confirm")


@dataclass
class ExportRow:
    values: list[Any]


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


async def export_rows(
    svc: Services, period: Period, scope: Scope = Scope(), *, now: datetime | None = None
) -> list[list[Any]]:
    """One row per request filed in the period, oldest first; times are aware datetimes."""
    now = now or utcnow()
    cohort = stats.cohort(period, scope)
    contractor = aliased(Organisation)
    query = (
        select(
            Request,
            Category.name,
            Organisation.name,
            contractor.name,
            Building.street,
            Building.house,
            Rating.score,
        )
        .join(Category, Category.id == Request.category_id)
        .join(Building, Building.id == Request.building_id)
        .outerjoin(Organisation, Organisation.id == Request.organisation_id)
        .outerjoin(contractor, contractor.id == Request.contractor_id)
        .outerjoin(Rating, Rating.request_id == Request.id)
        .where(*cohort)
        .order_by(Request.created_at, Request.id)
    )
    steps_query = (
        select(
            TimelineEntry.request_id,
            TimelineEntry.kind,
            func.min(TimelineEntry.at),
            func.max(TimelineEntry.at),
            func.count(),
        )
        .join(Request, Request.id == TimelineEntry.request_id)
        .where(
            TimelineEntry.kind.in_([*FIRST_STEPS, *LAST_STEPS, "return", "dispute"]),
            *cohort,
        )
        .group_by(TimelineEntry.request_id, TimelineEntry.kind)
    )
    async with svc.db.read() as session:
        found = (await session.execute(query)).all()
        steps: dict[int, dict[str, tuple[datetime, datetime, int]]] = defaultdict(dict)
        for request_id, kind, first, last, n in (await session.execute(steps_query)).all():
            steps[request_id][kind] = (_aware(first), _aware(last), int(n))

    rows: list[list[Any]] = []
    for request, category, org, contractor_name, street, house, score in found:
        s = steps.get(request.id, {})

        def first(kind: str, s: dict[str, tuple[datetime, datetime, int]] = s) -> Any:
            return s[kind][0] if kind in s else None

        def last(kind: str, s: dict[str, tuple[datetime, datetime, int]] = s) -> Any:
            return s[kind][1] if kind in s else None

        state = State(request.state)
        done = request.done_at if state in stats.WORK_DONE_STATES else None
        rows.append(
            [
                request.number,
                request.created_at,
                category,
                org or _("Ожидает разбора"),
                contractor_name or "",
                source_label(request.source),
                f"{street}, {house}",
                state_label(request.state),
                request.due_at,
                request.assigned_at or first("assign"),
                first("start"),
                request.done_at or last("complete"),
                last("verify"),
                request.closed_at or last("confirm"),
                first("decline"),
                first("cancel"),
                _("да") if is_overdue(state, request.due_at, now) else "",
                (_("да") if done <= request.due_at else _("нет")) if done else "",
                s["return"][2] if "return" in s else 0,
                s["dispute"][2] if "dispute" in s else 0,
                score or "",
                _minutes(request.assigned_at, request.created_at),
                _minutes(done, request.created_at),
                _minutes(request.closed_at if state is State.CLOSED else None, request.created_at),
            ]
        )
    return rows


def _aware(value: datetime) -> datetime:
    # Aggregates lose the column type on SQLite, so a string or a naive value may come back.
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


def to_csv(rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM and semicolons, as Excel in a Russian locale opens without asking."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns())
    for row in rows:
        writer.writerow(
            [_local(v).strftime("%d.%m.%Y %H:%M") if isinstance(v, datetime) else v for v in row]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], board: stats.Dashboard | None = None) -> bytes:
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


def _figures_sheet(book: Workbook, board: stats.Dashboard, bold: Font) -> None:
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
        _("Средняя оценка"),
    ]
    sheet.append([_header(sheet, n, bold) for n in names])
    for row in [*board.by_organisation, stats.Row(None, _("Всего"), board.total)]:
        f = row.figures
        sheet.append(
            [
                row.name,
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
                round(f.rating, 2) if f.rating is not None else None,
            ]
        )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _min(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)

"""Open311 GeoReport v2: our categories as services, our requests as service requests.

The mapping (docs/oversight.md has the full table):
- service_code = category code; one optional attribute, `flat`;
- status: closed, declined and cancelled requests are «closed», everything else «open»;
  status_notes names our state; agency_responsible is the organisation handling the request;
  expected_datetime is the deadline;
- service_request_id is our request id; a token is our request number («2026-000123»), so
  GET tokens/{number} finds the id of a request whose number a resident was told.

Reading is public and anonymous: no names, phones, flats, and descriptions only for holders of
an Open311 key. Filing needs an Open311 key (ApiToken kind «open311»).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from server.accounts.people import find_or_create_caller, normalise_phone
from server.db.models import Building, Category, Request, User, utcnow
from server.i18n import gettext as _
from server.i18n import local_time
from server.integrations.tokens import TokenHolder
from server.requests import queries
from server.requests.deadlines import TOWN_TZ, is_overdue
from server.requests.filing import NewRequest, file_request
from server.requests.labels import state_label
from server.requests.workflow import FINAL_STATES, State
from server.shared.errors import InvalidInput
from server.shared.roles import Role
from server.shared.services import Services

SPEC = "http://wiki.open311.org/GeoReport_v2"
CLOSED_STATES = frozenset(FINAL_STATES)
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
NEAREST_BUILDING_METRES = 150
FORMATS = ("json", "xml")


class Open311Error(Exception):
    """An error as the specification wants it: an HTTP status and [{code, description}]."""

    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code or status
        self.description = description


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def not_found_text() -> str:
    return _("Такого ресурса Open311 нет. Список: %(spec)s", spec=SPEC)


def request_not_found_text(value: object) -> str:
    return _("Заявка %(id)s не найдена.", id=value)


def missing_key_text() -> str:
    return _("Не передан api_key: подать заявку можно только с ключом.")


def invalid_key_text() -> str:
    return _("Неверный api_key: заявка не принята.")


# --------------------------------------------------------------------------------------------
# Output: JSON and XML from the same ordered dicts (the Spark convention of the spec)


Item = dict[str, Any]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _append(parent: ET.Element, name: str, value: Any, item_names: dict[str, str]) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _append(node, key, inner, item_names)
    elif isinstance(value, list):
        for inner in value:
            _append(node, item_names.get(name, "item"), inner, item_names)
    else:
        node.text = _text(value)


def to_xml(root: str, value: list[Item] | Item, item: str | None = None) -> bytes:
    """`<root><item>…</item></root>` for a list, `<root>…</root>` for a single object."""
    item_names = {
        "services": "service",
        "service_requests": "request",
        "attributes": "attribute",
        "values": "value",
        "endpoints": "endpoint",
        "formats": "format",
        "errors": "error",
    }
    if item is not None:
        item_names[root] = item
    element = ET.Element(root)
    if isinstance(value, list):
        for entry in value:
            _append(element, item_names.get(root, "item"), entry, item_names)
    else:
        for key, inner in value.items():
            _append(element, key, inner, item_names)
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        + ET.tostring(element, encoding="unicode").encode()
    )


def error_body(error: Open311Error, fmt: str) -> bytes:
    import json

    items = [{"code": error.code, "description": error.description}]
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False).encode()
    return to_xml("errors", items)


def w3(moment: datetime | None) -> str | None:
    """ISO 8601 with the town's offset, e.g. 2026-03-02T12:00:00+03:00."""
    return None if moment is None else moment.astimezone(TOWN_TZ).isoformat(timespec="seconds")


def format_missing_text() -> str:
    return _("Укажите формат ответа в адресе: .json или .xml.")


def split_format(name: str) -> tuple[str, str]:
    """«services.json» → («services», «json»); an unknown format is a bad request."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or not stem:
        raise bad_request(format_missing_text())
    if fmt.lower() not in FORMATS:
        raise bad_request(
            _("Формат «%(fmt)s» не поддерживается: используйте .json или .xml.", fmt=fmt)
        )
    return stem, fmt.lower()


# --------------------------------------------------------------------------------------------
# Jurisdiction and discovery


def jurisdiction(svc: Services) -> str:
    """Our jurisdiction_id: settings.extra["open311_jurisdiction"] or the host of BASE_URL."""
    return svc.settings.extra.get("open311_jurisdiction") or (
        urlparse(svc.settings.base_url).hostname or "localhost"
    )


def check_jurisdiction(svc: Services, value: str | None) -> None:
    """We serve one jurisdiction: the argument is optional, but a wrong one is not found."""
    if value and value.strip().lower() != jurisdiction(svc).lower():
        raise not_found(
            _(
                "jurisdiction_id «%(value)s» не найден; здесь обслуживается «%(ours)s».",
                value=value,
                ours=jurisdiction(svc),
            )
        )


# When our services or their definitions last changed shape; bump it when they do.
CHANGESET = "2026-12-01 00:00"


def discovery(svc: Services) -> Item:
    when = CHANGESET
    return {
        "changeset": when,
        "contact": _(
            "Заявка ЖКХ, %(town)s. Вопросы по API: администрация системы, %(url)s",
            town=svc.settings.town_name,
            url=svc.settings.base_url,
        ),
        "key_service": _(
            "Ключ для подачи заявок (api_key) выдаёт администратор системы по запросу "
            "организации. jurisdiction_id: %(j)s.",
            j=jurisdiction(svc),
        ),
        "endpoints": [
            {
                "specification": SPEC,
                "url": f"{svc.settings.base_url}/open311/v2",
                "changeset": when,
                "type": "test" if svc.settings.demo else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --------------------------------------------------------------------------------------------
# Services (our categories)


FLAT_ATTRIBUTE = "flat"


def service_item(category: Category) -> Item:
    from server.requests.labels import priority_label

    keywords = [w for w in (category.group, priority_label(category.priority)) if w]
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.name,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": category.group or priority_label(category.priority),
    }


def service_definition(category: Category) -> Item:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": FLAT_ATTRIBUTE,
                "datatype": "string",
                "required": False,
                "datatype_description": _("Номер квартиры, например 12 или 12А."),
                "order": 1,
                "description": _("Квартира, если проблема в квартире, а не в общем имуществе."),
            }
        ],
    }


async def services(svc: Services) -> list[Category]:
    return await queries.categories(svc)


async def service(svc: Services, code: str) -> Category:
    async with svc.db.read() as session:
        category = (
            await session.scalars(
                select(Category).where(Category.code == code, Category.active.is_(True))
            )
        ).first()
    if category is None:
        raise not_found(_("service_code «%(code)s» не найден.", code=code))
    return category


# --------------------------------------------------------------------------------------------
# Service requests: reading


def status_of(state: str) -> str:
    return "closed" if State(state) in CLOSED_STATES else "open"


def request_item(request: Request, *, now: datetime, town: str, with_description: bool) -> Item:
    building = request.building
    state = State(request.state)
    notes = state_label(request.state)
    if is_overdue(state, request.due_at, now):
        notes += ". " + _("Срок выполнения истёк")
    elif state in (State.DONE, State.VERIFIED):
        notes += ". " + _("Ожидает подтверждения жителем")
    updated = request.closed_at if state is State.CLOSED and request.closed_at else None
    lat = request.latitude if request.latitude is not None else building.latitude
    lon = request.longitude if request.longitude is not None else building.longitude
    return {
        "service_request_id": request.id,
        "status": status_of(request.state),
        "status_notes": notes,
        "service_name": request.category.name,
        "service_code": request.category.code,
        "description": request.description if with_description else None,
        "agency_responsible": request.organisation.name if request.organisation else None,
        "service_notice": _("Срок выполнения — до %(due)s.", due=local_time(request.due_at)),
        "requested_datetime": w3(request.created_at),
        "updated_datetime": w3(updated or request.updated_at),
        "expected_datetime": w3(request.due_at),
        "address": f"{building.address}, {town}",
        "address_id": building.id,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


@dataclass
class RequestQuery:
    ids: list[int] | None = None
    codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None


def parse_w3(value: str, name: str, *, end_of_day: bool = False) -> datetime:
    """A w3 datetime; a bare date is the town's midnight, a time without offset town time."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=TOWN_TZ)
            # A bare end date means the whole of that day.
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        if "T" in text and " " in text:
            text = text.replace(" ", "+")  # a «+» the client forgot to encode in the URL
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(
            _(
                "%(name)s: неверная дата «%(value)s»; нужен формат 2026-01-31T00:00:00Z.",
                name=name,
                value=value,
            )
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=TOWN_TZ)


def parse_query(params: dict[str, str], now: datetime) -> RequestQuery:
    """The filters of GET requests, checked; errors are 400s with a description."""
    query = RequestQuery()
    raw_ids = (params.get("service_request_id") or "").strip()
    if raw_ids:
        try:
            query.ids = [int(x) for x in raw_ids.split(",") if x.strip()]
        except ValueError:
            raise bad_request(
                _("service_request_id: перечислите номера заявок через запятую.")
            ) from None
        # The ids override every other argument.
        return query
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    query.codes = codes or None
    statuses = [s.strip().lower() for s in (params.get("status") or "").split(",") if s.strip()]
    for status in statuses:
        if status not in ("open", "closed"):
            raise bad_request(_("status: допустимы только open и closed."))
    query.statuses = statuses or None
    start_raw = (params.get("start_date") or "").strip()
    end_raw = (params.get("end_date") or "").strip()
    start = parse_w3(start_raw, "start_date") if start_raw else None
    end = parse_w3(end_raw, "end_date", end_of_day=True) if end_raw else None
    if start is None and end is None:
        end, start = now, now - MAX_SPAN
    elif start is None:
        assert end is not None
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if start > end:
        raise bad_request(_("start_date позже end_date."))
    if end - start > MAX_SPAN:
        raise bad_request(_("Период поиска не может быть длиннее 90 дней."))
    query.start, query.end = start, end
    return query


def _loaded() -> Any:
    return (
        selectinload(Request.category),
        selectinload(Request.organisation),
        selectinload(Request.building),
    )


async def find_requests(svc: Services, query: RequestQuery) -> list[Request]:
    stmt = select(Request).options(*_loaded())
    if query.ids is not None:
        stmt = stmt.where(Request.id.in_(query.ids or [0]))
    else:
        assert query.start is not None and query.end is not None
        stmt = stmt.where(Request.created_at >= query.start, Request.created_at <= query.end)
        if query.codes:
            stmt = stmt.join(Category, Category.id == Request.category_id).where(
                Category.code.in_(query.codes)
            )
        if query.statuses and len(set(query.statuses)) == 1:
            closed = [s.value for s in CLOSED_STATES]
            if query.statuses[0] == "closed":
                stmt = stmt.where(Request.state.in_(closed))
            else:
                stmt = stmt.where(Request.state.not_in(closed))
    stmt = stmt.order_by(Request.created_at.desc(), Request.id.desc()).limit(MAX_RESULTS)
    async with svc.db.read() as session:
        return list(await session.scalars(stmt))


async def get_request(svc: Services, request_id: int) -> Request:
    async with svc.db.read() as session:
        request = (
            await session.scalars(
                select(Request).where(Request.id == request_id).options(*_loaded())
            )
        ).first()
    if request is None:
        raise not_found(request_not_found_text(request_id))
    return request


async def request_by_token(svc: Services, token: str) -> Request:
    """Our tokens are request numbers: people are told «заявка №2026-000123»."""
    token = token.strip().lstrip("№")
    async with svc.db.read() as session:
        request = (await session.scalars(select(Request).where(Request.number == token))).first()
    if request is None:
        raise not_found(_("Токен «%(token)s» не найден.", token=token))
    return request


def items(requests: list[Request], svc: Services, *, with_description: bool) -> list[Item]:
    now = utcnow()
    town = svc.settings.town_name
    return [
        request_item(r, now=now, town=town, with_description=with_description) for r in requests
    ]


# --------------------------------------------------------------------------------------------
# Service requests: filing


@dataclass
class Submission:
    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    description: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: dict[str, str]) -> Submission:
        attributes = {
            match.group(1): value
            for key, value in form.items()
            if (match := re.fullmatch(r"attribute\[([^\]]+)\](?:\[\])?", key))
        }
        names = (
            "service_code lat long address_string address_id description phone first_name "
            "last_name email"
        ).split()
        return cls(**{n: str(form.get(n) or "").strip() for n in names}, attributes=attributes)


_HOUSE = re.compile(r"^(?:д\.?|дом)?(\d+[а-яa-z]?(?:/\d+[а-яa-z]?)?(?:к\d+)?)$")
_DROP = {"г", "город", "гор", "россия", "рф", "республика", "татарстан", "рт", "д", "дом"}
_ABBREVIATIONS = {"пр-т": "проспект", "просп": "проспект", "пр-кт": "проспект", "б-р": "бульвар"}


def _address_words(text: str, town: str) -> tuple[list[str], list[str]]:
    """Street words and house numbers from «ул. Ленина, д. 12, Заинск, 423520»."""
    town_words = {w for w in re.split(r"[\s,.]+", town.lower()) if w}
    street: list[str] = []
    houses: list[str] = []
    for raw in re.split(r"[\s,]+", text.lower().replace("ё", "е")):
        word = raw.strip(".;:()")
        if not word or word in town_words or word in _DROP or re.fullmatch(r"\d{6}", word):
            continue
        word = _ABBREVIATIONS.get(word, word)
        house = _HOUSE.match(word)
        if house and any(ch.isdigit() for ch in word):
            houses.append(house.group(1))
        else:
            street.append(word.rstrip("."))
    return street, houses


async def match_address(svc: Services, text: str) -> Building | None:
    """The one building an address string names, or None when none or several match."""
    street, houses = _address_words(text, svc.settings.town_name)
    if not street or len(houses) != 1:
        return None
    candidates = await queries.search_buildings(svc, " ".join([*street, houses[0]]), limit=50)
    exact = [b for b in candidates if b.house.lower().replace(" ", "") == houses[0]]
    return exact[0] if len(exact) == 1 else None


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


async def nearest_building(svc: Services, lat: float, lon: float) -> Building | None:
    # A degree of latitude is 111 km: look only at a small box around the point.
    box = NEAREST_BUILDING_METRES / 111_000 * 2
    async with svc.db.read() as session:
        buildings = list(
            await session.scalars(
                select(Building).where(
                    Building.latitude.between(lat - box, lat + box),
                    Building.longitude.between(lon - box * 2, lon + box * 2),
                )
            )
        )
    best = min(
        buildings,
        key=lambda b: _distance_m(lat, lon, b.latitude or 0, b.longitude or 0),
        default=None,
    )
    if best is None or _distance_m(lat, lon, best.latitude or 0, best.longitude or 0) > (
        NEAREST_BUILDING_METRES
    ):
        return None
    return best


def _coordinates(sub: Submission) -> tuple[float, float] | None:
    if not sub.lat and not sub.long:
        return None
    if not sub.lat or not sub.long:
        raise bad_request(_("lat и long передаются вместе."))
    try:
        lat, lon = float(sub.lat), float(sub.long)
    except ValueError:
        raise bad_request(_("lat и long должны быть числами (WGS84).")) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise bad_request(_("lat и long вне допустимого диапазона."))
    return lat, lon


async def locate(svc: Services, sub: Submission) -> tuple[Building, tuple[float, float] | None]:
    point = _coordinates(sub)
    if sub.address_id:
        try:
            building_id = int(sub.address_id)
        except ValueError:
            raise bad_request(_("address_id должен быть номером дома из реестра.")) from None
        building = await queries.building(svc, building_id)
        if building is None:
            raise bad_request(_("address_id %(id)s нет в реестре домов.", id=sub.address_id))
        return building, point
    if sub.address_string:
        building = await match_address(svc, sub.address_string)
        if building is None:
            raise bad_request(
                _(
                    "Адрес «%(address)s» не найден в реестре домов %(town)s. Укажите улицу и "
                    "номер дома, например «улица Ленина, 12», или address_id.",
                    address=sub.address_string[:200],
                    town=svc.settings.town_name,
                )
            )
        return building, point
    if point is not None:
        building = await nearest_building(svc, *point)
        if building is None:
            raise bad_request(
                _(
                    "Рядом с точкой %(lat)s, %(long)s нет дома из реестра. Укажите address_string.",
                    lat=sub.lat,
                    long=sub.long,
                )
            )
        return building, point
    raise bad_request(_("Укажите место: lat и long, address_string или address_id."))


async def _resident(svc: Services, holder: TokenHolder, sub: Submission) -> int:
    name = " ".join(f"{sub.first_name} {sub.last_name}".split())[:200]
    if sub.phone:
        phone = normalise_phone(sub.phone)
        if phone is None:
            raise bad_request(_("phone: неверный номер телефона."))
        try:
            async with svc.db.begin() as session:
                return (await find_or_create_caller(session, phone, name)).id
        except InvalidInput as exc:
            raise bad_request(" ".join(exc.fields.values()) or exc.message) from None
        except IntegrityError:
            async with svc.db.begin() as session:
                return (await find_or_create_caller(session, phone, name)).id
    # Without a phone the request belongs to the integration's own anonymous resident.
    login = f"open311-{holder.token_id}"
    for _attempt in range(2):
        try:
            async with svc.db.begin() as session:
                user = (await session.scalars(select(User).where(User.login == login))).first()
                if user is None:
                    user = User(
                        login=login,
                        name=_("Житель (через %(name)s)", name=holder.name)[:200],
                        role=Role.RESIDENT,
                    )
                    session.add(user)
                    await session.flush()
                return user.id
        except IntegrityError:
            continue
    raise bad_request(_("Не удалось зарегистрировать заявителя."))


async def submit(svc: Services, holder: TokenHolder, sub: Submission) -> Request:
    if not sub.service_code:
        raise bad_request(_("Не указан service_code."))
    category = await service(svc, sub.service_code)
    building, point = await locate(svc, sub)
    description = " ".join(sub.description.split(" ")).strip()[:4000]
    if not description:
        description = category.name
    elif len(description) < 5:
        description = f"{category.name}: {description}"
    flat = sub.attributes.get(FLAT_ATTRIBUTE, "").strip()[:20]
    resident_id = await _resident(svc, holder, sub)
    try:
        outcome = await file_request(
            svc,
            holder.filer,
            NewRequest(
                building_id=building.id,
                category_id=category.id,
                description=description,
                flat=flat,
                resident_id=resident_id,
                source="open311",
                latitude=point[0] if point else None,
                longitude=point[1] if point else None,
            ),
        )
    except InvalidInput as exc:
        raise bad_request(" ".join([exc.message, *exc.fields.values()])) from None
    return await get_request(svc, outcome.request.id)


def created_item(request: Request) -> Item:
    return {
        "service_request_id": request.id,
        "service_notice": _(
            "Заявка №%(n)s принята. Срок выполнения — до %(due)s.",
            n=request.number,
            due=local_time(request.due_at),
        ),
        "account_id": None,
    }

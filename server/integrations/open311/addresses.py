"""Where a filed request is: a building of the registry, from an address_id, a free-text
address or coordinates (the nearest house within NEAREST_BUILDING_METRES)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sqlalchemy import select

from server.db.models import Building
from server.i18n import gettext as _
from server.integrations.open311.errors import bad_request
from server.requests import queries
from server.shared.forms import parse_id
from server.shared.services import Services

NEAREST_BUILDING_METRES = 150
Point = tuple[float, float]


@dataclass(frozen=True)
class Place:
    """Where the client says the problem is, as given (Open311 field names)."""

    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""


_HOUSE = re.compile(r"^(?:д\.?|дом)?(\d+[а-яa-z]?(?:/\d+[а-яa-z]?)?(?:к\d+)?)$")
_DROP = {"г", "город", "гор", "россия", "рф", "республика", "татарстан", "рт", "д", "дом"}
_ABBREVIATIONS = {"пр-т": "проспект", "просп": "проспект", "пр-кт": "проспект", "б-р": "бульвар"}


def address_words(text: str, town: str) -> tuple[list[str], list[str]]:
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
    street, houses = address_words(text, svc.settings.town_name)
    if not street or len(houses) != 1:
        return None
    candidates = await queries.search_buildings(svc, " ".join([*street, houses[0]]), limit=50)
    exact = [b for b in candidates if b.house.lower().replace(" ", "") == houses[0]]
    return exact[0] if len(exact) == 1 else None


def distance_m(a: Point, b: Point) -> float:
    """Metres between two WGS84 points (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


async def nearest_building(svc: Services, point: Point) -> Building | None:
    lat, lon = point
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
    distances = {b.id: distance_m(point, (b.latitude or 0, b.longitude or 0)) for b in buildings}
    best = min(buildings, key=lambda b: distances[b.id], default=None)
    if best is None or distances[best.id] > NEAREST_BUILDING_METRES:
        return None
    return best


def parse_point(lat: str, long: str) -> Point | None:
    if not lat and not long:
        return None
    if not lat or not long:
        raise bad_request(_("lat и long передаются вместе."))
    try:
        point = float(lat), float(long)
    except ValueError:
        raise bad_request(_("lat и long должны быть числами (WGS84).")) from None
    if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180) or any(map(math.isnan, point)):
        raise bad_request(_("lat и long вне допустимого диапазона."))
    return point


async def _by_address_id(svc: Services, address_id: str) -> Building:
    try:
        building_id = int(address_id)
    except ValueError:
        raise bad_request(_("address_id должен быть номером дома из реестра.")) from None
    # An id the database cannot hold names no house.
    building = await queries.building(svc, building_id) if parse_id(building_id) else None
    if building is None:
        raise bad_request(_("address_id %(id)s нет в реестре домов.", id=address_id))
    return building


async def _by_address(svc: Services, address: str) -> Building:
    building = await match_address(svc, address)
    if building is None:
        raise bad_request(
            _(
                "Адрес «%(address)s» не найден в реестре домов %(town)s. Укажите улицу и "
                "номер дома, например «улица Ленина, 12», или address_id.",
                address=address[:200],
                town=svc.settings.town_name,
            )
        )
    return building


async def _by_point(svc: Services, point: Point, lat: str, long: str) -> Building:
    building = await nearest_building(svc, point)
    if building is None:
        raise bad_request(
            _(
                "Рядом с точкой %(lat)s, %(long)s нет дома из реестра. Укажите address_string.",
                lat=lat,
                long=long,
            )
        )
    return building


async def locate(svc: Services, place: Place) -> tuple[Building, Point | None]:
    """The building and the point given; address_id wins over the address, which wins over
    the point (which is then only recorded)."""
    point = parse_point(place.lat, place.long)
    if place.address_id:
        return await _by_address_id(svc, place.address_id), point
    if place.address_string:
        return await _by_address(svc, place.address_string), point
    if point is not None:
        return await _by_point(svc, point, place.lat, place.long), point
    raise bad_request(_("Укажите место: lat и long, address_string или address_id."))

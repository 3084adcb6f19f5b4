"""Demo data: the town of Zainsk with its companies, houses, people and three weeks of requests.

Loaded only into an empty database (`python -m server demo`, or `serve` with DEMO=1). Every
request is filed and moved through the same services the app uses, by the people who would
do it, so each timeline is exactly what the app writes. Only the moments are moved back
afterwards, to spread the requests over the last three weeks as a working town would.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import qrcode
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select, update

from server.accounts.people import hash_password
from server.db.models import (
    ApiToken,
    Attachment,
    Building,
    Category,
    Organisation,
    OrganisationContractor,
    Rating,
    Request,
    TimelineEntry,
    User,
    WorkOrder,
    utcnow,
)
from server.db.session import Database
from server.i18n import gettext as _
from server.requests.actions import ActionInput, perform
from server.requests.deadlines import TOWN_TZ, DeadlineRule, due_at, warn_at
from server.requests.filing import NewRequest, file_request
from server.requests.qr import job_url
from server.requests.timeline import active_work_order
from server.requests.workflow import OPEN_WORK_STATES, Action, State
from server.settings import Settings
from server.shared.events import RequestEvent
from server.shared.roles import Actor, OrgKind, Role
from server.shared.services import Services

DEMO_PASSWORD = "demo"
OPEN311_DEMO_KEY = "demo-open311-key"

# --------------------------------------------------------------------------------------------
# The town

# key, kind, full name, short name, phone, INN
ORGANISATIONS = [
    ("uk1", OrgKind.UK, "ООО „УК ЖилСервис“", "УК ЖилСервис", "+78555831245", "1647012345"),
    (
        "uk2",
        OrgKind.UK,
        "ООО „Управляющая компания Заинск“",
        "УК Заинск",
        "+78555832377",
        "1647018820",
    ),
    ("tsj", OrgKind.TSJ, "ТСЖ „Энергетик“", "ТСЖ Энергетик", "+78555834410", "1647009151"),
    ("water", OrgKind.RSO, "МУП „Водоканал“", "Водоканал", "+78555835505", "1647003372"),
    (
        "santeh",
        OrgKind.CONTRACTOR,
        "ООО „СантехРемонт“",
        "СантехРемонт",
        "+78555836612",
        "1647020417",
    ),
    (
        "lift",
        OrgKind.CONTRACTOR,
        "ООО „Лифт-Сервис Заинск“",
        "Лифт-Сервис",
        "+78555837730",
        "1647014698",
    ),
    ("remstroy", OrgKind.CONTRACTOR, "ООО „Ремстрой“", "Ремстрой", "+78555838841", "1647022560"),
    (
        "admin",
        OrgKind.ADMINISTRATION,
        "Исполнительный комитет Заинского муниципального района",
        "Исполком ЗМР",
        "+78555830101",
        "1647006044",
    ),
]
# Which contractors work for whom: plumbing for the УК, the ТСЖ and the water supplier; lifts
# for both УК; general repairs for both УК and the ТСЖ.
CONTRACTS = [
    ("uk1", "santeh"),
    ("uk1", "lift"),
    ("uk1", "remstroy"),
    ("uk2", "lift"),
    ("uk2", "remstroy"),
    ("tsj", "santeh"),
    ("tsj", "remstroy"),
    ("water", "santeh"),
]

# street: (latitude, longitude of its first house, step per house number)
STREETS: dict[str, tuple[float, float, float, float]] = {
    "проспект Нефтяников": (55.29630, 51.99880, 0.00031, 0.00052),
    "улица Ленина": (55.30210, 52.01590, -0.00018, 0.00041),
    "улица Крупской": (55.29380, 52.00490, 0.00042, 0.00008),
    "улица Утяшева": (55.30520, 52.00640, 0.00011, 0.00036),
    "улица Рафиковой": (55.29910, 52.02170, 0.00034, -0.00006),
    "улица Энергетиков": (55.29160, 52.01320, 0.00009, 0.00044),
    "улица Строителей": (55.30040, 51.99520, -0.00021, 0.00027),
    "улица Гагарина": (55.30710, 52.01910, -0.00026, 0.00012),
    "улица Комсомольская": (55.29750, 52.02580, 0.00017, 0.00030),
    "улица Вахитова": (55.30380, 52.02850, -0.00008, 0.00039),
    "улица Декабристов": (55.29470, 52.01950, 0.00025, 0.00021),
    "улица Автодорожная": (55.31060, 51.99790, 0.00015, 0.00033),
}

# key, street, house, manager, floors, flats
BUILDINGS = [
    ("neft1", "проспект Нефтяников", "1", "uk1", 9, 108),
    ("neft3", "проспект Нефтяников", "3", "uk1", 9, 72),
    ("neft5", "проспект Нефтяников", "5", "uk1", 5, 60),
    ("neft7", "проспект Нефтяников", "7", "uk1", 9, 144),
    ("neft9", "проспект Нефтяников", "9", "uk1", 10, 120),
    ("neft11", "проспект Нефтяников", "11", "uk1", 5, 80),
    ("neft13", "проспект Нефтяников", "13", "uk1", 9, 108),
    ("neft15", "проспект Нефтяников", "15", "uk1", 12, 96),
    ("lenina2", "улица Ленина", "2", "uk2", 5, 40),
    ("lenina4", "улица Ленина", "4", "uk2", 9, 72),
    ("lenina6", "улица Ленина", "6", "uk2", 5, 60),
    ("lenina8", "улица Ленина", "8", "uk2", 5, 45),
    ("lenina10", "улица Ленина", "10", "uk2", 3, 24),
    ("krup3", "улица Крупской", "3", "uk1", 5, 70),
    ("krup5", "улица Крупской", "5", "uk1", 9, 108),
    ("krup7", "улица Крупской", "7", "uk1", 5, 60),
    ("utyash12", "улица Утяшева", "12", "uk2", 9, 144),
    ("utyash14", "улица Утяшева", "14", "uk2", 9, 72),
    ("utyash16", "улица Утяшева", "16", "uk2", 5, 80),
    ("rafik2", "улица Рафиковой", "2", "uk1", 5, 60),
    ("rafik4", "улица Рафиковой", "4", "uk1", 5, 75),
    ("energ1", "улица Энергетиков", "1", "tsj", 9, 108),
    ("energ3", "улица Энергетиков", "3", "tsj", 9, 72),
    ("energ5", "улица Энергетиков", "5", "uk2", 5, 60),
    ("stroit17", "улица Строителей", "17", "uk1", 5, 80),
    ("stroit19", "улица Строителей", "19", "uk1", 9, 108),
    ("stroit21", "улица Строителей", "21", "uk1", 5, 60),
    ("gagar6", "улица Гагарина", "6", "uk2", 5, 40),
    ("gagar8", "улица Гагарина", "8", "uk2", 4, 32),
    ("komsom11", "улица Комсомольская", "11", "uk1", 5, 60),
    ("komsom13", "улица Комсомольская", "13", "uk1", 9, 72),
    ("vahit5", "улица Вахитова", "5", "uk2", 9, 108),
    ("vahit7", "улица Вахитова", "7", "uk2", 5, 60),
    ("dekab9", "улица Декабристов", "9", "uk1", 9, 144),
    ("dekab11", "улица Декабристов", "11", "uk1", 5, 80),
    # New houses not yet handed to a management company: their requests go to triage.
    ("avtodor2", "улица Автодорожная", "2", None, 10, 160),
    ("avtodor4", "улица Автодорожная", "4", None, 10, 160),
]

DAY = 24 * 60
# code, name, group, priority, deadline (min), summer deadline, handler org, description
CATEGORIES = [
    (
        "emergency_leak",
        "Аварийная протечка, прорыв трубы",
        "Авария",
        "emergency",
        30,
        None,
        None,
        "Течёт или бьёт вода из труб, заливает квартиру или соседей. Локализация — 30 минут "
        "(ПП РФ №416).",
    ),
    (
        "sewer_blockage",
        "Засор канализации",
        "Сантехника",
        "urgent",
        120,
        None,
        None,
        "Не уходит вода, канализация переполнена, вода в подвале.",
    ),
    (
        "roof_leak",
        "Протечка кровли",
        "Кровля и фасад",
        "urgent",
        DAY,
        None,
        None,
        "Течёт с крыши или с потолка верхнего этажа.",
    ),
    ("lift", "Не работает лифт", "Лифты", "urgent", DAY, None, None, ""),
    (
        "broken_window",
        "Разбито окно или стекло в подъезде",
        "Подъезд",
        "normal",
        DAY,
        3 * DAY,
        None,
        "Зимой — 1 сутки, летом — 3 суток.",
    ),
    (
        "electric",
        "Неисправность электропроводки, щитка",
        "Электрика",
        "urgent",
        120,
        None,
        None,
        "Искрит, пахнет горелым, выбивает автомат, нет света в квартире.",
    ),
    (
        "stair_lighting",
        "Не горит свет в подъезде",
        "Электрика",
        "normal",
        7 * DAY,
        None,
        None,
        "",
    ),
    ("heating", "Холодные батареи, нет отопления", "Отопление", "urgent", DAY, None, None, ""),
    (
        "hot_water",
        "Нет горячей воды или слабый напор",
        "Горячая вода",
        "urgent",
        DAY,
        None,
        None,
        "",
    ),
    (
        "cold_water",
        "Нет холодной воды",
        "Холодная вода",
        "urgent",
        120,
        None,
        "water",
        "Отключение холодной воды во всём доме или квартире. Исполняет МУП „Водоканал“.",
    ),
    (
        "water_quality",
        "Ржавая или мутная холодная вода",
        "Холодная вода",
        "normal",
        DAY,
        None,
        "water",
        "Исполняет МУП „Водоканал“.",
    ),
    ("intercom", "Не работает домофон", "Подъезд", "normal", 8 * DAY, None, None, ""),
    ("garbage_chute", "Засор мусоропровода", "Подъезд", "urgent", DAY, None, None, ""),
    (
        "entrance_cleaning",
        "Уборка подъезда",
        "Подъезд",
        "normal",
        8 * DAY,
        None,
        None,
        "Не моют лестницы, мусор на площадках.",
    ),
    (
        "yard",
        "Двор и детская площадка",
        "Двор",
        "normal",
        8 * DAY,
        None,
        None,
        "Ямы, сломанные качели, лавочки, ограждения.",
    ),
    (
        "snow",
        "Снег и наледь, сосульки",
        "Двор",
        "urgent",
        DAY,
        None,
        None,
        "Наледь на крыльце и козырьках, сосульки над входом.",
    ),
    ("other", "Другое", "Прочее", "normal", 8 * DAY, None, None, ""),
]

# login, role, organisation, name, phone
USERS = [
    ("resident", Role.RESIDENT, None, "Гульнара Хасанова", "+79172000001"),
    ("operator", Role.OPERATOR, None, "Елена Смирнова", None),
    ("dispatcher", Role.DISPATCHER, "uk1", "Ильдар Сафин", None),
    ("contractor", Role.CONTRACTOR, "santeh", "Марат Ганиев", None),
    ("worker", Role.WORKER, "santeh", "Айрат Закиров", "+79172000101"),
    ("admin", Role.CITY_ADMIN, "admin", "Альбина Мухаметова", None),
    ("sysadmin", Role.SYSADMIN, None, "Администратор системы", None),
    ("resident2", Role.RESIDENT, None, "Иван Петров", "+79172000002"),
    ("resident3", Role.RESIDENT, None, "Светлана Ибрагимова", "+79172000003"),
    ("resident4", Role.RESIDENT, None, "Рамиль Гарифуллин", "+79172000004"),
    ("resident5", Role.RESIDENT, None, "Ольга Смирнова", "+79172000005"),
    ("resident6", Role.RESIDENT, None, "Азат Шарипов", "+79172000006"),
    ("dispatcher2", Role.DISPATCHER, "uk1", "Лилия Габдуллина", None),
    ("dispatcher_uk2", Role.DISPATCHER, "uk2", "Руслан Хайруллин", None),
    ("dispatcher_tsj", Role.DISPATCHER, "tsj", "Татьяна Волкова", None),
    ("dispatcher_water", Role.DISPATCHER, "water", "Ринат Мингазов", None),
    ("contractor_lift", Role.CONTRACTOR, "lift", "Сергей Кузнецов", None),
    ("contractor_remstroy", Role.CONTRACTOR, "remstroy", "Гузель Валиева", None),
    ("worker2", Role.WORKER, "santeh", "Рустем Нуриев", "+79172000102"),
    ("worker_lift", Role.WORKER, "lift", "Денис Фёдоров", "+79172000103"),
    ("worker_remstroy", Role.WORKER, "remstroy", "Ильнур Валиев", "+79172000104"),
]
DEMO_LOGINS: list[str] = [login for login, *_rest in USERS]

# --------------------------------------------------------------------------------------------
# Three weeks of requests


@dataclass(frozen=True)
class Step:
    action: str  # a workflow Action value, or "complete_noqr" (a photo without the QR code)
    arg: Any = None
    after: float | None = None  # minutes after the previous step; None: a usual pace


@dataclass(frozen=True)
class Spec:
    who: str  # a resident's login, or "+7…|Name" for a caller filed by the operator
    building: str
    flat: str
    category: str
    text: str
    ago: str  # "12d 09:40": 12 days ago at 09:40 town time; "50m", "5h": that long ago
    steps: tuple[Step, ...] = ()
    photo: bool = False


def _s(action: str, arg: Any = None, after: float | None = None) -> Step:
    return Step(action, arg, after)


ASSIGN, WORKER, START, COMPLETE = _s("assign"), _s("assign_worker"), _s("start"), _s("complete")
VERIFY, CONFIRM = _s("verify"), _s("confirm")
WORKING = (ASSIGN, WORKER, START)
DONE = (*WORKING, COMPLETE)
VERIFIED = (*DONE, VERIFY)
CLOSED = (*VERIFIED, CONFIRM)


def rated(score: int, text: str = "") -> tuple[Step, ...]:
    return (*CLOSED, _s("rate", (score, text)))


KUZMINA = "+79179001122|Мария Ивановна Кузьмина"
GALIEV = "+79179003344|Фарид Галиев"
NINA = "+79179005566|Нина Петровна Орлова"
MOROZOV = "+79179007788|Алексей Морозов"
SAFINA = "+79179009900|Эльвира Сафина"

SCRIPT: list[Spec] = [
    # The main demo resident, проспект Нефтяников, 7 (УК ЖилСервис): one request in most states.
    Spec("resident", "neft7", "45", "emergency_leak",
         "Течёт труба под раковиной на кухне, вода капает к соседям снизу.", "18d 07:50",
         rated(5, "Приехали через 20 минут, всё быстро устранили. Спасибо!")),
    Spec("resident", "neft7", "", "stair_lighting",
         "Не горит свет на 4 и 5 этажах во втором подъезде, вечером темно.", "9d 18:20", CLOSED),
    Spec("resident", "neft7", "", "intercom",
         "Домофон во втором подъезде не открывает дверь ключом.", "4d 10:15", VERIFIED),
    Spec("resident", "neft7", "45", "sewer_blockage",
         "В ванной не уходит вода, в унитазе поднимается уровень.", "1d 19:30", DONE),
    Spec("resident", "neft7", "45", "heating",
         "Батареи в комнате еле тёплые, в квартире +17.", "2d 09:00",
         (_s("comment", ("dispatcher", "Слесарь придёт завтра с 9 до 12, будьте дома.")),
          _s("comment", ("resident", "Хорошо, буду дома с 9 утра.")), *WORKING)),
    Spec("resident", "neft7", "", "broken_window",
         "На лестнице между 3 и 4 этажом разбито окно, сильно дует.", "6d 12:00",
         (*VERIFIED, _s("dispute", "Стекло вставили, но рама не закрывается — щель в палец."))),
    Spec("resident", "neft7", "", "lift",
         "Лифт во втором подъезде не приходит на вызов.", "11d 08:10",
         (_s("cancel", "Лифт заработал, видимо, его перезапустили.", after=45),)),
    Spec("resident", "neft7", "", "entrance_cleaning",
         "Давно не мыли лестницу во втором подъезде, на первом этаже мусор.", "5h", (),
         photo=True),
    # улица Ленина, 4 (УК Заинск)
    Spec("resident2", "lenina4", "12", "lift",
         "Лифт останавливается между 6 и 7 этажом, двери не открываются.", "16d 08:30",
         rated(4, "Починили, но пришлось ждать до вечера.")),
    Spec("resident2", "lenina4", "", "electric",
         "Искрит розетка в щитке на лестничной площадке 3 этажа.", "14d 17:40",
         (*DONE, _s("return", "Щиток не закрыт на замок, провода остались открыты."),
          START, COMPLETE, VERIFY, CONFIRM, _s("rate", (3, "Со второго раза.")))),
    Spec("resident2", "lenina4", "", "roof_leak",
         "После дождя течёт с потолка в подъезде на 9 этаже, мокнет стена.", "3d 11:20",
         WORKING),
    Spec("resident2", "lenina4", "12", "heating",
         "Прошу заменить старый радиатор в комнате, он подтекает.", "12d 10:00",
         (_s("decline", "Радиатор после отключающего крана — имущество собственника. "
             "Замену можно заказать платно по телефону диспетчерской."),)),
    Spec("resident2", "lenina4", "12", "water_quality",
         "Из крана идёт ржавая вода, даже после того как спускаешь.", "9d 09:00",
         rated(4)),
    Spec("resident2", "lenina4", "", "other",
         "Во дворе неделю не вывозят контейнер с крупногабаритным мусором.", "4d 10:00",
         (_s("decline", "Вывоз крупногабаритного мусора — региональный оператор по обращению "
             "с ТКО. Заявку мы передали ему, контакты — на доске у подъезда."),)),
    # улица Энергетиков, 1 (ТСЖ Энергетик)
    Spec("resident3", "energ1", "30", "hot_water",
         "Нет горячей воды на кухне и в ванной с утра.", "20d 07:30",
         rated(5, "Быстро, вежливо.")),
    Spec("resident3", "energ1", "", "yard",
         "На детской площадке сломаны качели, торчит болт.", "1d 15:00", (ASSIGN,)),
    Spec("resident3", "energ1", "", "garbage_chute",
         "Засорился мусоропровод, запах на всю лестницу.", "2d 09:10", VERIFIED),
    Spec("resident3", "energ1", "", "stair_lighting",
         "Перегорели лампы на втором этаже у лифта.", "10d 14:00", rated(5)),
    # улица Строителей, 19 (УК ЖилСервис)
    Spec("resident4", "stroit19", "", "sewer_blockage",
         "Засор канализации в подвале, стоит вода, запах в подъезде.", "13d 07:20",
         rated(5, "Откачали и прочистили за пару часов.")),
    Spec("resident4", "stroit19", "", "emergency_leak",
         "Прорвало трубу отопления в подвале, пар идёт из окон подвала.", "1d 06:40",
         (ASSIGN, WORKER, START, _s("complete_noqr"))),
    Spec("resident4", "stroit19", "", "lift",
         "Не работает лифт в первом подъезде, горит «Перегрузка».", "2d 08:00",
         (ASSIGN, WORKER)),
    Spec("resident4", "stroit19", "8", "emergency_leak",
         "Течёт стояк в туалете, заливает соседей снизу!", "50m", ()),
    Spec("resident4", "stroit19", "", "other",
         "Во дворе из колодца бьёт вода и течёт по дороге.", "5d 07:45",
         (_s("transfer", ("water", "Авария на сетях водоканала, не общедомовое имущество.")),
          *rated(5))),
    Spec("resident4", "stroit19", "8", "hot_water",
         "Горячая вода еле тёплая, идёт минут десять, потом холодная.", "2d 20:00", DONE),
    # улица Крупской, 5 (УК ЖилСервис)
    Spec("resident5", "krup5", "51", "intercom",
         "Не работает домофон, из квартиры не слышно звонка.", "15d 13:00", rated(4)),
    Spec("resident5", "krup5", "", "stair_lighting",
         "На первом этаже не горит лампа у входной двери.", "6d 16:30",
         (*DONE, _s("return", "На фото заказ-наряд без подписи жителя, нужна подпись."))),
    Spec("resident5", "krup5", "", "yard",
         "Во дворе яма на проезде у третьего подъезда, машины цепляют днищем.", "1d 12:00",
         (_s("comment", ("dispatcher", "Включим в план ямочного ремонта на следующей неделе.")),)),
    Spec("resident5", "krup5", "51", "other",
         "Не вывезли мусор с контейнерной площадки, всё переполнено.", "7d 10:00",
         (ASSIGN, _s("cancel", "Мусор вывезли, заявка больше не нужна."))),
    Spec("resident5", "krup5", "51", "sewer_blockage",
         "Засор в туалете, вода поднимается.", "1h", (ASSIGN, WORKER)),
    # улица Гагарина, 6 (УК Заинск)
    Spec("resident6", "gagar6", "", "broken_window",
         "Разбито стекло входной двери подъезда.", "17d 19:10", rated(5)),
    Spec("resident6", "gagar6", "3", "electric",
         "Мигает свет во всей квартире, пахнет горелым из щитка на площадке.", "90m", WORKING),
    Spec("resident6", "gagar6", "", "snow",
         "Наледь на козырьке подъезда, свисают большие сосульки.", "3d 08:40", VERIFIED,
         photo=True),
    Spec("resident6", "gagar6", "", "lift",
         "Лифт шумит и дёргается при остановке, страшно ездить.", "19d 09:30",
         (_s("assign", after=40), _s("assign_worker", after=30), _s("start", after=300),
          _s("comment", ("contractor", "Нужна запчасть, ждём поставку."), after=120),
          _s("complete", after=3000), _s("verify", after=120), _s("confirm", after=300),
          _s("rate", (2, "Три дня без лифта, для девятиэтажки это долго.")))),
    # Callers: the operator files by phone.
    Spec(KUZMINA, "neft11", "2", "heating", "Холодные батареи во всей квартире.", "10d 08:15",
         VERIFIED),
    Spec(KUZMINA, "neft11", "", "entrance_cleaning",
         "Не убирают подъезд уже две недели.", "6d 11:00",
         (_s("cancel", "Житель перезвонил: уборку провели.", after=200),)),
    Spec(GALIEV, "vahit5", "17", "lift", "Лифт не едет, горит кнопка вызова.", "1d 21:30",
         (ASSIGN,)),
    Spec(NINA, "dekab9", "40", "cold_water", "Нет холодной воды в квартире.", "1h", ()),
    # Houses nobody serves yet: triage at the administration.
    Spec(MOROZOV, "avtodor2", "15", "other",
         "В новом доме не работает освещение во дворе и у подъездов.", "7d 10:30",
         (_s("route", ("uk1", "Дом передан в управление УК ЖилСервис, договор подписан."),
             after=150), ASSIGN, WORKER, START)),
    Spec(MOROZOV, "avtodor2", "15", "intercom", "Нет домофона в нашем подъезде.", "1d 10:00",
         ()),
    Spec(SAFINA, "avtodor4", "21", "emergency_leak", "Течёт вода с потолка в ванной!", "40m",
         ()),
]  # fmt: skip

# Which contractor takes which kind of job, in order of preference.
PLUMBING = {"emergency_leak", "sewer_blockage", "heating", "hot_water", "cold_water"}
PLUMBING |= {"water_quality"}


def _contractor_for(category: str) -> list[str]:
    if category == "lift":
        return ["lift"]
    if category in PLUMBING:
        return ["santeh", "remstroy"]
    return ["remstroy", "santeh"]


# Minutes between steps: work is paced by the category's deadline, the rest by habit.
WORK_SHARE = {"assign": 0.07, "assign_worker": 0.04, "start": 0.22, "complete": 0.45}
WORK_CAP = {"assign": 360, "assign_worker": 180, "start": 2 * DAY, "complete": 3 * DAY}
HABIT = {
    "verify": (40, 240),
    "confirm": (120, 1200),
    "rate": (1, 6),
    "return": (60, 200),
    "dispute": (240, 1200),
    "comment": (15, 120),
    "decline": (30, 240),
    "cancel": (60, 600),
    "transfer": (10, 40),
    "route": (60, 180),
}
STAFF_ACTIONS = {"assign", "assign_worker", "start", "complete", "verify", "return", "decline"}
RESIDENT_ACTIONS = {"confirm", "dispute", "rate"}


# --------------------------------------------------------------------------------------------
# Pictures


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def signed_work_order(number: str, address: str, category: str, url: str | None) -> bytes:
    """A photographed work order: text, the QR code (unless torn off) and a signature."""
    page = Image.new("RGB", (1000, 1400), "white")
    draw = ImageDraw.Draw(page)
    title, body = _font(40), _font(26)
    draw.text((60, 70), "ЗАКАЗ-НАРЯД", fill="black", font=title)
    draw.text((60, 130), f"№ {number}", fill="black", font=body)
    if url is not None:
        qr = qrcode.make(url, box_size=8, border=4).get_image().convert("RGB")
        page.paste(qr, (1000 - qr.width - 40, 40))
    y = 420
    for line in (f"Адрес: {address}", f"Работы: {category}", "", "Работы выполнены.",
                 "Претензий к качеству не имею.", "", "Подпись жителя:"):  # fmt: skip
        draw.text((60, y), line, fill="black", font=body)
        y += 50
    draw.line([(330, y - 20), (420, y - 70), (500, y - 10), (600, y - 60), (680, y - 25)],
              fill="navy", width=5)  # fmt: skip
    photo = page.rotate(2, expand=True, fillcolor="#d8d4cc")
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=80)
    return out.getvalue()


def resident_photo(seed: int) -> bytes:
    """A stand-in for a resident's phone photo."""
    rng = random.Random(seed)
    image = Image.new("RGB", (960, 720), (rng.randint(150, 190),) * 3)
    draw = ImageDraw.Draw(image)
    for _i in range(14):
        x, y = rng.randint(0, 900), rng.randint(0, 660)
        shade = rng.randint(60, 130)
        draw.ellipse([x, y, x + rng.randint(40, 220), y + rng.randint(30, 160)],
                     fill=(shade, shade - 10, shade - 25))  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Loading


class _QuietBus:
    """Nobody is watching while the demo loads: events go nowhere."""

    async def publish(self, event: RequestEvent) -> None:
        return None


@dataclass
class _Town:
    orgs: dict[str, int] = field(default_factory=dict)
    buildings: dict[str, Building] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    dispatchers: dict[int, User] = field(default_factory=dict)  # organisation → its first
    contractor_staff: dict[int, User] = field(default_factory=dict)
    workers: dict[int, list[User]] = field(default_factory=dict)
    contracts: set[tuple[int, int]] = field(default_factory=set)


def _fast_commits(url: str) -> dict[str, Any]:
    """Hundreds of small transactions: on PostgreSQL, don't wait for each to reach the disk.
    A crash while loading can only cost demo data, which is reloaded into a fresh database."""
    if url.startswith("postgresql"):
        return {"connect_args": {"server_settings": {"synchronous_commit": "off"}}}
    return {}


async def _is_empty(db: Database) -> bool:
    async with db.read() as session:
        for model in (Organisation, User, Building, Category, Request):
            if await session.scalar(select(func.count()).select_from(model)):
                return False
    return True


async def load_demo(settings: Settings) -> bool:
    """Fill an empty database with the demo town. False, changing nothing, when not empty."""
    if settings.production and not settings.demo:
        raise RuntimeError("Демо-данные с паролем «demo» не загружаются в рабочую базу.")
    db = Database(settings.database_url, **_fast_commits(settings.database_url))
    try:
        if not await _is_empty(db):
            return False
        svc = Services(settings=settings, db=db, bus=_QuietBus())  # type: ignore[arg-type]
        now = utcnow()
        town = await _create_town(db, now)
        rng = random.Random(416)
        # In the order they were filed, so that request numbers grow with time.
        script = sorted(SCRIPT, key=lambda spec: _filed_at(spec.ago, now))
        for index, spec in enumerate(script):
            await _play(svc, town, spec, now, rng, index)
        return True
    finally:
        await db.dispose()


async def _create_town(db: Database, now: datetime) -> _Town:
    town = _Town()
    password = hash_password(DEMO_PASSWORD)  # once: hashing is slow on purpose
    since = now - timedelta(days=120)
    async with db.begin() as session:
        for key, kind, name, short, phone, inn in ORGANISATIONS:
            org = Organisation(
                kind=kind,
                name=name,
                short_name=short,
                phone=phone,
                inn=inn,
                email=f"{key}@zainsk.example",
                created_at=since,
            )
            session.add(org)
            await session.flush()
            town.orgs[key] = org.id
        for client, contractor in CONTRACTS:
            session.add(
                OrganisationContractor(
                    organisation_id=town.orgs[client], contractor_id=town.orgs[contractor]
                )
            )
            town.contracts.add((town.orgs[client], town.orgs[contractor]))
        for key, street, house, manager, floors, flats in BUILDINGS:
            lat, lon, dlat, dlon = STREETS[street]
            step = int("".join(c for c in house if c.isdigit()) or 1) - 1
            building = Building(
                street=street,
                house=house,
                search_key=f"{street} {house}".lower(),
                manager_id=town.orgs[manager] if manager else None,
                latitude=round(lat + dlat * step, 6),
                longitude=round(lon + dlon * step, 6),
                floors=floors,
                flats=flats,
                created_at=since,
            )
            session.add(building)
            town.buildings[key] = building
        for sort, (code, name, group, priority, minutes, summer, org, text) in enumerate(
            CATEGORIES
        ):
            category = Category(
                code=code,
                name=name,
                group=group,
                priority=priority,
                deadline_minutes=minutes,
                summer_deadline_minutes=summer,
                handler="organisation" if org else "manager",
                handler_organisation_id=town.orgs[org] if org else None,
                description=text,
                sort=(sort + 1) * 10,
            )
            session.add(category)
            town.categories[code] = category
        for login, role, org, name, phone in USERS:
            user = User(
                login=login,
                name=name,
                role=role,
                organisation_id=town.orgs[org] if org else None,
                phone=phone,
                password_hash=password,
                created_at=since + timedelta(days=len(town.users)),
            )
            session.add(user)
            await session.flush()
            town.users[login] = user
            if role is Role.DISPATCHER:
                town.dispatchers.setdefault(user.organisation_id or 0, user)
            elif role is Role.CONTRACTOR:
                town.contractor_staff.setdefault(user.organisation_id or 0, user)
            elif role is Role.WORKER:
                town.workers.setdefault(user.organisation_id or 0, []).append(user)
        session.add(
            ApiToken(
                name="Демо Open311",
                kind="open311",
                token_hash=hashlib.sha256(OPEN311_DEMO_KEY.encode()).hexdigest(),
                created_at=since,
            )
        )
        await session.flush()
    return town


def _filed_at(ago: str, now: datetime) -> datetime:
    if ago.endswith("m"):
        return now - timedelta(minutes=float(ago[:-1]))
    if ago.endswith("h"):
        return now - timedelta(hours=float(ago[:-1]))
    days, clock = ago.split()
    hour, minute = (int(part) for part in clock.split(":"))
    local = (now - timedelta(days=int(days.rstrip("d")))).astimezone(TOWN_TZ)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), organisation_id=user.organisation_id)


async def _play(
    svc: Services, town: _Town, spec: Spec, now: datetime, rng: random.Random, index: int
) -> None:
    """File one request as its resident or the operator would, then take each step."""
    category = town.categories[spec.category]
    building = town.buildings[spec.building]
    if spec.who.startswith("+"):
        phone, name = spec.who.split("|")
        filer = _actor(town.users["operator"])
        form = NewRequest(building.id, category.id, spec.text, spec.flat, caller_phone=phone,
                          caller_name=name)  # fmt: skip
    else:
        filer = _actor(town.users[spec.who])
        form = NewRequest(building.id, category.id, spec.text, spec.flat)
    if spec.photo:
        form.photos = [resident_photo(index)]
    request = (await file_request(svc, filer, form)).request
    groups = [await _entry_ids(svc, request.id)]
    for step in spec.steps:
        request = await _take(svc, town, request, step, category, building)
        seen = {i for group in groups for i in group}
        groups.append([i for i in await _entry_ids(svc, request.id) if i not in seen])
    times = _moments(spec, category, now, rng)
    await _backdate(svc, request.id, groups, times, category, now)


async def _entry_ids(svc: Services, request_id: int) -> list[int]:
    async with svc.db.read() as session:
        return list(
            await session.scalars(
                select(TimelineEntry.id)
                .where(TimelineEntry.request_id == request_id)
                .order_by(TimelineEntry.id)
            )
        )


async def _take(
    svc: Services, town: _Town, request: Request, step: Step, category: Category, building: Building
) -> Request:
    resident = Actor(request.resident_id, Role.RESIDENT)
    dispatcher = (
        _actor(town.dispatchers[request.organisation_id]) if request.organisation_id else None
    )
    contractor = (
        _actor(town.contractor_staff[request.contractor_id]) if request.contractor_id else None
    )
    data = ActionInput()
    action = Action.COMPLETE if step.action == "complete_noqr" else Action(step.action)
    actor = dispatcher
    if action is Action.ASSIGN:
        choice = next(
            town.orgs[key]
            for key in _contractor_for(category.code)
            if (request.organisation_id, town.orgs[key]) in town.contracts
        )
        data.contractor_id = choice
    elif action is Action.ASSIGN_WORKER:
        actor = contractor
        crew = town.workers[request.contractor_id or 0]
        # The first worker of each crew gets most jobs, so the demo `worker` has a full list.
        data.worker_id = (crew[-1] if request.id % 3 == 0 else crew[0]).id
    elif action is Action.START:
        if request.state == State.REWORK:
            # Back for rework: the crew already holds the sheet and just presses «Начать».
            actor = await _crew_member(svc, request) or contractor
        else:
            actor = contractor
            data.reason = _("Заказ-наряд распечатан")
    elif action is Action.COMPLETE:
        async with svc.db.read() as session:
            order = await active_work_order(session, request.id)
        assert order is not None
        actor = await _crew_member(svc, request) or contractor
        url = (
            None if step.action == "complete_noqr" else job_url(svc.settings.base_url, order.token)
        )
        data.photo = signed_work_order(
            f"{request.number}/{order.id}", building.address, category.name, url
        )
    elif action in (Action.CONFIRM, Action.DISPUTE, Action.RATE):
        actor = resident
        if action is Action.RATE:
            data.score, data.reason = step.arg
        else:
            data.reason = step.arg or ""
    elif action is Action.CANCEL:
        actor = _actor(town.users["operator"]) if request.source == "phone" else resident
        data.reason = step.arg or ""
    elif action in (Action.TRANSFER, Action.ROUTE):
        key, data.reason = step.arg
        data.organisation_id = town.orgs[key]
        if action is Action.ROUTE:
            actor = _actor(town.users["admin"])
    elif action is Action.COMMENT:
        who, data.reason = step.arg
        actor = {"dispatcher": dispatcher, "contractor": contractor, "resident": resident}[who]
    else:  # verify, return, decline
        data.reason = step.arg or ""
    assert actor is not None, (step, request.id)
    return (await perform(svc, actor, request.id, action, data)).request


async def _crew_member(svc: Services, request: Request) -> Actor | None:
    """The worker holding the request's work order, if one was named."""
    async with svc.db.read() as session:
        order = await active_work_order(session, request.id)
        worker = await session.get(User, order.worker_id) if order and order.worker_id else None
    return _actor(worker) if worker is not None else None


def _moments(spec: Spec, category: Category, now: datetime, rng: random.Random) -> list[datetime]:
    """When the filing and each step happened: a believable pace, before now."""
    filed = _filed_at(spec.ago, now)
    times = [filed]
    for step in spec.steps:
        name = "complete" if step.action == "complete_noqr" else step.action
        if step.after is not None:
            minutes = step.after
        elif name in WORK_SHARE:
            minutes = min(category.deadline_minutes * WORK_SHARE[name], WORK_CAP[name])
            minutes = max(3.0, minutes * rng.uniform(0.6, 1.3))
        else:
            low, high = HABIT[name]
            minutes = rng.uniform(low, high)
        moment = times[-1] + timedelta(minutes=minutes)
        if name in STAFF_ACTIONS and category.priority == "normal":
            moment = _awake(moment, rng, 8, 20)
        elif name in RESIDENT_ACTIONS:
            moment = _awake(moment, rng, 7, 23)
        times.append(moment)
    latest = now - timedelta(minutes=2)
    if times[-1] > latest:
        # The script asked for more than has happened since filing: squeeze the steps in.
        span = (times[-1] - filed).total_seconds()
        room = max((latest - filed).total_seconds(), 60.0)
        times = [filed + (t - filed) * (room / span) for t in times]
    return times


def _awake(moment: datetime, rng: random.Random, first: int, last: int) -> datetime:
    """Move a moment into the hours people act in, town time. Ordinary requests wait for the
    day shift (8:00–20:00); urgent ones don't; residents answer from 7:00 to 23:00."""
    local = moment.astimezone(TOWN_TZ)
    if local.hour >= last:
        local = (local + timedelta(days=1)).replace(hour=first, minute=0)
    elif local.hour < first:
        local = local.replace(hour=first, minute=0)
    else:
        return moment
    return local + timedelta(minutes=rng.randint(5, 70))


async def _backdate(
    svc: Services,
    request_id: int,
    groups: list[list[int]],
    times: list[datetime],
    category: Category,
    now: datetime,
) -> None:
    """Move the request, its timeline and everything made along it to their moments."""
    at = {entry_id: times[i] for i, group in enumerate(groups) for entry_id in group}
    filed = times[0]
    async with svc.db.begin() as session:
        for entry_id, moment in at.items():
            await session.execute(
                update(TimelineEntry).where(TimelineEntry.id == entry_id).values(at=moment)
            )
        entries = list(
            await session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.request_id == request_id)
                .order_by(TimelineEntry.id)
            )
        )
        orders = {
            o.id: o
            for o in await session.scalars(
                select(WorkOrder).where(WorkOrder.request_id == request_id)
            )
        }
        for order in orders.values():
            order.started_at = order.printed_at = order.completed_at = None
        request = await session.get(Request, request_id)
        assert request is not None
        current: WorkOrder | None = None
        assigned_at = done_at = closed_at = None
        for entry in entries:
            moment = at.get(entry.id, filed)
            if entry.kind == "assign":
                current = orders[int(entry.data["work_order_id"])]
                current.created_at = moment
                assigned_at = assigned_at or moment
            elif entry.kind == "start" and current is not None:
                current.started_at = current.started_at or moment
                current.printed_at = current.printed_at or moment
            elif entry.kind == "complete":
                order = orders[int(entry.data["work_order_id"])]
                order.completed_at = moment
                order.started_at = order.started_at or moment
                done_at = moment
            elif entry.kind == "confirm":
                closed_at = moment
            elif entry.kind == "rate":
                await session.execute(
                    update(Rating).where(Rating.request_id == request_id).values(created_at=moment)
                )
        for attachment in await session.scalars(
            select(Attachment).where(Attachment.request_id == request_id)
        ):
            attachment.created_at = at.get(attachment.timeline_entry_id or 0, filed)
        rule = DeadlineRule(category.deadline_minutes, category.summer_deadline_minutes)
        request.created_at = filed
        request.number = f"{filed.year}-{request.id:06d}"
        request.due_at = due_at(filed, rule)
        request.updated_at = times[-1]
        request.assigned_at = assigned_at
        request.done_at = done_at
        request.closed_at = closed_at
        # Warnings the deadline watcher would have sent already count as sent, so starting the
        # demo does not ring every dispatcher's phone at once.
        if State(request.state) in OPEN_WORK_STATES and warn_at(filed, request.due_at) < now:
            request.due_warned_at = warn_at(filed, request.due_at)
        caller = await session.get(User, request.resident_id)
        if caller is not None and caller.created_at > filed:
            caller.created_at = filed - timedelta(minutes=1)


__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "OPEN311_DEMO_KEY", "load_demo"]

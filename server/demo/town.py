"""The demo town of Zainsk: its companies and their contracts, houses, categories and people.

Loaded only into an empty database (`server.demo.loading`); the requests they file are in
`server.demo.script`.
"""

from __future__ import annotations

from server.shared.roles import OrgKind, Role

DEMO_PASSWORD = "demo"
OPEN311_DEMO_KEY = "demo-open311-key"

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

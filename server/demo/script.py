"""Three weeks of requests in the demo town, each with the steps taken on it, and the pace at
which a working town takes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.demo.town import DAY


@dataclass(frozen=True)
class Step:
    # A workflow Action value, "complete_noqr" (a photo without the QR code), or "print" (the
    # contractor prints the work order: a note on the timeline, the state stays).
    action: str
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
VERIFY, CONFIRM, PRINT = _s("verify"), _s("confirm"), _s("print")
WORKING = (ASSIGN, WORKER, PRINT, START)
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
    # A neighbour calls about the same leak: the dispatcher marks it, and she follows the first.
    Spec("+79179006677|Роза Хабибуллина", "lenina4", "", "roof_leak",
         "Течёт с потолка на 9 этаже в подъезде, лужа у лифта.", "3d 13:10",
         (_s("mark_duplicate", "Эта протечка уже в работе по заявке соседей."),)),
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
         (ASSIGN, WORKER, PRINT, START, _s("complete_noqr"))),
    Spec("resident4", "stroit19", "", "lift",
         "Не работает лифт в первом подъезде, горит «Перегрузка».", "2d 08:00",
         (ASSIGN, WORKER, PRINT)),
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
             after=150), ASSIGN, WORKER, PRINT, START)),
    Spec(MOROZOV, "avtodor2", "15", "intercom", "Нет домофона в нашем подъезде.", "1d 10:00",
         ()),
    Spec(SAFINA, "avtodor4", "21", "emergency_leak", "Течёт вода с потолка в ванной!", "40m",
         ()),
]  # fmt: skip

# Which contractor takes which kind of job, in order of preference.
PLUMBING = {"emergency_leak", "sewer_blockage", "heating", "hot_water", "cold_water"}
PLUMBING |= {"water_quality"}


def contractor_for(category: str) -> list[str]:
    if category == "lift":
        return ["lift"]
    if category in PLUMBING:
        return ["santeh", "remstroy"]
    return ["remstroy", "santeh"]


# Minutes between steps: work is paced by the category's deadline, the rest by habit.
WORK_SHARE = {"assign": 0.07, "assign_worker": 0.04, "start": 0.22, "complete": 0.45}
WORK_CAP = {"assign": 360, "assign_worker": 180, "start": 2 * DAY, "complete": 3 * DAY}
HABIT = {
    "print": (5, 45),
    "verify": (40, 240),
    "confirm": (120, 1200),
    "rate": (1, 6),
    "return": (60, 200),
    "dispute": (240, 1200),
    "comment": (15, 120),
    "decline": (30, 240),
    "mark_duplicate": (15, 90),
    "cancel": (60, 600),
    "transfer": (10, 40),
    "route": (60, 180),
}
STAFF_ACTIONS = {"assign", "assign_worker", "print", "start", "complete", "verify", "return"}
STAFF_ACTIONS |= {"decline", "mark_duplicate"}
RESIDENT_ACTIONS = {"confirm", "dispute", "rate"}

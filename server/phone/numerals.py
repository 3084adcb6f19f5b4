"""Russian numbers, dates and times in words, for the PBX's speech synthesis.

Small tables rather than a dependency: the voice menu needs cardinals (masculine and
feminine), the genitive of clock hours and minutes («до восемнадцати тридцати») and the
genitive ordinal of a day of the month («третьего декабря»); tested over a table of cases."""

from __future__ import annotations

from datetime import date, datetime, time

UNITS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
FEMININE = {1: "одна", 2: "две"}
TEENS = (
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
)
TENS = (
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
)
HUNDREDS = (
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
)
# Each power of a thousand: its gender and its three forms (1, 2–4, 5–20).
SCALES = (
    (True, ("тысяча", "тысячи", "тысяч")),
    (False, ("миллион", "миллиона", "миллионов")),
    (False, ("миллиард", "миллиарда", "миллиардов")),
)

GENITIVE_UNITS = (
    "ноля",
    "часу",  # «до часу»: an hour, not a count
    "двух",
    "трёх",
    "четырёх",
    "пяти",
    "шести",
    "семи",
    "восьми",
    "девяти",
)
GENITIVE_TENS = ("", "", "двадцати", "тридцати", "сорока", "пятидесяти")
ORDINAL_GENITIVE = {
    1: "первого",
    2: "второго",
    3: "третьего",
    4: "четвёртого",
    5: "пятого",
    6: "шестого",
    7: "седьмого",
    8: "восьмого",
    9: "девятого",
    10: "десятого",
    11: "одиннадцатого",
    12: "двенадцатого",
    13: "тринадцатого",
    14: "четырнадцатого",
    15: "пятнадцатого",
    16: "шестнадцатого",
    17: "семнадцатого",
    18: "восемнадцатого",
    19: "девятнадцатого",
    20: "двадцатого",
    30: "тридцатого",
}
MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


def plural(n: int, forms: tuple[str, str, str]) -> str:
    """The form of a noun after n: 1 тысяча, 2 тысячи, 5 тысяч, 11 тысяч, 21 тысяча."""
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def _below_thousand(n: int, feminine: bool) -> list[str]:
    words = [HUNDREDS[n // 100]] if n >= 100 else []
    rest = n % 100
    if 10 <= rest < 20:
        words.append(TEENS[rest - 10])
        return words
    if rest >= 20:
        words.append(TENS[rest // 10])
    unit = rest % 10
    if unit:
        words.append(FEMININE[unit] if feminine and unit in FEMININE else UNITS[unit])
    return words


def cardinal(n: int, *, feminine: bool = False) -> str:
    """0 → «ноль», 21 → «двадцать один», 2 (feminine) → «две», 1000 → «одна тысяча»."""
    if n < 0:
        return "минус " + cardinal(-n, feminine=feminine)
    if n == 0:
        return UNITS[0]
    groups: list[int] = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    if len(groups) > len(SCALES) + 1:
        raise ValueError("number too large to be spoken")
    words: list[str] = []
    for power in range(len(groups) - 1, -1, -1):
        group = groups[power]
        if not group:
            continue
        if power == 0:
            words += _below_thousand(group, feminine)
        else:
            scale_feminine, forms = SCALES[power - 1]
            words += _below_thousand(group, scale_feminine)
            words.append(plural(group, forms))
    return " ".join(words)


def _genitive(n: int) -> str:
    """0–59 in the genitive: what follows «до» on a clock."""
    if n < 10:
        return GENITIVE_UNITS[n] if n != 1 else "одного"
    if n < 20:
        return TEENS[n - 10][:-1] + "и"  # двенадцать → двенадцати
    words = [GENITIVE_TENS[n // 10]]
    if n % 10:
        words.append(GENITIVE_UNITS[n % 10] if n % 10 != 1 else "одного")
    return " ".join(words)


def until_time(moment: time) -> str:
    """«до двенадцати», «до восемнадцати тридцати», «до девяти ноль пяти», «до полуночи»."""
    hour, minute = moment.hour, moment.minute
    if hour == 0 and minute == 0:
        return "до полуночи"
    spoken_hour = GENITIVE_UNITS[1] if hour == 1 else _genitive(hour)
    if minute == 0:
        return f"до {spoken_hour}"
    spoken_minute = _genitive(minute) if minute >= 10 else f"ноль {_genitive(minute)}"
    return f"до {spoken_hour} {spoken_minute}"


def day_of_month(day: date) -> str:
    """«третьего декабря», «двадцать первого мая»."""
    d = day.day
    if d in ORDINAL_GENITIVE:
        ordinal = ORDINAL_GENITIVE[d]
    else:
        ordinal = f"{TENS[d // 10]} {ORDINAL_GENITIVE[d % 10]}"
    return f"{ordinal} {MONTHS_GENITIVE[day.month - 1]}"


def relative_day(day: date, today: date) -> str:
    """«сегодня», «завтра», else the date in words."""
    if day == today:
        return "сегодня"
    if (day - today).days == 1:
        return "завтра"
    return day_of_month(day)


def deadline(due: datetime, now: datetime) -> str:
    """«завтра до двенадцати» in the town's time (both moments already local)."""
    return f"{relative_day(due.date(), now.date())} {until_time(due.time())}"

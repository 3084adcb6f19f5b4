"""The demo town's organisations and categories in Tatar and English, as a system administrator
would type them beside the Russian names (server/demo/town.py)."""

from __future__ import annotations

# key: (full name in Tatar, in English, short name in Tatar, in English)
ORGANISATION_NAMES = {
    "uk1": ("„УК ЖилСервис“ ҖЧҖ", "ZhilService Management Co", "УК ЖилСервис", "ZhilService"),
    "uk2": (
        "„Зәй идарәче компаниясе“ ҖЧҖ",
        "Zainsk Management Company",
        "Зәй УК",
        "Zainsk MC",
    ),
    "tsj": ("„Энергетик“ ТСШ", "Energetik HOA", "Энергетик ТСШ", "Energetik HOA"),
    "water": ("„Водоканал“ МУП", "Vodokanal (municipal water)", "Водоканал", "Vodokanal"),
    "santeh": ("„СантехРемонт“ ҖЧҖ", "SantekhRemont LLC", "СантехРемонт", "SantekhRemont"),
    "lift": ("„Лифт-Сервис Зәй“ ҖЧҖ", "Lift-Service Zainsk LLC", "Лифт-Сервис", "Lift-Service"),
    "remstroy": ("„Ремстрой“ ҖЧҖ", "Remstroy LLC", "Ремстрой", "Remstroy"),
    "admin": (
        "Зәй муниципаль районы башкарма комитеты",
        "Executive Committee of Zainsk District",
        "ЗМР башкарма комитеты",
        "Zainsk District Executive",
    ),
}

# code: (Tatar, English)
CATEGORY_NAMES = {
    "emergency_leak": ("Авария агып чыгу, торба ертылу", "Emergency leak, burst pipe"),
    "sewer_blockage": ("Канализация тыгылу", "Sewer blockage"),
    "roof_leak": ("Түбә агу", "Roof leak"),
    "lift": ("Лифт эшләми", "Lift out of order"),
    "broken_window": (
        "Подъездда тәрәзә яки пыяла ватылган",
        "Broken window or glass in the entrance",
    ),
    "electric": ("Электр чыбыклары, щиток бозылган", "Faulty wiring or electrical panel"),
    "stair_lighting": ("Подъездда ут янмый", "No light in the entrance"),
    "heating": ("Батареялар салкын, җылыту юк", "Cold radiators, no heating"),
    "hot_water": ("Кайнар су юк яки басым көчсез", "No hot water or low pressure"),
    "cold_water": ("Салкын су юк", "No cold water"),
    "water_quality": ("Салкын су тутыклы яки болганчык", "Rusty or cloudy cold water"),
    "intercom": ("Домофон эшләми", "Intercom out of order"),
    "garbage_chute": ("Чүп үткәргеч тыгылган", "Blocked garbage chute"),
    "entrance_cleaning": ("Подъездны җыештыру", "Cleaning of the entrance"),
    "yard": ("Ишегалды һәм балалар мәйданчыгы", "Yard and playground"),
    "snow": ("Кар һәм боз, боз сөңгеләре", "Snow, ice and icicles"),
    "other": ("Башка", "Other"),
}

"""Occasion dates for care rules, computed for any year (no table that runs out).

Chinese festivals from the lunar calendar (``lunardate``, which covers 1900–2099); Qingming is a
solar term (formula for 2000–2099, else the ``holidays`` package); other countries' holidays from
``holidays``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import holidays as holidays_lib
from lunardate import LunarDate


def lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    """This lunar year's date as a solar date. A 30th in a 29-day month becomes the 29th."""
    for d in (day, day - 1):
        try:
            solar: dt.date = LunarDate(year, month, d).to_solar_date()
            return solar
        except ValueError:
            continue
    raise ValueError(f"no lunar date {year}-{month}-{day}")


def qingming(year: int) -> dt.date:
    if 2000 <= year <= 2099:
        y = year % 100
        return dt.date(year, 4, int(y * 0.2422 + 4.81) - y // 4)
    for day, name in sorted(holidays_lib.country_holidays("CN", years=year).items()):
        if "Tomb" in name:
            return day
    return dt.date(year, 4, 5)


CHINESE_HOLIDAYS: dict[str, Callable[[int], dt.date]] = {
    "spring_festival": lambda y: lunar_to_solar(y, 1, 1),  # 春节
    "lantern": lambda y: lunar_to_solar(y, 1, 15),  # 元宵
    "qingming": qingming,  # 清明
    "dragon_boat": lambda y: lunar_to_solar(y, 5, 5),  # 端午
    "mid_autumn": lambda y: lunar_to_solar(y, 8, 15),  # 中秋
    "national_day": lambda y: dt.date(y, 10, 1),  # 国庆
}
CHINESE_NAMES = {
    "spring_festival": "春节",
    "lantern": "元宵节",
    "qingming": "清明节",
    "dragon_boat": "端午节",
    "mid_autumn": "中秋节",
    "national_day": "国庆节",
}


def holidays_on(day: dt.date, *, country: str, names: list[str]) -> list[tuple[str, str]]:
    """[(slug, display name)] of the chosen holidays falling on ``day``.

    For CN the slugs are those of ``CHINESE_HOLIDAYS``; for other countries the holiday's name
    as the ``holidays`` package spells it (an empty ``names`` list means every holiday)."""
    found: list[tuple[str, str]] = []
    if country.upper() == "CN":
        for slug in names or list(CHINESE_HOLIDAYS):
            fn = CHINESE_HOLIDAYS.get(slug)
            try:
                date = fn(day.year) if fn is not None else None
            except ValueError:  # lunardate covers 1900–2099
                date = None
            if date == day:
                found.append((slug, CHINESE_NAMES[slug]))
        return found
    calendar = holidays_lib.country_holidays(country.upper(), years=day.year)
    for name in calendar.get_list(day):
        if not names or name in names:
            found.append((name, name))
    return found


def birthday_in(year: int, birthday: dt.date, *, lunar: bool) -> list[dt.date]:
    """The solar dates in ``year`` on which this birthday is celebrated.

    A lunar birthday is stored as its lunar month and day in the date; it can fall twice or not
    at all in a solar year's span, so both lunar years overlapping ``year`` are checked.
    Solar 29 February is celebrated on 28 February in common years."""
    if not lunar:
        try:
            return [birthday.replace(year=year)]
        except ValueError:
            return [dt.date(year, 2, 28)]
    out = []
    for lunar_year in (year - 1, year):
        try:
            solar = lunar_to_solar(lunar_year, birthday.month, birthday.day)
        except ValueError:
            continue
        if solar.year == year:
            out.append(solar)
    return out


def country_supported(country: str) -> bool:
    return country.upper() == "CN" or country.upper() in holidays_lib.list_supported_countries()

"""Working days: Monday to Friday, unless the official calendar says otherwise.

The calendar (public holidays off, adjusted weekend days on: 调休) is kept by the employment
station (`employment.Holiday`, imported from the official notice each year). Apps below it in
the layers (ADR 19) read it through the `CIVICMARK_WORKING_CALENDAR` setting, a model label,
never by importing employment; without it (or without the app) every weekday is a working day.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.conf import settings


def is_working_day(day: dt.date, calendar_days: dict[dt.date, bool]) -> bool:
    """Monday to Friday, unless the official calendar says otherwise (public holidays off,
    adjusted weekend days on)."""
    if day in calendar_days:
        return calendar_days[day]
    return day.weekday() < 5


def calendar_between(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """The official calendar's days from `start` to `end`: {day: is it a working day}."""
    label = getattr(settings, "CIVICMARK_WORKING_CALENDAR", "")
    if not label:
        return {}
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return {}
    rows = model.objects.filter(day__range=(start, end)).values_list("day", "is_working_day")
    return dict(rows)


def last_of_working_days(start: dt.date, count: int, calendar_days: dict[dt.date, bool]) -> dt.date:
    """The last of `count` working days counted from `start` itself (a window that opens on a
    working day counts it as its first): 5 from a Monday is that Friday, 5 from a Saturday the
    next Friday."""
    day, left = start - dt.timedelta(days=1), max(count, 1)
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar_days):
            left -= 1
    return day


def working_days_from(start: dt.date, count: int) -> dt.date:
    """`last_of_working_days` over the official calendar (a generous span of it, read once)."""
    span = start + dt.timedelta(days=count * 3 + 30)
    return last_of_working_days(start, count, calendar_between(start, span))

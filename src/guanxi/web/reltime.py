"""Fast, exact stand-ins for ``naturaltime`` and the ``SHORT_DATETIME_FORMAT`` date filter, built
once per page.

Django's ``naturaltime`` resolves a lazy translation on every call (~60 µs) and ``dateformat``
re-parses the format and the time zone on every call (~50 µs): with an "Updated" column and a
"contacted …" line per row that was about a fifth of the list page. Here the translated templates
are resolved once per (unit, number) for the page's language, and the calendar arithmetic is
Django's own ``timesince``, so the text is the same as ``naturaltime`` gives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.timesince import timesince
from django.utils.timezone import get_current_timezone, is_aware
from django.utils.translation import get_language

# Format characters that change within a minute: with none of them the text is cached per minute.
_SUB_MINUTE = set("sucrUBv")


# Resolved texts per (language, unit): "3 days", "5 minutes ago" … The numbers are small (< 60
# seconds or minutes, < 24 hours, a few years), so these stay a few hundred strings per language;
# kept for the process, not per page, because a page of 50 rows hits most of them only once.
_MEMOS: dict[tuple[str, str, str], dict[int, str]] = {}
# Formatted minutes per (language, format, zone); dropped wholesale when it grows past _MINUTES_MAX.
_MINUTES: dict[tuple[str, str, str], dict[tuple[dt.datetime, dt.timedelta | None], str]] = {}
_MINUTES_MAX = 20_000


class _Memo:
    """A lazy ``ngettext`` template resolved once per number (``%`` is all timesince needs)."""

    def __init__(self, lazy: Any, key: str, name: str) -> None:
        self.lazy = lazy
        self.key = key
        self.memo = _MEMOS.setdefault((get_language() or "", name, key), {})

    def __mod__(self, params: dict[str, int]) -> str:
        n = params[self.key]
        text = self.memo.get(n)
        if text is None:
            text = self.memo[n] = str(self.lazy % params)
        return text


class RelativeTime:
    """``naturaltime`` for one page: same strings, same rounding, translated for the active language."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = now or dt.datetime.now(dt.UTC)
        strings = NaturalTimeFormatter.time_strings
        self.past_day = str(strings["past-day"])
        self.future_day = str(strings["future-day"])
        self.now_text = str(strings["now"])
        self.units = {
            name: _Memo(strings[name], "count", name)
            for name in (
                "past-second",
                "past-minute",
                "past-hour",
                "future-second",
                "future-minute",
                "future-hour",
            )
        }
        self.past_parts = {
            k: _Memo(v, "num", f"past-{k}") for k, v in NaturalTimeFormatter.past_substrings.items()
        }
        self.future_parts = {
            k: _Memo(v, "num", f"future-{k}") for k, v in NaturalTimeFormatter.future_substrings.items()
        }

    def __call__(self, value: dt.datetime) -> str:
        now = self.now if is_aware(value) else dt.datetime.now()
        past = value < now
        delta = now - value if past else value - now
        prefix = "past" if past else "future"
        if delta.days != 0:
            if past:
                return self.past_day % {"delta": timesince(value, now, time_strings=self.past_parts)}  # type: ignore[arg-type]
            return self.future_day % {"delta": timesince(now, value, time_strings=self.future_parts)}  # type: ignore[arg-type]
        if delta.seconds == 0:
            return self.now_text
        if delta.seconds < 60:
            return self.units[f"{prefix}-second"] % {"count": delta.seconds}
        if delta.seconds // 60 < 60:
            return self.units[f"{prefix}-minute"] % {"count": delta.seconds // 60}
        return self.units[f"{prefix}-hour"] % {"count": delta.seconds // 3600}


class ShortDateTime:
    """``value|date:"SHORT_DATETIME_FORMAT"`` in the current time zone, cached per minute when the
    format shows nothing finer (the usual case: ``Y/m/d G:i`` in Chinese, ``m/d/Y P`` in English)."""

    def __init__(self, format_name: str = "SHORT_DATETIME_FORMAT") -> None:
        self.format = str(get_format(format_name))
        self.zone = get_current_timezone()
        self.per_minute = not (_SUB_MINUTE & set(self.format))
        self.memo = _MINUTES.setdefault((get_language() or "", self.format, str(self.zone)), {})
        if len(self.memo) > _MINUTES_MAX:
            self.memo.clear()

    def __call__(self, value: dt.datetime) -> str:
        local = value.astimezone(self.zone) if is_aware(value) else value
        if not self.per_minute:
            return dateformat.format(local, self.format)
        # The offset too: in a daylight-saving fold two instants share one wall-clock minute.
        key = (local.replace(second=0, microsecond=0), local.utcoffset())
        text = self.memo.get(key)
        if text is None:
            text = self.memo[key] = dateformat.format(local, self.format)
        return text

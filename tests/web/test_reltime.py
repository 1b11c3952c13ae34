"""The list's relative and absolute times are exactly what ``naturaltime`` and the date filter say."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.humanize.templatetags import humanize
from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format

from guanxi.web.reltime import RelativeTime, ShortDateTime

NOW = dt.datetime(2026, 3, 31, 8, 30, 15, 123456, tzinfo=dt.UTC)
OFFSETS = [0, 1, 59, 60, 61, 119, 3599, 3600, 7199, 86399, 86400, 86401, 9 * 86400, 31 * 86400]
OFFSETS += [400 * 86400 + 3 * 3600, 2 * 365 * 86400, 29 * 86400 + 17, 61 * 86400 - 5]


class _Frozen(dt.datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        return NOW if tz else NOW.replace(tzinfo=None)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_relative_time_matches_naturaltime(monkeypatch: Any, language: str) -> None:
    monkeypatch.setattr(humanize, "datetime", _Frozen)
    values = [NOW - dt.timedelta(seconds=s) for s in OFFSETS]
    values += [NOW + dt.timedelta(seconds=s) for s in OFFSETS]
    with translation.override(language):
        relative = RelativeTime(NOW)
        for value in values:
            assert relative(value) == str(humanize.naturaltime(value)), value
        assert relative(NOW - dt.timedelta(days=40)) != relative(NOW - dt.timedelta(days=400))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_short_datetime_matches_the_date_filter(language: str, zone: str) -> None:
    # New York crosses daylight saving time on 2026-11-01: the repeated hour has two offsets.
    start = dt.datetime(2026, 11, 1, 5, 0, tzinfo=dt.UTC)
    values = [start + dt.timedelta(minutes=7 * i, seconds=i) for i in range(60)]
    with translation.override(language), timezone.override(zone):
        for name in ("SHORT_DATETIME_FORMAT", "SHORT_DATE_FORMAT"):
            short = ShortDateTime(name)
            for value in values:
                expected = dateformat.format(timezone.localtime(value), get_format(name))
                assert short(value) == expected


def test_timeline_times_read_as_before(login: Any, make_customer: Any) -> None:
    from django.contrib.humanize.templatetags.humanize import naturaltime
    from django.utils.formats import localize

    from guanxi.core.models import AuditEvent

    customer = make_customer("owner", name="张伟")
    when = timezone.now() - dt.timedelta(days=3, hours=5)
    AuditEvent.objects.filter(object_id=str(customer.pk)).update(created_at=when)
    html = login("owner").get(f"/customers/{customer.pk}/").content.decode()
    with timezone.override("Asia/Shanghai"), translation.override("en"):
        expected = f'<time title="{localize(timezone.template_localtime(when))}">{naturaltime(when)}</time>'
    assert expected in html, html[html.index('<ol class="timeline">') :][:600]

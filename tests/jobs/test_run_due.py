"""`guanxi jobs run-due`: each periodic job once per scheduled time, caught up after a gap, never twice."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from guanxi.core.schedule import periodic, run_due

SH = ZoneInfo("Asia/Shanghai")
ran: list[dt.datetime] = []


@periodic("test_daily_nine", minute="0", hour="9", description="test job")
def _daily(now: dt.datetime) -> str:
    ran.append(now)
    return "hello"


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 2, day, hour, minute, tzinfo=SH)


@pytest.mark.django_db
def test_runs_once_at_its_time() -> None:
    run_due(at(10, 9, 30), only="test_daily_nine")  # first sight: catches up today's 09:00 once
    ran.clear()
    assert run_due(at(11, 8, 59), only="test_daily_nine") == []
    assert [r["status"] for r in run_due(at(11, 9, 0), only="test_daily_nine")] == ["ok"]
    assert run_due(at(11, 9, 5), only="test_daily_nine") == []
    assert len(ran) == 1


@pytest.mark.django_db
def test_missed_time_is_caught_up_once() -> None:
    run_due(at(10, 9, 0), only="test_daily_nine")
    ran.clear()
    run_due(at(12, 18, 0), only="test_daily_nine")  # the machine was off on the 11th and 12th
    assert len(ran) == 1


@pytest.mark.django_db
def test_cli_run_due_with_simulated_time_reports_json() -> None:
    out = StringIO()
    call_command(
        "jobs",
        "run-due",
        "--now",
        "2027-02-10T09:00:00+08:00",
        "--only",
        "test_daily_nine",
        "--json",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert report["ran"] == [{"name": "test_daily_nine", "status": "ok", "message": "hello"}]
    out = StringIO()
    call_command(
        "jobs",
        "run-due",
        "--now",
        "2027-02-10T09:01:00+08:00",
        "--only",
        "test_daily_nine",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["ran"] == []


@pytest.mark.django_db
def test_purge_job_is_registered_and_purges_expired(world: Any, make_customer: Any) -> None:
    from guanxi.customers.models import Customer
    from guanxi.customers.services import customer_delete

    doomed = make_customer("owner", name="过期客户")
    customer_delete(actor=world.actor("admin"), customer_id=doomed.pk)
    Customer.objects.filter(pk=doomed.pk).update(deleted_at=at(1, 12) - dt.timedelta(days=31))
    report = run_due(at(1, 3, 30), only="purge_recycle_bin", force=True)
    assert report[0]["message"] == "purged 1"
    assert not Customer.objects.filter(pk=doomed.pk).exists()

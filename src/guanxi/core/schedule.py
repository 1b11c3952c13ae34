"""Periodic work: one registry shared by the huey consumer and ``guanxi jobs run-due``.

A periodic job is due when one of its scheduled minutes has passed since it last ran (kept in
``PeriodicRun``). So a cron that calls ``guanxi jobs run-due`` every few minutes, the worker's
once-a-minute tick, and a test that simulates a date all run each job exactly once per scheduled
time — never twice, and a missed time is caught up once on the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from huey import crontab

from guanxi.core.models import PeriodicRun

log = logging.getLogger(__name__)
MAX_CATCH_UP = dt.timedelta(days=2)


@dataclass(frozen=True)
class Periodic:
    name: str
    schedule: Callable[[dt.datetime], bool]
    fn: Callable[[dt.datetime], object]
    description: str


_periodic: dict[str, Periodic] = {}


def periodic(
    name: str,
    *,
    minute: str = "0",
    hour: str = "*",
    day: str = "*",
    month: str = "*",
    day_of_week: str = "*",
    description: str = "",
) -> Callable[[Callable[[dt.datetime], object]], Callable[[dt.datetime], object]]:
    """Register ``fn(now)`` to run on a crontab schedule, in the server's ``TIME_ZONE``."""

    def decorator(fn: Callable[[dt.datetime], object]) -> Callable[[dt.datetime], object]:
        _periodic[name] = Periodic(name, crontab(minute, hour, day, month, day_of_week), fn, description)
        return fn

    return decorator


def registered() -> list[Periodic]:
    return sorted(_periodic.values(), key=lambda p: p.name)


def _due_since(job: Periodic, last: dt.datetime | None, now_local: dt.datetime) -> bool:
    if last is None:
        # Never ran here: catch up on the last day, so a fresh install does not skip today's run.
        start = now_local - dt.timedelta(days=1)
    else:
        start = max(last.astimezone(now_local.tzinfo), now_local - MAX_CATCH_UP)
    minute = start.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    while minute <= now_local:
        if job.schedule(minute.replace(tzinfo=None)):
            return True
        minute += dt.timedelta(minutes=1)
    return False


def run_due(
    now: dt.datetime | None = None, *, only: str | None = None, force: bool = False
) -> list[dict[str, str]]:
    """Run every periodic job that is due at ``now``; return what ran and how it ended."""
    now = now or timezone.now()
    now_local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    report = []
    for job in registered():
        if only and job.name != only:
            continue
        with transaction.atomic():
            row = PeriodicRun.objects.select_for_update().filter(name=job.name).first()
            if not force and not _due_since(job, row.last_run_at if row else None, now_local):
                continue
            PeriodicRun.objects.update_or_create(
                name=job.name, defaults={"last_run_at": now, "last_status": "running", "last_message": ""}
            )
        try:
            outcome = job.fn(now)
            status, message = "ok", str(outcome if outcome is not None else "")[:500]
        except Exception as exc:  # one failing job must not stop the others
            log.exception("periodic job %s failed", job.name)
            status, message = "failed", str(exc)[:500]
        PeriodicRun.objects.filter(name=job.name).update(last_status=status, last_message=message)
        report.append({"name": job.name, "status": status, "message": message})
    return report

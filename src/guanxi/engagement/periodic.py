"""Periodic jobs of the engagement app (run by the worker's tick and `guanxi jobs run-due`)."""

from __future__ import annotations

import datetime as dt

from guanxi.core.schedule import periodic
from guanxi.engagement.care import care_run_due
from guanxi.engagement.email import email_sweep_queued
from guanxi.engagement.notifications import overdue_digests, task_reminders_due


@periodic("task_reminders", minute="*", description="In-app reminders for tasks due soon")
def task_reminders(now: dt.datetime) -> str:
    return f"reminded {task_reminders_due(now=now)}"


@periodic(
    "overdue_digest", minute="0", hour="*", description="Morning digest of overdue tasks (08:00 org time)"
)
def overdue_digest(now: dt.datetime) -> str:
    return f"digests {overdue_digests(now=now)}"


@periodic(
    "care_rules", minute="0", hour="*", description="Care greetings and revisit tasks whose time has come"
)
def care_rules(now: dt.datetime) -> str:
    counts = care_run_due(now=now)
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due"


@periodic("email_sweep", minute="*/5", description="Deliver queued emails whose delivery never started")
def email_sweep(now: dt.datetime) -> str:
    return f"sent {email_sweep_queued(now=now)}"

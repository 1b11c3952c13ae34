"""Huey tasks of the core app: run a user-visible job; tick the periodic registry every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanxi.core.jobs import job_execute
from guanxi.core.schedule import run_due


@db_task(retries=3, retry_delay=30)
def run_job(job_id: int) -> None:
    # job_execute claims the row first, so a retried or duplicated message cannot run a job twice.
    job_execute(job_id)


@db_periodic_task(crontab(minute="*"))
def periodic_tick() -> None:
    run_due()

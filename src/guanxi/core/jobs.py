"""User-visible background jobs: create, run with progress and cancellation, finish or fail.

Huey moves the work; the ``Job`` row is what people see. A job function receives a ``JobRun`` and
reports progress through it. Progress writes are throttled (at most one per half-second) so a
million-row job does not do a million UPDATEs. Cancellation is cooperative: ``run.check()``
raises ``JobCancelled`` once someone asked to cancel, and the job function's transaction rolls
back whatever it had not committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, NotFound
from guanxi.core.models import Job

log = logging.getLogger(__name__)
JobFunction = Callable[["JobRun"], dict[str, Any] | None]
_registry: dict[str, JobFunction] = {}


class JobCancelled(Exception):
    pass


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    """Register a function as the body of jobs of kind ``name``."""

    def decorator(fn: JobFunction) -> JobFunction:
        _registry[name] = fn
        return fn

    return decorator


class JobRun:
    """Handed to a job function: its parameters, progress reporting, cancellation checks."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last_flush = 0.0

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.job.params or {})

    def progress(self, done: int, total: int | None = None, *, force: bool = False, **counts: int) -> None:
        self.job.progress_done = done
        if total is not None:
            self.job.progress_total = total
        if counts:
            self.job.counts = {**(self.job.counts or {}), **counts}
        now = time.monotonic()
        if force or now - self._last_flush >= 0.5:
            self._last_flush = now
            Job.objects.filter(pk=self.job.pk).update(
                progress_done=self.job.progress_done,
                progress_total=self.job.progress_total,
                counts=self.job.counts,
                heartbeat_at=timezone.now(),
            )
            self.check()

    def check(self) -> None:
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled()


def job_create(*, actor: Actor | None, kind: str, params: dict[str, Any] | None = None) -> Job:
    if kind not in _registry:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(
        organization_id=actor.org_id if actor else None,
        created_by=actor.user if actor else None,
        kind=kind,
        params=params or {},
    )
    if actor is not None:
        audit(actor=actor, action="job_start", object_type="job", object_id=job.pk, object_repr=kind)
    return job


def job_execute(job_id: int) -> Job:
    """Run a queued job in this process. Safe to call twice: a finished job is left alone."""
    claimed = Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    job = Job.objects.get(pk=job_id)
    if not claimed:
        return job
    run = JobRun(job)
    try:
        if job.cancel_requested:
            raise JobCancelled()
        result = _registry[job.kind](run) or {}
    except JobCancelled:
        _finish(job, Job.State.CANCELLED, message=_("Cancelled."))
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, Job.State.FAILED, message=str(exc)[:500])
    else:
        _finish(job, Job.State.SUCCEEDED, result=result)
    job.refresh_from_db()
    return job


def _finish(job: Job, state: str, *, message: str = "", result: dict[str, Any] | None = None) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=state,
        finished_at=timezone.now(),
        message=message,
        result=result or {},
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        counts=job.counts,
        errors=job.errors,
    )


def job_enqueue(job: Job) -> None:
    """Hand the job to the queue once the surrounding transaction has committed."""
    from django.db import transaction

    from guanxi.core.tasks import run_job

    transaction.on_commit(lambda: run_job(job.pk))


def job_get(*, actor: Actor, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id, organization_id=actor.org_id).first()
    if job is None or (job.created_by_id != actor.user.pk and not actor.membership.role == "admin"):
        raise NotFound(_("Job not found."))
    return job


def job_cancel(*, actor: Actor, job_id: int) -> Job:
    job = job_get(actor=actor, job_id=job_id)
    if job.state not in (Job.State.QUEUED, Job.State.RUNNING):
        raise Conflict(_("This job has already finished."))
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    if job.state == Job.State.QUEUED:
        Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(
            state=Job.State.CANCELLED, finished_at=timezone.now(), message=_("Cancelled before it started.")
        )
    audit(actor=actor, action="job_cancel", object_type="job", object_id=job.pk, object_repr=job.kind)
    job.refresh_from_db()
    return job

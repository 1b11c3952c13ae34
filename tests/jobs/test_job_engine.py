"""The Job row: progress, success, failure, cancellation, and no double runs."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.jobs import job_cancel, job_create, job_execute
from guanxi.core.models import Job
from tests.jobs.kinds import calls


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()


def test_job_runs_to_success_with_progress_and_counts(world: Any) -> None:
    job = job_create(actor=world.actor("owner"), kind="test.count", params={"n": 4})
    assert job.state == Job.State.QUEUED
    job = job_execute(job.pk)
    assert job.state == Job.State.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.percent) == (4, 4, 100)
    assert job.counts == {"processed": 4}
    assert job.result == {"done": 4}
    assert job.started_at and job.finished_at and job.attempts == 1


def test_finished_job_is_not_run_again(world: Any) -> None:
    job = job_create(actor=world.actor("owner"), kind="test.count", params={"n": 2})
    job_execute(job.pk)
    job_execute(job.pk)  # a duplicated queue message
    assert calls == [1, 2]


def test_failure_is_recorded_not_raised(world: Any) -> None:
    job = job_execute(job_create(actor=world.actor("owner"), kind="test.boom").pk)
    assert job.state == Job.State.FAILED
    assert "disk full" in job.message


def test_cancel_request_stops_a_running_job(world: Any) -> None:
    job = job_execute(job_create(actor=world.actor("owner"), kind="test.cancel_midway").pk)
    assert job.state == Job.State.CANCELLED
    assert job.progress_done == 2


def test_cancel_before_start_never_runs(world: Any) -> None:
    job = job_create(actor=world.actor("owner"), kind="test.count")
    job_cancel(actor=world.actor("owner"), job_id=job.pk)
    job = job_execute(job.pk)
    assert job.state == Job.State.CANCELLED
    assert calls == []


def test_unknown_kind_is_refused(world: Any) -> None:
    with pytest.raises(ValueError, match="unknown job kind"):
        job_create(actor=world.actor("owner"), kind="nope")

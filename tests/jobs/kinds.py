"""Job kinds used by the job tests, in one module so every test file shares the same registry entries."""

from __future__ import annotations

from typing import Any

from guanxi.core.jobs import JobRun, job_kind
from guanxi.core.models import Job

calls: list[int] = []


@job_kind("test.count")
def count(run: JobRun) -> dict[str, Any]:
    total = int(run.params.get("n", 3))
    for i in range(1, total + 1):
        calls.append(i)
        run.progress(i, total, force=True, processed=i)
    return {"done": total}


@job_kind("test.boom")
def boom(run: JobRun) -> None:
    raise RuntimeError("disk full")


@job_kind("test.cancel_midway")
def cancel_midway(run: JobRun) -> None:
    run.progress(1, 10, force=True)
    Job.objects.filter(pk=run.job.pk).update(cancel_requested=True)
    run.progress(2, 10, force=True)  # sees the request and stops here
    raise AssertionError("not reached")

"""Shared helpers of the import-engine tests: write a file, run an import in the foreground."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from guanxi.core.jobs import job_execute
from guanxi.core.models import Job
from guanxi.customers.imports.engine import ImportOptions
from guanxi.customers.imports.services import import_file_job

HEADER = ["姓名", "手机", "邮箱", "公司", "external_id", "标签"]


def write_csv(path: Path, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header or HEADER)
        writer.writerows(rows)
    return path


def run_import(world: Any, who: str, path: Path, **options: Any) -> Job:
    """Create the import job as ``who`` and run it here, as ``guanxi import customers`` does."""
    actor = world.actor(who, via="cli")
    job = import_file_job(actor=actor, path=path, options=ImportOptions(**options))
    return job_execute(job.pk)

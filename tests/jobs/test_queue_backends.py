"""A job travels through a real huey queue (the SQLite file default, and Redis) exactly once."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
from huey import RedisHuey, SqliteHuey

from guanxi.core.jobs import job_create, job_execute
from guanxi.core.models import Job
from tests.jobs.kinds import calls


def _roundtrip(huey: Any, job_id: int) -> None:
    @huey.task(retries=2)
    def run(job_id: int) -> None:
        job_execute(job_id)

    run(job_id)
    run(job_id)  # the same message twice, as after a crash between execute and ack
    assert huey.pending_count() == 2
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    assert huey.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_sqlite_queue_runs_job_once(world: Any, tmp_path: Path) -> None:
    calls.clear()
    job = job_create(actor=world.actor("owner"), kind="test.count", params={"n": 3})
    _roundtrip(SqliteHuey("guanxi-test", filename=str(tmp_path / "q.sqlite3"), utc=True), job.pk)
    assert Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED
    assert calls == [1, 2, 3]


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379 (CI has one)")
def test_redis_queue_runs_job_once(world: Any) -> None:
    calls.clear()
    # A queue name of its own: CI runs the SQLite and PostgreSQL suites at once against one Redis.
    huey = RedisHuey(f"guanxi-test-{os.getpid()}", host="127.0.0.1", port=6379, db=15, utc=True)
    huey.flush()
    job = job_create(actor=world.actor("owner"), kind="test.count", params={"n": 2})
    try:
        _roundtrip(huey, job.pk)
    finally:
        huey.flush()
    assert Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED
    assert calls == [1, 2]

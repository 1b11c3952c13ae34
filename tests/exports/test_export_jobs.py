"""Large exports run as jobs writing a file only their creator can download; files expire; the
per-user hourly limit answers 429 saying when to try again."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.core.jobs import job_execute
from guanxi.core.models import AuditEvent, Job
from guanxi.core.schedule import run_due
from guanxi.customers import exports
from guanxi.engagement.models import Notification
from tests.exports.conftest import body, read_csv, read_xlsx


@pytest.fixture
def small_threshold(settings: Any) -> None:
    settings.GUANXI_EXPORT_SYNC_MAX_ROWS = 2


def _start(world: Any, who: str = "marketing", **params: str) -> Any:
    from django.test import TestCase

    # The job is queued after commit (and huey runs it inline here): run those callbacks.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = world.api(who).get("/customers/export", params)
    assert response.status_code == 202, response.content
    return response.json()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_large_export_runs_as_a_job_and_downloads(
    world: Any, crowd: Any, small_threshold: Any, fmt: str
) -> None:
    answer = _start(world, format=fmt, columns="name,phone")
    assert answer["rows"] == 4
    job = Job.objects.get(pk=answer["job_id"])
    assert job.kind == "customers.export"
    assert job.state == "succeeded"  # huey runs inline in tests
    assert job.progress_done == job.progress_total == 4
    assert job.result["rows"] == 4
    response = world.api("marketing").get(f"/exports/{job.pk}/download")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    content = body(response)
    rows = read_csv(content) if fmt == "csv" else read_xlsx(content)
    assert {r["name"] for r in rows} == {"张伟", "王芳", "李娜", "刘洋"}
    assert {r["phone"] for r in rows if r["name"] == "张伟"} == {"138****8000"}  # marketing: masked
    files = list((exports.exports_dir(world.org.pk)).iterdir())
    assert [f.suffix for f in files] == [f".{fmt}"]  # no .part left behind
    event = AuditEvent.objects.get(action="customers.exported")
    assert event.context["mode"] == "job" and event.context["job_id"] == job.pk


def test_the_user_is_notified_when_the_file_is_ready(world: Any, crowd: Any, small_threshold: Any) -> None:
    answer = _start(world)
    note = Notification.objects.get(user=world.marketing.user, kind="export_ready")
    assert note.link == f"/jobs/{answer['job_id']}/"
    assert "4" in note.title


@pytest.mark.parametrize("who", ["admin", "manager", "owner", "other_admin"])
def test_only_the_creator_downloads(world: Any, crowd: Any, small_threshold: Any, who: str) -> None:
    answer = _start(world)
    response = world.api(who).get(f"/exports/{answer['job_id']}/download")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_download_of_unfinished_or_unknown_job(world: Any, crowd: Any, small_threshold: Any) -> None:
    client = world.api("marketing")
    assert client.get("/exports/999999/download").status_code == 404
    job = Job.objects.create(
        organization=world.org, created_by=world.marketing.user, kind="customers.export", state="running"
    )
    response = client.get(f"/exports/{job.pk}/download")
    assert response.status_code == 409
    assert "still running" in response.json()["detail"]


def test_expired_files_are_deleted_and_answer_410(world: Any, crowd: Any, small_threshold: Any) -> None:
    answer = _start(world)
    folder = exports.exports_dir(world.org.pk)
    (path,) = list(folder.iterdir())
    later = timezone.now() + dt.timedelta(hours=25)
    old = (timezone.now() - dt.timedelta(hours=25)).timestamp()
    os.utime(path, (old, old))
    assert exports.exports_cleanup(now=timezone.now()) == 1
    assert not path.exists()
    response = world.api("marketing").get(f"/exports/{answer['job_id']}/download")
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    # registered as a periodic job
    report = run_due(later, only="exports_cleanup", force=True)
    assert report == [{"name": "exports_cleanup", "status": "ok", "message": "removed 0"}]


def test_fresh_files_survive_cleanup(world: Any, crowd: Any, small_threshold: Any) -> None:
    _start(world)
    assert exports.exports_cleanup() == 0
    assert len(list(exports.exports_dir(world.org.pk).iterdir())) == 1


def test_cancelled_export_leaves_no_file(
    world: Any, crowd: Any, small_threshold: Any, monkeypatch: Any
) -> None:
    real = exports.customer_to_dict
    calls = {"n": 0}

    def cancel_midway(customer: Any, actor: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            Job.objects.filter(kind="customers.export").update(cancel_requested=True)
        return real(customer, actor)

    monkeypatch.setattr(exports, "customer_to_dict", cancel_midway)
    answer = _start(world, format="xlsx")
    job = Job.objects.get(pk=answer["job_id"])
    assert job.state == "cancelled"
    assert list(exports.exports_dir(world.org.pk).iterdir()) == []
    assert world.api("marketing").get(f"/exports/{job.pk}/download").status_code == 409


def test_a_failing_export_leaves_no_file(
    world: Any, crowd: Any, small_threshold: Any, monkeypatch: Any
) -> None:
    def boom(customer: Any, actor: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exports, "customer_to_dict", boom)
    job = Job.objects.get(pk=_start(world)["job_id"])
    assert job.state == "failed" and "disk on fire" in job.message
    assert list(exports.exports_dir(world.org.pk).iterdir()) == []
    job_execute(job.pk)  # a duplicated queue message does not run it again
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_rate_limit_answers_429_with_when_to_retry(world: Any, crowd: Any, settings: Any) -> None:
    settings.GUANXI_EXPORTS_PER_HOUR = 2
    client = world.api("marketing")
    assert client.get("/customers/export").status_code == 200
    assert client.get("/customers/export").status_code == 200
    refused = client.get("/customers/export")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert 3500 <= int(refused["Retry-After"]) <= 3601
    assert problem["retry_after"] == int(refused["Retry-After"])
    assert "2 times per hour" in problem["detail"] and "Try again after" in problem["detail"]
    assert AuditEvent.objects.filter(action="customers.exported").count() == 2  # the refusal exported nothing
    # per user: the manager still may; an hour later the marketer may again
    assert world.api("manager").get("/customers/export").status_code == 200
    AuditEvent.objects.filter(action="customers.exported").update(
        created_at=timezone.now() - dt.timedelta(minutes=61)
    )
    assert client.get("/customers/export").status_code == 200


def test_cli_exports_are_not_limited(world: Any, crowd: Any, settings: Any, tmp_path: Any) -> None:
    settings.GUANXI_EXPORTS_PER_HOUR = 1
    for i in range(3):
        call_command(
            "export", "customers", "--org", "acme", "--as", "marketing", "--out", str(tmp_path / f"{i}.csv")
        )
    assert AuditEvent.objects.filter(action="customers.exported", context__via="cli").count() == 3
    assert world.api("marketing").get("/customers/export").status_code == 200  # CLI runs do not count
    assert {r["name"] for r in read_csv((tmp_path / "0.csv").read_bytes())} == {
        "张伟",
        "王芳",
        "李娜",
        "刘洋",
    }

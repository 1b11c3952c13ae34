"""The scan as a job and on the command line: stored results, cancellation, deleted/merged records."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from guanxi.core.jobs import JobCancelled
from guanxi.customers.dedupe.scan import run_scan
from guanxi.customers.models import Customer, DuplicateCandidate


@pytest.fixture
def people(world: Any, make_customer: Any) -> dict[str, Any]:
    return {
        "a": make_customer("owner", name="张伟", phone="138 1234 8000", city="北京"),
        "b": make_customer("owner", name="張偉", phone="13812348000", city="北京"),
        "c": make_customer("owner", name="Zhang Wei", phone="+86 138 1234 8000"),
    }


def test_one_person_three_records_is_one_cluster_of_three_pairs(world: Any, people: dict[str, Any]) -> None:
    _result, stored = run_scan(world.org.pk)
    assert stored["created"] == 3
    rows = DuplicateCandidate.objects.filter(organization=world.org)
    assert {r.cluster for r in rows} == {people["a"].pk}
    assert all(r.customer_a_id < r.customer_b_id for r in rows)
    _again, stored = run_scan(world.org.pk)
    assert stored == {"created": 0, "updated": 3, "removed": 0, "kept_decided": 0}
    assert rows.count() == 3


def test_a_cancelled_scan_leaves_the_previous_results_untouched(world: Any, people: dict[str, Any]) -> None:
    run_scan(world.org.pk)
    before = list(DuplicateCandidate.objects.order_by("pk").values_list("pk", "score", "status"))
    Customer.objects.filter(pk=people["c"].pk).update(deleted_at=timezone.now())

    def cancel() -> None:
        raise JobCancelled()

    with pytest.raises(JobCancelled):
        run_scan(world.org.pk, check=cancel)
    assert list(DuplicateCandidate.objects.order_by("pk").values_list("pk", "score", "status")) == before


def test_deleted_and_merged_away_customers_are_not_scanned(world: Any, people: dict[str, Any]) -> None:
    Customer.objects.filter(pk=people["b"].pk).update(deleted_at=timezone.now())
    Customer.objects.filter(pk=people["c"].pk).update(merged_into=people["a"], deleted_at=timezone.now())
    result, _stored = run_scan(world.org.pk)
    assert result.customers == 1 and result.pairs == []


def test_a_scan_job_through_the_queue_stores_and_reports(world: Any, people: dict[str, Any]) -> None:
    from django.test import TestCase

    from guanxi.customers.dedupe.services import dedupe_scan_start

    with TestCase.captureOnCommitCallbacks(execute=True):
        job = dedupe_scan_start(actor=world.actor("manager"))
    job.refresh_from_db()
    assert job.state == "succeeded", job.message
    assert job.result["pairs"] == 3 and job.result["clusters"] == 1
    assert job.progress_done == job.progress_total == 4
    assert DuplicateCandidate.objects.filter(job=job).count() == 3


def test_cli_scan_json(world: Any, people: dict[str, Any]) -> None:
    out = StringIO()
    call_command("dedupe", "scan", "--org", "acme", "--json", stdout=out)
    data = json.loads(out.getvalue())
    pairs = {(p["a"], p["b"]): p for p in data["pairs"]}
    assert set(pairs) == {
        (people["a"].pk, people["b"].pk),
        (people["a"].pk, people["c"].pk),
        (people["b"].pk, people["c"].pk),
    }
    first = pairs[(people["a"].pk, people["b"].pk)]
    assert 0.8 <= first["score"] <= 1
    assert "same name in pinyin (zhangwei)" in first["reasons"]
    assert data["stored"]["created"] == 3


def test_cli_threshold_dry_run_and_list(world: Any, people: dict[str, Any]) -> None:
    out = StringIO()
    call_command("dedupe", "scan", "--org", "acme", "--threshold", "0.99", "--dry-run", "--json", stdout=out)
    assert all(p["score"] >= 0.99 for p in json.loads(out.getvalue())["pairs"])
    assert not DuplicateCandidate.objects.exists()
    call_command("dedupe", "scan", "--org", "acme", stdout=StringIO())
    out = StringIO()
    call_command("dedupe", "list", "--org", "acme", "--json", stdout=out)
    assert len(json.loads(out.getvalue())["pairs"]) == 3
    text = StringIO()
    call_command("dedupe", "list", "--org", "acme", stdout=text)
    assert "same phone" in text.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "--org", "nope"], "no organisation named 'nope'"),
        (["scan", "--org", "acme", "--threshold", "2"], "threshold: must be a number from 0.5 to 0.99"),
        (["list", "--org", "acme", "--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_cli_bad_input_says_why(world: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("dedupe", *args, stdout=StringIO())
    assert not DuplicateCandidate.objects.exists()

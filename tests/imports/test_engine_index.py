"""Large imports leave search grams to the follow-up job; once it has run, search finds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guanxi.core.jobs import job_execute
from guanxi.core.models import Job
from guanxi.customers.models import Customer, SearchGram
from guanxi.customers.selectors import apply_search
from tests.imports.engine_helpers import run_import, write_csv


@pytest.fixture(autouse=True)
def small_limits(settings: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from guanxi.customers.imports import engine, search_index

    settings.DATA_DIR = tmp_path / "data"
    monkeypatch.setattr(engine, "INLINE_INDEX_LIMIT", 10)
    monkeypatch.setattr(engine, "CHUNK_ROWS", 7)
    monkeypatch.setattr(search_index, "CHUNK_IDS", 5)


def test_large_import_is_indexed_by_the_follow_up_job(world: Any, tmp_path: Path) -> None:
    rows = [[f"欧阳{i:02d}号", f"1390000{i:04d}", f"u{i}@example.com", "", f"X{i}", ""] for i in range(25)]
    job = run_import(world, "admin", write_csv(tmp_path / "c.csv", rows))
    assert job.result["created"] == 25
    reindex = Job.objects.get(pk=job.result["reindex_job"])
    assert reindex.kind == "customers.reindex" and reindex.state == "queued"
    assert reindex.organization_id == world.org.pk  # shows in the organisation's job list
    org_customers = Customer.objects.filter(organization=world.org)
    assert not SearchGram.objects.filter(organization=world.org).exists()
    assert not apply_search(org_customers, world.org.pk, "欧阳07").exists()

    done = job_execute(reindex.pk)
    assert done.state == "succeeded" and done.progress_done == 25
    assert [c.name for c in apply_search(org_customers, world.org.pk, "欧阳07")] == ["欧阳07号"]
    assert [c.name for c in apply_search(org_customers, world.org.pk, "00000012")] == ["欧阳12号"]
    grams = SearchGram.objects.filter(organization=world.org).count()
    # Running it again (a retried job) rewrites, never doubles.
    Job.objects.filter(pk=reindex.pk).update(state="queued", progress_done=0)
    job_execute(reindex.pk)
    assert SearchGram.objects.filter(organization=world.org).count() == grams


def test_small_import_indexes_inline_without_a_job(world: Any, tmp_path: Path) -> None:
    rows = [[f"小{i}", f"1390000{i:04d}", "", "", "", ""] for i in range(5)]
    job = run_import(world, "admin", write_csv(tmp_path / "c.csv", rows))
    assert job.result["reindex_job"] is None
    assert not Job.objects.filter(kind="customers.reindex").exists()
    assert apply_search(Customer.objects.filter(organization=world.org), world.org.pk, "小3").exists()


def test_cancel_stops_between_chunks_and_keeps_what_committed(
    world: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Cancelling is honoured after a committed chunk; the job says how far it got."""
    from guanxi.customers.imports import engine

    calls = {"n": 0}
    original = engine.ImportRun._report

    def cancel_after_first_chunk(self: Any, *, force: bool = False) -> None:
        calls["n"] += 1
        if self.chunks_done == 1:
            Job.objects.filter(pk=self.job.pk).update(cancel_requested=True)
        original(self, force=True)

    monkeypatch.setattr(engine.ImportRun, "_report", cancel_after_first_chunk)
    rows = [[f"客{i}", f"1390000{i:04d}", "", "", "", ""] for i in range(20)]
    job = run_import(world, "admin", write_csv(tmp_path / "c.csv", rows))
    assert job.state == "cancelled"
    assert job.counts["created"] == 7 == Customer.objects.filter(organization=world.org).count()

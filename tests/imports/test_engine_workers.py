"""Large imports clean in forked worker processes: the outcome is the same as cleaning inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guanxi.customers.imports import engine
from guanxi.customers.models import Customer, CustomerIdentifier
from tests.imports.engine_helpers import run_import, write_csv


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def rows() -> list[list[str]]:
    out = []
    for i in range(30):
        phone = f"1380000{i:04d}" if i % 7 else "12345"  # every 7th phone is invalid
        email = f"p{i % 25}@example.com"  # rows 27–31 repeat the e-mails of rows 2–6
        out.append([f"客户{i}", phone, email, "某公司", f"E{i}", "VIP、老客户" if i % 2 else ""])
    out.append(["", "13900000001", "", "", "E3", ""])  # no name: upsert may update, never create
    out.append(["老王改", "13900000002", "", "", "", "新标签"])  # matches an existing customer by phone
    return out


def outcome(world: Any, job: Any, existing_pk: int) -> dict[str, Any]:
    customers = Customer.objects.filter(organization=world.org).order_by("external_id", "name")

    def same_ids(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:  # 老王 is re-created per run
        return [r | {"message": r["message"].replace(f"#{existing_pk}", "#老王")} for r in reports]

    return {
        "counts": {k: job.result[k] for k in ("created", "updated", "skipped", "rejected")},
        "errors": same_ids(job.result["errors"]),
        "skipped": same_ids(job.result["skipped_rows"]),
        "customers": list(
            customers.values_list("name", "external_id", "phone_e164", "email", "company", "version")
        ),
        "tags": sorted(customers.values_list("external_id", "tags__name")),
        "identifiers": sorted(
            CustomerIdentifier.objects.filter(organization=world.org).values_list("kind", "value")
        ),
    }


@pytest.mark.parametrize("mode", ["create", "upsert"])
def test_worker_processes_give_the_inline_result(
    world: Any, make_customer: Any, tmp_path: Path, mode: str, monkeypatch: Any
) -> None:
    path = write_csv(tmp_path / "w.csv", rows())
    monkeypatch.setattr(engine, "CHUNK_ROWS", 4)  # many chunks, several in flight at once
    used: list[int] = []
    original = engine.prepared_chunks

    def recording(ctx: Any, chunks: Any, workers: int) -> Any:
        used.append(workers)
        return original(ctx, chunks, workers)

    monkeypatch.setattr(engine, "prepared_chunks", recording)
    results = []
    for pool_from in (10**9, 0):  # first inline, then in two forked workers
        Customer.objects.filter(organization=world.org).delete()
        existing = make_customer("admin", name="老王", phone="13900000002")
        monkeypatch.setattr(engine, "POOL_MIN_ROWS", pool_from)
        monkeypatch.setattr(engine, "WORKERS", 2)
        job = run_import(world, "admin", path, mode=mode)
        results.append(outcome(world, job, existing.pk))
    inline, pooled = results
    assert used == [0, 2]
    assert inline["counts"]["rejected"] > 0 and inline["counts"]["created"] > 20
    assert (inline["counts"]["updated"] > 0) == (mode == "upsert")
    assert pooled == inline

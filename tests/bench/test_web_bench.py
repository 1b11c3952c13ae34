"""``guanxi bench web`` requests every page it times (and fails loudly on a non-200)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.bench.web import BUSY_EXTERNAL_ID
from guanxi.customers.models import Contact, Customer


def test_bench_web_runs_every_scenario(db: Any, settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command(
        "bench", "generate", "--customers", "300", "--json", stdout=io.StringIO(), stderr=io.StringIO()
    )
    out = io.StringIO()
    call_command("bench", "web", "--iterations", "2", "--warmup", "0", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["customers"] == 301  # the generated rows and the busy customer the bench adds once
    names = {row["scenario"] for row in result["results"]}
    assert {"list: default (newest first)", "list: load more (htmx rows)", "rep 360°: own customers"} <= names
    assert "rep list: load more" not in names  # the rep's 13 customers fit on one page: nothing to time
    assert any(n.startswith("overview") for n in names)
    for row in result["results"]:
        assert row["p95_ms"] > 0 and row["queries"] > 3 and row["load_before"] >= 0
    busy = Customer.objects.get(external_id=BUSY_EXTERNAL_ID)
    assert Contact.objects.filter(customer=busy).count() == 8
    # A second run reuses the busy customer instead of adding another.
    only = "list: sort name A→Z"
    call_command("bench", "web", "--iterations", "1", "--warmup", "0", "--only", only, stdout=io.StringIO())
    assert Customer.objects.filter(external_id=BUSY_EXTERNAL_ID).count() == 1
    # --cold drops the page caches before each request: the count is read every time.
    out = io.StringIO()
    call_command(
        "bench", "web", "--iterations", "2", "--warmup", "0", "--only", only, "--cold", "--json", stdout=out
    )
    (row,) = json.loads(out.getvalue())["results"]
    assert row["cold"] and row["cpu_p50_ms"] > 0 and row["queries_warm"] < row["queries"]


def test_bench_web_needs_a_loaded_organisation(db: Any) -> None:
    with pytest.raises(CommandError, match="guanxi bench generate"):
        call_command("bench", "web", "--org", "nowhere", stdout=io.StringIO())

"""Quality of the DEFAULT rules on the Febrl record-linkage benchmark (precision ≥ 0.98, recall ≥ 0.95).

Each dataset is loaded as customers the way an import maps its columns (``guanxi.bench.febrl``)
with one bulk insert, scanned by the real scan (rows read from the database), and scored on pairs:
a pair of records counts once, whatever order. Skips when the data is absent (it lives outside the
repository, at ``../shared/data/febrl``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from guanxi.bench.febrl import febrl_records, true_pairs
from guanxi.core.services import organization_create
from guanxi.customers.dedupe.scan import run_scan
from tests.dedupe.conftest import bulk_customers

FEBRL = Path(
    os.environ.get("GUANXI_FEBRL_DIR", Path(__file__).resolve().parents[3] / "shared" / "data" / "febrl")
)
if not (FEBRL / "dataset1.csv").exists():
    FEBRL = Path("/work/shared/data/febrl")

pytestmark = pytest.mark.skipif(
    not (FEBRL / "dataset4b.csv").exists(),
    reason=f"Febrl data not found at {FEBRL} (set GUANXI_FEBRL_DIR to the febrl/ folder to run this test)",
)


def _quality(dataset: str) -> dict[str, Any]:
    org, _ = organization_create(name=f"febrl-{dataset}")
    records = list(febrl_records(FEBRL, dataset))
    ids = bulk_customers(org.pk, records)
    truth_by_index = true_pairs([r["rec_id"] for r in records])
    truth = {(ids[i], ids[j]) for i, j in truth_by_index}
    result, _stored = run_scan(org.pk, store=False)
    found = {(p.a, p.b) for p in result.pairs}
    tp = len(found & truth)
    return {
        "precision": tp / max(len(found), 1),
        "recall": tp / len(truth),
        "found": len(found),
        "true": len(truth),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("dataset", ["dataset1", "dataset2", "dataset3", "dataset4"])
def test_default_rules_reach_the_quality_target(dataset: str) -> None:
    q = _quality(dataset)
    assert q["precision"] >= 0.98, q
    assert q["recall"] >= 0.95, q

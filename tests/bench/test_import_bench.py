"""``guanxi bench import`` end to end at a tiny size: a real CSV, the real CLI, the reference insert."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

from guanxi.bench.imports import HEADER, write_csv

GUANXI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "guanxi"


def test_generated_csv_has_chinese_headers_and_valid_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", 50)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADER and len(rows) == 51
    assert len({r[0] for r in rows[1:]}) == 50  # external ids are unique
    assert all(r[1] for r in rows[1:])  # every customer has a name
    assert sum(1 for r in rows[1:] if r[2] or r[3]) >= 45  # nearly all a phone or an email


def test_bench_import_runs_at_a_tiny_size(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env["GUANXI_DATA_DIR"] = str(tmp_path / "data")
    run = [str(GUANXI)]
    assert subprocess.run([*run, "migrate", "-v", "0"], env=env, timeout=300).returncode == 0
    done = subprocess.run(
        [*run, "bench", "import", "--rows", "40", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["rows"] == 40 and result["database"] == "sqlite"
    assert result["import"]["created"] == 40 and result["import"]["rejected"] == 0
    assert result["import_seconds"] > 0 and result["reference_seconds"] >= 0
    assert result["import"]["peak_rss_mb"] and len(result["load_average_before"]) == 3

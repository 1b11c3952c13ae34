"""``guanxi bench import`` end to end at a tiny size: a real CSV, the real CLI, the reference insert."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from guanxi.bench.imports import HEADER, write_csv
from guanxi.bench.process_memory import TreeMemory

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


def test_tree_memory_counts_the_child_tree_and_not_the_caller() -> None:
    """A child's peak RSS from getrusage includes its caller's RSS at spawn time (Linux keeps the
    high-water mark across exec); the /proc sampler sees only the child and its descendants."""
    ballast = bytearray(300 * 1024 * 1024)  # the caller is large …
    ballast[::4096] = b"x" * len(ballast[::4096])
    script = (
        "import os, time\n"
        "block = bytearray(60 * 1024 * 1024)\n"  # … the child holds 60 MB and forks a small child
        "block[::4096] = b'x' * len(block[::4096])\n"
        "pid = os.fork()\n"
        "time.sleep(1.0)\n"
        "os._exit(0) if pid == 0 else os.waitpid(pid, 0)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    memory = TreeMemory(child.pid, interval=0.05)
    memory.start()
    child.wait(timeout=60)
    time.sleep(0.1)
    memory.stop()
    summary = memory.summary()
    del ballast
    assert set(summary["peak_process_rss_mb"]) == {"import", "child-1"}
    assert 60 <= summary["peak_process_rss_mb"]["import"] < 200  # not the caller's 300 MB
    assert summary["peak_rss_mb"] >= 120  # both processes, the forked copy counted again
    assert 60 <= summary["peak_pss_mb"] < summary["peak_rss_mb"]  # shared pages counted once

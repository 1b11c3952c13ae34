"""An import process SIGKILLed in the middle of a chunk: resumed, it ends with exactly the right rows.

Real processes on a real database file (and on PostgreSQL when the suite runs there): the import
runs as ``guanxi import customers``, kills itself with SIGKILL after two committed chunks while the
third chunk's rows are written but not committed (the test-only GUANXI_IMPORT_TEST_KILL_AFTER_CHUNKS),
then ``guanxi import resume JOB`` finishes it.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

GUANXI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "guanxi"
ROWS, CHUNK = 230, 40  # 6 chunks; killed inside the third
BAD_ROWS = {7, 55, 130}  # 0-based data rows without a name: rejected


def _cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(GUANXI), *args], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


STATE = """
import json
from guanxi.core.models import AuditEvent, Job
from guanxi.customers.models import Customer, CustomerIdentifier
print(json.dumps({
    "jobs": list(
        Job.objects.filter(kind="customers.import").values("id", "state", "progress_done", "counts")
    ),
    "customers": Customer.objects.count(),
    "external_ids": Customer.objects.values("external_id").distinct().count(),
    "phones": CustomerIdentifier.objects.filter(kind="phone").count(),
    "audits": AuditEvent.objects.filter(action="import").count(),
}))
"""


def _state(env: dict[str, str]) -> Any:
    """What the database holds, read by a separate process (one start-up for all the numbers)."""
    return json.loads(_cli(env, "shell", "-c", STATE).stdout.strip().splitlines()[-1])


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else None


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_env(request: Any, tmp_path: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env["GUANXI_DATA_DIR"] = str(tmp_path / "data")
    env["GUANXI_IMPORT_CHUNK_ROWS"] = str(CHUNK)
    dropper = None
    if request.param == "postgresql":
        base = _postgres_url()
        if base is None:
            pytest.skip("the suite runs on SQLite (set DATABASE_URL=postgres://… to run this on PostgreSQL)")
        import psycopg

        name = f"gx_killed_{uuid.uuid4().hex[:10]}"
        admin_url = base.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def dropper() -> None:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name
    try:
        _cli(env, "migrate", "-v", "0")
        _cli(env, "org", "create", "acme")
        _cli(env, "user", "create", "boss", "--org", "acme", "--role", "admin")
        yield env
    finally:
        if dropper:
            dropper()


def _write_file(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "手机", "邮箱", "external_id"])
        for i in range(ROWS):
            name = "" if i in BAD_ROWS else f"客户{i:04d}"
            writer.writerow([name, f"139{i:08d}", f"c{i}@example.com", f"K{i}"])
    return path


def test_killed_import_resumes_without_losing_or_doubling_rows(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    source = _write_file(tmp_path / "big.csv")
    killed = _cli(
        {**cli_env, "GUANXI_IMPORT_TEST_KILL_AFTER_CHUNKS": "2"},
        "import", "customers", str(source), "--org", "acme", "--json",
        check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    # Two chunks committed, the third rolled back with the process: nothing half-written.
    state = _state(cli_env)
    job = state["jobs"]
    assert len(job) == 1 and job[0]["state"] == "running"
    assert job[0]["progress_done"] == 2 * CHUNK
    bad_in_first_two = len([i for i in BAD_ROWS if i < 2 * CHUNK])
    assert state["customers"] == 2 * CHUNK - bad_in_first_two
    assert job[0]["counts"]["created"] == 2 * CHUNK - bad_in_first_two

    resumed = _cli(cli_env, "import", "resume", str(job[0]["id"]), "--force", "--json")
    result = json.loads(resumed.stdout)
    assert (result["created"], result["rejected"], result["rows"]) == (
        ROWS - len(BAD_ROWS),
        len(BAD_ROWS),
        ROWS,
    )
    assert sorted(e["row"] for e in result["errors"]) == sorted(i + 2 for i in BAD_ROWS)

    state = _state(cli_env)
    good = ROWS - len(BAD_ROWS)
    assert (state["customers"], state["external_ids"], state["phones"], state["audits"]) == (
        good,
        good,
        good,
        1,
    )
    # The error file holds each rejected row once: the killed chunk's lines were cut off on resume.
    error_file = Path(result["error_file"])
    lines = error_file.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + len(BAD_ROWS)

    # Importing the same file again creates nothing: every row now matches a customer.
    again = json.loads(_cli(cli_env, "import", "customers", str(source), "--org", "acme", "--json").stdout)
    assert (again["created"], again["skipped"]) == (0, ROWS - len(BAD_ROWS))

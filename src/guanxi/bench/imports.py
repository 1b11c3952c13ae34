"""``guanxi bench import``: a realistic customer CSV, imported for real, against a raw bulk insert.

1. ``write_csv`` writes N generated customers (``bench.generate``: Chinese names, mobiles written
   three ways, pinyin emails, companies, places, birthdays, tags, external ids) as a CSV with the
   Chinese headers people export from other systems.
2. The import runs as ``guanxi import customers FILE --json`` in a child process: wall time, its
   CPU time (user + sys of the child and the cleaner workers it reaped, from ``wait4``) and the
   memory of the process tree sampled from ``/proc`` (``process_memory.TreeMemory``: why not
   ``getrusage``'s ``ru_maxrss`` is explained there).
3. The reference writes the same rows with the same raw writer and no validation, matching or
   normalisation beyond what the columns need (``reference_insert``): the floor a database allows.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from guanxi.bench.generate import CustomerGenerator
from guanxi.bench.process_memory import TreeMemory
from guanxi.core.services import membership_upsert, organization_create
from guanxi.customers.bulkwrite import CUSTOMER_COLUMNS, bulk_writer

HEADER = [
    "客户编号", "姓名", "手机", "邮箱", "公司", "职位", "性别", "省份",
    "城市", "区县", "地址", "行业", "来源", "生日", "标签",
]  # fmt: skip
GENDER = {"male": "男", "female": "女", "": ""}


def write_csv(path: Path, n: int, seed: int = 7) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for block in CustomerGenerator(seed, external_prefix=f"IMP{seed}-").blocks(n):
            writer.writerows(
                [
                    r.external_id,
                    r.name,
                    " / ".join(p.value for p in r.phones),
                    ";".join(r.emails),
                    r.company,
                    r.title,
                    GENDER.get(r.gender, ""),
                    r.province,
                    r.city,
                    r.district,
                    r.address,
                    r.industry,
                    r.source,
                    r.birthday.strftime("%Y/%-m/%-d") if r.birthday else "",
                    "、".join(r.tags),
                ]
                for r in block
            )
    return path


def _fresh_org(name: str) -> tuple[int, int]:
    """The organisation (created if missing) and its admin; any customers it has are purged first."""
    from guanxi.customers.models import Customer

    org, _ = organization_create(name=name)
    admin, _ = membership_upsert(org=org, username=f"{name}-admin", role="admin")
    with transaction.atomic():
        Customer.objects.filter(organization=org).delete()
    return org.pk, admin.user_id


def run_import(path: Path, org: str, *, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """``guanxi import customers`` in a child process: its JSON plus wall time, CPU time and the
    peak memory of its process tree (the CLI and its forked cleaner workers)."""
    _fresh_org(org)
    command = [sys.executable, "-m", "guanxi.cli", "import", "customers", str(path), "--org", org, "--json",
               "--queue-index"]  # fmt: skip
    # stdout to a file, not a pipe: the child's JSON can outgrow a pipe while we wait4() for it.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env={**os.environ, **(extra_env or {})})
        memory = TreeMemory(child.pid)
        memory.start()
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        memory.stop()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if child.returncode != 0:
        raise RuntimeError(f"import failed: {stderr[-2000:]}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(seconds, 2)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result |= memory.summary()
    return result


def reference_insert(path: Path, org: str) -> dict[str, Any]:
    """The same rows straight into customers + identifiers with the raw writer, in one transaction."""
    org_id, user_id = _fresh_org(org)
    pg = connection.vendor == "postgresql"
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f") + ("+00" if pg else "")
    position = {c: i for i, c in enumerate(CUSTOMER_COLUMNS)}
    template: list[Any] = [None] * len(CUSTOMER_COLUMNS)
    fixed = {
        "organization_id": org_id, "kind": "person", "gender": "", "phones": "[]", "emails": "[]",
        "birthday_is_lunar": False if pg else 0, "custom": "{}", "lifecycle_stage": "potential",
        "value_tier": "", "grade": "", "in_public_pool": False if pg else 0, "version": 1,
        "created_at": stamp, "updated_at": stamp, "created_by_id": user_id, "owner_id": user_id,
        "notes": "", "wechat": "", "size": "",
    }  # fmt: skip
    for column in CUSTOMER_COLUMNS:
        if column not in ("id", "birthday", "team_id"):
            template[position[column]] = ""
    for column, value in fixed.items():
        template[position[column]] = value
    text_columns = ["external_id", "name", "phone", "email", "company", "title", "gender", "province", "city",
                    "district", "address", "industry", "source"]  # fmt: skip
    source_index = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    with path.open("rb") as raw:
        expected = sum(block.count(b"\n") for block in iter(lambda: raw.read(1 << 20), b"")) - 1
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = 0
    with transaction.atomic(), path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        writer = bulk_writer()
        pk = writer.reserve_ids(expected)
        while True:
            block = [row for _, row in zip(range(10_000), reader, strict=False)]
            if not block:
                break
            customers, idents = [], []
            for row in block:
                values = list(template)
                values[0] = pk
                for column, i in zip(text_columns, source_index, strict=True):
                    values[position[column]] = row[i]
                phone = row[2].split(" / ")[0]
                values[position["phone"]] = phone
                values[position["email"]] = row[3].split(";")[0]
                values[position["birthday"]] = None
                values[position["search_text"]] = row[1].lower()
                customers.append(tuple(values))
                idents.append((org_id, pk, "phone", phone))
                pk += 1
            writer.customers(customers)
            writer.identifiers(idents)
            rows += len(block)
    return {
        "rows": rows,
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),  # this process only (no server)
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_import_bench(*, rows: int, workdir: Path, seed: int = 7, log: Any = None) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"customers-{rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        write_csv(path, rows, seed)
        if log:
            log(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    load_before = load_average()
    imported = run_import(path, "bench-import")
    load_after_import = load_average()
    if log:
        log(
            f"import: {imported['wall_seconds']} s wall, {imported['cpu_seconds']} s CPU, peak RSS of the "
            f"process tree {imported['peak_rss_mb']} MB (PSS {imported['peak_pss_mb']} MB), per process "
            f"{imported['peak_process_rss_mb']}"
        )
    reference = reference_insert(path, "bench-import-ref")
    if log:
        log(f"reference raw insert: {reference['seconds']} s wall, {reference['cpu_seconds']} s CPU")
    import_seconds = float(imported.get("import_seconds") or imported["wall_seconds"])
    return {
        "database": connection.vendor,
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "load_average_before": load_before,
        "load_average_after_import": load_after_import,
        "load_average_after": load_average(),
        "import": imported | {"errors": imported.get("errors", [])[:5]},
        "import_seconds": import_seconds,
        "reference_seconds": reference["seconds"],
        "reference_cpu_seconds": reference["cpu_seconds"],
        "ratio": round(import_seconds / reference["seconds"], 2) if reference["seconds"] else None,
    }

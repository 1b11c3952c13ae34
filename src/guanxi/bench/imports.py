"""``guanxi bench import``: a realistic customer CSV, imported for real, against a raw bulk insert.

1. ``write_csv`` writes N generated customers (``bench.generate``: Chinese names, mobiles written
   three ways, pinyin emails, companies, places, birthdays, tags, external ids) as a CSV with the
   Chinese headers people export from other systems.
2. The import runs as ``guanxi import customers FILE --json`` in a child process (wall time, and
   the peak RSS of the child and its forked cleaner from ``getrusage(RUSAGE_CHILDREN)``).
3. The reference writes the same rows with the same raw writer and no validation, matching or
   normalisation beyond what the columns need (``reference_insert``): the floor a database allows.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from guanxi.bench.generate import CustomerGenerator
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
    """``guanxi import customers`` in a child process; its JSON plus wall time and peak RSS."""
    _fresh_org(org)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "guanxi.cli",
            "import",
            "customers",
            str(path),
            "--org",
            org,
            "--json",
            "--queue-index",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(extra_env or {})},
        check=False,
    )
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise RuntimeError(f"import failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(seconds, 2)
    result["peak_rss_mb"] = round(max(peak_kb, before) / 1024, 1) if peak_kb > before else None
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
    started = time.perf_counter()
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
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 2)}


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
    if log:
        log(f"import: {imported['wall_seconds']} s, peak RSS {imported['peak_rss_mb']} MB")
    reference = reference_insert(path, "bench-import-ref")
    if log:
        log(f"reference raw insert: {reference['seconds']} s")
    import_seconds = float(imported.get("import_seconds") or imported["wall_seconds"])
    return {
        "database": connection.vendor,
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "import": imported | {"errors": imported.get("errors", [])[:5]},
        "import_seconds": import_seconds,
        "reference_seconds": reference["seconds"],
        "ratio": round(import_seconds / reference["seconds"], 2) if reference["seconds"] else None,
    }

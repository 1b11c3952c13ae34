"""Benchmark of customer exports: the real export path against a raw SQL → csv.writer reference.

    GUANXI_DATA_DIR=/tmp/bench-dedupe .venv/bin/python bench/export_customers.py [--org NAME] [--format csv]

Uses the organisation with the most customers (or ``--org``) and its first admin. The export runs as
``export_start(..., as_job=False)`` consumed to the end in this process — the same rows, masking
and cell formatting as the job and the API stream; the reference reads the same columns with one
raw ``SELECT`` (owner and team joined, tags aggregated) and writes them with ``csv.writer`` — no
masking, labels or time-zone conversion. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")

REFERENCE_SQL = """
SELECT c.id, c.name, c.company, c.title, c.phone, c.email, c.province, c.city, c.industry,
       u.username, t.name, c.lifecycle_stage, c.value_tier, c.grade,
       (SELECT {agg} FROM customers_customertag ct JOIN customers_tag g ON g.id = ct.tag_id
         WHERE ct.customer_id = c.id),
       c.created_at
FROM customers_customer c
LEFT JOIN auth_user u ON u.id = c.owner_id
LEFT JOIN core_team t ON t.id = c.team_id
WHERE c.organization_id = %s AND c.deleted_at IS NULL
ORDER BY c.id DESC
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count

    from guanxi.core.context import Actor
    from guanxi.core.models import Membership, Organization
    from guanxi.core.services import membership_upsert
    from guanxi.customers.exports import ExportSpec, export_start
    from guanxi.customers.models import Customer

    parser = argparse.ArgumentParser()
    parser.add_argument("--org", default="")
    parser.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    args = parser.parse_args()
    if args.org:
        org = Organization.objects.get(name=args.org)
    else:
        biggest = Customer.objects.values("organization").annotate(n=Count("id")).order_by("-n").first()
        assert biggest is not None, "no customers: load some with guanxi bench generate"
        org = Organization.objects.get(pk=biggest["organization"])
    membership = Membership.objects.filter(organization=org, role="admin").select_related("user").first()
    if membership is None:  # e.g. the duplicate-scan bench's organisation has customers but no users
        membership, _created = membership_upsert(org=org, username=f"export-bench-{org.pk}", role="admin")
    actor = Actor(membership=membership, via="cli")

    from django.conf import settings

    settings.GUANXI_EXPORTS_PER_HOUR = 0  # repeated runs
    out: dict[str, Any] = {"org": org.name, "format": args.format, "load_before": os.getloadavg()}

    wall, cpu = time.perf_counter(), _cpu()
    export = export_start(actor=actor, spec=ExportSpec(format=args.format), as_job=False)
    size = 0
    if export.chunks is not None:
        for piece in export.chunks:
            size += len(piece.encode())
    elif export.file is not None:
        size = len(export.file.read())
    out.update(
        rows=export.rows,
        export_s=round(time.perf_counter() - wall, 2),
        export_cpu_s=round(_cpu() - cpu, 2),
        bytes=size,
    )
    agg = (
        "string_agg(g.name, '、' ORDER BY g.name)"
        if connection.vendor == "postgresql"
        else "group_concat(g.name, '、')"
    )
    wall, cpu = time.perf_counter(), _cpu()
    buf = io.StringIO()
    writer = csv.writer(buf)
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL.format(agg=agg), [org.pk])
        while batch := cursor.fetchmany(2000):
            writer.writerows(batch)
            buf.seek(0)
            buf.truncate()
    out.update(
        reference_s=round(time.perf_counter() - wall, 2),
        reference_cpu_s=round(_cpu() - cpu, 2),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        load_after=os.getloadavg(),
    )
    out["ratio"] = round(out["export_s"] / max(out["reference_s"], 0.001), 1)
    out["rows_per_s"] = round(out["rows"] / max(out["export_s"], 0.001))
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()

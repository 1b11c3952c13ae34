"""API latency benchmark: list, filter, deep keyset and search requests against a loaded organisation.

Requests go through ``django.test.Client`` in-process with a bearer token, so the time measured is
the server's: middleware, token check, visibility, query, tags prefetch, masking and JSON — not the
network or an HTTP server. Each scenario is also run as raw SQL (the query the selector should boil
down to, ``SELECT *`` plus ``LIMIT 51``), and the ratio API p50 / SQL p50 shows the framework's cost.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.test import Client

from guanxi.core.models import Membership, Organization
from guanxi.core.services import api_token_create
from guanxi.customers.models import Customer
from guanxi.customers.search import query_grams, query_terms
from guanxi.customers.selectors import encode_cursor

LIST_BUDGET_MS = 30.0
SEARCH_BUDGET_MS = 50.0
NAME_QUERIES = ["张伟", "王芳", "李娜", "刘芳", "陈静", "杨磊", "王伟", "李强"]
PHONE_QUERIES = ["8000", "1234", "6688", "5210", "0917", "3344"]


@dataclass
class Scenario:
    name: str
    role: str  # admin | sales
    params: list[dict[str, str]]  # one or more query strings, used in turn
    budget_ms: float
    raw: Callable[[dict[str, str]], tuple[str, list[Any]]] | None = None
    notes: str = ""
    results: dict[str, Any] = field(default_factory=dict)


def _percentiles(samples: list[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1000
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
        "p99_ms": round(float(p99), 2),
        "mean_ms": round(float(arr.mean()), 2),
    }


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def _raw_list(org_id: int, where: str, args: list[Any], order: str = "id DESC") -> tuple[str, list[Any]]:
    sql = (
        "SELECT * FROM customers_customer WHERE organization_id = %s AND deleted_at IS NULL"
        f"{' AND ' + where if where else ''} ORDER BY {order} LIMIT 51"
    )
    return sql, [org_id, *args]


def _raw_search(org_id: int, q: str, owner_id: int | None = None) -> tuple[str, list[Any]]:
    terms = query_terms(q)
    grams = query_grams(terms)
    # The same shape as selectors.apply_search: one gram reads its postings, several intersect them.
    if len(grams) == 1:
        where = (
            "id IN (SELECT customer_id FROM customers_searchgram WHERE organization_id = %s AND gram = %s)"
        )
        args: list[Any] = [org_id, grams[0]]
    else:
        where = (
            "id IN (SELECT customer_id FROM customers_searchgram WHERE organization_id = %s "
            f"AND gram IN ({_placeholders(len(grams))}) GROUP BY customer_id HAVING COUNT(*) = %s)"
        )
        args = [org_id, *grams, len(grams)]
    for term in terms:
        where += " AND search_text LIKE %s"
        args.append(f"%{term}%")
    if owner_id is not None:
        where += " AND owner_id = %s"
        args.append(owner_id)
    return _raw_list(org_id, where, args)


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT sqlite_version()")
            db_version = "SQLite " + cur.fetchone()[0]
        else:
            cur.execute("SHOW server_version")
            db_version = "PostgreSQL " + cur.fetchone()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "database": db_version,
        "platform": platform.platform(),
    }


def bench_result(org: Organization, total: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The envelope every latency benchmark returns: when, where, on what, and its rows."""
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "organization": org.name,
        "customers": total,
        "results": results,
    }


def result_heading(result: dict[str, Any]) -> str:
    machine = result["machine"]
    return (
        f"{result['customers']:,} customers in {result['organization']!r} — {machine['database']}, "
        f"{machine['cpu']} ×{machine['cores']}, {result['date']}"
    )


def _scenarios(org: Organization, rep_username: str, rep_id: int) -> list[Scenario]:
    oid = org.pk
    deep = (
        Customer.objects.filter(organization=org, deleted_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[100:101]
    )
    deep_id = next(iter(deep), 1) or 1
    deep_cursor = encode_cursor([deep_id, deep_id])
    names = [{"q": q} for q in NAME_QUERIES]
    phones = [{"q": q} for q in PHONE_QUERIES]
    return [
        Scenario(
            "list: province=广东", "admin", [{"province": "广东", "limit": "50"}], LIST_BUDGET_MS,
            lambda p: _raw_list(oid, "province = %s", [p["province"]]),
        ),
        Scenario(
            "list: owner=<rep>", "admin", [{"owner": rep_username, "limit": "50"}], LIST_BUDGET_MS,
            lambda p: _raw_list(oid, "owner_id = %s", [rep_id]),
        ),
        Scenario(
            "list: lifecycle_stage=active, sort=-updated_at", "admin",
            [{"lifecycle_stage": "active", "sort": "-updated_at", "limit": "50"}], LIST_BUDGET_MS,
            lambda p: _raw_list(oid, "lifecycle_stage = %s", ["active"], "updated_at DESC, id DESC"),
        ),
        Scenario(
            "list: deep keyset page (≈ 1M rows down)", "admin", [{"cursor": deep_cursor, "limit": "50"}],
            LIST_BUDGET_MS, lambda p: _raw_list(oid, "id < %s", [deep_id]),
        ),
        Scenario(
            "list: province + industry + value_tier", "admin",
            [{"province": "浙江", "industry": "制造业", "value_tier": "high", "limit": "50"}], LIST_BUDGET_MS,
            lambda p: _raw_list(
                oid, "province = %s AND industry = %s AND value_tier = %s", ["浙江", "制造业", "high"]
            ),
        ),
        Scenario(
            "search: 2-char Chinese name", "admin", names, SEARCH_BUDGET_MS,
            lambda p: _raw_search(oid, p["q"]),
        ),
        Scenario(
            "search: 4-digit phone fragment", "admin", phones, SEARCH_BUDGET_MS,
            lambda p: _raw_search(oid, p["q"]),
        ),
        Scenario(
            "search: 11-digit phone", "admin", [{"q": "13812348000"}, {"q": "138-0000-8000"}],
            SEARCH_BUDGET_MS, lambda p: _raw_search(oid, p["q"]),
        ),
        Scenario(
            "search: email fragment", "admin", [{"q": "zhangwei"}, {"q": "liuyang@"}, {"q": "163.com"}],
            SEARCH_BUDGET_MS, lambda p: _raw_search(oid, p["q"]),
        ),
        Scenario(
            "search: company fragment", "admin", [{"q": "星河科技"}, {"q": "杭州"}],
            SEARCH_BUDGET_MS, lambda p: _raw_search(oid, p["q"]),
        ),
        Scenario(
            "rep list: own customers", "sales", [{"limit": "50"}], LIST_BUDGET_MS,
            lambda p: _raw_list(oid, "owner_id = %s", [rep_id]),
        ),
        Scenario(
            "rep list: province=广东", "sales", [{"province": "广东", "limit": "50"}], LIST_BUDGET_MS,
            lambda p: _raw_list(oid, "owner_id = %s AND province = %s", [rep_id, "广东"]),
        ),
        Scenario(
            "rep search: 2-char Chinese name", "sales", names, SEARCH_BUDGET_MS,
            lambda p: _raw_search(oid, p["q"], rep_id),
        ),
        Scenario(
            "rep search: 4-digit phone fragment", "sales", phones, SEARCH_BUDGET_MS,
            lambda p: _raw_search(oid, p["q"], rep_id),
        ),
    ]  # fmt: skip


def _time_raw(raw: Callable[[dict[str, str]], tuple[str, list[Any]]], params: list[dict[str, str]],
              iterations: int, warmup: int) -> list[float]:  # fmt: skip
    samples = []
    with connection.cursor() as cur:
        for i in range(warmup + iterations):
            sql, args = raw(params[i % len(params)])
            t0 = time.perf_counter()
            cur.execute(sql, args)
            cur.fetchall()
            if i >= warmup:
                samples.append(time.perf_counter() - t0)
    return samples


def run_api_bench(
    *,
    org_name: str = "bench",
    iterations: int = 200,
    warmup: int = 20,
    only: set[str] | None = None,
    max_seconds: float = 60.0,
    log: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    org = Organization.objects.filter(name=org_name).first()
    if org is None:
        raise LookupError(f"no organisation {org_name!r}: load one with `guanxi bench generate`")
    members = Membership.objects.filter(organization=org, is_active=True).select_related("user")
    admin = next((m for m in members if m.role == "admin"), None)
    rep = min((m for m in members if m.role == "sales"), key=lambda m: m.user.username, default=None)
    if admin is None or rep is None:
        raise LookupError(f"organisation {org_name!r} needs an admin and a sales rep")
    clients = {}
    for role, membership in (("admin", admin), ("sales", rep)):
        _token, raw = api_token_create(membership=membership, scopes=["read"], name="bench", days=1)
        clients[role] = Client(headers={"Authorization": f"Bearer {raw}"})
    total = Customer.objects.filter(organization=org, deleted_at__isnull=True).count()
    results = []
    for sc in _scenarios(org, rep.user.username, rep.user_id):
        if only and sc.name not in only:
            continue
        client = clients[sc.role]
        samples: list[float] = []
        items: list[int] = []
        scenario_started = time.perf_counter()
        for i in range(warmup + iterations):
            if len(samples) >= 10 and time.perf_counter() - scenario_started > max_seconds:
                break  # a very slow scenario: enough samples to show it, stop burning time
            params = sc.params[i % len(sc.params)]
            t0 = time.perf_counter()
            response = client.get("/api/v1/customers", params)
            elapsed = time.perf_counter() - t0
            if response.status_code != 200:
                raise RuntimeError(f"{sc.name}: HTTP {response.status_code}: {response.content[:300]!r}")
            if i >= warmup:
                samples.append(elapsed)
            elif i < len(sc.params):
                items.append(len(response.json()["items"]))
        row: dict[str, Any] = {
            "scenario": sc.name,
            "role": sc.role,
            "queries": [p.get("q") or "&".join(f"{k}={v}" for k, v in p.items() if k != "cursor")
                        for p in sc.params],
            "items_first_page": items,
            "iterations": len(samples),
            **_percentiles(samples),
            "budget_ms": sc.budget_ms,
        }  # fmt: skip
        row["within_budget"] = row["p95_ms"] <= sc.budget_ms
        if sc.raw is not None:
            raw_samples = _time_raw(sc.raw, sc.params, max(len(samples), 10), min(warmup, 3))
            raw_p50 = statistics.median(raw_samples) * 1000
            row["sql_p50_ms"] = round(raw_p50, 3)
            row["sql_p95_ms"] = round(float(np.percentile(np.asarray(raw_samples) * 1000, 95)), 3)
            row["ratio_p50"] = round(row["p50_ms"] / raw_p50, 1) if raw_p50 else None
        results.append(row)
        if log:
            log(
                f"{sc.name:<48} p50 {row['p50_ms']:7.2f}  p95 {row['p95_ms']:7.2f}"
                f"  p99 {row['p99_ms']:7.2f} ms"
                f"  sql p50 {row.get('sql_p50_ms', 0):7.3f}  {'ok' if row['within_budget'] else 'OVER'}"
            )
    return bench_result(org, total, results)


def format_table(result: dict[str, Any]) -> str:
    lines = [
        result_heading(result),
        f"{'scenario':<48} {'role':<6} {'p50':>8} {'p95':>8} {'p99':>8} {'SQL p50':>8} {'ratio':>6} budget",
    ]
    for r in result["results"]:
        lines.append(
            f"{r['scenario']:<48} {r['role']:<6} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r.get('sql_p50_ms', 0):>8.3f} {r.get('ratio_p50') or 0:>6.1f} "
            f"{'ok' if r['within_budget'] else 'OVER'} (p95 ≤ {r['budget_ms']:.0f} ms)"
        )
    return "\n".join(lines)

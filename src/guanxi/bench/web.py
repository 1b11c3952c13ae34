"""Web UI latency benchmark: the customer list (default, filtered, sorted, searched, htmx fragments),
the 360° page and the overview, against a loaded organisation (``guanxi bench generate``).

Pages are requested through ``django.test.Client`` in-process with a signed-in session (Chinese UI),
so the time is the server's: middleware, session, visibility, queries, template rendering — not the
network or the browser. The machine's load average is recorded before and after each scenario,
because the benchmark machine may be shared, and the process CPU time of each request is reported
next to the wall-clock time (on a loaded machine it is the steadier figure; the database server's
own time is not in it on PostgreSQL).

The pages cache a few things for a minute or more (the capped count, the overview, the filter
pickers; ``guanxi.web.page_cache``): a warm run repeats a page whose entries are cached, so
``--cold`` clears the cache before every request to time the page as its first visitor sees it
(all but the filter pickers' distinct industries/provinces/cities, which were cached for five
minutes before these caches existed and take seconds to recompute at a million rows).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.bench.api import _percentiles, bench_result, result_heading
from guanxi.core.context import Actor
from guanxi.core.models import Membership, Organization
from guanxi.customers.models import Customer
from guanxi.web.queries import distinct_values

PAGE_BUDGET_MS = 50.0  # issue 3: list page and 360° page, p95 server time at 1M customers
BUSY_EXTERNAL_ID = "bench-web-busy"


@dataclass
class WebScenario:
    name: str
    role: str  # admin | sales
    requests: Callable[[], list[tuple[str, dict[str, str], dict[str, str]]]]  # (path, params, headers)
    budget_ms: float | None = PAGE_BUDGET_MS


def _load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # pragma: no cover - not on Linux
        return -1.0


def busy_customer(org: Organization, admin: Membership, rep: Membership) -> Customer:
    """A customer of the rep with a history (20 edits, 8 contacts, 12 follow-ups), made once, so the
    360° page is measured with a full timeline and contacts list, not an empty generated row."""
    from guanxi.customers.contacts import contact_create
    from guanxi.customers.services import customer_create, customer_update

    found = Customer.objects.filter(organization=org, external_id=BUSY_EXTERNAL_ID).first()
    if found is not None:
        return found
    actor = Actor(membership=admin, via="cli")
    customer = customer_create(
        actor=actor,
        data={
            "kind": "company",
            "name": "杭州星河科技有限公司",
            "external_id": BUSY_EXTERNAL_ID,
            "phone": "13800138000",
            "email": "contact@xinghe.example.cn",
            "province": "浙江",
            "city": "杭州",
            "industry": "制造业",
            "owner": rep.user.get_username(),
            "tags": ["重点客户", "华东"],
        },
        allow_duplicate=True,
    )
    for i in range(20):
        customer.refresh_from_db()
        customer_update(
            actor=actor,
            customer_id=customer.pk,
            data={"grade": "ABCD"[i % 4], "lifecycle_stage": ["new", "active", "repeat"][i % 3]},
            expected_version=customer.version,
        )
    for i in range(8):
        contact_create(
            actor=actor, customer_id=customer.pk, data={"name": f"联系人{i}", "phone": f"1391234000{i}"}
        )
    try:
        from guanxi.engagement.services import activity_create
    except ImportError:  # pragma: no cover - engagement is optional for the customer UI
        return customer
    for i in range(12):
        activity_create(
            actor=actor,
            customer_id=customer.pk,
            data={
                "kind": ["call", "visit", "wechat"][i % 3],
                "subject": f"回访 {i}",
                "content": "沟通了报价。",
            },
        )
    return customer


def _scenarios(
    org: Organization, rep: Membership, busy: Customer, clients: dict[str, Client]
) -> list[WebScenario]:
    base = Customer.objects.filter(organization=org, deleted_at__isnull=True)
    sample_ids = list(base.order_by("-id").values_list("id", flat=True)[:2000:100])
    rep_ids = list(base.filter(owner_id=rep.user_id).order_by("-id").values_list("id", flat=True)[:2000:100])
    hx = {"HX-Request": "true"}

    def more(
        role: str, params: dict[str, str]
    ) -> Callable[[], list[tuple[str, dict[str, str], dict[str, str]]]]:
        """The "load more" fragment: the cursor the first page hands out, fetched once up front."""

        def make() -> list[tuple[str, dict[str, str], dict[str, str]]]:
            html = clients[role].get("/customers/", params).content.decode()
            if "cursor=" not in html:
                return []  # a single page: nothing to load (a small organisation)
            start = html.index("cursor=") + len("cursor=")
            cursor = html[start : html.index('"', start)].replace("&amp;", "&")
            return [("/customers/", {**params, "cursor": cursor}, hx)]

        return make

    def fixed(*reqs: tuple[str, dict[str, str], dict[str, str]]) -> Callable[[], list[Any]]:
        return lambda: list(reqs)

    return [
        WebScenario("list: default (newest first)", "admin", fixed(("/customers/", {}, {}))),
        WebScenario("list: filter province=广东", "admin", fixed(("/customers/", {"province": "广东"}, {}))),
        WebScenario(
            "list: filter fragment (htmx) stage+tier",
            "admin",
            fixed(
                (
                    "/customers/",
                    {"lifecycle_stage": "active", "value_tier": "high"},
                    {**hx, "HX-Target": "results"},
                )
            ),
        ),
        WebScenario("list: sort name A→Z", "admin", fixed(("/customers/", {"sort": "name"}, {}))),
        WebScenario(
            "list: sort recently updated", "admin", fixed(("/customers/", {"sort": "-updated_at"}, {}))
        ),
        WebScenario(
            "list: search 2-char name",
            "admin",
            fixed(*[("/customers/", {"q": q}, {}) for q in ("张伟", "王芳", "李娜", "刘洋")]),
        ),
        WebScenario(
            "list: search 4-digit phone",
            "admin",
            fixed(*[("/customers/", {"q": q}, {}) for q in ("8000", "6688")]),
        ),
        # The "N customers" line of a list longer than a page arrives by its own request after the
        # rows (cached for a minute); measured apart, with no page budget of its own.
        WebScenario(
            "list count after the rows (htmx): province=广东",
            "admin",
            fixed(("/customers/count/", {"province": "广东"}, hx)),
            None,
        ),
        WebScenario(
            "list count after the rows (htmx): stage+tier",
            "admin",
            fixed(("/customers/count/", {"lifecycle_stage": "active", "value_tier": "high"}, hx)),
            None,
        ),
        WebScenario(
            "list count after the rows (htmx): 2-char name",
            "admin",
            fixed(*[("/customers/count/", {"q": q}, hx) for q in ("张伟", "王芳", "李娜", "刘洋")]),
            None,
        ),
        WebScenario(
            "rep list count after the rows (htmx)", "sales", fixed(("/customers/count/", {}, hx)), None
        ),
        WebScenario("list: load more (htmx rows)", "admin", more("admin", {})),
        WebScenario("list: load more, province=广东", "admin", more("admin", {"province": "广东"})),
        WebScenario("rep list: own customers", "sales", fixed(("/customers/", {}, {}))),
        WebScenario("rep list: load more", "sales", more("sales", {})),
        WebScenario(
            "360°: generated customers",
            "admin",
            fixed(*[(f"/customers/{pk}/", {}, {}) for pk in sample_ids]),
        ),
        WebScenario(
            "360°: busy customer (history, contacts)", "admin", fixed((f"/customers/{busy.pk}/", {}, {}))
        ),
        WebScenario(
            "rep 360°: own customers",
            "sales",
            fixed(*[(f"/customers/{pk}/", {}, {}) for pk in [busy.pk, *rep_ids]]),
        ),
        WebScenario(
            "360° tab: change history (htmx)", "admin", fixed((f"/customers/{busy.pk}/tab/history/", {}, hx))
        ),
        WebScenario("overview: organisation (admin)", "admin", fixed(("/customers/overview/", {}, {})), None),
        WebScenario("overview: own customers (rep)", "sales", fixed(("/customers/overview/", {}, {})), None),
    ]


def run_web_bench(
    *,
    org_name: str = "bench",
    iterations: int = 100,
    warmup: int = 10,
    only: set[str] | None = None,
    max_seconds: float = 60.0,
    cold: bool = False,
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
    busy = busy_customer(org, admin, rep)
    admin_actor = Actor(membership=admin, via="cli")
    clients = {}
    for role, membership in (("admin", admin), ("sales", rep)):
        client = Client(headers={"Accept-Language": "zh-hans"})
        client.force_login(membership.user)
        clients[role] = client
    total = Customer.objects.filter(organization=org, deleted_at__isnull=True).count()
    results = []
    for sc in _scenarios(org, rep, busy, clients):
        if only and sc.name not in only:
            continue
        client = clients[sc.role]
        requests = sc.requests()
        if not requests:
            continue
        samples: list[float] = []
        cpu: list[float] = []
        load_before = _load()
        started = time.perf_counter()
        reset_queries()  # the request resets the log itself; start the capture from empty too
        with CaptureQueriesContext(connection) as queries:
            path, params, headers = requests[0]
            client.get(path, params, headers=headers)
        n_queries = len(queries)  # read now: the captured list is a view of a log later requests reset
        with CaptureQueriesContext(connection) as queries:
            client.get(path, params, headers=headers)
        n_warm = len(queries)  # the same page again, with whatever it cached
        for i in range(warmup + iterations):
            if len(samples) >= 10 and time.perf_counter() - started > max_seconds:
                break
            path, params, headers = requests[i % len(requests)]
            if cold:
                cache.clear()
                distinct_values(admin_actor)  # cached five minutes before this work too: not "cold"
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(path, params, headers=headers)
            elapsed, cpu_s = time.perf_counter() - t0, time.process_time() - c0
            if response.status_code != 200:
                raise RuntimeError(f"{sc.name}: HTTP {response.status_code} for {path} {params}")
            if i >= warmup:
                samples.append(elapsed)
                cpu.append(cpu_s)
        row: dict[str, Any] = {
            "scenario": sc.name,
            "role": sc.role,
            "pages": len(requests),
            "iterations": len(samples),
            "queries": n_queries,
            "queries_warm": n_warm,
            "cold": cold,
            **_percentiles(samples),
            **{f"cpu_{k}": v for k, v in _percentiles(cpu).items() if k in ("p50_ms", "p95_ms")},
            "budget_ms": sc.budget_ms,
            "load_before": load_before,
            "load_after": _load(),
        }
        row["within_budget"] = None if sc.budget_ms is None else row["p95_ms"] <= sc.budget_ms
        results.append(row)
        if log:
            verdict = "—" if row["within_budget"] is None else "ok" if row["within_budget"] else "OVER"
            log(
                f"{sc.name:<44} p50 {row['p50_ms']:7.2f}  p95 {row['p95_ms']:7.2f}"
                f"  p99 {row['p99_ms']:7.2f} ms  cpu p50 {row['cpu_p50_ms']:7.2f}"
                f"  {row['queries']:>2}/{n_warm:>2} queries"
                f"  load {load_before:.1f}  {verdict}"
            )
    return bench_result(org, total, results)


def format_web_table(result: dict[str, Any]) -> str:
    cold = any(r.get("cold") for r in result["results"])
    lines = [
        result_heading(result),
        f"{'scenario':<44} {'role':<6} {'p50':>8} {'p95':>8} {'p99':>8} {'cpu p50':>8} {'cpu p95':>8}"
        f" {'queries':>7} {'load':>5} budget"
        + ("  (cold: cache cleared before each request)" if cold else ""),
    ]
    for r in result["results"]:
        verdict = (
            "(no budget)"
            if r["within_budget"] is None
            else f"{'ok' if r['within_budget'] else 'OVER'} (p95 ≤ {r['budget_ms']:.0f} ms)"
        )
        lines.append(
            f"{r['scenario']:<44} {r['role']:<6} {r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r.get('cpu_p50_ms', 0):>8.2f} {r.get('cpu_p95_ms', 0):>8.2f} "
            f"{r['queries']:>3}/{r.get('queries_warm', r['queries']):<3} {r['load_before']:>5.1f} {verdict}"
        )
    return "\n".join(lines)

"""The organisation-wide duplicate scan: read, block, score, cluster, then store in one transaction.

Rows are read with ``.values_list().iterator()`` — never model instances — and everything is
computed in memory first; the ``DuplicateCandidate`` rows are written at the very end inside one
transaction, so a cancelled or killed scan leaves the previous results untouched.

Re-scanning keeps decisions: a pair someone dismissed stays dismissed (and is not re-opened even
if it scores higher now), a merged pair is left alone, open pairs get fresh scores and reasons,
and open pairs that no longer reach the threshold (or whose customers were deleted or merged away)
are removed. A pair is one row (``customer_a_id < customer_b_id``), so nothing is duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction

from guanxi.customers.dedupe.blocking import candidate_pairs
from guanxi.customers.dedupe.features import COLUMNS, build_features
from guanxi.customers.dedupe.rules import DEFAULT_THRESHOLD, Rules, effective_rules
from guanxi.customers.dedupe.scoring import reasons_for, score_pairs
from guanxi.customers.models import Customer, DedupeSettings, DuplicateCandidate

Progress = Callable[[int, int], None]


@dataclass
class Pair:
    a: int  # customer id, a < b
    b: int
    score: float
    reasons: list[dict[str, Any]]
    cluster: int = 0


@dataclass
class ScanResult:
    customers: int
    candidates: int  # pairs compared after blocking
    pairs: list[Pair]
    seconds: dict[str, float] = field(default_factory=dict)
    oversized_blocks: int = 0

    @property
    def clusters(self) -> int:
        return len({p.cluster for p in self.pairs})


def rules_of(org_id: int, threshold: float | None = None) -> Rules:
    cfg = DedupeSettings.objects.filter(organization_id=org_id).first()
    stored_threshold = cfg.threshold if cfg else DEFAULT_THRESHOLD
    return Rules(
        threshold=float(threshold if threshold is not None else stored_threshold),
        weights=effective_rules(cfg.rules if cfg else {}),
    )


def scan_rows(org_id: int) -> list[dict[str, Any]]:
    """Every live customer of the organisation (not deleted, not merged away) as a plain dict."""
    qs = Customer.objects.filter(
        organization_id=org_id, deleted_at__isnull=True, merged_into__isnull=True
    ).order_by("id")
    return [
        dict(zip(COLUMNS, row, strict=True)) for row in qs.values_list(*COLUMNS).iterator(chunk_size=5000)
    ]


def _clusters(pairs: list[Pair]) -> None:
    """Connected pairs form a cluster named after its smallest customer id (union–find)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        ra, rb = find(p.a), find(p.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    for p in pairs:
        p.cluster = find(p.a)


def find_duplicates(
    rows: list[dict[str, Any]],
    rules: Rules,
    *,
    progress: Progress | None = None,
    exclude: set[tuple[int, int]] | None = None,
) -> ScanResult:
    """Pure computation over plain rows; ``exclude`` pairs (dismissed, merged) do not join clusters."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    features = build_features(rows, ignore_custom=rules.weights["custom"].get("ignore", []))
    timings["features"] = time.perf_counter() - started
    if progress:
        progress(1, 4)
    mark = time.perf_counter()
    cands = candidate_pairs(features)
    timings["blocking"] = time.perf_counter() - mark
    if progress:
        progress(2, 4)
    mark = time.perf_counter()
    scored = score_pairs(features, cands.a, cands.b, rules)
    kept = scored.keep(scored.score >= rules.threshold)
    timings["scoring"] = time.perf_counter() - mark
    if progress:
        progress(3, 4)
    ids = features.ids
    pairs = []
    order = np.argsort(-kept.score, kind="stable")
    for k in order.tolist():
        a, b = int(ids[kept.a[k]]), int(ids[kept.b[k]])
        a, b = min(a, b), max(a, b)
        pairs.append(
            Pair(a=a, b=b, score=round(float(kept.score[k]), 4), reasons=reasons_for(features, kept, k))
        )
    _clusters([p for p in pairs if not exclude or (p.a, p.b) not in exclude])
    for p in pairs:
        if exclude and (p.a, p.b) in exclude:
            p.cluster = p.a
    timings["total"] = time.perf_counter() - started
    return ScanResult(
        customers=len(features),
        candidates=len(cands.a),
        pairs=pairs,
        seconds={k: round(v, 3) for k, v in timings.items()},
        oversized_blocks=cands.oversized,
    )


def store_results(org_id: int, result: ScanResult, *, job_id: int | None = None) -> dict[str, int]:
    """Write the scan's pairs: update open ones, keep decisions, add new ones, drop stale open ones."""
    found = {(p.a, p.b): p for p in result.pairs}
    created = updated = removed = kept_decided = 0
    with transaction.atomic():
        existing = {
            (a, b): (pk, status)
            for pk, a, b, status in DuplicateCandidate.objects.select_for_update()
            .filter(organization_id=org_id)
            .values_list("pk", "customer_a_id", "customer_b_id", "status")
        }
        stale = [pk for key, (pk, status) in existing.items() if status == "open" and key not in found]
        for start in range(0, len(stale), 500):
            removed += DuplicateCandidate.objects.filter(pk__in=stale[start : start + 500]).delete()[0]
        to_update: list[DuplicateCandidate] = []
        to_create: list[DuplicateCandidate] = []
        for key, pair in found.items():
            if key in existing:
                pk, status = existing[key]
                if status != DuplicateCandidate.Status.OPEN:
                    kept_decided += 1
                    continue
                to_update.append(
                    DuplicateCandidate(
                        pk=pk, score=pair.score, reasons=pair.reasons, cluster=pair.cluster, job_id=job_id
                    )
                )
            else:
                to_create.append(
                    DuplicateCandidate(
                        organization_id=org_id,
                        customer_a_id=pair.a,
                        customer_b_id=pair.b,
                        score=pair.score,
                        reasons=pair.reasons,
                        cluster=pair.cluster,
                        job_id=job_id,
                    )
                )
        DuplicateCandidate.objects.bulk_update(
            to_update, ["score", "reasons", "cluster", "job"], batch_size=500
        )
        DuplicateCandidate.objects.bulk_create(to_create, batch_size=1000)
        created, updated = len(to_create), len(to_update)
    return {"created": created, "updated": updated, "removed": removed, "kept_decided": kept_decided}


def decided_pairs(org_id: int) -> set[tuple[int, int]]:
    return {
        (a, b)
        for a, b in DuplicateCandidate.objects.filter(organization_id=org_id)
        .exclude(status=DuplicateCandidate.Status.OPEN)
        .values_list("customer_a_id", "customer_b_id")
    }


def run_scan(
    org_id: int,
    *,
    threshold: float | None = None,
    job_id: int | None = None,
    progress: Progress | None = None,
    check: Callable[[], None] | None = None,
    store: bool = True,
) -> tuple[ScanResult, dict[str, int]]:
    rules = rules_of(org_id, threshold)
    mark = time.perf_counter()
    rows = scan_rows(org_id)
    read = time.perf_counter() - mark
    result = find_duplicates(rows, rules, progress=progress, exclude=decided_pairs(org_id))
    result.seconds["read"] = round(read, 3)
    if check:
        check()  # a cancel asked for during the computation stops here, before anything is written
    stored: dict[str, int] = {}
    if store:
        mark = time.perf_counter()
        stored = store_results(org_id, result, job_id=job_id)
        result.seconds["write"] = round(time.perf_counter() - mark, 3)
    return result, stored

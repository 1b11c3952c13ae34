"""Benchmark of the duplicate scan: realistic customers (``bench.generate``) with injected duplicates.

A share of the generated customers get a second record the way duplicates arise in a CRM: the name
typed in pinyin or traditional characters or with a typo, an honorific added, the phone typed in
another format or replaced by a new one (email kept), the email dropped, the address retyped, the
birthday missing. The truth is known, so precision and recall are measured along with the time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

from django.db import transaction

from guanxi.bench.generate import CustomerGenerator, Row
from guanxi.customers.dedupe.names import name_key
from guanxi.customers.models import Customer

# A few simplified → traditional characters common in names (enough to exercise the pinyin path).
TRADITIONAL = str.maketrans(
    "张伟刘陈杨黄赵吴孙马罗郑梁谢宋韩冯邓许萧蒋叶苏卢丁贾钟汪龙华丽红军国杰涛辉凤云东强龙兰兴书娟鹏飞伦锋",
    "張偉劉陳楊黃趙吳孫馬羅鄭梁謝宋韓馮鄧許蕭蔣葉蘇盧丁賈鍾汪龍華麗紅軍國傑濤輝鳳雲東強龍蘭興書娟鵬飛倫鋒",
)


def _row_dict(row: Row) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "name": row.name,
        "company": row.company,
        "phone": row.phones[0].value if row.phones else "",
        "phone_e164": row.phones[0].e164 if row.phones else "",
        "phones": row.phones_json(),
        "email": row.emails[0] if row.emails else "",
        "emails": row.emails_json(),
        "wechat": row.wechat,
        "province": row.province,
        "city": row.city,
        "district": row.district,
        "address": row.address,
        "birthday": row.birthday,
        "custom": {},
    }


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _duplicate(rec: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    dup = dict(rec)
    key = name_key(rec["name"])
    roll = rng.random()
    if key.cjk and rec["kind"] == "person":
        if roll < 0.3:
            dup["name"] = rec["name"].translate(TRADITIONAL)
        elif roll < 0.5:
            dup["name"] = " ".join(w.capitalize() for w in key.latin.split())
        elif roll < 0.6:
            dup["name"] = rec["name"] + rng.choice(["先生", "女士"])
    elif roll < 0.5:
        dup["name"] = _typo(rec["name"], rng)
    if rec["phones"] and rng.random() < 0.7:
        e164 = rec["phone_e164"]
        typed = f"+86 {e164[3:6]}-{e164[6:10]}-{e164[10:]}" if e164.startswith("+86") else e164
        dup["phones"] = [{"label": "mobile", "value": typed, "e164": e164}]
    else:  # a new number; the email (if any) and the rest still tell
        dup["phones"], dup["phone_e164"], dup["phone"] = [], "", ""
    if rng.random() < 0.3:
        dup["email"], dup["emails"] = "", []
    if rec["address"] and rng.random() < 0.4:
        dup["address"] = _typo(rec["address"], rng)
    if rng.random() < 0.3:
        dup["birthday"] = None
    if rng.random() < 0.3:
        dup["company"] = ""
    return dup


def synthetic(
    n: int, *, dup_share: float = 0.05, seed: int = 7
) -> Iterator[tuple[dict[str, Any], int | None]]:
    """``n`` customer dicts; the second item is the index of the original a duplicate copies, or None."""
    rng = random.Random(seed)
    originals = int(n / (1 + dup_share))
    kept: list[tuple[int, dict[str, Any]]] = []
    for i, row in enumerate(CustomerGenerator(seed, english_share=0.08).rows(originals)):
        rec = _row_dict(row)
        if rng.random() < dup_share:
            kept.append((i, rec))
        yield rec, None
    for i, rec in kept[: n - originals]:
        yield _duplicate(rec, rng), i


def load(
    org_id: int, n: int, *, dup_share: float = 0.05, seed: int = 7
) -> tuple[list[int], set[tuple[int, int]]]:
    """Insert the customers (bulk, not timed) and return their ids and the true duplicate pairs."""
    records = list(synthetic(n, dup_share=dup_share, seed=seed))
    ids: list[int] = []
    with transaction.atomic():
        for start in range(0, len(records), 5000):
            chunk = [
                Customer(organization_id=org_id, **{k: v for k, v in rec.items()})
                for rec, _orig in records[start : start + 5000]
            ]
            Customer.objects.bulk_create(chunk)
    ids = list(Customer.objects.filter(organization_id=org_id).order_by("id").values_list("id", flat=True))
    truth: set[tuple[int, int]] = set()
    for position, (_rec, original) in enumerate(records):
        if original is not None:
            a, b = ids[original], ids[position]
            truth.add((min(a, b), max(a, b)))
    return ids, truth


def measure(org_id: int, truth: set[tuple[int, int]]) -> dict[str, Any]:
    from guanxi.customers.dedupe.scan import run_scan

    started, cpu = time.perf_counter(), time.process_time()
    result, stored = run_scan(org_id)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu  # honest on a busy machine, where wall time is shared
    found = {(p.a, p.b) for p in result.pairs}
    # A generated original may itself resemble another generated customer: count pairs against the
    # injected truth only, and report the extra pairs separately for a look by eye.
    tp = len(found & truth)
    return {
        "customers": result.customers,
        "compared": result.candidates,
        "pairs": len(found),
        "injected": len(truth),
        "recall": round(tp / max(len(truth), 1), 4),
        "precision_vs_injected": round(tp / max(len(found), 1), 4),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "phases": result.seconds,
        "stored": stored,
        "oversized_blocks": result.oversized_blocks,
        "extra_pairs_sample": [(p.a, p.b, p.score) for p in result.pairs if (p.a, p.b) not in truth][:10],
    }

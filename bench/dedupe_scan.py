"""Benchmark of the duplicate scan (``customers.dedupe``): time and quality.

    GUANXI_DATA_DIR=/tmp/bench-dedupe .venv/bin/guanxi migrate
    GUANXI_DATA_DIR=/tmp/bench-dedupe .venv/bin/python bench/dedupe_scan.py --customers 100000
    .venv/bin/python bench/dedupe_scan.py --febrl ../shared/data/febrl      # quality, in memory

With ``--customers`` it loads N realistic customers (``guanxi.bench.generate``) of which ~5 % are
injected duplicates (``guanxi.bench.dedupe``) into a fresh organisation, then times the real scan
(read with ``.values_list().iterator()``, block, score, cluster, store) and reports recall and
precision against the injected truth. With ``--febrl`` it reports precision/recall/F1 of the default
rules on each Febrl dataset, plus an ablation (each signal switched off in turn).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")


def febrl(directory: Path) -> dict[str, Any]:
    from guanxi.bench.febrl import febrl_records, true_pairs
    from guanxi.customers.dedupe.rules import DEFAULT_THRESHOLD, SIGNALS, Rules, effective_rules
    from guanxi.customers.dedupe.scan import find_duplicates

    out: dict[str, Any] = {}
    variants: dict[str, dict[str, Any]] = {"default": {}}
    variants.update(
        {
            f"without {s}": {s: {"enabled": False}}
            for s in SIGNALS
            if s not in ("phone", "email", "wechat", "company")
        }
    )
    for dataset in ("dataset1", "dataset2", "dataset3", "dataset4"):
        records = list(febrl_records(directory, dataset))
        rows = [{"id": i, **r} for i, r in enumerate(records)]
        truth = true_pairs([r["rec_id"] for r in records])
        for label, overrides in variants.items():
            started = time.perf_counter()
            result = find_duplicates(rows, Rules(DEFAULT_THRESHOLD, effective_rules(overrides)))
            seconds = time.perf_counter() - started
            found = {(p.a, p.b) for p in result.pairs}
            tp = len(found & truth)
            p, r = tp / max(len(found), 1), tp / len(truth)
            out.setdefault(dataset, {})[label] = {
                "precision": round(p, 4),
                "recall": round(r, 4),
                "f1": round(2 * p * r / max(p + r, 1e-9), 4),
                "pairs": len(found),
                "true_pairs": len(truth),
                "compared": result.candidates,
                "seconds": round(seconds, 2),
            }
    return out


def synthetic(n: int, dup_share: float) -> dict[str, Any]:
    import django

    django.setup()
    from guanxi.bench.dedupe import load, measure
    from guanxi.core.services import organization_create

    org, _ = organization_create(name=f"dedupe-bench-{int(time.time())}")
    started = time.perf_counter()
    _ids, truth = load(org.pk, n, dup_share=dup_share)
    loaded = time.perf_counter() - started
    load_before = os.getloadavg()
    result = measure(org.pk, truth)
    result["load_seconds"] = round(loaded, 1)
    result["loadavg_before"] = [round(x, 2) for x in load_before]
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    from django.db import connection

    result["database"] = connection.vendor
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=0)
    parser.add_argument("--dup-share", type=float, default=0.05)
    parser.add_argument("--febrl", type=Path)
    args = parser.parse_args()
    if args.febrl:
        import django

        django.setup()
        print(json.dumps(febrl(args.febrl), indent=1))
    if args.customers:
        print(json.dumps(synthetic(args.customers, args.dup_share), indent=1, default=str))


if __name__ == "__main__":
    main()

"""Render `guanxi bench api --output FILE` results as the Markdown tables of docs/performance.md.

python bench/report.py /tmp/bench-sqlite/api.json /tmp/bench-pg/api.json
"""

from __future__ import annotations

import json
import sys


def table(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        result = json.load(fh)
    m = result["machine"]
    lines = [
        f"**{m['database']}**, {result['customers']:,} customers, {m['cpu']} × {m['cores']} cores, "
        f"Python {m['python']}, {result['date']}",
        "",
        "| scenario | as | p50 ms | p95 ms | p99 ms | n | SQL p50 ms | API/SQL | budget (p95) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in result["results"]:
        verdict = "ok" if r["within_budget"] else "**missed**"
        lines.append(
            f"| {r['scenario']} | {r['role']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['iterations']} | {r.get('sql_p50_ms', 0):.2f} | {r.get('ratio_p50') or 0:.0f}× | "
            f"≤ {r['budget_ms']:.0f} ms: {verdict} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(table(p) for p in sys.argv[1:]))

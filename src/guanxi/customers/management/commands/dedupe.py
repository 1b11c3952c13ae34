"""``guanxi dedupe scan --org NAME [--threshold T] [--json]`` and ``guanxi dedupe list``.

``scan`` runs the duplicate scan in the foreground (the same code as the job behind the API and the
"Run scan" button) and stores the pairs for review. With ``--json`` it prints
``{"pairs": [{"a": id, "b": id, "score": 0..1, "reasons": [...]}], ...}`` with the customer ids the
API uses. ``--dry-run`` computes without storing.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError

from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.customers.dedupe.reasons import describe_all
from guanxi.customers.dedupe.rules import clean_threshold
from guanxi.customers.dedupe.scan import run_scan
from guanxi.customers.models import DuplicateCandidate


class Command(GuanxiCommand):
    help = "Find duplicate customers (fuzzy scan) and list the pairs waiting for review."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        scan = sub.add_parser("scan", help="scan the whole organisation and store the pairs for review")
        scan.add_argument("--org", required=True)
        scan.add_argument("--threshold", type=float, help="score a pair needs (0.5–0.99; default: the org's)")
        scan.add_argument("--dry-run", action="store_true", help="compute and print, store nothing")
        scan.add_argument("--limit", type=int, default=50, help="pairs to print without --json")
        self.add_json_flag(scan)

        listing = sub.add_parser("list", help="stored pairs, most certain first")
        listing.add_argument("--org", required=True)
        listing.add_argument("--status", default="open", choices=["open", "dismissed", "merged", "all"])
        listing.add_argument("--limit", type=int, default=100)
        self.add_json_flag(listing)

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        try:
            if options["action"] == "scan":
                self._scan(org.pk, options)
            else:
                self._list(org.pk, options)
        except DomainError as exc:
            raise self.fail(exc) from None

    def _scan(self, org_id: int, options: dict[str, Any]) -> None:
        threshold = clean_threshold(options["threshold"]) if options["threshold"] is not None else None
        interactive = not options["json"] and sys.stderr.isatty()
        steps = ["reading", "comparing", "scoring", "clustering", "done"]

        def progress(done: int, total: int) -> None:
            if interactive:
                bar = "#" * (done * 20 // total)
                self.stderr.write(f"\r  [{bar:<20}] {steps[done]:<12}", ending="")

        result, stored = run_scan(
            org_id, threshold=threshold, progress=progress, store=not options["dry_run"]
        )
        if interactive:
            self.stderr.write("")
        pairs: list[dict[str, Any]] = [
            {"a": p.a, "b": p.b, "score": p.score, "reasons": describe_all(p.reasons), "cluster": p.cluster}
            for p in result.pairs
        ]
        data = {
            "pairs": pairs,
            "customers": result.customers,
            "compared": result.candidates,
            "clusters": result.clusters,
            "seconds": result.seconds,
            "stored": stored,
        }
        lines = [
            f"{p['a']:>8} ~ {p['b']:<8} {p['score']:.2f}  {'; '.join(p['reasons'])}"
            for p in pairs[: max(options["limit"], 0)]
        ]
        more = len(pairs) - len(lines)
        summary = (
            f"{result.customers:,} customers, {result.candidates:,} pairs compared, {len(pairs):,} likely "
            f"duplicates in {result.clusters:,} clusters ({result.seconds.get('total', 0):.1f} s)"
        )
        if stored:
            summary += (
                f"; stored: {stored['created']} new, {stored['updated']} updated, {stored['removed']} removed"
            )
        self.emit(
            options, data, "\n".join([*lines, *([f"… and {more:,} more"] if more > 0 else []), summary])
        )

    def _list(self, org_id: int, options: dict[str, Any]) -> None:
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        qs = DuplicateCandidate.objects.filter(organization_id=org_id)
        if options["status"] != "all":
            qs = qs.filter(status=options["status"])
        rows = list(
            qs.order_by("-score", "-pk").values(
                "id", "customer_a_id", "customer_b_id", "score", "reasons", "status", "cluster"
            )[: options["limit"]]
        )
        pairs: list[dict[str, Any]] = [
            {
                "id": r["id"],
                "a": r["customer_a_id"],
                "b": r["customer_b_id"],
                "score": round(r["score"], 4),
                "reasons": describe_all(r["reasons"]),
                "status": r["status"],
                "cluster": r["cluster"],
            }
            for r in rows
        ]
        text = "\n".join(
            f"#{p['id']:<6} {p['a']:>8} ~ {p['b']:<8} {p['score']:.2f} {p['status']:<9} "
            + "; ".join(p["reasons"])
            for p in pairs
        )
        self.emit(options, {"pairs": pairs}, text or "no pairs")

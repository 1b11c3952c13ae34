"""``guanxi bench generate`` loads synthetic customers fast; ``guanxi bench api`` measures the API.

See bench/README.md for how the numbers in docs/performance.md were produced.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import CommandError

from guanxi.core.management.base import GuanxiCommand


class Command(GuanxiCommand):
    help = "Benchmarks: generate synthetic data, measure API latency."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        gen = sub.add_parser("generate", help="load N synthetic customers straight into the database")
        gen.add_argument("--customers", type=int, required=True, help="how many customers to add")
        gen.add_argument(
            "--orders",
            type=int,
            default=0,
            help="ignored until the sales module (orders) exists; accepted so scripts need not change",
        )
        gen.add_argument("--org", default="bench", help="organisation to load into (created if missing)")
        gen.add_argument("--seed", type=int, default=42)
        gen.add_argument("--english-share", type=float, default=0.08, help="share of English names")
        gen.add_argument(
            "--keep-indexes",
            action="store_true",
            help="do not drop and rebuild secondary indexes (the default from 100,000 rows)",
        )
        gen.add_argument("--password", default=None, help="password for the bench users (default: none)")
        self.add_json_flag(gen)

        api = sub.add_parser("api", help="p50/p95/p99 of list and search requests, in-process")
        api.add_argument("--org", default="bench")
        api.add_argument("--iterations", type=int, default=200, help="timed requests per scenario")
        api.add_argument("--warmup", type=int, default=20)
        api.add_argument(
            "--max-seconds", type=float, default=60.0, help="stop a scenario after this long (≥ 10 samples)"
        )
        api.add_argument("--only", default="", help="comma-separated scenario names to run")
        api.add_argument("--output", default="", help="also write the JSON result to this file")
        self.add_json_flag(api)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "generate":
            self._generate(options)
        else:
            self._api(options)

    def _generate(self, options: dict[str, Any]) -> None:
        from guanxi.bench.load import bench_users, load_customers

        n = options["customers"]
        if n < 1:
            raise CommandError("--customers must be at least 1")
        if options["orders"]:
            self.stderr.write(
                "note: --orders is ignored: orders arrive with the sales module; only customers are loaded"
            )
        org, owners = bench_users(options["org"], password=options["password"])
        quiet = options["json"] or not sys.stderr.isatty()
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if done == total or now - last[0] > (1 if not quiet else 30):
                last[0] = now
                rate = done / (now - started)
                self.stderr.write(f"\r  {done:>10,} / {total:,} customers  {rate:,.0f}/s", ending="")
                if quiet:
                    self.stderr.write("")

        result = load_customers(
            org=org,
            n=n,
            seed=options["seed"],
            owners=owners,
            english_share=options["english_share"],
            drop_indexes=False if options["keep_indexes"] else None,
            progress=progress,
        )
        self.stderr.write("")
        data = {"organization": org.name, "orders": "ignored (no sales module yet)", **result.as_dict()}
        self.emit(
            options,
            data,
            f"loaded {result.customers:,} customers into {org.name!r} on {result.vendor} in "
            f"{result.seconds:.1f} s ({result.rows_per_second:,.0f}/s): {result.grams:,} search grams, "
            f"{result.identifiers:,} identifiers, {result.tags:,} tag links",
        )

    def _api(self, options: dict[str, Any]) -> None:
        import json

        from guanxi.bench.api import format_table, run_api_bench

        only = {s.strip() for s in options["only"].split(",") if s.strip()}
        try:
            result = run_api_bench(
                org_name=options["org"],
                iterations=options["iterations"],
                warmup=options["warmup"],
                only=only,
                max_seconds=options["max_seconds"],
                log=None if options["json"] else self.stderr.write,
            )
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as fh:
                json.dump(result, fh, ensure_ascii=False, indent=2)
        self.emit(options, result, format_table(result))

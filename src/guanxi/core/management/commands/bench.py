"""``guanxi bench generate`` loads synthetic customers fast; ``guanxi bench api`` measures the API;
``guanxi bench web`` measures the web pages (customer list, 360°, overview).

See bench/README.md for how the numbers in docs/performance.md were produced.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
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

        web = sub.add_parser("web", help="p50/p95 server time of the customer list, 360° and overview pages")
        web.add_argument("--org", default="bench")
        web.add_argument("--iterations", type=int, default=100, help="timed requests per scenario")
        web.add_argument("--warmup", type=int, default=10)
        web.add_argument("--max-seconds", type=float, default=60.0, help="stop a scenario after this long")
        web.add_argument("--only", default="", help="comma-separated scenario names to run")
        web.add_argument("--output", default="", help="also write the JSON result to this file")
        web.add_argument(
            "--cold",
            action="store_true",
            help="clear the page caches (count, pickers, overview) before each request",
        )
        self.add_json_flag(web)

        imp = sub.add_parser("import", help="import a generated N-row CSV; compare with a raw bulk insert")
        imp.add_argument("--rows", type=int, default=1_000_000)
        imp.add_argument("--workdir", default="", help="where the CSV is written (default: DATA_DIR/bench)")
        imp.add_argument("--output", default="", help="also write the JSON result to this file")
        self.add_json_flag(imp)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "generate":
            self._generate(options)
        elif options["action"] == "web":
            self._web(options)
        elif options["action"] == "import":
            self._import(options)
        else:
            self._api(options)

    def _import(self, options: dict[str, Any]) -> None:
        import json
        from pathlib import Path

        from django.conf import settings

        from guanxi.bench.imports import run_import_bench

        if options["rows"] < 1:
            raise CommandError("--rows must be at least 1")
        workdir = Path(options["workdir"] or Path(settings.DATA_DIR) / "bench")
        result = run_import_bench(
            rows=options["rows"], workdir=workdir, log=None if options["json"] else self.stderr.write
        )
        if options["output"]:
            text = json.dumps(result, ensure_ascii=False, indent=2)
            Path(options["output"]).write_text(text, encoding="utf-8")
        imported = result["import"]
        self.emit(
            options,
            result,
            f"{result['rows']:,} rows on {result['database']}: import {result['import_seconds']} s "
            f"(+ search index {imported.get('index_seconds', 0)} s), peak RSS {imported['peak_rss_mb']} MB; "
            f"raw insert {result['reference_seconds']} s; ratio {result['ratio']}; "
            f"load average {result['load_average_before']}",
        )

    def _web(self, options: dict[str, Any]) -> None:
        from guanxi.bench.web import format_web_table, run_web_bench

        self._latency(options, run_web_bench, format_web_table)

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
        from guanxi.bench.api import format_table, run_api_bench

        self._latency(options, run_api_bench, format_table)

    def _latency(
        self,
        options: dict[str, Any],
        run: Callable[..., dict[str, Any]],
        table: Callable[[dict[str, Any]], str],
    ) -> None:
        """The API and web benchmarks: same options, same JSON output, their own table."""
        import json

        only = {s.strip() for s in options["only"].split(",") if s.strip()}
        try:
            result = run(
                org_name=options["org"],
                iterations=options["iterations"],
                warmup=options["warmup"],
                only=only,
                max_seconds=options["max_seconds"],
                log=None if options["json"] else self.stderr.write,
                **({"cold": True} if options.get("cold") else {}),
            )
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as fh:
                json.dump(result, fh, ensure_ascii=False, indent=2)
        self.emit(options, result, table(result))

"""``guanxi demo``: migrate, create the demo organisation with data, print how to log in, serve.

Idempotent: run it again and the users are updated, nothing is duplicated.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand


class Command(GuanxiCommand):
    help = "Prepare a demo organisation with users for every role and ~2,300 customers, then serve it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="prepare the data only, do not serve")
        parser.add_argument(
            "--customers", type=int, default=2000, help="Chinese demo customers (plus 15 %% English ones)"
        )
        parser.add_argument("--english", type=int, default=None, help="English-named customers")
        self.add_json_flag(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.bench.demo import DEMO_PASSWORD, demo_prepare

        if options["customers"] < 0:
            raise CommandError("--customers must not be negative")
        started = time.perf_counter()
        quiet = options["json"]
        if not quiet:
            self.stdout.write("Preparing the demo (migrate, users, customers) …")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            result = demo_prepare(
                customers=options["customers"],
                english=options["english"],
                log=None if quiet else self.stdout.write,
            )
        except DomainError as exc:
            raise self.fail(exc) from None
        seconds = time.perf_counter() - started
        base = f"http://{options['host']}:{options['port']}"
        data = {
            "organization": result.organization.name,
            "url": base + "/",
            "api_docs": base + "/api/v1/docs",
            "password": DEMO_PASSWORD,
            "users": result.users,
            "api_token": result.token,
            "api_token_user": "admin",
            "created": result.created,
            "totals": result.totals,
            "seconds": round(seconds, 1),
        }
        width = max(len(u["username"]) for u in result.users)
        lines = [
            "",
            f"Guanxi demo ready in {seconds:.1f} s — organisation {result.organization.name!r}: "
            f"{result.totals['customers']:,} customers, {result.totals['contacts']:,} contacts "
            f"({result.created['customers']:,} customers added this run).",
            "",
            f"  Open      {base}/",
            f"  API docs  {base}/api/v1/docs",
            "",
            f"  Sign in with any of these users; the password of all of them is: {DEMO_PASSWORD}",
        ]
        for user in result.users:
            team = f", team {user['team']}" if user["team"] else ""
            lines.append(f"    {user['username']:<{width}}  {user['role']}{team}  ({user['name']})")
        lines += [
            "",
            "  API token of user 'admin' (scopes admin, read, write):",
            f"    {result.token}",
            f'    curl -H "Authorization: Bearer {result.token}" "{base}/api/v1/customers?q=张伟"',
            "",
        ]
        self.emit(options, data, "\n".join(lines))
        if options["no_serve"]:
            return
        from guanxi.core.management.commands.serve import run_granian

        # The embedded default is complete only with background work (emails, reminders, care,
        # pool reclaim): a `guanxi worker` runs beside the web server and stops with it.
        worker = subprocess.Popen([sys.executable, "-m", "guanxi.cli", "worker"], stdout=subprocess.DEVNULL)
        self.stdout.write(f"Background worker started (pid {worker.pid}).")
        self.stdout.write(f"Serving on {base}/ — press Ctrl+C to stop.")
        try:
            run_granian(options["host"], options["port"])
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()

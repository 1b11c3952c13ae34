from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from guanxi.core.management.base import GuanxiCommand
from guanxi.core.schedule import registered, run_due


class Command(GuanxiCommand):
    help = "Periodic jobs: `guanxi jobs run-due` runs what is due now, once, in the foreground (for cron)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        due = sub.add_parser("run-due", help="run every periodic job that is due")
        due.add_argument("--now", help="pretend it is this time (ISO 8601, e.g. 2027-02-10T09:00+08:00)")
        due.add_argument("--only", help="only this job")
        due.add_argument("--force", action="store_true", help="run even if not due (with --only)")
        self.add_json_flag(due)
        listing = sub.add_parser("list", help="list the periodic jobs")
        self.add_json_flag(listing)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            jobs = [{"name": p.name, "description": p.description} for p in registered()]
            self.emit(options, {"jobs": jobs}, "\n".join(f"{j['name']}: {j['description']}" for j in jobs))
            return
        now = timezone.now()
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError(f"--now {options['now']!r} is not an ISO 8601 date-time") from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        if options["force"] and not options["only"]:
            raise CommandError("--force needs --only NAME")
        report = run_due(now, only=options["only"], force=options["force"])
        text = "\n".join(f"{r['name']}: {r['status']} {r['message']}" for r in report) or "nothing was due"
        self.emit(options, {"now": now.isoformat(), "ran": report}, text)
        if any(r["status"] == "failed" for r in report):
            raise CommandError("some periodic jobs failed")

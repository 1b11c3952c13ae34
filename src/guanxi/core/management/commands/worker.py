from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command

from guanxi.core.management.base import GuanxiCommand


class Command(GuanxiCommand):
    help = "Run the background worker: the huey consumer and the periodic scheduler (one tick a minute)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=None, help="worker threads (default 2)")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = "Redis" if settings.REDIS_URL else f"SQLite ({settings.HUEY['filename']})"
        self.stdout.write(f"Guanxi worker on {backend}")
        extra = ["--workers", str(options["workers"])] if options["workers"] else []
        call_command("run_huey", *extra)

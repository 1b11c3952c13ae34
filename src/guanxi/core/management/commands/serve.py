from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command

from guanxi.core.management.base import GuanxiCommand


def run_granian(host: str, port: int, workers: int = 1, threads: int = 4) -> None:
    """Serve the WSGI app with granian (whitenoise serves static files inside the app)."""
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "guanxi.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
    ).serve()


class Command(GuanxiCommand):
    help = "Serve Guanxi with granian (WSGI) and whitenoise."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # Hashed, compressed static files (whitenoise serves them with far-future cache headers).
            call_command("collectstatic", "--noinput", verbosity=0)
        self.stdout.write(f"Guanxi serving on http://{options['host']}:{options['port']}/")
        run_granian(options["host"], options["port"], options["workers"], options["threads"])

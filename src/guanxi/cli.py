"""The ``guanxi`` command: Django's management commands plus Guanxi's own verbs.

``guanxi demo``, ``guanxi serve``, ``guanxi org``, ``guanxi user``, ``guanxi token``, ``guanxi bench`` …
are management commands in ``guanxi.core.management.commands``; anything else goes to Django
(``guanxi migrate``, ``guanxi check --deploy``, ``guanxi shell``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        args = list(sys.argv[1:] if argv is None else argv)
        if args and not args[0].startswith("-"):
            args[0] = args[0].replace("-", "_")  # `guanxi purge-deleted` reads better than purge_deleted
        execute_from_command_line(["guanxi", *args])
    except ImproperlyConfigured as exc:
        print(f"guanxi: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

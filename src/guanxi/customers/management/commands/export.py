"""`guanxi export customers --org NAME --as USERNAME --format csv|xlsx --out FILE [filters] [--json]`.

Runs in the foreground whatever the size (no job: the command itself is the long-running worker),
writes ``FILE.part`` and renames it when complete, and is audited like any other export.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import translation

from guanxi.core.context import Actor
from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Membership
from guanxi.customers.exports import ExportSpec, export_start
from guanxi.customers.selection import TEXT_FILTERS, selection_from_params


class Command(GuanxiCommand):
    help = "Export customers to CSV (UTF-8 with BOM) or XLSX, with the customer list's filters."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        cmd = sub.add_parser("customers", help="export customers the given user can see (masked per role)")
        cmd.add_argument("--org", required=True)
        cmd.add_argument(
            "--as", dest="as_user", required=True, help="export as this member (visibility, masking)"
        )
        cmd.add_argument("--format", choices=["csv", "xlsx"], default="", help="default: from --out's suffix")
        cmd.add_argument("--out", required=True, help="the file to write")
        cmd.add_argument(
            "--columns", default="", help="comma-separated column keys (custom fields: custom.KEY)"
        )
        cmd.add_argument("--header", choices=["keys", "labels"], default="keys")
        cmd.add_argument("--language", default="", help="for --header labels: zh-hans or en")
        cmd.add_argument("--view", default="", help="a saved view (id or name) supplying the filters")
        cmd.add_argument("--ids", default="", help="only these customer ids (comma-separated)")
        cmd.add_argument("--sort", default="-id")
        for name in TEXT_FILTERS:
            cmd.add_argument(f"--{name.replace('_', '-')}", dest=name, default="")
        for name in ("created_after", "created_before", "updated_after", "updated_before"):
            cmd.add_argument(f"--{name.replace('_', '-')}", dest=name, default="", help="ISO date-time")
        cmd.add_argument(
            "--cf", action="append", default=[], metavar="KEY=VALUE", help="custom-field filter (repeatable)"
        )
        self.add_json_flag(cmd)

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        membership = (
            Membership.objects.select_related("user", "organization", "team")
            .filter(organization=org, user__username=options["as_user"], is_active=True)
            .first()
        )
        if membership is None:
            raise CommandError(f"no active member {options['as_user']!r} in {org.name!r}")
        out = Path(options["out"])
        fmt = options["format"] or out.suffix.lstrip(".").lower()
        if fmt not in ("csv", "xlsx"):
            raise CommandError("--format must be csv or xlsx (or give --out a .csv/.xlsx name)")
        params: dict[str, str] = {
            name: options[name]
            for name in (*TEXT_FILTERS, "created_after", "created_before", "updated_after", "updated_before")
            if options[name]
        }
        for item in options["cf"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--cf {item!r}: use KEY=VALUE")
            params[f"cf.{key}"] = value
        for name in ("view", "ids", "sort"):
            if options[name]:
                params[name] = options[name]
        actor = Actor(membership=membership, via="cli")
        progress = sys.stderr.isatty() and not options["json"]

        def report(n: int) -> None:
            if progress:
                sys.stderr.write(f"\r{n:,} rows")

        part = out.with_name(out.name + ".part")
        try:
            with translation.override(options["language"] or None):
                spec = ExportSpec(
                    selection=selection_from_params(actor, params),
                    format=fmt,
                    columns=tuple(c.strip() for c in options["columns"].split(",") if c.strip()),
                    header=options["header"],
                )
                export = export_start(actor=actor, spec=spec, as_job=False, on_progress=report)
                with part.open("wb") as handle:
                    if export.chunks is not None:
                        for chunk in export.chunks:
                            handle.write(chunk.encode("utf-8"))
                    elif export.file is not None:
                        with export.file:
                            shutil.copyfileobj(export.file, handle)
            os.replace(part, out)
        except DomainError as exc:
            raise self.fail(exc) from None
        finally:
            part.unlink(missing_ok=True)
        if progress:
            sys.stderr.write("\n")
        self.emit(
            options,
            {"rows": export.rows, "file": str(out), "format": fmt, "bytes": out.stat().st_size},
            f"Exported {export.rows:,} customers to {out}",
        )

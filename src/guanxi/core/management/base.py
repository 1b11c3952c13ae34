"""Shared pieces of Guanxi's commands: ``--json`` output and clean errors instead of tracebacks."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.models import Organization


class GuanxiCommand(BaseCommand):
    def add_json_flag(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print a machine-readable JSON object")

    def emit(self, options: dict[str, Any], data: dict[str, Any], text: str) -> None:
        if options.get("json"):
            self.stdout.write(json.dumps(data, ensure_ascii=False, default=str))
        else:
            self.stdout.write(text)

    def fail(self, exc: DomainError) -> CommandError:
        if isinstance(exc, ValidationFailed):
            return CommandError("; ".join(f"{e.field}: {e.message}" for e in exc.errors))
        return CommandError(str(exc.detail))

    def get_org(self, name: str) -> Organization:
        org = Organization.objects.filter(name=name).first()
        if org is None:
            raise CommandError(f"no organisation named {name!r} (create it with: guanxi org create {name!r})")
        return org

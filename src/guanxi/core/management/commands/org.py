from __future__ import annotations

from typing import Any

from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Organization
from guanxi.core.services import organization_create


class Command(GuanxiCommand):
    help = "Manage organisations: guanxi org create NAME | guanxi org list"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an organisation (no-op if it exists)")
        create.add_argument("name")
        create.add_argument("--time-zone", default="Asia/Shanghai")
        create.add_argument("--currency", default="CNY")
        self.add_json_flag(create)
        listing = sub.add_parser("list", help="list organisations")
        self.add_json_flag(listing)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            orgs = [{"id": o.pk, "name": o.name} for o in Organization.objects.order_by("name")]
            self.emit(options, {"organizations": orgs}, "\n".join(str(o["name"]) for o in orgs))
            return
        try:
            org, created = organization_create(
                name=options["name"], time_zone=options["time_zone"], currency=options["currency"]
            )
        except DomainError as exc:
            raise self.fail(exc) from None
        verb = "created" if created else "exists"
        self.emit(
            options, {"id": org.pk, "name": org.name, "created": created}, f"organisation {org.name!r} {verb}"
        )

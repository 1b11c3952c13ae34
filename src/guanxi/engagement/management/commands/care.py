"""`guanxi care list|preview|run`: care rules (关怀) from the command line."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from guanxi.core.context import Actor
from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Membership, Organization
from guanxi.engagement.care import care_preview, care_run_due
from guanxi.engagement.models import CareRule


class Command(GuanxiCommand):
    help = "Care rules (关怀): list them, preview who the next run contacts, run them now."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the organisation's care rules")
        listing.add_argument("--org", required=True)
        self.add_json_flag(listing)
        preview = sub.add_parser("preview", help="who the rule's next run will contact")
        preview.add_argument("rule_id", type=int)
        preview.add_argument("--org", required=True)
        preview.add_argument("--now", help="pretend it is this time (ISO 8601)")
        self.add_json_flag(preview)
        run = sub.add_parser("run", help="run the rules whose send time has come (the hourly job does this)")
        run.add_argument("--org", required=True)
        run.add_argument("--now", help="pretend it is this time (ISO 8601)")
        self.add_json_flag(run)

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        now = self._now(options.get("now"))
        if options["action"] == "list":
            rules = [
                {"id": r.pk, "name": r.name, "kind": r.kind, "channel": r.channel, "enabled": r.enabled}
                for r in CareRule.objects.filter(organization=org).order_by("pk")
            ]
            lines = [
                f"{r['id']}: {r['name']} ({r['kind']}, {r['channel']}, enabled={r['enabled']})" for r in rules
            ]
            self.emit(options, {"rules": rules}, "\n".join(lines) or "no care rules")
        elif options["action"] == "preview":
            try:
                data = care_preview(actor=self._admin(org), rule_id=options["rule_id"], now=now)
            except DomainError as exc:
                raise self.fail(exc) from None
            lines = [f"next run {data['run_at']}"] + [
                f"{i['customer_id']} {i['name']} {i['occasion']} "
                + ("✓" if i["will_send"] else f"skip: {i['reason']}")
                for i in data["items"]
            ]
            self.emit(options, data, "\n".join(lines))
        else:
            counts = care_run_due(now=now, org_id=org.pk)
            self.emit(
                options, {"counts": counts}, ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing due"
            )

    def _admin(self, org: Organization) -> Actor:
        membership = (
            Membership.objects.select_related("user", "organization")
            .filter(organization=org, role="admin", is_active=True)
            .order_by("pk")
            .first()
        )
        if membership is None:
            raise CommandError(f"{org.name!r} has no active administrator")
        return Actor(membership=membership, via="cli")

    def _now(self, value: str | None) -> dt.datetime:
        if not value:
            return timezone.now()
        try:
            now = dt.datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--now {value!r} is not an ISO 8601 date-time") from None
        return timezone.make_aware(now) if timezone.is_naive(now) else now

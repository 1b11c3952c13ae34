"""`guanxi activities export --org NAME [--from DATE --to DATE] > file.csv`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError

from guanxi.core.context import Actor
from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Membership
from guanxi.engagement.export import activities_export
from guanxi.engagement.selectors import ActivityFilters


class Command(GuanxiCommand):
    help = "Follow-up records (跟进记录): export them as CSV (UTF-8 with BOM)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the follow-up records table as CSV to stdout")
        export.add_argument("--org", required=True)
        export.add_argument("--user", help="export as this member (default: the first administrator)")
        export.add_argument("--from", dest="date_from", help="from this date (YYYY-MM-DD, org time zone)")
        export.add_argument("--to", dest="date_to", help="up to and including this date")
        export.add_argument("--rep", default="", help="only records logged by this username")
        export.add_argument("--team", default="")
        export.add_argument("--kind", default="", help="call, visit, … (comma-separated)")

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        members = Membership.objects.select_related("user", "organization").filter(
            organization=org, is_active=True
        )
        if options["user"]:
            membership = members.filter(user__username=options["user"]).first()
        else:
            membership = members.filter(role="admin").order_by("pk").first()
        if membership is None:
            raise CommandError(f"no active member {options['user'] or '(administrator)'} in {org.name!r}")
        zone = ZoneInfo(org.time_zone)
        filters = ActivityFilters(
            rep=options["rep"],
            team=options["team"],
            kind=options["kind"],
            occurred_from=self._day(options["date_from"], zone, "--from"),
            occurred_to=self._day(options["date_to"], zone, "--to", next_day=True),
        )
        try:
            rows = activities_export(actor=Actor(membership=membership, via="cli"), filters=filters)
            for chunk in rows:
                self.stdout.write(chunk, ending="")
        except DomainError as exc:
            raise self.fail(exc) from None

    def _day(
        self, value: str | None, zone: ZoneInfo, flag: str, next_day: bool = False
    ) -> dt.datetime | None:
        if not value:
            return None
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise CommandError(f"{flag} {value!r} is not a date like 2027-02-10") from None
        if next_day:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone)

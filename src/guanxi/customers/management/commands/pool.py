from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from guanxi.core.context import Actor
from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Membership, Organization
from guanxi.customers import pool
from guanxi.customers.pool_reclaim import pool_reclaim_due
from guanxi.customers.selectors import paginate


class Command(GuanxiCommand):
    help = "The public pool (公海): list, claim, release, assign, and run the reclaim rules."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="customers in the pool")
        listing.add_argument("--org", required=True)
        listing.add_argument("--user", help="list as this member (contact details masked for sales reps)")
        listing.add_argument("--q", default="", help="search names and companies")
        listing.add_argument("--grade", default="")
        listing.add_argument("--limit", type=int, default=100)
        self.add_json_flag(listing)

        claim = sub.add_parser("claim", help="claim a customer from the pool for a user")
        claim.add_argument("customer_id", type=int)
        claim.add_argument("--org", required=True)
        claim.add_argument("--user", required=True)
        self.add_json_flag(claim)

        release = sub.add_parser("release", help="put a customer back in the pool")
        release.add_argument("customer_id", type=int)
        release.add_argument("--org", required=True)
        release.add_argument("--user", required=True, help="the owner, or a manager")
        release.add_argument("--reason", required=True)
        self.add_json_flag(release)

        assign = sub.add_parser("assign", help="give a pool customer to a member (as a manager or admin)")
        assign.add_argument("customer_id", type=int)
        assign.add_argument("--org", required=True)
        assign.add_argument("--user", required=True, help="the manager or admin who assigns")
        assign.add_argument("--to", required=True, help="username of the new owner")
        self.add_json_flag(assign)

        reclaim = sub.add_parser("reclaim", help="apply the reclaim rules now (the hourly job does this)")
        reclaim.add_argument("--org", required=True)
        reclaim.add_argument("--now", help="pretend it is this time (ISO 8601)")
        reclaim.add_argument(
            "--dry-run", action="store_true", help="report what would happen, change nothing"
        )
        self.add_json_flag(reclaim)

    def _actor(self, org: Organization, username: str) -> Actor:
        membership = (
            Membership.objects.select_related("user", "organization")
            .filter(organization=org, user__username=username, is_active=True)
            .first()
        )
        if membership is None:
            raise CommandError(f"{username!r} is not an active member of {org.name!r}")
        return Actor(membership=membership, via="cli")

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        try:
            getattr(self, f"_{options['action']}")(org, options)
        except pool.PoolRefused as exc:
            raise CommandError(f"{exc.detail} [{exc.code}]") from None
        except DomainError as exc:
            raise self.fail(exc) from None

    def _list(self, org: Organization, options: dict[str, Any]) -> None:
        filters = pool.PoolFilters(q=options["q"], grade=options["grade"])
        limit = max(1, min(options["limit"], 1000))
        if options["user"]:
            actor = self._actor(org, options["user"])
            customers = pool.pool_list(actor=actor, filters=filters, limit=limit).items
            info = pool.pool_info(actor, customers)
            items = [pool.pool_customer_to_dict(c, actor, info[c.pk]) for c in customers]
        else:  # the operator's view: everything, unmasked
            qs = pool.filter_pool(pool.pool_base(org.pk), org.pk, filters, full=True)
            customers = paginate(qs, limit=limit).items
            items = [
                {
                    "id": c.pk,
                    "name": c.name,
                    "company": c.company,
                    "phone": c.phone,
                    "grade": c.grade,
                    "lifecycle_stage": c.lifecycle_stage,
                }
                for c in customers
            ]
        lines = [f"{i['id']}\t{i['name']}\t{i['company']}\t{i['phone']}\t{i['grade']}" for i in items]
        self.emit(options, {"items": items}, "\n".join(lines) or "the pool is empty")

    def _claim(self, org: Organization, options: dict[str, Any]) -> None:
        actor = self._actor(org, options["user"])
        customer = pool.pool_claim(actor=actor, customer_id=options["customer_id"])
        data = {"id": customer.pk, "name": customer.name, "owner": actor.user.get_username()}
        self.emit(
            options, data, f"{actor.user.get_username()} claimed customer {customer.pk} ({customer.name})"
        )

    def _release(self, org: Organization, options: dict[str, Any]) -> None:
        actor = self._actor(org, options["user"])
        customer = pool.pool_release(
            actor=actor, customer_id=options["customer_id"], reason=options["reason"]
        )
        data = {"id": customer.pk, "name": customer.name, "in_public_pool": True}
        self.emit(options, data, f"customer {customer.pk} ({customer.name}) is back in the public pool")

    def _assign(self, org: Organization, options: dict[str, Any]) -> None:
        actor = self._actor(org, options["user"])
        customer = pool.pool_assign(actor=actor, customer_id=options["customer_id"], username=options["to"])
        data = {"id": customer.pk, "name": customer.name, "owner": options["to"]}
        self.emit(options, data, f"customer {customer.pk} ({customer.name}) assigned to {options['to']}")

    def _reclaim(self, org: Organization, options: dict[str, Any]) -> None:
        now = timezone.now()
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError(f"--now {options['now']!r} is not an ISO 8601 date-time") from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        report = pool_reclaim_due(now=now, org_id=org.pk, dry_run=options["dry_run"])
        verb = "would reclaim" if options["dry_run"] else "reclaimed"
        lines = [
            f"{verb} {r['customer_id']} {r['name']} from {r['owner']} ({r['rule']})"
            for r in report["reclaimed"]
        ]
        lines += [
            f"warn {r['owner']}: {r['customer_id']} {r['name']} due {r['due_at']}" for r in report["warned"]
        ]
        summary = f"{verb} {len(report['reclaimed'])}, warned {len(report['warned'])}"
        self.emit(options, report, "\n".join([*lines, summary]))

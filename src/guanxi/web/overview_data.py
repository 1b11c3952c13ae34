"""Counts behind the customers overview: aggregates computed by the database over the customers
the actor may see (``customer_queryset``), never rows pulled into Python.

Five queries at most, each one pass over the visible customers: stage × tier × grade in one grouped
query, provinces, owners (for roles that see other people's customers) and new customers per month
as conditional counts over a created_at range (no per-row date truncation, which SQLite would run
in Python for every row)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from guanxi.core.context import Actor
from guanxi.core.roles import Perm, Scope
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_queryset

MONTHS = 12
TOP_PROVINCES = 15
TOP_OWNERS = 15


@dataclass
class Overview:
    total: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    grades: Counter[str] = field(default_factory=Counter)
    provinces: list[tuple[str, int]] = field(default_factory=list)  # biggest first; "" = unknown
    months: list[tuple[dt.date, int]] = field(default_factory=list)  # oldest first, first day of month
    owners: list[tuple[int | None, int]] | None = None  # None: not for this role (a rep, a viewer)


def month_starts(today: dt.date, n: int = MONTHS) -> list[dt.date]:
    """The first days of the last ``n`` months, oldest first, ending with the current month."""
    year, month = today.year, today.month
    out = []
    for _ in range(n):
        out.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def org_zone(actor: Actor) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(actor.org.time_zone or "Asia/Shanghai")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def customer_overview(*, actor: Actor, now: dt.datetime | None = None) -> Overview:
    base = customer_queryset(actor).order_by()
    out = Overview()
    combos = base.values("lifecycle_stage", "value_tier", "grade").annotate(n=Count("pk"))
    for row in combos:
        n = row["n"]
        out.total += n
        out.stages[row["lifecycle_stage"]] += n
        out.tiers[row["value_tier"]] += n
        out.grades[row["grade"]] += n
    if not out.total:
        return out

    out.provinces = [
        (row["province"], row["n"])
        for row in base.values("province").annotate(n=Count("pk")).order_by("-n", "province")
    ]

    zone = org_zone(actor)
    today = timezone.localtime(now or timezone.now(), zone).date()
    starts = month_starts(today)
    bounds = [dt.datetime.combine(d, dt.time.min, tzinfo=zone) for d in starts]
    bounds.append(dt.datetime.combine(_next_month(starts[-1]), dt.time.min, tzinfo=zone))
    counts = base.filter(created_at__gte=bounds[0], created_at__lt=bounds[-1]).aggregate(
        **{
            f"m{i}": Count("pk", filter=Q(created_at__gte=bounds[i], created_at__lt=bounds[i + 1]))
            for i in range(len(starts))
        }
    )
    out.months = [(d, counts[f"m{i}"] or 0) for i, d in enumerate(starts)]

    # By owner: for the roles that hand customers out (managers, admins), over what they may see.
    if actor.scope != Scope.OWN and actor.has(Perm.CUSTOMER_ASSIGN):
        out.owners = [
            (row["owner_id"], row["n"])
            for row in base.values("owner_id").annotate(n=Count("pk")).order_by("-n", "owner_id")
        ]
    return out


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


STAGE_ORDER = [value for value, _label in Customer.Lifecycle.choices]

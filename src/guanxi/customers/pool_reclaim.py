"""The reclaim job of the public pool: overdue customers go back to the pool, owners are warned first.

A rule (per grade, or the default rule with grade "") reclaims a customer when its owner has not
followed up for ``follow_up_days`` or has not closed (reached new/active/repeat) within
``close_days`` of getting it. ``warn_days`` before that, the owner is warned once per deadline:
an audit row and the event ``pool.reclaim_warning`` (the notifications module subscribes to it).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from guanxi.core.audit import audit
from guanxi.core.events import emit, subscribe
from guanxi.core.models import AuditEvent, Membership
from guanxi.customers.models import Customer, CustomerAssignment, PoolRule, PoolSettings, PoolWarning
from guanxi.customers.pool import CLOSED_STAGES, Reason, move_customer
from guanxi.customers.pool_settings import pool_rules_of


@dataclass(frozen=True)
class Due:
    """An owned customer whose reclaim deadline has come (``action="reclaim"``) or is near (``"warn"``)."""

    action: str
    org_id: int
    customer_id: int
    name: str
    owner_id: int
    owner: str
    rule: str  # follow_up | close
    due_at: dt.datetime
    last_contacted_at: dt.datetime | None
    lifecycle_stage: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "owner": self.owner,
            "rule": self.rule,
            "due_at": self.due_at.isoformat(),
        }


def _due_in_org(org_id: int, now: dt.datetime) -> Iterator[Due]:
    rules = pool_rules_of(org_id)
    graded = [r.grade for r in rules if r.grade]
    assigned = (
        CustomerAssignment.objects.filter(customer_id=OuterRef("pk"), to_user_id=OuterRef("owner_id"))
        .order_by("-at")
        .values("at")[:1]
    )
    base = (
        Customer.objects.filter(organization_id=org_id, deleted_at__isnull=True, owner__isnull=False)
        .annotate(assigned_at=Coalesce(Subquery(assigned), F("created_at")))
        .order_by("pk")
    )
    for rule in rules:
        qs = base.filter(grade=rule.grade) if rule.grade else base.exclude(grade__in=graded)
        warn = dt.timedelta(days=rule.warn_days)
        conditions = []
        if rule.follow_up_days:
            cut = now - dt.timedelta(days=rule.follow_up_days) + warn
            conditions.append(
                (Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lte=cut)) & Q(assigned_at__lte=cut)
            )
        if rule.close_days:
            cut = now - dt.timedelta(days=rule.close_days) + warn
            conditions.append(~Q(lifecycle_stage__in=CLOSED_STAGES) & Q(assigned_at__lte=cut))
        if not conditions:
            continue
        rows = qs.filter(reduce(operator.or_, conditions)).values(
            "pk", "name", "owner_id", "owner__username", "last_contacted_at", "lifecycle_stage", "assigned_at"
        )
        for row in rows.iterator(chunk_size=500):
            assigned_at: dt.datetime = row["assigned_at"]
            contacted: dt.datetime | None = row["last_contacted_at"]
            deadlines = []
            if rule.follow_up_days:
                start = max(assigned_at, contacted) if contacted else assigned_at
                deadlines.append((start + dt.timedelta(days=rule.follow_up_days), "follow_up"))
            if rule.close_days and row["lifecycle_stage"] not in CLOSED_STAGES:
                deadlines.append((assigned_at + dt.timedelta(days=rule.close_days), "close"))
            if not deadlines:
                continue
            due_at, which = min(deadlines)
            action = "reclaim" if now >= due_at else "warn" if rule.warn_days and now >= due_at - warn else ""
            if action:
                yield Due(
                    action=action,
                    org_id=org_id,
                    customer_id=row["pk"],
                    name=row["name"],
                    owner_id=row["owner_id"],
                    owner=row["owner__username"],
                    rule=which,
                    due_at=due_at,
                    last_contacted_at=contacted,
                    lifecycle_stage=row["lifecycle_stage"],
                )


def _reclaim(due: Due, now: dt.datetime) -> bool:
    # Only if nothing changed since we looked: same owner, no new follow-up, no new stage.
    expect: dict[str, Any] = {
        "owner_id": due.owner_id,
        "deleted_at__isnull": True,
        "lifecycle_stage": due.lifecycle_stage,
    }
    if due.last_contacted_at is None:
        expect["last_contacted_at__isnull"] = True
    else:
        expect["last_contacted_at"] = due.last_contacted_at
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(pk=due.customer_id, **expect).first()
        if customer is None:
            return False
        return move_customer(
            actor=None,
            org_id=due.org_id,
            customer=customer,
            to=None,
            reason=Reason.RECLAIM,
            now=now,
            rule=due.rule,
            expect={**expect, "version": customer.version},
            context={"due_at": due.due_at.isoformat()},
        )


def _warned(due: Due) -> bool:
    return PoolWarning.objects.filter(
        customer_id=due.customer_id, user_id=due.owner_id, rule=due.rule, due_at=due.due_at
    ).exists()


def _warn(due: Due, now: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            _warning, created = PoolWarning.objects.get_or_create(
                customer_id=due.customer_id,
                user_id=due.owner_id,
                rule=due.rule,
                due_at=due.due_at,
                defaults={"organization_id": due.org_id, "sent_at": now},
            )
            if not created:
                return False
            audit(
                actor=None,
                action="pool_reclaim_warning",
                object_type="customer",
                object_id=due.customer_id,
                object_repr=due.name,
                org_id=due.org_id,
                context={"user": due.owner, "rule": due.rule, "due_at": due.due_at.isoformat()},
            )
            emit(
                "pool.reclaim_warning",
                org_id=due.org_id,
                user_id=due.owner_id,
                customer_id=due.customer_id,
                rule=due.rule,
                due_at=due.due_at.isoformat(),
                days_left=max(0, (due.due_at - now).days),
            )
            return True
    except IntegrityError:  # another run sent the same warning a moment ago
        return False


def pool_reclaim_due(
    *, now: dt.datetime | None = None, org_id: int | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """System job: return overdue customers to the pool and warn owners ``warn_days`` before.

    Durations are exact (N days = N × 24 h from the last follow-up, or from when the owner got the
    customer — its latest assignment to them, else its creation — if there was no follow-up since).
    Idempotent: a reclaimed customer is no longer owned, and each deadline is warned about once.
    """
    now = now or timezone.now()
    orgs = PoolRule.objects.values_list("organization_id", flat=True).distinct()
    if org_id is not None:
        orgs = orgs.filter(organization_id=org_id)
    paused = set(PoolSettings.objects.filter(reclaim_enabled=False).values_list("organization_id", flat=True))
    report: dict[str, Any] = {"now": now.isoformat(), "dry_run": dry_run, "reclaimed": [], "warned": []}
    for oid in sorted(set(orgs) - paused):
        for due in list(_due_in_org(oid, now)):
            if due.action == "reclaim":
                if dry_run or _reclaim(due, now):
                    report["reclaimed"].append(due.as_dict())
            elif (dry_run and not _warned(due)) or (not dry_run and _warn(due, now)):
                report["warned"].append(due.as_dict())
    return report


# Ownership history of edits outside the pool --------------------------------------------------


def _record_owner_edit(name: str, payload: dict[str, Any]) -> None:
    """An owner changed through a customer edit: record it, so the reclaim clock starts then."""
    customer_id = payload.get("customer_id")
    if payload.get("source") == "pool" or "owner" not in payload.get("fields", ()) or not customer_id:
        return
    customer = Customer.objects.filter(pk=int(customer_id)).values("organization_id", "owner_id").first()
    if customer is None:
        return
    org_id = customer["organization_id"]
    event = (
        AuditEvent.objects.filter(organization_id=org_id, object_type="customer", object_id=str(customer_id))
        .order_by("-id")
        .first()
    )
    owner_change = event.changes.get("owner") if event and isinstance(event.changes, dict) else None
    before = owner_change[0] if isinstance(owner_change, list) and owner_change else None
    from_user = (
        Membership.objects.filter(organization_id=org_id, user__username=before)
        .values_list("user_id", flat=True)
        .first()
        if before
        else None
    )
    CustomerAssignment.objects.create(
        organization_id=org_id,
        customer_id=int(customer_id),
        from_user_id=from_user,
        to_user_id=customer["owner_id"],
        actor_id=payload.get("actor_id"),
        reason=Reason.ASSIGN,
        note="edit",
        at=timezone.now(),
    )


subscribe("customer.updated", _record_owner_edit)

"""Reads of the engagement app. Everything starts from customers the actor can see."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.roles import Scope
from guanxi.customers.models import Customer
from guanxi.customers.timeline import Cursor, TimelineItem
from guanxi.engagement.models import Activity, EmailMessage, Notification, Task


def org_zone(org_tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(org_tz or "Asia/Shanghai")
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


# Activities -----------------------------------------------------------------------------------


def activity_queryset(actor: Actor) -> QuerySet[Activity]:
    """An activity is visible exactly when its customer is."""
    visible = Customer.objects.visible_to(actor).values("pk")
    return Activity.objects.filter(organization_id=actor.org_id, customer_id__in=visible)


def activity_get(*, actor: Actor, activity_id: int) -> Activity:
    activity = (
        activity_queryset(actor).select_related("customer", "created_by").filter(pk=activity_id).first()
    )
    if activity is None:
        raise NotFound(_("Activity not found."))
    return activity


@dataclass
class ActivityFilters:
    rep: str = ""  # username of the rep who logged it
    team: str = ""  # team name
    kind: str = ""
    outcome: str = ""
    customer_id: int | None = None
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None


def activity_filter(actor: Actor, f: ActivityFilters) -> QuerySet[Activity]:
    qs = activity_queryset(actor)
    if f.rep:
        qs = qs.filter(created_by__username=f.rep)
    if f.team:
        qs = qs.filter(team__name=f.team)
    if f.kind:
        kinds = [k for k in f.kind.split(",") if k]
        if bad := [k for k in kinds if k not in Activity.Kind.values]:
            raise ValidationFailed(errors=[FieldError("kind", _("unknown kind: %s") % ", ".join(bad))])
        qs = qs.filter(kind__in=kinds)
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.customer_id is not None:
        qs = qs.filter(customer_id=f.customer_id)
    if f.occurred_from is not None:
        qs = qs.filter(occurred_at__gte=f.occurred_from)
    if f.occurred_to is not None:
        qs = qs.filter(occurred_at__lt=f.occurred_to)
    return qs


def _encode(at: dt.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), pk]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dt.datetime, int]:
    try:
        at, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return dt.datetime.fromisoformat(at), int(pk)
    except (ValueError, TypeError):
        raise ValidationFailed(
            errors=[FieldError("cursor", _("is not a cursor this list gave out"))]
        ) from None


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def activity_list(*, actor: Actor, filters: ActivityFilters, cursor: str = "", limit: int = 50) -> Page:
    qs = activity_filter(actor, filters).select_related("customer", "created_by", "team")
    if cursor:
        at, pk = _decode(cursor)
        qs = qs.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, pk__lt=pk))
    rows = list(qs.order_by("-occurred_at", "-id")[: limit + 1])
    next_cursor = _encode(rows[limit - 1].occurred_at, rows[limit - 1].pk) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def activity_timeline_source(
    actor: Actor, customer: Customer, cursor: Cursor | None, limit: int
) -> list[TimelineItem]:
    qs = Activity.objects.filter(organization_id=actor.org_id, customer_id=customer.pk).select_related(
        "created_by"
    )
    if cursor is not None:
        qs = qs.filter(cursor.q("occurred_at", "activity"))
    out = []
    for a in qs.order_by("-occurred_at", "-id")[:limit]:
        out.append(
            TimelineItem(
                at=a.occurred_at,
                source="activity",
                pk=a.pk,
                kind=a.kind,
                title=a.subject or str(Activity.Kind(a.kind).label),
                body=a.content,
                actor=a.created_by.get_username() if a.created_by else "",
                data={
                    "outcome": a.outcome,
                    "next_step": a.next_step,
                    "next_follow_up_at": a.next_follow_up_at.isoformat() if a.next_follow_up_at else None,
                },
            )
        )
    return out


# Tasks ----------------------------------------------------------------------------------------


def task_queryset(actor: Actor) -> QuerySet[Task]:
    """Tasks the actor is assigned or created, and tasks on customers they see (team/org roles)."""
    qs = Task.objects.filter(organization_id=actor.org_id)
    mine = Q(assignee_id=actor.user.pk) | Q(created_by_id=actor.user.pk)
    if actor.scope == Scope.ALL and actor.membership.role == "admin":
        return qs
    visible = Customer.objects.visible_to(actor).values("pk")
    if actor.scope == Scope.OWN:
        return qs.filter(mine)
    return qs.filter(mine | Q(customer_id__in=visible))


def task_get(*, actor: Actor, task_id: int, for_update: bool = False) -> Task:
    qs = task_queryset(actor)
    if for_update:
        qs = qs.select_for_update()
    task = qs.filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("Task not found."))
    return task


def task_list(
    *,
    actor: Actor,
    assignee: str = "",
    done: bool | None = None,
    customer_id: int | None = None,
    cursor: str = "",
    limit: int = 50,
) -> Page:
    qs = task_queryset(actor).select_related("assignee", "customer")
    if assignee:
        qs = qs.filter(assignee__username=assignee)
    if done is not None:
        qs = qs.filter(done=done)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if cursor:
        at, pk = _decode(cursor)
        qs = qs.filter(Q(due_at__gt=at) | Q(due_at=at, pk__gt=pk))
    rows = list(qs.order_by("due_at", "id")[: limit + 1])
    next_cursor = _encode(rows[limit - 1].due_at, rows[limit - 1].pk) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


@dataclass
class MyDay:
    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]


def my_day(*, actor: Actor, now: dt.datetime | None = None, upcoming_days: int = 7) -> MyDay:
    """The actor's open tasks: overdue, due later today, and in the coming days (org time zone)."""
    now = now or timezone.now()
    local = now.astimezone(org_zone(actor.org.time_zone))
    end_of_today = (local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    horizon = end_of_today + dt.timedelta(days=upcoming_days)
    qs = (
        Task.objects.filter(organization_id=actor.org_id, assignee_id=actor.user.pk, done=False)
        .select_related("customer")
        .order_by("due_at", "id")
    )
    return MyDay(
        overdue=list(qs.filter(due_at__lt=now)),
        today=list(qs.filter(due_at__gte=now, due_at__lt=end_of_today)),
        upcoming=list(qs.filter(due_at__gte=end_of_today, due_at__lt=horizon)),
    )


# Notifications and email ----------------------------------------------------------------------


def notification_list(*, actor: Actor, unread: bool = False, cursor: str = "", limit: int = 50) -> Page:
    qs = Notification.objects.filter(organization_id=actor.org_id, user_id=actor.user.pk)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    if cursor:
        if not cursor.isdigit():
            raise ValidationFailed(errors=[FieldError("cursor", _("is not a cursor this list gave out"))])
        qs = qs.filter(pk__lt=int(cursor))
    rows = list(qs.order_by("-id")[: limit + 1])
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def email_list(*, actor: Actor, customer_id: int) -> list[EmailMessage]:
    from guanxi.customers.selectors import customer_get

    customer_get(actor=actor, customer_id=customer_id)
    return list(
        EmailMessage.objects.filter(organization_id=actor.org_id, customer_id=customer_id).order_by("-id")[
            :200
        ]
    )


def preview_customers(*, actor: Actor, limit: int = 30) -> list[Customer]:
    """Customers to preview a template with: recently updated visible ones, those with email first."""
    from guanxi.customers.selectors import customer_queryset

    qs = customer_queryset(actor).order_by("-updated_at", "-id")
    with_email = list(qs.exclude(email="")[:limit])
    if len(with_email) < limit:
        with_email += list(qs.filter(email="")[: limit - len(with_email)])
    return with_email

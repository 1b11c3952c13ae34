"""Reminders, the morning overdue digest, and notifications for other apps' events."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.models import Organization
from guanxi.engagement.email import sender_for
from guanxi.engagement.models import Task
from guanxi.engagement.selectors import org_zone
from guanxi.engagement.services import notify, preference_get

log = logging.getLogger(__name__)
REMINDER_WINDOW = dt.timedelta(days=1)  # a reminder missed by more than a day is not sent late
DIGEST_HOUR = 8


def task_reminders_due(*, now: dt.datetime | None = None) -> int:
    """One notification per task reminder whose time has come; recorded so it never repeats."""
    now = now or timezone.now()
    sent = 0
    tasks = Task.objects.filter(
        done=False, reminded_at__isnull=True, remind_at__lte=now, remind_at__gt=now - REMINDER_WINDOW
    ).select_related("customer", "organization")
    for task in tasks:
        assert task.remind_at is not None
        local_due = timezone.localtime(task.due_at, org_zone(task.organization.time_zone))
        note = notify(
            org_id=task.organization_id,
            user_id=task.assignee_id,
            kind="task_reminder",
            title=_("Reminder: %(title)s") % {"title": task.title},
            body=_("Due %(due)s") % {"due": local_due.strftime("%Y-%m-%d %H:%M")}
            + (f" · {task.customer.name}" if task.customer else ""),
            link=f"/customers/{task.customer_id}" if task.customer_id else "",
            key=f"task_reminder:{task.pk}:{task.remind_at.isoformat()}",
        )
        Task.objects.filter(pk=task.pk, remind_at=task.remind_at).update(reminded_at=now)
        sent += note is not None
    return sent


def overdue_digests(*, now: dt.datetime | None = None) -> int:
    """From 08:00 in each organisation's time zone: one digest per user with overdue tasks per day."""
    now = now or timezone.now()
    made = 0
    for org in Organization.objects.all():
        local = now.astimezone(org_zone(org.time_zone))
        if local.hour < DIGEST_HOUR:
            continue
        rows = (
            Task.objects.filter(organization=org, done=False, due_at__lt=now)
            .values("assignee_id")
            .annotate(n=Count("id"))
        )
        for row in rows:
            made += _digest(org, row["assignee_id"], row["n"], local, now)
    return made


def _digest(org: Organization, user_id: int, count: int, local: dt.datetime, now: dt.datetime) -> int:
    titles = list(
        Task.objects.filter(organization=org, assignee_id=user_id, done=False, due_at__lt=now)
        .order_by("due_at")
        .values_list("title", flat=True)[:20]
    )
    body = "\n".join(f"• {t}" for t in titles)
    title = _("You have %(count)s overdue tasks") % {"count": count}
    note = notify(
        org_id=org.pk,
        user_id=user_id,
        kind="overdue_digest",
        title=title,
        body=body,
        link="/tasks/my-day",
        key=f"digest:{local.date().isoformat()}",
    )
    if note is None:
        return 0
    user: Any = get_user_model().objects.filter(pk=user_id).first()
    if user is not None and user.email and preference_get(org_id=org.pk, user_id=user_id).email_digest:
        from_email, _reply = sender_for(org.pk)
        try:
            send_mail(f"[{org.name}] {title}", body, from_email, [user.email], fail_silently=False)
        except Exception:  # the in-app digest is there; the email is a courtesy
            log.exception("digest email to user %s failed", user_id)
    return 1


def on_pool_reclaim_warning(name: str, payload: dict[str, Any]) -> None:
    """The public pool warns an owner K days before reclaiming a customer: tell them in the app."""
    if not payload.get("user_id"):
        return
    notify(
        org_id=payload["org_id"],
        user_id=payload["user_id"],
        kind="pool_reclaim_warning",
        title=_("A customer returns to the public pool in %(days)s days")
        % {"days": payload.get("days_left", "?")},
        body=_("Follow up to keep it."),
        link=f"/customers/{payload['customer_id']}",
        key=f"pool_warning:{payload['customer_id']}:{payload.get('due_at', '')}"[:120],
    )


__all__ = ["overdue_digests", "task_reminders_due"]

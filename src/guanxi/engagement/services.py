"""Writes of the engagement app: activities, tasks, notifications, preferences, consent, settings.

Every write is a keyword-only function taking the ``Actor``; it runs in a transaction, writes the
audit row and emits its domain event after commit. Email and care rules live in ``email.py`` and
``care.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, PermissionDenied, ValidationFailed
from guanxi.core.events import emit
from guanxi.core.models import Membership
from guanxi.core.roles import Perm, Role
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import customer_get
from guanxi.engagement.models import (
    Activity,
    Consent,
    EngagementSettings,
    Notification,
    Task,
    UserPreference,
)

ACTIVITY_FIELDS = (
    "kind",
    "occurred_at",
    "subject",
    "content",
    "outcome",
    "next_step",
    "next_follow_up_at",
    "opportunity_id",
    "ticket_id",
)
TASK_FIELDS = ("title", "description", "due_at", "priority", "reminder_minutes", "done")
DEFAULT_FOLLOW_UP_REMINDER = 30  # minutes before a follow-up task made from an activity


def _member(actor: Actor, user_id: int, field: str) -> Membership:
    membership = (
        Membership.objects.select_related("user")
        .filter(organization_id=actor.org_id, user_id=user_id, is_active=True)
        .first()
    )
    if membership is None:
        raise ValidationFailed(errors=[FieldError(field, _("is not an active member of this organisation"))])
    return membership


def member_by_username(actor: Actor, username: str, field: str) -> Membership:
    membership = (
        Membership.objects.select_related("user")
        .filter(organization_id=actor.org_id, user__username=username, is_active=True)
        .first()
    )
    if membership is None:
        raise ValidationFailed(errors=[FieldError(field, _("no active member with this username"))])
    return membership


def _aware(value: dt.datetime | None, field: str) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        raise ValidationFailed(errors=[FieldError(field, _("needs a time zone offset, e.g. +08:00"))])
    return value


# Activities -----------------------------------------------------------------------------------


def _activity_snapshot(a: Activity) -> dict[str, Any]:
    return {name: getattr(a, name) for name in ACTIVITY_FIELDS}


def _touch_customer(customer_id: int, occurred_at: dt.datetime) -> None:
    """Move ``last_contacted_at`` forward (never back) with a direct UPDATE.

    The customer's ``version`` is deliberately not bumped: ``last_contacted_at`` is a derived fact,
    not an edit of the record. Bumping it would make a colleague's open edit form stale (412) just
    because someone logged a call, and would write a field-history row for every follow-up."""
    from django.db.models import Q

    Customer.objects.filter(pk=customer_id).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=occurred_at)
    ).update(last_contacted_at=occurred_at)


def _set_participants(
    actor: Actor, activity: Activity, user_ids: list[int] | None, contact_ids: list[int] | None
) -> None:
    if user_ids is not None:
        for uid in user_ids:
            _member(actor, uid, "participant_ids")
        activity.participants.set(user_ids)
    if contact_ids is not None:
        found = set(
            Contact.objects.filter(customer_id=activity.customer_id, pk__in=contact_ids).values_list(
                "pk", flat=True
            )
        )
        if missing := [c for c in contact_ids if c not in found]:
            raise ValidationFailed(
                errors=[FieldError("contact_ids", _("not contacts of this customer: %s") % missing)]
            )
        activity.contacts.set(contact_ids)


def activity_create(*, actor: Actor, customer_id: int, data: dict[str, Any]) -> Activity:
    actor.require(Perm.CUSTOMER_CHANGE)
    data = dict(data)
    participant_ids = data.pop("participant_ids", None)
    contact_ids = data.pop("contact_ids", None)
    data.setdefault("occurred_at", timezone.now())
    _aware(data["occurred_at"], "occurred_at")
    _aware(data.get("next_follow_up_at"), "next_follow_up_at")
    unknown = set(data) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ValidationFailed(errors=[FieldError(k, _("unknown field")) for k in sorted(unknown)])
    if data["kind"] not in Activity.Kind.values:
        raise ValidationFailed(errors=[FieldError("kind", _("is not a kind of activity"))])
    with transaction.atomic():
        customer = customer_get(actor=actor, customer_id=customer_id)
        activity = Activity.objects.create(
            organization_id=actor.org_id,
            customer=customer,
            created_by=actor.user,
            team_id=actor.membership.team_id,
            **data,
        )
        _set_participants(actor, activity, participant_ids, contact_ids)
        _touch_customer(customer.pk, activity.occurred_at)
        audit(
            actor=actor,
            action="create",
            object_type="activity",
            object_id=activity.pk,
            object_repr=f"{activity.kind}: {activity.subject}"[:200],
            changes={k: [None, v] for k, v in _activity_snapshot(activity).items() if v not in (None, "")},
            context={"customer_id": customer.pk},
        )
        task = None
        if activity.next_follow_up_at is not None:
            task = _follow_up_task(actor, activity, customer)
        emit(
            "activity.created",
            org_id=actor.org_id,
            activity_id=activity.pk,
            customer_id=customer.pk,
            kind=activity.kind,
            task_id=task.pk if task else None,
        )
    return activity


def _follow_up_task(actor: Actor, activity: Activity, customer: Customer) -> Task:
    """A next follow-up date becomes a task for the customer's owner (or the rep if unowned)."""
    assignee_id = customer.owner_id or actor.user.pk
    title = activity.next_step or _("Follow up with %(name)s") % {"name": customer.name}
    return task_create(
        actor=actor,
        data={
            "title": title[:200],
            "assignee_id": assignee_id,
            "due_at": activity.next_follow_up_at,
            "customer_id": customer.pk,
            "activity_id": activity.pk,
            "reminder_minutes": DEFAULT_FOLLOW_UP_REMINDER,
        },
        check_customer=False,
    )


def activity_get_for_write(actor: Actor, activity_id: int) -> Activity:
    from guanxi.engagement.selectors import activity_get

    actor.require(Perm.CUSTOMER_CHANGE)
    activity = activity_get(actor=actor, activity_id=activity_id)
    if activity.created_by_id != actor.user.pk and actor.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only the author, a manager or an administrator may change this record."))
    return activity


def activity_update(*, actor: Actor, activity_id: int, data: dict[str, Any]) -> Activity:
    data = dict(data)
    participant_ids = data.pop("participant_ids", None)
    contact_ids = data.pop("contact_ids", None)
    for name in ("occurred_at", "next_follow_up_at"):
        _aware(data.get(name), name)
    with transaction.atomic():
        activity = activity_get_for_write(actor, activity_id)
        before = _activity_snapshot(activity)
        for name, value in data.items():
            if name not in ACTIVITY_FIELDS:
                raise ValidationFailed(errors=[FieldError(name, _("unknown field"))])
            if name == "occurred_at" and value is None:
                raise ValidationFailed(errors=[FieldError(name, _("may not be empty"))])
            setattr(activity, name, value)
        activity.save()
        _set_participants(actor, activity, participant_ids, contact_ids)
        _touch_customer(activity.customer_id, activity.occurred_at)
        changes = diff(before, _activity_snapshot(activity))
        audit(
            actor=actor,
            action="update",
            object_type="activity",
            object_id=activity.pk,
            object_repr=f"{activity.kind}: {activity.subject}"[:200],
            changes=changes,
            context={"customer_id": activity.customer_id},
        )
        emit("activity.updated", org_id=actor.org_id, activity_id=activity.pk, fields=sorted(changes))
    return activity


def activity_delete(*, actor: Actor, activity_id: int) -> None:
    with transaction.atomic():
        activity = activity_get_for_write(actor, activity_id)
        audit(
            actor=actor,
            action="delete",
            object_type="activity",
            object_id=activity.pk,
            object_repr=f"{activity.kind}: {activity.subject}"[:200],
            changes={k: [v, None] for k, v in _activity_snapshot(activity).items() if v not in (None, "")},
            context={"customer_id": activity.customer_id},
        )
        customer_id = activity.customer_id
        activity.delete()
        emit("activity.deleted", org_id=actor.org_id, activity_id=activity_id, customer_id=customer_id)


# Tasks ----------------------------------------------------------------------------------------


def _remind_at(task: Task) -> dt.datetime | None:
    if task.reminder_minutes is None or task.done:
        return None
    return task.due_at - dt.timedelta(minutes=task.reminder_minutes)


def task_create(*, actor: Actor, data: dict[str, Any], check_customer: bool = True) -> Task:
    actor.require(Perm.CUSTOMER_CHANGE)
    data = dict(data)
    _aware(data.get("due_at"), "due_at")
    assignee_id = data.pop("assignee_id", None) or actor.user.pk
    _member(actor, assignee_id, "assignee")
    customer_id = data.pop("customer_id", None)
    activity_id = data.pop("activity_id", None)
    with transaction.atomic():
        if customer_id is not None and check_customer:
            customer_get(actor=actor, customer_id=customer_id)
        if activity_id is not None and check_customer:
            from guanxi.engagement.selectors import activity_get

            activity = activity_get(actor=actor, activity_id=activity_id)
            customer_id = customer_id or activity.customer_id
        task = Task(
            organization_id=actor.org_id,
            assignee_id=assignee_id,
            customer_id=customer_id,
            activity_id=activity_id,
            created_by=actor.user,
            **{k: v for k, v in data.items() if k in TASK_FIELDS},
        )
        if task.done:
            task.done_at = timezone.now()
        task.remind_at = _remind_at(task)
        task.save()
        audit(
            actor=actor,
            action="create",
            object_type="task",
            object_id=task.pk,
            object_repr=task.title,
            changes={
                "title": [None, task.title],
                "due_at": [None, task.due_at],
                "assignee": [None, assignee_id],
            },
            context={"customer_id": customer_id} if customer_id else None,
        )
        emit("task.created", org_id=actor.org_id, task_id=task.pk, assignee_id=assignee_id)
    return task


def task_update(*, actor: Actor, task_id: int, data: dict[str, Any]) -> Task:
    from guanxi.engagement.selectors import task_get

    actor.require(Perm.CUSTOMER_CHANGE)
    data = dict(data)
    _aware(data.get("due_at"), "due_at")
    with transaction.atomic():
        task = task_get(actor=actor, task_id=task_id, for_update=True)
        before = {k: getattr(task, k) for k in (*TASK_FIELDS, "assignee_id")}
        if "assignee_id" in data:
            task.assignee_id = _member(actor, data.pop("assignee_id"), "assignee").user_id
        for name, value in data.items():
            if name not in TASK_FIELDS:
                raise ValidationFailed(errors=[FieldError(name, _("unknown field"))])
            if name in ("title", "due_at", "priority", "done") and value is None:
                raise ValidationFailed(errors=[FieldError(name, _("may not be empty"))])
            setattr(task, name, value)
        if task.done and not before["done"]:
            task.done_at = timezone.now()
        elif not task.done:
            task.done_at = None
        new_remind_at = _remind_at(task)
        if new_remind_at != task.remind_at:
            task.remind_at, task.reminded_at = new_remind_at, None
        task.save()
        changes = diff(before, {k: getattr(task, k) for k in (*TASK_FIELDS, "assignee_id")})
        audit(
            actor=actor,
            action="update",
            object_type="task",
            object_id=task.pk,
            object_repr=task.title,
            changes=changes,
        )
        emit("task.updated", org_id=actor.org_id, task_id=task.pk, fields=sorted(changes))
    return task


def task_delete(*, actor: Actor, task_id: int) -> None:
    from guanxi.engagement.selectors import task_get

    actor.require(Perm.CUSTOMER_CHANGE)
    with transaction.atomic():
        task = task_get(actor=actor, task_id=task_id, for_update=True)
        audit(actor=actor, action="delete", object_type="task", object_id=task.pk, object_repr=task.title)
        task.delete()
        emit("task.deleted", org_id=actor.org_id, task_id=task_id)


# Notifications --------------------------------------------------------------------------------


def notify(
    *,
    org_id: int,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    key: str = "",
) -> Notification | None:
    """Create an in-app notification; with a ``key`` at most one ever exists (None if it did)."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                organization_id=org_id,
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body,
                link=link[:300],
                key=key,
            )
    except IntegrityError:
        if not key:
            raise
        return None


def notifications_mark_read(*, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the actor's notifications read (all unread when ``ids`` is None); returns how many."""
    qs = Notification.objects.filter(
        organization_id=actor.org_id, user_id=actor.user.pk, read_at__isnull=True
    )
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def preference_get(*, org_id: int, user_id: int) -> UserPreference:
    pref, _created = UserPreference.objects.get_or_create(organization_id=org_id, user_id=user_id)
    return pref


def preference_update(*, actor: Actor, email_digest: bool) -> UserPreference:
    pref = preference_get(org_id=actor.org_id, user_id=actor.user.pk)
    if pref.email_digest != email_digest:
        with transaction.atomic():
            UserPreference.objects.filter(pk=pref.pk).update(email_digest=email_digest)
            audit(
                actor=actor,
                action="update",
                object_type="preference",
                object_id=pref.pk,
                changes={"email_digest": [pref.email_digest, email_digest]},
            )
        pref.email_digest = email_digest
    return pref


# Consent and sender identity ------------------------------------------------------------------


def consent_record(
    *,
    actor: Actor,
    customer_id: int,
    purpose: str,
    channel: str,
    granted: bool,
    source: str = "",
    at: dt.datetime | None = None,
) -> Consent:
    actor.require(Perm.CUSTOMER_CHANGE)
    _aware(at, "at")
    with transaction.atomic():
        customer = customer_get(actor=actor, customer_id=customer_id)
        consent = Consent.objects.create(
            organization_id=actor.org_id,
            customer=customer,
            purpose=purpose,
            channel=channel,
            granted=granted,
            source=source,
            at=at or timezone.now(),
            created_by=actor.user,
        )
        audit(
            actor=actor,
            action="consent",
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
            changes={f"consent.{purpose}.{channel}": [None, granted]},
            context={"source": source} if source else None,
        )
        emit(
            "consent.recorded", org_id=actor.org_id, customer_id=customer.pk, purpose=purpose, granted=granted
        )
    return consent


def settings_get(*, org_id: int) -> EngagementSettings:
    obj, _created = EngagementSettings.objects.get_or_create(organization_id=org_id)
    return obj


def settings_update(*, actor: Actor, data: dict[str, Any]) -> EngagementSettings:
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        obj = settings_get(org_id=actor.org_id)
        before = {k: getattr(obj, k) for k in ("from_name", "from_email", "reply_to")}
        for name, value in data.items():
            setattr(obj, name, value or "")
        obj.save()
        changes = diff(before, {k: getattr(obj, k) for k in before})
        audit(
            actor=actor, action="update", object_type="engagement_settings", object_id=obj.pk, changes=changes
        )
    return obj

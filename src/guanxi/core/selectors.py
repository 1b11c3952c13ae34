"""Reads of organisation data: memberships, teams, audit events, custom-field definitions."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.core.audit import scope_audit_events
from guanxi.core.context import Actor
from guanxi.core.models import AuditEvent, CustomFieldDefinition, Job, Membership, Team
from guanxi.core.roles import Perm


def membership_for(user_id: int, org_id: int | None = None) -> Membership | None:
    """The user's active membership in ``org_id``, or their first one when no organisation is chosen."""
    qs = Membership.objects.select_related("organization", "user", "team").filter(
        user_id=user_id, is_active=True
    )
    if org_id is not None:
        qs = qs.filter(organization_id=org_id)
    return qs.order_by("organization_id").first()


def memberships_of_user(user_id: int) -> QuerySet[Membership]:
    return Membership.objects.select_related("organization").filter(user_id=user_id, is_active=True)


def membership_list(*, actor: Actor) -> QuerySet[Membership]:
    actor.require(Perm.ORG_ADMIN)
    return (
        Membership.objects.select_related("user", "team").filter(organization_id=actor.org_id).order_by("id")
    )


def team_list(*, actor: Actor) -> QuerySet[Team]:
    return Team.objects.filter(organization_id=actor.org_id).order_by("name")


def custom_field_list(*, actor: Actor) -> QuerySet[CustomFieldDefinition]:
    return CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer")


def audit_event_list(
    *,
    actor: Actor,
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    actor_name: str = "",
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    actor.require(Perm.AUDIT_VIEW)
    qs = scope_audit_events(actor, AuditEvent.objects.filter(organization_id=actor.org_id))
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action=action)
    if actor_name:
        qs = qs.filter(actor_name=actor_name)
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    return list(qs.order_by("-id")[:limit])


def job_list(*, actor: Actor, limit: int = 20) -> list[Job]:
    qs = Job.objects.filter(organization_id=actor.org_id)
    if actor.membership.role != "admin":
        qs = qs.filter(created_by_id=actor.user.pk)
    return list(qs.order_by("-id")[:limit])

"""REST endpoints for the signed-in user, memberships, teams, custom-field definitions and the audit log."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from guanxi.api.auth import actor_of
from guanxi.core import jobs, selectors, services
from guanxi.core.audit import event_to_dict
from guanxi.core.models import Membership
from guanxi.core.roles import ROLE_PERMISSIONS, Perm, Role
from guanxi.core.schemas import (
    AuditOut,
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPatch,
    JobOut,
    MembershipIn,
    MembershipOut,
    MembershipPatch,
    MeOut,
    TeamIn,
    TeamOut,
)

router = Router(tags=["organisation"])


def _membership_dict(m: Membership) -> dict[str, Any]:
    return {
        "id": m.pk,
        "username": m.user.username,
        "email": m.user.email,
        "display_name": m.user.first_name,
        "role": m.role,
        "team": m.team.name if m.team else None,
        "is_active": m.is_active,
        "created_at": m.created_at,
    }


@router.get("/me", response=MeOut, summary="Who am I, in which organisation, with which permissions")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    perms = sorted(p.value for p in ROLE_PERMISSIONS[Role(actor.membership.role)] if actor.has(p))
    return {
        "username": actor.user.username,
        "organization": actor.org.name,
        "role": actor.membership.role,
        "team": actor.membership.team.name if actor.membership.team else None,
        "permissions": perms,
        "organizations": [m.organization.name for m in selectors.memberships_of_user(actor.user.pk)],
    }


@router.get("/users", response=list[MembershipOut], summary="Users and their roles (admin)")
def list_users(request: HttpRequest) -> list[dict[str, Any]]:
    return [_membership_dict(m) for m in selectors.membership_list(actor=actor_of(request))]


@router.post("/users", response={201: MembershipOut}, summary="Add a user to the organisation (admin)")
def create_user(request: HttpRequest, payload: MembershipIn) -> Status[Any]:
    actor = actor_of(request)
    actor.require(Perm.ORG_ADMIN)
    membership, _created = services.membership_upsert(
        org=actor.org,
        username=payload.username,
        role=payload.role,
        team=payload.team,
        password=payload.password,
        email=payload.email,
        display_name=payload.display_name,
        actor=actor,
    )
    return Status(201, _membership_dict(membership))


@router.patch(
    "/users/{int:membership_id}", response=MembershipOut, summary="Change role, team or access (admin)"
)
def update_user(request: HttpRequest, membership_id: int, payload: MembershipPatch) -> dict[str, Any]:
    m = services.membership_update(
        actor=actor_of(request), membership_id=membership_id, data=payload.model_dump(exclude_unset=True)
    )
    return _membership_dict(m)


@router.get("/teams", response=list[TeamOut])
def list_teams(request: HttpRequest) -> Any:
    return list(selectors.team_list(actor=actor_of(request)))


@router.post("/teams", response={201: TeamOut}, summary="Create a team (admin)")
def create_team(request: HttpRequest, payload: TeamIn) -> Any:
    actor = actor_of(request)
    actor.require(Perm.ORG_ADMIN)
    return Status(201, services.team_get_or_create(org=actor.org, name=payload.name, actor=actor))


@router.get("/custom-fields", response=list[CustomFieldOut], summary="Custom-field definitions for customers")
def list_custom_fields(request: HttpRequest) -> Any:
    return list(selectors.custom_field_list(actor=actor_of(request)))


@router.post("/custom-fields", response={201: CustomFieldOut}, summary="Define a custom field (admin)")
def create_custom_field(request: HttpRequest, payload: CustomFieldIn) -> Any:
    return Status(201, services.custom_field_create(actor=actor_of(request), data=payload.model_dump()))


@router.patch(
    "/custom-fields/{int:field_id}", response=CustomFieldOut, summary="Change a custom field (admin)"
)
def update_custom_field(request: HttpRequest, field_id: int, payload: CustomFieldPatch) -> Any:
    return services.custom_field_update(
        actor=actor_of(request), field_id=field_id, data=payload.model_dump(exclude_unset=True)
    )


@router.delete("/custom-fields/{int:field_id}", response={204: None}, summary="Remove a custom field (admin)")
def delete_custom_field(request: HttpRequest, field_id: int) -> HttpResponse:
    services.custom_field_delete(actor=actor_of(request), field_id=field_id)
    return HttpResponse(status=204)


@router.get("/audit-events", response=list[AuditOut], summary="The audit log (admin, manager)")
def list_audit_events(
    request: HttpRequest,
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    actor: str = "",
    before_id: int | None = None,
    limit: int = Query(50, ge=1, le=500),  # type: ignore[type-arg]
) -> list[dict[str, Any]]:
    events = selectors.audit_event_list(
        actor=actor_of(request),
        object_type=object_type,
        object_id=object_id,
        action=action,
        actor_name=actor,
        before_id=before_id,
        limit=limit,
    )
    return [event_to_dict(e) for e in events]


@router.get("/jobs", response=list[JobOut], summary="Your recent background jobs (admins: everyone's)")
def list_jobs(request: HttpRequest, limit: int = Query(20, ge=1, le=100)) -> Any:  # type: ignore[type-arg]
    return selectors.job_list(actor=actor_of(request), limit=limit)


@router.get("/jobs/{int:job_id}", response=JobOut, summary="A job's state and progress (poll this)")
def get_job(request: HttpRequest, job_id: int) -> Any:
    return jobs.job_get(actor=actor_of(request), job_id=job_id)


@router.post("/jobs/{int:job_id}/cancel", response=JobOut, summary="Ask a queued or running job to stop")
def cancel_job(request: HttpRequest, job_id: int) -> Any:
    return jobs.job_cancel(actor=actor_of(request), job_id=job_id)

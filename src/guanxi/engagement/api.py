"""REST endpoints of the engagement app. Thin: services and selectors do the work."""

import datetime as dt
from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from guanxi.api.auth import actor_of
from guanxi.api.idempotency import idempotent, json_response
from guanxi.core.context import Actor
from guanxi.customers.timeline import customer_timeline
from guanxi.engagement import care, email, selectors, services
from guanxi.engagement.export import activities_export
from guanxi.engagement.models import Activity, CareRule, Consent, EmailMessage, Notification, Task
from guanxi.engagement.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityPage,
    ActivityPatch,
    BounceIn,
    CareRuleIn,
    CareRuleOut,
    CareRulePatch,
    ConsentIn,
    ConsentOut,
    EmailOut,
    EmailSendIn,
    MarkReadIn,
    MyDayOut,
    NotificationPage,
    PreferenceIn,
    PreferenceOut,
    PreviewOut,
    SettingsIn,
    SettingsOut,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
    TimelineOut,
)

router = Router(tags=["engagement"])


def activity_to_dict(a: Activity) -> dict[str, Any]:
    return {
        "id": a.pk,
        "customer_id": a.customer_id,
        "customer_name": a.customer.name,
        "kind": a.kind,
        "occurred_at": a.occurred_at,
        "subject": a.subject,
        "content": a.content,
        "outcome": a.outcome,
        "next_step": a.next_step,
        "next_follow_up_at": a.next_follow_up_at,
        "rep": a.created_by.get_username() if a.created_by else None,
        "team": a.team.name if a.team else None,
        "participant_ids": [u.pk for u in a.participants.all()],
        "contact_ids": [c.pk for c in a.contacts.all()],
        "opportunity_id": a.opportunity_id,
        "ticket_id": a.ticket_id,
        "created_at": a.created_at,
    }


def task_to_dict(t: Task) -> dict[str, Any]:
    return {
        "id": t.pk,
        "title": t.title,
        "description": t.description,
        "assignee": t.assignee.get_username(),
        "due_at": t.due_at,
        "priority": t.priority,
        "customer_id": t.customer_id,
        "activity_id": t.activity_id,
        "reminder_minutes": t.reminder_minutes,
        "done": t.done,
        "done_at": t.done_at,
        "created_at": t.created_at,
    }


# Activities -----------------------------------------------------------------------------------


class ActivityQuery(Schema):
    model_config = ConfigDict(populate_by_name=True)

    rep: str = Field("", max_length=150, description="username of the rep who logged it")
    team: str = Field("", max_length=100)
    kind: str = Field("", max_length=100, description="one kind or several, comma-separated")
    outcome: str = Field("", max_length=100)
    customer_id: int | None = None
    from_: dt.datetime | None = Field(None, alias="from", description="occurred at or after")
    to: dt.datetime | None = Field(None, description="occurred before")
    cursor: str = Field("", max_length=500)
    limit: int = Field(50, ge=1, le=200)


def _activity_filters(query: ActivityQuery) -> selectors.ActivityFilters:
    return selectors.ActivityFilters(
        rep=query.rep,
        team=query.team,
        kind=query.kind,
        outcome=query.outcome,
        customer_id=query.customer_id,
        occurred_from=query.from_,
        occurred_to=query.to,
    )


def _activity(actor: Actor, activity_id: int) -> Activity:
    qs = selectors.activity_queryset(actor).select_related("customer", "created_by", "team")
    return qs.prefetch_related("participants", "contacts").get(pk=activity_id)


@router.get("/activities", response=ActivityPage, summary="The follow-up records table (跟进记录表)")
def list_activities(request: HttpRequest, query: Query[ActivityQuery]) -> dict[str, Any]:
    actor = actor_of(request)
    page = selectors.activity_list(
        actor=actor, filters=_activity_filters(query), cursor=query.cursor, limit=query.limit
    )
    ids = [a.pk for a in page.items]
    rows = {
        a.pk: a
        for a in Activity.objects.filter(pk__in=ids)
        .select_related("customer", "created_by", "team")
        .prefetch_related("participants", "contacts")
    }
    return {"items": [activity_to_dict(rows[i]) for i in ids], "next_cursor": page.next_cursor}


@router.get("/activities/export.csv", summary="Export the follow-up records as CSV (audited)")
def export_activities(request: HttpRequest, query: Query[ActivityQuery]) -> StreamingHttpResponse:
    rows = activities_export(actor=actor_of(request), filters=_activity_filters(query))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="activities-{stamp}.csv"'
    return response


@router.post("/activities", response={201: ActivityOut}, summary="Log a follow-up (call, visit, …)")
@idempotent
def create_activity(request: HttpRequest, payload: ActivityIn) -> HttpResponse:
    actor = actor_of(request)
    data = payload.model_dump(exclude={"customer_id"})
    if data["occurred_at"] is None:
        data.pop("occurred_at")
    activity = services.activity_create(actor=actor, customer_id=payload.customer_id, data=data)
    return json_response(
        activity_to_dict(_activity(actor, activity.pk)),
        status=201,
        headers={"Location": f"/api/v1/activities/{activity.pk}"},
    )


@router.get("/activities/{int:activity_id}", response=ActivityOut)
def get_activity(request: HttpRequest, activity_id: int) -> dict[str, Any]:
    actor = actor_of(request)
    selectors.activity_get(actor=actor, activity_id=activity_id)
    return activity_to_dict(_activity(actor, activity_id))


@router.patch("/activities/{int:activity_id}", response=ActivityOut)
def update_activity(request: HttpRequest, activity_id: int, payload: ActivityPatch) -> dict[str, Any]:
    actor = actor_of(request)
    data = payload.model_dump(exclude_unset=True)
    services.activity_update(actor=actor, activity_id=activity_id, data=data)
    return activity_to_dict(_activity(actor, activity_id))


@router.delete("/activities/{int:activity_id}", response={204: None})
def delete_activity(request: HttpRequest, activity_id: int) -> HttpResponse:
    services.activity_delete(actor=actor_of(request), activity_id=activity_id)
    return HttpResponse(status=204)


@router.get("/customers/{int:customer_id}/timeline", response=TimelineOut, summary="Customer timeline")
def timeline(
    request: HttpRequest,
    customer_id: int,
    before: str = Query("", max_length=500),  # type: ignore[type-arg]
    limit: int = Query(50, ge=1, le=200),  # type: ignore[type-arg]
) -> dict[str, Any]:
    page = customer_timeline(
        actor=actor_of(request), customer_id=customer_id, before=before or None, limit=limit
    )
    return page.as_dict()


# Tasks ----------------------------------------------------------------------------------------


def _assignee_id(actor: Actor, username: str | None) -> int | None:
    if not username:
        return None
    return services.member_by_username(actor, username, "assignee").user_id


@router.get("/tasks", response=TaskPage, summary="Tasks (yours, and your customers')")
def list_tasks(
    request: HttpRequest,
    assignee: str = Query("", max_length=150),  # type: ignore[type-arg]
    done: bool | None = None,
    customer_id: int | None = None,
    cursor: str = Query("", max_length=500),  # type: ignore[type-arg]
    limit: int = Query(50, ge=1, le=200),  # type: ignore[type-arg]
) -> dict[str, Any]:
    page = selectors.task_list(
        actor=actor_of(request),
        assignee=assignee,
        done=done,
        customer_id=customer_id,
        cursor=cursor,
        limit=limit,
    )
    return {"items": [task_to_dict(t) for t in page.items], "next_cursor": page.next_cursor}


@router.get("/tasks/my-day", response=MyDayOut, summary="My day: overdue, today, upcoming (org time zone)")
def my_day(request: HttpRequest) -> dict[str, Any]:
    day = selectors.my_day(actor=actor_of(request))
    return {
        "overdue": [task_to_dict(t) for t in day.overdue],
        "today": [task_to_dict(t) for t in day.today],
        "upcoming": [task_to_dict(t) for t in day.upcoming],
    }


@router.post("/tasks", response={201: TaskOut})
@idempotent
def create_task(request: HttpRequest, payload: TaskIn) -> HttpResponse:
    actor = actor_of(request)
    data = payload.model_dump(exclude={"assignee"})
    data["assignee_id"] = _assignee_id(actor, payload.assignee)
    task = services.task_create(actor=actor, data=data)
    task = Task.objects.select_related("assignee").get(pk=task.pk)
    return json_response(task_to_dict(task), status=201, headers={"Location": f"/api/v1/tasks/{task.pk}"})


@router.get("/tasks/{int:task_id}", response=TaskOut)
def get_task(request: HttpRequest, task_id: int) -> dict[str, Any]:
    return task_to_dict(selectors.task_get(actor=actor_of(request), task_id=task_id))


@router.patch("/tasks/{int:task_id}", response=TaskOut)
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> dict[str, Any]:
    actor = actor_of(request)
    selectors.task_get(actor=actor, task_id=task_id)  # 404 before field errors
    data = payload.model_dump(exclude_unset=True)
    if "assignee" in data:
        data["assignee_id"] = _assignee_id(actor, data.pop("assignee")) or actor.user.pk
    services.task_update(actor=actor, task_id=task_id, data=data)
    return task_to_dict(selectors.task_get(actor=actor, task_id=task_id))


@router.delete("/tasks/{int:task_id}", response={204: None})
def delete_task(request: HttpRequest, task_id: int) -> HttpResponse:
    services.task_delete(actor=actor_of(request), task_id=task_id)
    return HttpResponse(status=204)


# Notifications --------------------------------------------------------------------------------


@router.get("/notifications", response=NotificationPage, summary="Your in-app notifications, newest first")
def list_notifications(
    request: HttpRequest,
    unread: bool = False,
    cursor: str = Query("", max_length=50),  # type: ignore[type-arg]
    limit: int = Query(50, ge=1, le=200),  # type: ignore[type-arg]
) -> dict[str, Any]:
    actor = actor_of(request)
    page = selectors.notification_list(actor=actor, unread=unread, cursor=cursor, limit=limit)
    count = Notification.objects.filter(
        organization_id=actor.org_id, user_id=actor.user.pk, read_at__isnull=True
    ).aggregate(n=Count("id"))["n"]
    return {"items": page.items, "next_cursor": page.next_cursor, "unread": count}


@router.post("/notifications/read", response={200: dict[str, int]}, summary="Mark read (all when no ids)")
def mark_read(request: HttpRequest, payload: MarkReadIn) -> dict[str, int]:
    return {"marked": services.notifications_mark_read(actor=actor_of(request), ids=payload.ids)}


@router.get("/notifications/preferences", response=PreferenceOut)
def get_preferences(request: HttpRequest) -> Any:
    actor = actor_of(request)
    return services.preference_get(org_id=actor.org_id, user_id=actor.user.pk)


@router.put("/notifications/preferences", response=PreferenceOut)
def put_preferences(request: HttpRequest, payload: PreferenceIn) -> Any:
    return services.preference_update(actor=actor_of(request), email_digest=payload.email_digest)


# Email ----------------------------------------------------------------------------------------


@router.get("/email-templates", response=list[TemplateOut])
def list_templates(request: HttpRequest) -> Any:
    from guanxi.engagement.models import MessageTemplate

    return list(MessageTemplate.objects.filter(organization_id=actor_of(request).org_id).order_by("name"))


@router.post("/email-templates", response={201: TemplateOut})
def create_template(request: HttpRequest, payload: TemplateIn) -> Status[Any]:
    return Status(201, email.template_create(actor=actor_of(request), data=payload.model_dump()))


@router.get("/email-templates/{int:template_id}", response=TemplateOut)
def get_template(request: HttpRequest, template_id: int) -> Any:
    return email.template_get(actor=actor_of(request), template_id=template_id)


@router.patch("/email-templates/{int:template_id}", response=TemplateOut)
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch) -> Any:
    data = payload.model_dump(exclude_unset=True)
    return email.template_update(actor=actor_of(request), template_id=template_id, data=data)


@router.delete("/email-templates/{int:template_id}", response={204: None})
def delete_template(request: HttpRequest, template_id: int) -> HttpResponse:
    email.template_delete(actor=actor_of(request), template_id=template_id)
    return HttpResponse(status=204)


@router.get(
    "/customers/{int:customer_id}/emails", response=list[EmailOut], summary="Emails sent to a customer"
)
def list_emails(request: HttpRequest, customer_id: int) -> Any:
    return selectors.email_list(actor=actor_of(request), customer_id=customer_id)


@router.post(
    "/customers/{int:customer_id}/emails",
    response={202: EmailOut},
    summary="Send an email (template or subject/body); queued, delivered by the worker",
)
@idempotent
def send_email(request: HttpRequest, customer_id: int, payload: EmailSendIn) -> HttpResponse:
    message = email.email_send(actor=actor_of(request), customer_id=customer_id, **payload.model_dump())
    return json_response(EmailOut.model_validate(message).model_dump(mode="json"), status=202)


@router.post("/emails/{int:email_id}/bounce", response=EmailOut, summary="Record a bounce (admin)")
def bounce_email(request: HttpRequest, email_id: int, payload: BounceIn) -> EmailMessage:
    return email.email_mark_bounced(actor=actor_of(request), message_id=email_id, error=payload.error)


@router.get("/customers/{int:customer_id}/consents", response=list[ConsentOut])
def list_consents(request: HttpRequest, customer_id: int) -> Any:
    from guanxi.customers.selectors import customer_get

    actor = actor_of(request)
    customer_get(actor=actor, customer_id=customer_id)
    return list(
        Consent.objects.filter(organization_id=actor.org_id, customer_id=customer_id).order_by("-at", "-id")
    )


@router.post("/customers/{int:customer_id}/consents", response={201: ConsentOut}, summary="Record consent")
def record_consent(request: HttpRequest, customer_id: int, payload: ConsentIn) -> Status[Any]:
    consent = services.consent_record(
        actor=actor_of(request), customer_id=customer_id, **payload.model_dump()
    )
    return Status(201, consent)


@router.get("/engagement/settings", response=SettingsOut, summary="Sender identity of the organisation")
def get_settings(request: HttpRequest) -> Any:
    return services.settings_get(org_id=actor_of(request).org_id)


@router.put("/engagement/settings", response=SettingsOut, summary="Change the sender identity (admin)")
def put_settings(request: HttpRequest, payload: SettingsIn) -> Any:
    return services.settings_update(actor=actor_of(request), data=payload.model_dump())


# Care rules -----------------------------------------------------------------------------------


@router.get("/care-rules", response=list[CareRuleOut], summary="Care automation rules (关怀)")
def list_rules(request: HttpRequest) -> Any:
    return list(CareRule.objects.filter(organization_id=actor_of(request).org_id).order_by("pk"))


@router.post("/care-rules", response={201: CareRuleOut}, summary="Create a care rule (admin)")
def create_rule(request: HttpRequest, payload: CareRuleIn) -> Status[Any]:
    return Status(201, care.rule_create(actor=actor_of(request), data=payload.model_dump()))


@router.get("/care-rules/{int:rule_id}", response=CareRuleOut)
def get_rule(request: HttpRequest, rule_id: int) -> Any:
    return care.rule_get(actor=actor_of(request), rule_id=rule_id)


@router.patch("/care-rules/{int:rule_id}", response=CareRuleOut, summary="Change a care rule (admin)")
def update_rule(request: HttpRequest, rule_id: int, payload: CareRulePatch) -> Any:
    data = payload.model_dump(exclude_unset=True)
    return care.rule_update(actor=actor_of(request), rule_id=rule_id, data=data)


@router.delete("/care-rules/{int:rule_id}", response={204: None})
def delete_rule(request: HttpRequest, rule_id: int) -> HttpResponse:
    care.rule_delete(actor=actor_of(request), rule_id=rule_id)
    return HttpResponse(status=204)


@router.get("/care-rules/{int:rule_id}/preview", response=PreviewOut, summary="Who the next run will contact")
def preview_rule(request: HttpRequest, rule_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    return care.care_preview(actor=actor_of(request), rule_id=rule_id, now=now)


__all__ = ["router"]

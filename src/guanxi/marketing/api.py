"""REST endpoints of web forms (administrators): CRUD, regenerate the token, the submission log."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from guanxi.api.auth import actor_of
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.marketing import webforms
from guanxi.marketing.embed import public_url
from guanxi.marketing.models import WebForm, WebFormSubmission
from guanxi.marketing.schemas import SubmissionPage, WebFormIn, WebFormOut, WebFormPatch

router = Router(tags=["web forms"])


def webform_to_dict(request: HttpRequest, form: WebForm) -> dict[str, Any]:
    return {
        "id": form.pk,
        "name": form.name,
        "title": form.title,
        "intro": form.intro,
        "language": form.language,
        "fields": form.fields,
        "source": form.source,
        "assignment": form.assignment,
        "assign_user": form.assign_user.get_username() if form.assign_user else None,
        "assign_team": form.assign_team.name if form.assign_team else None,
        "tags": form.tags,
        "consent_text": form.consent_text,
        "consent_purpose": form.consent_purpose,
        "consent_channels": form.consent_channels,
        "thank_you_text": form.thank_you_text,
        "redirect_url": form.redirect_url,
        "allowed_origins": form.allowed_origins,
        "is_active": form.is_active,
        "token": form.token,
        "public_url": public_url(request, form),
        "created_at": form.created_at,
        "updated_at": form.updated_at,
    }


def submission_to_dict(s: WebFormSubmission) -> dict[str, Any]:
    return {
        "id": s.pk,
        "outcome": s.outcome,
        "customer_id": s.customer_id,
        "data": s.data,
        "errors": s.errors,
        "user_agent": s.user_agent,
        "created_at": s.created_at,
    }


@router.get("/web-forms", response=list[WebFormOut], summary="Web forms of the organisation (admin)")
def list_forms(request: HttpRequest) -> list[dict[str, Any]]:
    return [webform_to_dict(request, f) for f in webforms.webform_list(actor=actor_of(request))]


@router.post("/web-forms", response={201: WebFormOut}, summary="Create a web form (admin)")
def create_form(request: HttpRequest, payload: WebFormIn) -> Status[Any]:
    form = webforms.webform_create(actor=actor_of(request), data=payload.model_dump())
    return Status(201, webform_to_dict(request, form))


@router.get("/web-forms/{int:form_id}", response=WebFormOut)
def get_form(request: HttpRequest, form_id: int) -> dict[str, Any]:
    return webform_to_dict(request, webforms.webform_get(actor=actor_of(request), form_id=form_id))


@router.patch("/web-forms/{int:form_id}", response=WebFormOut, summary="Change a web form (admin)")
def update_form(request: HttpRequest, form_id: int, payload: WebFormPatch) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    nulls = [k for k, v in data.items() if v is None]
    if nulls:
        raise ValidationFailed(errors=[FieldError(k, "may not be null") for k in nulls])
    form = webforms.webform_update(actor=actor_of(request), form_id=form_id, data=data)
    return webform_to_dict(request, form)


@router.delete("/web-forms/{int:form_id}", response={204: None}, summary="Delete a web form (customers stay)")
def delete_form(request: HttpRequest, form_id: int) -> Status[None]:
    webforms.webform_delete(actor=actor_of(request), form_id=form_id)
    return Status(204, None)


@router.post(
    "/web-forms/{int:form_id}/regenerate-token",
    response=WebFormOut,
    summary="New public address; the old one answers 404 from now on",
)
def regenerate_token(request: HttpRequest, form_id: int) -> dict[str, Any]:
    form = webforms.webform_regenerate_token(actor=actor_of(request), form_id=form_id)
    return webform_to_dict(request, form)


class SubmissionQuery(Schema):
    outcome: str = Field("", max_length=10, description="created, updated, rejected or spam")
    cursor: str = Field("", max_length=20, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=200)


@router.get(
    "/web-forms/{int:form_id}/submissions", response=SubmissionPage, summary="Submission log, newest first"
)
def list_submissions(request: HttpRequest, form_id: int, query: Query[SubmissionQuery]) -> dict[str, Any]:
    errors = []
    if query.outcome and query.outcome not in WebFormSubmission.Outcome.values:
        errors.append(FieldError("outcome", "must be created, updated, rejected or spam"))
    if query.cursor and not query.cursor.isdigit():
        errors.append(FieldError("cursor", "is not a cursor this list gave out"))
    if errors:
        raise ValidationFailed(errors=errors)
    rows, next_before = webforms.submission_list(
        actor=actor_of(request),
        form_id=form_id,
        before_id=int(query.cursor) if query.cursor else None,
        limit=query.limit,
        outcome=query.outcome,
    )
    return {
        "items": [submission_to_dict(s) for s in rows],
        "next_cursor": str(next_before) if next_before else None,
    }

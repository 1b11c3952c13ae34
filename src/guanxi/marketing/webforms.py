"""Admin writes and reads of web forms: create, change, regenerate the token, (de)activate, delete.

Only administrators manage forms and read submissions: submissions carry raw phone numbers and
emails, which masked roles must not see.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.roles import Perm
from guanxi.marketing.models import WebForm, WebFormSubmission, new_form_token
from guanxi.marketing.webform_config import clean_form_settings

AUDITED = [
    "name",
    "title",
    "intro",
    "language",
    "fields",
    "source",
    "assignment",
    "assign_user",
    "assign_team",
    "tags",
    "consent_text",
    "consent_purpose",
    "consent_channels",
    "thank_you_text",
    "redirect_url",
    "allowed_origins",
    "is_active",
]


def _snapshot(form: WebForm) -> dict[str, Any]:
    data = {name: getattr(form, name) for name in AUDITED if name not in ("assign_user", "assign_team")}
    data["assign_user"] = (
        form.assign_user.get_username() if form.assign_user_id and form.assign_user else None
    )
    data["assign_team"] = form.assign_team.name if form.assign_team_id and form.assign_team else None
    return data


def webform_queryset(actor: Actor) -> QuerySet[WebForm]:
    actor.require(Perm.ORG_ADMIN)
    return WebForm.objects.filter(organization_id=actor.org_id).select_related("assign_user", "assign_team")


def webform_list(*, actor: Actor) -> list[WebForm]:
    return list(webform_queryset(actor).order_by("name", "pk"))


def webform_get(*, actor: Actor, form_id: int, for_update: bool = False) -> WebForm:
    qs = webform_queryset(actor)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    form = qs.filter(pk=form_id).first()
    if form is None:
        raise NotFound(_("Web form not found."))
    return form


def webform_create(*, actor: Actor, data: dict[str, Any]) -> WebForm:
    actor.require(Perm.ORG_ADMIN)
    values, errors = clean_form_settings(actor.org_id, data, None)
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        form = WebForm.objects.create(organization_id=actor.org_id, created_by=actor.user, **values)
        audit(
            actor=actor,
            action="create",
            object_type="web_form",
            object_id=form.pk,
            object_repr=form.name,
            changes=diff({}, _snapshot(form), AUDITED),
        )
    return form


def webform_update(*, actor: Actor, form_id: int, data: dict[str, Any]) -> WebForm:
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        form = webform_get(actor=actor, form_id=form_id, for_update=True)
        values, errors = clean_form_settings(actor.org_id, data, form)
        if errors:
            raise ValidationFailed(errors=errors)
        before = _snapshot(form)
        team_before = form.assign_team_id
        for name, value in values.items():
            setattr(form, name, value)
        if form.assign_team_id != team_before:
            form.last_assigned_user = None  # a new team starts its round from the first member
        form.save()
        changes = diff(before, _snapshot(form), AUDITED)
        if changes:
            audit(
                actor=actor,
                action="update",
                object_type="web_form",
                object_id=form.pk,
                object_repr=form.name,
                changes=changes,
            )
    return form


def webform_set_active(*, actor: Actor, form_id: int, active: bool) -> WebForm:
    return webform_update(actor=actor, form_id=form_id, data={"is_active": active})


def webform_regenerate_token(*, actor: Actor, form_id: int) -> WebForm:
    """A new public address; the old one answers 404 from now on (embeds must be updated)."""
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        form = webform_get(actor=actor, form_id=form_id, for_update=True)
        form.token = new_form_token()
        form.save(update_fields=["token", "updated_at"])
        # The token itself is a secret: the audit row says it changed, not what it is.
        audit(
            actor=actor,
            action="regenerate_token",
            object_type="web_form",
            object_id=form.pk,
            object_repr=form.name,
        )
    return form


def webform_delete(*, actor: Actor, form_id: int) -> None:
    """Delete a form and its submission log; the customers it created stay."""
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        form = webform_get(actor=actor, form_id=form_id, for_update=True)
        audit(actor=actor, action="delete", object_type="web_form", object_id=form.pk, object_repr=form.name)
        form.delete()


def submission_list(
    *, actor: Actor, form_id: int, before_id: int | None = None, limit: int = 50, outcome: str = ""
) -> tuple[list[WebFormSubmission], int | None]:
    """Newest first, keyset-paged by id; returns the page and the id to pass as ``before_id`` next."""
    form = webform_get(actor=actor, form_id=form_id)
    qs = WebFormSubmission.objects.filter(form=form).select_related("customer")
    if outcome:
        qs = qs.filter(outcome=outcome)
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].pk if more and rows else None)


def submission_counts(*, actor: Actor, form_ids: list[int]) -> dict[int, dict[str, int]]:
    webform_queryset(actor)  # permission check
    return _counts(WebFormSubmission.objects.filter(organization_id=actor.org_id, form_id__in=form_ids))


def submission_counts_of_org(*, org_id: int) -> dict[int, dict[str, int]]:
    return _counts(WebFormSubmission.objects.filter(organization_id=org_id))


def _counts(qs: QuerySet[WebFormSubmission]) -> dict[int, dict[str, int]]:
    """{form id: {outcome: count}}: one grouped query."""
    from django.db.models import Count

    out: dict[int, dict[str, int]] = {}
    rows = qs.values("form_id", "outcome").annotate(n=Count("id"))
    for row in rows:
        out.setdefault(row["form_id"], {})[row["outcome"]] = row["n"]
    return out


def webforms_of_org(*, org_id: int) -> list[WebForm]:
    """Every form of an organisation, for the operator's CLI (which has shell access anyway)."""
    return list(
        WebForm.objects.filter(organization_id=org_id)
        .select_related("assign_user", "assign_team")
        .order_by("name", "pk")
    )

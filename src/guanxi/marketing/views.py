"""Settings pages for web forms (administrators): list, build/edit with a field editor, preview,
embed snippets, submissions, regenerate the token, (de)activate, delete.

The field editor needs no JavaScript: "add field", "remove", "up" and "down" are submit buttons that
post the whole editor back; the view applies the move and renders the editor again without saving.
Only "save" goes through the service (which validates everything and audits).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.context import Actor
from guanxi.core.errors import ValidationFailed
from guanxi.core.models import CustomFieldDefinition, Membership, Team
from guanxi.core.roles import Perm
from guanxi.marketing import webforms
from guanxi.marketing.embed import html_snippet, iframe_snippet, public_url
from guanxi.marketing.intake import OWNER_ROLES
from guanxi.marketing.models import WebForm, WebFormSubmission
from guanxi.marketing.public_views import render_form_page
from guanxi.marketing.webform_config import CONSENT_CHANNELS, FIELD_TYPES, form_fields, target_choices
from guanxi.web.decorators import workspace

MAX_ROWS = 30


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _default_fields() -> list[dict[str, Any]]:
    """A new form starts with the usual lead fields (name, mobile, email, company, message)."""
    rows = [
        ("name", "姓名", "Name", "text", True, "name"),
        ("phone", "手机", "Mobile", "phone", False, "phone"),
        ("email", "邮箱", "Email", "email", False, "email"),
        ("company", "公司", "Company", "text", False, "company"),
        ("message", "留言", "Message", "textarea", False, "notes"),
    ]
    return [
        {"key": k, "label": {"zh-hans": zh, "en": en}, "type": t, "required": r, "maps_to": m}
        for k, zh, en, t, r, m in rows
    ]


def _rows_from_post(request: HttpRequest) -> list[dict[str, Any]]:
    try:
        count = min(int(request.POST.get("field_count", "0")), MAX_ROWS + 1)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        p = f"f{i}_"
        choices = request.POST.get(p + "choices", "").replace("，", ",").replace("\n", ",")
        rows.append(
            {
                "key": request.POST.get(p + "key", "").strip(),
                "label": {
                    "zh-hans": request.POST.get(p + "label_zh", "").strip(),
                    "en": request.POST.get(p + "label_en", "").strip(),
                },
                "type": request.POST.get(p + "type", "text"),
                "required": request.POST.get(p + "required") == "on",
                "choices": [c.strip() for c in choices.split(",") if c.strip()],
                "maps_to": request.POST.get(p + "maps_to", ""),
            }
        )
    return rows


def _apply_row_op(op: str, rows: list[dict[str, Any]]) -> bool:
    """Add/remove/move a row in place; False when ``op`` is not a row operation."""
    if op == "add_field":
        if len(rows) < MAX_ROWS:
            rows.append(
                {
                    "key": "",
                    "label": {"zh-hans": "", "en": ""},
                    "type": "text",
                    "required": False,
                    "choices": [],
                    "maps_to": "",
                }
            )
        return True
    name, _sep, index = op.partition(":")
    if name not in ("remove", "up", "down") or not index.isdigit() or int(index) >= len(rows):
        return False
    i = int(index)
    if name == "remove":
        rows.pop(i)
    elif name == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif name == "down" and i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return True


def _settings_from_post(request: HttpRequest, rows: list[dict[str, Any]]) -> dict[str, Any]:
    post = request.POST
    return {
        "name": post.get("name", ""),
        "title": post.get("title", ""),
        "intro": post.get("intro", ""),
        "language": post.get("language", "zh-hans"),
        "source": post.get("source", ""),
        "assignment": post.get("assignment", "pool"),
        "assign_user": post.get("assign_user", ""),
        "assign_team": post.get("assign_team", ""),
        "tags": [t.strip() for t in post.get("tags", "").replace("，", ",").split(",") if t.strip()],
        "consent_text": post.get("consent_text", ""),
        "consent_purpose": post.get("consent_purpose", "marketing"),
        "consent_channels": post.getlist("consent_channels"),
        "thank_you_text": post.get("thank_you_text", ""),
        "redirect_url": post.get("redirect_url", ""),
        "allowed_origins": [o for o in post.get("allowed_origins", "").split() if o],
        "fields": rows,
    }


def _settings_of(form: WebForm) -> dict[str, Any]:
    return {
        "name": form.name,
        "title": form.title,
        "intro": form.intro,
        "language": form.language,
        "source": form.source,
        "assignment": form.assignment,
        "assign_user": form.assign_user.get_username() if form.assign_user else "",
        "assign_team": form.assign_team.name if form.assign_team else "",
        "tags": form.tags,
        "consent_text": form.consent_text,
        "consent_purpose": form.consent_purpose,
        "consent_channels": form.consent_channels,
        "thank_you_text": form.thank_you_text,
        "redirect_url": form.redirect_url,
        "allowed_origins": form.allowed_origins,
        "fields": [f.as_dict() for f in form_fields(form)],
    }


def _errors_by_name(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        out[e.field] = f"{out[e.field]}; {e.message}" if e.field in out else str(e.message)
    return out


def _editor_context(
    actor: Actor, data: dict[str, Any], errors: dict[str, str], form: WebForm | None
) -> dict[str, Any]:
    defs = list(CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer"))
    rows = []
    for i, row in enumerate(data["fields"]):
        label = row.get("label") or {}
        if not isinstance(label, dict):
            label = {"zh-hans": str(label), "en": str(label)}
        rows.append(
            {
                **row,
                "index": i,
                "label_zh": label.get("zh-hans", ""),
                "label_en": label.get("en", ""),
                "choices_text": ", ".join(row.get("choices") or []),
                "errors": {k.split(".", 1)[1]: v for k, v in errors.items() if k.startswith(f"fields[{i}].")},
                "last": i == len(data["fields"]) - 1,
            }
        )
    members = (
        Membership.objects.filter(organization_id=actor.org_id, is_active=True, role__in=OWNER_ROLES)
        .select_related("user")
        .order_by("user__username")
    )
    return {
        "section": "web_forms",
        "webform": form,
        "data": {
            **data,
            "tags_text": ", ".join(data.get("tags") or []),
            "origins_text": "\n".join(data.get("allowed_origins") or []),
        },
        "rows": rows,
        "errors": errors,
        "fields_error": errors.get("fields", ""),
        "types": list(FIELD_TYPES.items()),
        "targets": target_choices(defs),
        "members": [m.user.get_username() for m in members],
        "teams": list(
            Team.objects.filter(organization_id=actor.org_id).order_by("name").values_list("name", flat=True)
        ),
        "assignments": WebForm.Assignment.choices,
        "purposes": WebForm.ConsentPurpose.choices,
        "channels": CONSENT_CHANNELS,
        "languages": WebForm.Language.choices,
        "max_rows": MAX_ROWS,
    }


def _editor(request: HttpRequest, form: WebForm | None) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        rows = _rows_from_post(request)
        data = _settings_from_post(request, rows)
        op = request.POST.get("op", "save")
        if op != "save" and _apply_row_op(op, rows):
            template = "marketing/edit.html"
            return render(request, template, _editor_context(actor, data, {}, form))
        try:
            if form is None:
                form = webforms.webform_create(actor=actor, data=data)
                messages.success(
                    request,
                    _("Web form “%(name)s” created. Copy the embed code below.") % {"name": form.name},
                )
            else:
                form = webforms.webform_update(actor=actor, form_id=form.pk, data=data)
                messages.success(request, _("Web form saved."))
            return redirect("marketing:edit", form_id=form.pk)
        except ValidationFailed as exc:
            errors = _errors_by_name(exc)
            status = 422
    else:
        data = (
            _settings_of(form)
            if form
            else {
                **_settings_of(
                    WebForm(organization_id=actor.org_id, language=translation.get_language() or "zh-hans")
                ),
                "fields": _default_fields(),
            }
        )
    context = _editor_context(actor, data, errors, form)
    if form is not None:
        url = public_url(request, form)
        with translation.override(form.language):
            context.update(
                public_url=url,
                iframe_code=iframe_snippet(url, form.title or form.name),
                html_code=html_snippet(form, url, form.language),
            )
    return render(request, "marketing/edit.html", context, status=status)


@require_GET
@workspace(Perm.ORG_ADMIN)
def form_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    forms = webforms.webform_list(actor=actor)
    counts = webforms.submission_counts(actor=actor, form_ids=[f.pk for f in forms])
    rows = [{"form": f, "counts": counts.get(f.pk, {})} for f in forms]
    return render(request, "marketing/list.html", {"section": "web_forms", "rows": rows})


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def form_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def form_edit(request: HttpRequest, form_id: int) -> HttpResponse:
    return _editor(request, webforms.webform_get(actor=_actor(request), form_id=form_id))


@require_GET
@workspace(Perm.ORG_ADMIN)
def form_preview(request: HttpRequest, form_id: int) -> HttpResponse:
    form = webforms.webform_get(actor=_actor(request), form_id=form_id)
    asked = request.GET.get("lang", "")
    language = asked if asked in ("zh-hans", "en") else form.language
    with translation.override(language):
        return render_form_page(request, form, language, preview=True)


@require_POST
@workspace(Perm.ORG_ADMIN)
def form_regenerate_token(request: HttpRequest, form_id: int) -> HttpResponse:
    webforms.webform_regenerate_token(actor=_actor(request), form_id=form_id)
    messages.success(request, _("New public address made. The old address and embeds no longer work."))
    return redirect("marketing:edit", form_id=form_id)


@require_POST
@workspace(Perm.ORG_ADMIN)
def form_set_active(request: HttpRequest, form_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    webforms.webform_set_active(actor=_actor(request), form_id=form_id, active=active)
    messages.success(
        request, _("Web form activated.") if active else _("Web form deactivated: it answers 404 now.")
    )
    if request.POST.get("next") == "list":
        return redirect("marketing:list")
    return redirect("marketing:edit", form_id=form_id)


@require_POST
@workspace(Perm.ORG_ADMIN)
def form_delete(request: HttpRequest, form_id: int) -> HttpResponse:
    webforms.webform_delete(actor=_actor(request), form_id=form_id)
    messages.success(request, _("Web form deleted. The customers it brought in stay."))
    return redirect("marketing:list")


@require_GET
@workspace(Perm.ORG_ADMIN)
def form_submissions(request: HttpRequest, form_id: int) -> HttpResponse:
    actor = _actor(request)
    form = webforms.webform_get(actor=actor, form_id=form_id)
    outcome = request.GET.get("outcome", "")
    if outcome not in WebFormSubmission.Outcome.values:
        outcome = ""
    try:
        before = int(request.GET.get("before", "0") or 0) or None
    except ValueError:
        before = None
    rows, next_before = webforms.submission_list(
        actor=actor, form_id=form_id, before_id=before, outcome=outcome
    )
    labels = {f.key: f.label_in(translation.get_language() or form.language) for f in form_fields(form)}
    labels.update(consent=_("Consent"), form=_("Form"))
    items = [
        {
            "sub": s,
            "data": [(labels.get(k, k), v) for k, v in (s.data or {}).items()],
            "errors": [
                (labels.get(e.get("field", ""), e.get("field", "")), e.get("message", ""))
                for e in s.errors or []
            ],
        }
        for s in rows
    ]
    return render(
        request,
        "marketing/submissions.html",
        {
            "section": "web_forms",
            "webform": form,
            "items": items,
            "outcome": outcome,
            "outcomes": WebFormSubmission.Outcome.choices,
            "next_before": next_before,
        },
    )

"""Admin settings (users, memberships, teams, roles, custom fields, tags, organisation) and the
contacts directory. Every write goes through a service; permission checks live in the services too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.core import services as core_services
from guanxi.core.context import Actor
from guanxi.core.errors import ValidationFailed
from guanxi.core.models import CustomFieldDefinition
from guanxi.core.roles import ROLE_CHOICES, Perm
from guanxi.core.selectors import custom_field_list, membership_list, team_list
from guanxi.customers import tags as tag_services
from guanxi.web import queries, services
from guanxi.web.decorators import workspace


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _errors(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        out[e.field] = f"{out[e.field]}; {e.message}" if e.field in out else str(e.message)
    return out


def _flash_errors(request: HttpRequest, exc: ValidationFailed) -> None:
    messages.error(request, "; ".join(f"{e.message}" for e in exc.errors) or exc.detail)


@require_GET
@workspace()
def contacts(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    try:
        after = int(request.GET.get("after", "0") or 0)
    except ValueError:
        after = 0
    rows = queries.contacts_page(_actor(request), q=q, after_id=after)
    more = len(rows) > 50
    rows = rows[:50]
    context = {
        "section": "contacts",
        "rows": rows,
        "q": q,
        "more_url": f"?q={q}&after={rows[-1].pk}" if more and rows else "",
    }
    if after and request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/contacts/list.html#rows", context)
    return render(request, "web/contacts/list.html", context)


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def settings_users(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "add":
                form = {k: request.POST.get(k, "").strip() for k in ("username", "role", "team", "email")}
                membership, _created = core_services.membership_upsert(
                    org=actor.org,
                    username=form["username"],
                    role=form["role"],
                    team=form["team"] or None,
                    password=request.POST.get("password") or None,
                    email=form["email"],
                    display_name=request.POST.get("display_name", "").strip(),
                    actor=actor,
                )
                messages.success(request, _("User “%(u)s” saved.") % {"u": membership.user.username})
                return redirect("settings_users")
            if op == "update":
                core_services.membership_update(
                    actor=actor,
                    membership_id=int(request.POST.get("membership", "0")),
                    data={
                        "role": request.POST.get("role", ""),
                        "team": request.POST.get("team", ""),
                        "is_active": request.POST.get("is_active") == "on",
                    },
                )
                messages.success(request, _("Membership updated."))
                return redirect("settings_users")
            if op == "team":
                name = request.POST.get("name", "").strip()
                core_services.team_get_or_create(org=actor.org, name=name, actor=actor)
                messages.success(request, _("Team “%(t)s” saved.") % {"t": name})
                return redirect("settings_users")
        except ValidationFailed as exc:
            errors = _errors(exc)
            if op != "add":
                _flash_errors(request, exc)
                return redirect("settings_users")
        except ValueError:
            messages.error(request, _("Invalid request."))
            return redirect("settings_users")
    return render(
        request,
        "web/settings/users.html",
        {
            "section": "users",
            "memberships": list(membership_list(actor=actor)),
            "teams": list(team_list(actor=actor)),
            "roles": ROLE_CHOICES,
            "errors": errors,
            "form": form,
        },
        status=422 if errors else 200,
    )


def _definition_data(request: HttpRequest) -> dict[str, Any]:
    choices = [c.strip() for c in request.POST.get("choices", "").replace("，", ",").split(",") if c.strip()]
    return {
        "label": request.POST.get("label", ""),
        "field_type": request.POST.get("field_type", ""),
        "choices": choices,
        "required": request.POST.get("required") == "on",
        "unique": request.POST.get("unique") == "on",
    }


def _settings_post(
    request: HttpRequest, *, redirect_to: str, actions: dict[str, tuple[Callable[[], object], str]]
) -> tuple[HttpResponse | None, dict[str, str]]:
    """Run the POSTed ``op`` of a settings page through its service call.

    Success redirects with a message. A failed "add" returns its field errors so the page
    re-renders the form with them; other failures flash the reason and redirect. An unknown op
    returns (None, {}) and the page simply renders again.
    """
    op = request.POST.get("op", "")
    if op not in actions:
        return None, {}
    run, done = actions[op]
    try:
        run()
    except ValidationFailed as exc:
        if op == "add":
            return None, _errors(exc)
        _flash_errors(request, exc)
        return redirect(redirect_to), {}
    except ValueError:
        messages.error(request, _("Invalid request."))
        return redirect(redirect_to), {}
    messages.success(request, done)
    return redirect(redirect_to), {}


def _posted_id(request: HttpRequest, name: str) -> int:
    return int(request.POST.get(name, "0"))  # ValueError → "Invalid request."


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def settings_fields(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        data = _definition_data(request)
        new = {**data, "key": request.POST.get("key", "").strip()}
        if request.POST.get("op") == "add":
            form = {**new, "choices": ", ".join(data["choices"])}
        response, errors = _settings_post(
            request,
            redirect_to="settings_fields",
            actions={
                "add": (
                    lambda: core_services.custom_field_create(actor=actor, data=new),
                    _("Custom field added."),
                ),
                "update": (
                    lambda: core_services.custom_field_update(
                        actor=actor, field_id=_posted_id(request, "field"), data=data
                    ),
                    _("Custom field updated."),
                ),
                "delete": (
                    lambda: core_services.custom_field_delete(
                        actor=actor, field_id=_posted_id(request, "field")
                    ),
                    _("Custom field deleted."),
                ),
            },
        )
        if response is not None:
            return response
    return render(
        request,
        "web/settings/fields.html",
        {
            "section": "fields",
            "fields": list(custom_field_list(actor=actor)),
            "types": CustomFieldDefinition.FieldType.choices,
            "errors": errors,
            "form": form,
        },
        status=422 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace(Perm.TAG_MANAGE)
def settings_tags(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        if request.POST.get("op") == "add":
            form = {"name": request.POST.get("name", ""), "color": request.POST.get("color", "#64748b")}
        response, errors = _settings_post(
            request,
            redirect_to="settings_tags",
            actions={
                "add": (
                    lambda: tag_services.tag_create(
                        actor=actor, name=form["name"], color=_color(form["color"])
                    ),
                    _("Tag added."),
                ),
                "update": (
                    lambda: tag_services.tag_update(
                        actor=actor,
                        tag_id=_posted_id(request, "tag"),
                        data={
                            "name": request.POST.get("name", ""),
                            "color": _color(request.POST.get("color", "")),
                        },
                    ),
                    _("Tag updated."),
                ),
                "delete": (
                    lambda: tag_services.tag_delete(actor=actor, tag_id=_posted_id(request, "tag")),
                    _("Tag deleted."),
                ),
            },
        )
        if response is not None:
            return response
    return render(
        request,
        "web/settings/tags.html",
        {"section": "tags", "tags": queries.org_tags(actor), "errors": errors, "form": form},
        status=422 if errors else 200,
    )


def _color(value: str) -> str:
    value = (value or "").strip()
    if len(value) == 7 and value.startswith("#"):
        try:
            int(value[1:], 16)
            return value.lower()
        except ValueError:
            pass
    return "#64748b"


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def settings_org(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, str] = {}
    org = actor.org
    form = {
        "time_zone": org.time_zone,
        "currency": org.currency,
        "default_phone_region": org.default_phone_region,
    }
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in form}
        try:
            services.organization_settings_update(actor=actor, data=form)
        except ValidationFailed as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Organisation settings saved."))
            return redirect("settings_org")
    return render(
        request,
        "web/settings/org.html",
        {"section": "org", "form": form, "errors": errors, "org": org},
        status=422 if errors else 200,
    )

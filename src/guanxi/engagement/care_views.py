"""Care automation pages (关怀, admin): the rules with an on/off switch, create/edit, and for each
rule the preview of its next run and the history of what it sent.

Thin: ``CareRuleForm`` turns fields into the service's dict, ``care`` validates, writes, audits,
previews and lists; errors come back onto the fields they name.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.context import Actor
from guanxi.core.errors import ValidationFailed
from guanxi.core.roles import Perm
from guanxi.core.selectors import custom_field_list
from guanxi.customers.models import Customer
from guanxi.engagement import care, email
from guanxi.engagement.forms import CareRuleForm, put_errors
from guanxi.web.decorators import workspace
from guanxi.web.queries import distinct_values, org_tags

SECTION = "care_rules"
AUDIENCE_LABELS = {
    "grade": _l("Grade"),
    "value_tier": _l("Value tier"),
    "lifecycle_stage": _l("Lifecycle stage"),
    "tags": _l("Tags"),
    "province": _l("Province"),
}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _rule_form(request: HttpRequest, actor: Actor, **kwargs: Any) -> CareRuleForm:
    return CareRuleForm(
        request.POST if request.method == "POST" else None,
        templates=email.template_list(actor=actor),
        grades=distinct_values(actor).get("grade", []),
        tags=[t.name for t in org_tags(actor)],
        custom_defs=list(custom_field_list(actor=actor)),
        **kwargs,
    )


@workspace(Perm.ORG_ADMIN)
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = care.rule_list(actor=_actor(request))
    return render(request, "engagement/care/list.html", {"rules": rules, "section": SECTION})


@require_POST
@workspace(Perm.ORG_ADMIN)
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _actor(request)
    enabled = request.POST.get("enabled") == "1"
    try:
        rule = care.rule_update(actor=actor, rule_id=rule_id, data={"enabled": enabled})
    except ValidationFailed as exc:
        # An old rule can no longer pass today's checks (say its template is gone): say which.
        rule = care.rule_get(actor=actor, rule_id=rule_id)
        problems = "; ".join(e.message for e in exc.errors)
        messages.error(
            request,
            _("“%(name)s” cannot be switched: %(problems)s") % {"name": rule.name, "problems": problems},
        )
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return redirect("engagement:care_rules")
    if getattr(request, "htmx", False):
        [rule] = care.rule_list(actor=actor, rule_id=rule.pk)
        return render(request, "engagement/care/list.html#rule_row", {"rule": rule})
    messages.success(request, _("Care rule switched on.") if enabled else _("Care rule switched off."))
    return redirect("engagement:care_rules")


def _save(request: HttpRequest, rule_id: int | None) -> HttpResponse:
    actor = _actor(request)
    rule = care.rule_get(actor=actor, rule_id=rule_id) if rule_id is not None else None
    initial = CareRuleForm.initial_from(rule) if rule is not None else {}
    form = _rule_form(request, actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            if rule is None:
                rule = care.rule_create(actor=actor, data=data)
                messages.success(request, _("Care rule created. Here is who its next run will contact."))
            else:
                rule = care.rule_update(actor=actor, rule_id=rule.pk, data=data)
                messages.success(request, _("Care rule saved."))
        except ValidationFailed as exc:
            put_errors(form, exc.errors, form.ALIASES)
        else:
            return redirect("engagement:care_rule", rule_id=rule.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "rule": rule, "section": SECTION}
    return render(request, "engagement/care/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def rule_new(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _save(request, rule_id)


def _audience_labels(actor: Actor, audience: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The rule's audience as (field label, shown values) for people, not as stored keys."""
    choices: dict[str, dict[str, str]] = {
        "value_tier": {k: str(v) for k, v in Customer.ValueTier.choices},
        "lifecycle_stage": {k: str(v) for k, v in Customer.Lifecycle.choices},
    }
    out: list[tuple[str, list[str]]] = []
    for key, label in AUDIENCE_LABELS.items():
        if audience.get(key):
            out.append((str(label), [choices.get(key, {}).get(v, v) for v in audience[key]]))
    defs = {d.key: d.label for d in custom_field_list(actor=actor)}
    for key, wanted in (audience.get("custom") or {}).items():
        values = wanted if isinstance(wanted, list) else [wanted]
        shown = [str(_("Yes") if v is True else _("No") if v is False else v) for v in values]
        out.append((defs.get(key, key), shown))
    return out


@workspace(Perm.ORG_ADMIN)
def rule_detail(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _actor(request)
    rule = care.rule_get(actor=actor, rule_id=rule_id)
    preview = care.care_preview_summary(actor=actor, rule_id=rule.pk, limit=20)
    context = {
        "rule": rule,
        "audience": _audience_labels(actor, rule.audience or {}),
        "preview": preview,
        # Past today's send time with people still due: the hourly job picks them up next.
        "run_due_now": preview.run_at <= timezone.now(),
        "sends": care.care_send_history(actor=actor, rule_id=rule.pk, limit=50),
        "section": SECTION,
    }
    return render(request, "engagement/care/detail.html", context)


@require_POST
@workspace(Perm.ORG_ADMIN)
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _actor(request)
    name = care.rule_get(actor=actor, rule_id=rule_id).name
    care.rule_delete(actor=actor, rule_id=rule_id)
    messages.success(request, _("Care rule “%(name)s” deleted.") % {"name": name})
    return redirect("engagement:care_rules")

"""Email pages: message templates (admins, managers, marketers) with a live preview for a chosen
customer, and "Send email" from the customer 360° page.

Rendering, consent and sending are the email service's (``email.email_preview``,
``email.email_send``): the page shows exactly what the customer will get and the service refuses
marketing email without consent however the form is posted.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.context import Actor
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.core.roles import Perm
from guanxi.customers.selectors import customer_get
from guanxi.engagement import email, selectors
from guanxi.engagement.forms import ComposeForm, TemplateForm, put_errors
from guanxi.engagement.models import Purpose
from guanxi.web.decorators import workspace

SECTION = "email_templates"
# A new template starts with the salutation placeholder, so authors see personalisation at once.
STARTER_SUBJECT = "{{ salutation }}，"
STARTER_TEXT = "{{ salutation }}您好！\n\n"


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _require_editor(actor: Actor) -> None:
    if not email.can_edit_templates(actor):
        raise PermissionDenied(_("Only administrators, managers and marketers edit message templates."))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# Templates ------------------------------------------------------------------------------------


@workspace()
def template_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require_editor(actor)
    context = {"templates": email.template_list(actor=actor), "section": SECTION}
    return render(request, "engagement/templates/list.html", context)


def _template_save(request: HttpRequest, template_id: int | None) -> HttpResponse:
    actor = _actor(request)
    _require_editor(actor)
    template = email.template_get(actor=actor, template_id=template_id) if template_id else None
    initial = (
        {k: getattr(template, k) for k in email.TEMPLATE_FIELDS}
        if template
        else {
            "purpose": Purpose.MARKETING,
            "subject": "{{ salutation }}，",
            "body_text": "{{ salutation }}您好！\n\n",
        }
    )
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if template is None:
                template = email.template_create(actor=actor, data=data)
                messages.success(request, _("Template created."))
            else:
                template = email.template_update(actor=actor, template_id=template.pk, data=data)
                messages.success(request, _("Template saved."))
        except ValidationFailed as exc:
            put_errors(form, exc.errors, {})
        else:
            return redirect("engagement:template_edit", template_id=template.pk)
    customers = selectors.preview_customers(actor=actor)
    chosen = _int(request.GET.get("customer")) or (customers[0].pk if customers else None)
    context = {
        "form": form,
        "template": template,
        "customers": customers,
        "chosen": chosen,
        "section": SECTION,
    }
    return render(request, "engagement/templates/form.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@workspace()
def template_new(request: HttpRequest) -> HttpResponse:
    return _template_save(request, None)


@require_http_methods(["GET", "POST"])
@workspace()
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    return _template_save(request, template_id)


@require_POST
@workspace()
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    actor = _actor(request)
    template = email.template_get(actor=actor, template_id=template_id)
    try:
        email.template_delete(actor=actor, template_id=template_id)
    except ValidationFailed:
        messages.error(
            request,
            _("“%(name)s” is used by a care rule: change the rule first.") % {"name": template.name},
        )
        return redirect("engagement:template_edit", template_id=template_id)
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
    return redirect("engagement:templates")


@require_POST
@workspace()
def template_preview(request: HttpRequest) -> HttpResponse:
    """The live preview beside the template editor: the posted (unsaved) text for one customer."""
    actor = _actor(request)
    _require_editor(actor)
    customer_id = _int(request.POST.get("preview_customer"))
    if customer_id is None:
        return render(request, "engagement/email/_preview.html", {"no_customer": True})
    preview = email.email_preview(
        actor=actor,
        customer_id=customer_id,
        subject=request.POST.get("subject", ""),
        body_text=request.POST.get("body_text", ""),
        body_html=request.POST.get("body_html", ""),
        purpose=request.POST.get("purpose", Purpose.MARKETING),
    )
    return render(request, "engagement/email/_preview.html", _preview_context(actor, preview))


def _preview_context(actor: Actor, preview: email.EmailPreview) -> dict[str, Any]:
    return {"preview": preview, "masked": not actor.has(Perm.VIEW_CONTACT_DETAILS)}


# Sending from the customer page ---------------------------------------------------------------


def _compose_preview(actor: Actor, customer_id: int, form: ComposeForm) -> email.EmailPreview:
    data: dict[str, Any] = form.service_data() if form.is_bound and form.is_valid() else {}
    return email.email_preview(actor=actor, customer_id=customer_id, **data)


@require_http_methods(["GET", "POST"])
@workspace(Perm.CUSTOMER_CHANGE)
def compose(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    templates = email.template_list(actor=actor)
    form = ComposeForm(request.POST if request.method == "POST" else None, templates=templates)
    blocked = ""
    if request.method == "POST" and form.is_valid():
        try:
            message = email.email_send(actor=actor, customer_id=customer.pk, **form.service_data())
        except ValidationFailed as exc:
            refusal = [e for e in exc.errors if e.code == "not_allowed"]
            if refusal:
                blocked = refusal[0].message
            put_errors(form, [e for e in exc.errors if e.code != "not_allowed"], form.ALIASES)
        else:
            messages.success(
                request,
                _("Email “%(subject)s” queued for %(name)s; it is on the timeline.")
                % {"subject": message.subject, "name": customer.name},
            )
            return redirect("customer_detail", customer_id=customer.pk)
    context = {
        "form": form,
        "customer": customer,
        "templates": templates,
        "sender": email.sender_label(actor.org_id),
        "consent": email.consent_in_force(customer.pk, Purpose.MARKETING),
        "blocked": blocked,
        "section": "customers",
        **_preview_context(actor, _compose_preview(actor, customer.pk, form)),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "engagement/email/compose.html", context, status=status)


@require_POST
@workspace(Perm.CUSTOMER_CHANGE)
def compose_preview(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    templates = email.template_list(actor=actor)
    form = ComposeForm(request.POST, templates=templates)
    preview = _compose_preview(actor, customer_id, form)
    return render(request, "engagement/email/_preview.html", _preview_context(actor, preview))

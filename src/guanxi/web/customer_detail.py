"""The customer 360° page, inline edit with optimistic concurrency, reveal, create, contacts, restore."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, FieldError, ValidationFailed, VersionConflict
from guanxi.core.roles import Perm
from guanxi.core.selectors import custom_field_list
from guanxi.customers import contacts as contact_services
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.customers.selectors import CustomerMergedAway, customer_get, customer_history
from guanxi.customers.services import DuplicateCustomer
from guanxi.customers.timeline import customer_timeline
from guanxi.web import forms, queries, services
from guanxi.web.decorators import workspace
from guanxi.web.merge_views import merged_away_page
from guanxi.web.timeline import entries, feed

HISTORY_LIMIT = 50
TABS = ("timeline", "history")


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _owner_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(m.user.username, m.user.get_full_name() or m.user.username) for m in queries.org_members(actor)]


def _form_fields(actor: Actor, *, creating: bool) -> tuple[list[forms.Field], list[forms.Field]]:
    owners = _owner_choices(actor) if actor.has(Perm.CUSTOMER_ASSIGN) else []
    defs = list(custom_field_list(actor=actor))
    return forms.base_fields(actor, creating=creating, owners=owners), forms.custom_fields(defs)


def _detail_context(
    request: HttpRequest, customer: Customer, defs: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    actor = _actor(request)
    if defs is None:
        defs = queries.custom_field_defs(actor)
    custom = [
        (d.label, customer.custom.get(d.key))
        for d in defs
        if customer.custom.get(d.key) not in (None, "", [])
    ]
    context = {
        "section": "customers",
        "customer": customer,
        "custom_values": custom,
        # ``customer`` was read through ``customer_get`` for this actor: no second visibility check.
        "contacts": queries.customer_contacts(actor, customer, limit=100),
        "revealed": False,
    }
    context.update(extra)
    return context


@require_GET
@workspace()
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        customer = customer_get(actor=actor, customer_id=customer_id)
    except CustomerMergedAway as exc:  # opening a merged-away record: a banner pointing to the survivor
        return merged_away_page(request, exc)
    defs = queries.custom_field_defs(actor)
    items = customer_timeline(
        actor=actor, customer_id=customer.pk, limit=HISTORY_LIMIT, customer=customer
    ).items
    context = _detail_context(request, customer, defs, tab="timeline", feed=feed(items, defs))
    return render(request, "web/customers/detail.html", context)


@require_GET
@workspace()
def customer_tab(request: HttpRequest, customer_id: int, tab: str) -> HttpResponse:
    actor = _actor(request)
    if tab not in TABS:
        tab = "timeline"
    defs = queries.custom_field_defs(actor)
    context: dict[str, Any] = {"tab": tab, "customer": {"pk": customer_id}}
    if tab == "history":
        events = customer_history(actor=actor, customer_id=customer_id, limit=HISTORY_LIMIT)
        context["entries"] = entries(events, defs)
    else:
        items = customer_timeline(actor=actor, customer_id=customer_id, limit=HISTORY_LIMIT).items
        context["feed"] = feed(items, defs)
    return render(request, "web/customers/detail.html#tab", context)


@require_POST
@workspace(Perm.VIEW_CONTACT_DETAILS)
def customer_reveal(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = services.customer_reveal(actor=_actor(request), customer_id=customer_id)
    context = _detail_context(request, customer, revealed=True, oob=True)
    response = render(request, "web/customers/detail.html#contact_info", context)
    if customer.kind == "company" or context["contacts"]:
        response.write(render(request, "web/customers/detail.html#contacts", context).content)
    response["HX-Trigger"] = "customer-changed"
    return response


def _changed_at(conflict: VersionConflict) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(conflict.changed_at) if conflict.changed_at else None
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@workspace(Perm.CUSTOMER_CHANGE)
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    base, custom = _form_fields(actor, creating=False)
    fields = base + custom
    inline = bool(request.htmx) or request.POST.get("inline") == "1"  # type: ignore[attr-defined]
    errors: list[FieldError] = []
    conflict: VersionConflict | None = None
    version = customer.version
    originals: dict[str, Any] = {}
    stored = forms.initial_values(customer)
    forms.hide_contact_details(fields, stored)
    if request.method == "POST":
        values = forms.values_from_post(request.POST, fields)
        originals = forms.originals_from_post(request.POST, fields)
        for name in forms.CONTACT_FIELDS:
            if values.get(name) == "" and originals.get(name) == "":
                values.pop(name)  # left empty: keep the stored value
        try:
            expected = int(request.POST.get("overwrite_version") or request.POST.get("version") or 0)
        except ValueError:
            expected = 0
        try:
            customer = customer_services.customer_update(
                actor=actor,
                customer_id=customer.pk,
                data=forms.service_data(forms.changed_only(values, originals), fields),
                expected_version=expected,
            )
        except VersionConflict as exc:
            conflict = exc
            version = expected
        except DuplicateCustomer as exc:
            errors = [FieldError("phone", str(exc.detail))]
            version = expected
        except ValidationFailed as exc:
            errors = exc.errors
            version = expected
        else:
            if inline:
                customer = customer_get(actor=actor, customer_id=customer.pk)
                response = render(
                    request, "web/customers/detail.html#main", _detail_context(request, customer)
                )
                response["HX-Trigger"] = "customer-changed"
                return response
            messages.success(request, _("Saved."))
            return redirect("customer_detail", customer.pk)
    else:
        values = originals = stored
    loose = forms.bind(fields, values, errors, originals)
    context = _detail_context(
        request,
        customer,
        base_fields=base,
        custom_fields=custom,
        loose_errors=loose,
        conflict=conflict,
        conflict_at=_changed_at(conflict) if conflict else None,
        version=version,
        inline=inline,
    )
    if inline:
        # htmx swaps only 2xx answers: the form comes back as 200 and replaces just the details card.
        response = render(request, "web/customers/detail.html#edit_form", context)
        if request.method == "POST":
            response["HX-Retarget"] = "#details-card"
            response["HX-Reswap"] = "outerHTML show:top"
        return response
    return render(
        request, "web/customers/form.html", context, status=409 if conflict else 422 if errors else 200
    )


@require_http_methods(["GET", "POST"])
@workspace(Perm.CUSTOMER_ADD)
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    base, custom = _form_fields(actor, creating=True)
    fields = base + custom
    errors: list[FieldError] = []
    duplicates: list[Customer] = []
    duplicate_hidden = False
    if request.method == "POST":
        values = forms.values_from_post(request.POST, fields)
        try:
            customer = customer_services.customer_create(
                actor=actor,
                data=forms.service_data(values, fields),
                allow_duplicate=request.POST.get("allow_duplicate") == "on",
            )
        except DuplicateCustomer as exc:
            duplicates = [customer_get(actor=actor, customer_id=i) for i in exc.visible_ids[:5]]
            duplicate_hidden = len(exc.visible_ids) < len(exc.ids)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
            return redirect("customer_detail", customer.pk)
    else:
        values = {
            "kind": request.GET.get("kind", "person"),
            "lifecycle_stage": "potential",
            "owner": actor.user.get_username(),
        }
    loose = forms.bind(fields, values, errors)
    return render(
        request,
        "web/customers/form.html",
        {
            "section": "customers",
            "creating": True,
            "base_fields": base,
            "custom_fields": custom,
            "loose_errors": loose,
            "duplicates": duplicates,
            "duplicate_hidden": duplicate_hidden,
        },
        status=422 if errors or duplicates or duplicate_hidden else 200,
    )


@require_POST
@workspace(Perm.CUSTOMER_DELETE)
def customer_delete(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    try:
        customer_services.customer_delete(
            actor=actor, customer_id=customer.pk, expected_version=int(request.POST.get("version") or 0)
        )
    except (VersionConflict, ValueError):
        messages.error(request, _("Someone changed this customer meanwhile. Reload and try again."))
        return redirect("customer_detail", customer.pk)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": customer.name})
    return redirect("customers")


@require_POST
@workspace(Perm.CUSTOMER_DELETE)
def customer_restore(request: HttpRequest, customer_id: int) -> HttpResponse:
    try:
        customer = customer_services.customer_restore(actor=_actor(request), customer_id=customer_id)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("trash")
    messages.success(request, _("“%(name)s” restored.") % {"name": customer.name})
    return redirect("trash")


@require_POST
@workspace(Perm.CUSTOMER_PURGE)
def customer_purge(request: HttpRequest, customer_id: int) -> HttpResponse:
    try:
        customer_services.customer_purge(actor=_actor(request), customer_id=customer_id)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("trash")
    messages.success(request, _("Customer deleted for good."))
    return redirect("trash")


@require_POST
@workspace(Perm.CUSTOMER_CHANGE)
def contact_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    data: dict[str, Any] = {k: request.POST.get(k, "") for k in ("name", "title", "phone", "email")}
    data["is_primary"] = request.POST.get("is_primary") == "on"
    contact_errors: list[FieldError] = []
    try:
        contact_services.contact_create(actor=actor, customer_id=customer_id, data=data)
        data = {}
    except ValidationFailed as exc:
        contact_errors = exc.errors
    customer = customer_get(actor=actor, customer_id=customer_id)
    context = _detail_context(request, customer, contact_errors=contact_errors, contact_data=data)
    response = render(request, "web/customers/detail.html#contacts", context)
    if not contact_errors:
        response["HX-Trigger"] = "customer-changed"
    return response


@require_POST
@workspace(Perm.CUSTOMER_CHANGE)
def contact_delete(request: HttpRequest, customer_id: int, contact_id: int) -> HttpResponse:
    actor = _actor(request)
    contact = contact_services.contact_get(actor=actor, contact_id=contact_id)
    if contact.customer_id != customer_id:
        from django.http import Http404

        raise Http404
    contact_services.contact_delete(actor=actor, contact_id=contact_id)
    customer = customer_get(actor=actor, customer_id=customer_id)
    response = render(request, "web/customers/detail.html#contacts", _detail_context(request, customer))
    response["HX-Trigger"] = "customer-changed"
    return response

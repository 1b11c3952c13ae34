"""Workspace pages of the public pool (公海): the list with claim and assign, and releasing a customer.

Thin: ``customers.pool`` decides who may see and move what; these views only read the request, call
it and pick a template. htmx answers are 200 (htmx swaps only 2xx) — a claim the rules refuse comes
back as the row's action cell with the service's message; without JavaScript the same refusals are
409 pages. A foreign or invisible id is 404, a role outside the pool 403 (``web.decorators``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, PermissionDenied, ValidationFailed
from guanxi.core.models import Membership
from guanxi.core.roles import Perm, Scope
from guanxi.customers import pool
from guanxi.customers.models import Customer, CustomerAssignment
from guanxi.customers.selectors import Page, customer_get
from guanxi.web import queries
from guanxi.web.decorators import workspace

PAGE_SIZE = 50
FILTER_KEYS = ["q", "grade", "province", "industry", "tag"]
GRADES = "ABCD"
TEMPLATE = "customers/pool/list.html"
RELEASE_TEMPLATE = "customers/pool/release.html"
# Refusals after which claiming this row can never work from this page (it left the pool).
GONE = {"already_claimed", "already_yours", "not_in_pool"}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def works_pool(actor: Actor | None) -> bool:
    """Sales reps, managers and admins work the pool (ADR 0004); the nav shows the page to them only."""
    return bool(actor) and actor.membership.is_active and actor.role in pool.POOL_ROLES  # type: ignore[union-attr]


def _require_pool(actor: Actor) -> None:
    if not works_pool(actor):
        raise PermissionDenied(_("Only sales reps, managers and administrators work the public pool."))


def parse_filters(params: QueryDict) -> tuple[pool.PoolFilters, dict[str, str]]:
    raw = {key: params.get(key, "").strip()[:100] for key in FILTER_KEYS}
    if raw["grade"] and raw["grade"] not in GRADES:
        raw["grade"] = ""
    return pool.PoolFilters(**raw), raw


def assignable_members(actor: Actor) -> list[Membership]:
    """Whom a manager (own team) or an admin (anyone) can give a pool customer to."""
    if not actor.has(Perm.CUSTOMER_ASSIGN):
        return []
    members = [m for m in queries.org_members(actor) if m.role in pool.POOL_ROLES]
    if actor.scope != Scope.ALL:
        mine = actor.membership
        members = [m for m in members if m.pk == mine.pk or (mine.team_id and m.team_id == mine.team_id)]
    return members


def _rows(actor: Actor, customers: list[Customer]) -> list[dict[str, Any]]:
    """The service's dictionaries (masked for reps), plus the datetimes and labels the template shows."""
    info = pool.pool_info(actor, customers)
    stages = dict(Customer.Lifecycle.choices)
    reasons = dict(CustomerAssignment.Reason.choices)
    rows = []
    for customer in customers:
        data = pool.pool_customer_to_dict(customer, actor, info[customer.pk])
        data.update(
            pooled_at=info[customer.pk]["pooled_at"],
            claimable_after=info[customer.pk]["claimable_after"],
            stage_label=stages.get(customer.lifecycle_stage, customer.lifecycle_stage),
            reason_label=reasons.get(data["pool_reason"] or "", ""),
        )
        rows.append(data)
    return rows


def _query(raw: dict[str, str]) -> str:
    return urlencode([(k, v) for k, v in raw.items() if v])


@require_GET
@workspace()
def pool_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require_pool(actor)
    filters, raw = parse_filters(request.GET)
    cursor = request.GET.get("cursor", "")[:500]
    error = ""
    try:
        page = pool.pool_list(actor=actor, filters=filters, cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed as exc:  # a damaged cursor
        page, error = Page(items=[], next_cursor=None), exc.detail
    query = _query(raw)
    more = f"?{query}&cursor={page.next_cursor}" if query else f"?cursor={page.next_cursor}"
    context: dict[str, Any] = {
        "section": "pool",
        "rows": _rows(actor, page.items),
        "error": error,
        "raw": raw,
        "query": query,
        "more_url": more if page.next_cursor else "",
        "members": assignable_members(actor),
        "can_claim": actor.has(Perm.CUSTOMER_CHANGE),
    }
    if cursor and request.htmx:  # type: ignore[attr-defined]
        return render(request, f"{TEMPLATE}#rows", context)
    context["filtered"] = any(raw.values())
    if request.htmx and request.htmx.target == "pool-results":  # type: ignore[attr-defined]
        return render(request, f"{TEMPLATE}#results", context)
    context.update(
        quota=pool.pool_quota(actor=actor),
        tags=queries.org_tags(actor),
        distinct=queries.distinct_values(actor),
        grades=GRADES,
    )
    return render(request, TEMPLATE, context)


def _refused(
    request: HttpRequest, customer_id: int, message: str, code: str, *, status: int = 409
) -> HttpResponse:
    """The row's action cell with the service's message (htmx), or a small page saying it (409)."""
    actor = _actor(request)
    context = {
        "r": {"id": customer_id},
        "message": message,
        "code": code,
        "gone": code in GONE,
        "members": assignable_members(actor),
        "can_claim": actor.has(Perm.CUSTOMER_CHANGE),
        "quota": pool.pool_quota(actor=actor),
    }
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, f"{TEMPLATE}#refused", context)
        response["HX-Retarget"] = f"#pool-act-{customer_id}"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "customers/pool/refused.html", {**context, "section": "pool"}, status=status)


def _moved(request: HttpRequest, customer: Customer, *, assigned_to: str = "") -> HttpResponse:
    actor = _actor(request)
    if request.htmx:  # type: ignore[attr-defined]
        context = {"c": customer, "assigned_to": assigned_to, "quota": pool.pool_quota(actor=actor)}
        return render(request, f"{TEMPLATE}#moved", context)
    if assigned_to:
        messages.success(
            request, _("%(name)s was assigned to %(user)s.") % {"name": customer.name, "user": assigned_to}
        )
        return redirect("pool:list")
    messages.success(request, _("You claimed %(name)s.") % {"name": customer.name})
    return redirect("customer_detail", customer.pk)


@require_POST
@workspace()
def pool_claim_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    try:
        customer = pool.pool_claim(actor=_actor(request), customer_id=customer_id)
    except pool.PoolRefused as exc:
        return _refused(request, customer_id, str(exc.detail), exc.code)
    return _moved(request, customer)


@require_POST
@workspace()
def pool_assign_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    username = request.POST.get("username", "").strip()[:150]
    try:
        customer = pool.pool_assign(actor=_actor(request), customer_id=customer_id, username=username)
    except pool.PoolRefused as exc:
        return _refused(request, customer_id, str(exc.detail), exc.code)
    except ValidationFailed as exc:
        message = "; ".join(str(e.message) for e in exc.errors) or str(exc.detail)
        return _refused(request, customer_id, message, "invalid", status=422)
    return _moved(request, customer, assigned_to=username)


@require_http_methods(["GET", "POST"])
@workspace()
def pool_release_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Put a customer back in the pool, saying why (its owner, or a manager who sees it)."""
    actor = _actor(request)
    _require_pool(actor)
    customer = customer_get(actor=actor, customer_id=customer_id)
    if customer.owner_id != actor.user.pk and not actor.has(Perm.CUSTOMER_ASSIGN):
        raise PermissionDenied(
            _("Only the customer's owner or a manager can put it back in the public pool.")
        )
    reason = request.POST.get("reason", "")[:1000]
    errors: list[FieldError] = []
    problem = ""
    status = 200
    if customer.in_public_pool and customer.owner_id is None:
        problem, status = _("This customer is already in the public pool."), 409
    elif request.method == "POST":
        try:
            pool.pool_release(actor=actor, customer_id=customer.pk, reason=reason)
        except pool.PoolRefused as exc:
            problem, status = str(exc.detail), 409
        except ValidationFailed as exc:
            errors, status = exc.errors, 422
        else:
            messages.success(request, _("%(name)s is back in the public pool.") % {"name": customer.name})
            if request.htmx:  # type: ignore[attr-defined]
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("pool:list")
                return response
            return redirect("pool:list")
    context = {
        "section": "pool",
        "customer": customer,
        "reason": reason,
        "reason_error": next((str(e.message) for e in errors if e.field == "reason"), ""),
        "problem": problem,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, f"{RELEASE_TEMPLATE}#form", context)
    return render(request, RELEASE_TEMPLATE, context, status=status)

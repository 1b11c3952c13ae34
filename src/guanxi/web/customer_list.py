"""The customer list: filters, sort, keyset "load more", columns, saved views, bulk actions, export."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.errors import ValidationFailed
from guanxi.core.roles import Perm
from guanxi.customers.models import Customer
from guanxi.customers.selectors import (
    CustomerFilters,
    customer_list,
    filter_customers,
    paginate_rows,
)
from guanxi.web import export_views as export_pages
from guanxi.web import queries, services
from guanxi.web.cells import ROW_FIELDS, CellRenderer
from guanxi.web.decorators import workspace

PAGE_SIZE = 50
FILTER_KEYS = [
    "q",
    "owner",
    "team",
    "tag",
    "industry",
    "province",
    "city",
    "kind",
    "lifecycle_stage",
    "value_tier",
    "grade",
    "created_from",
    "created_to",
    "updated_from",
    "updated_to",
]
SORTS = [
    ("-id", gettext_lazy("Newest first")),
    ("id", gettext_lazy("Oldest first")),
    ("-updated_at", gettext_lazy("Recently updated")),
    ("name", gettext_lazy("Name A→Z")),
    ("-name", gettext_lazy("Name Z→A")),
]
COLUMNS = [
    ("company", gettext_lazy("Company")),
    ("phone", gettext_lazy("Phone")),
    ("email", gettext_lazy("Email")),
    ("owner", gettext_lazy("Owner")),
    ("team", gettext_lazy("Team")),
    ("location", gettext_lazy("Location")),
    ("industry", gettext_lazy("Industry")),
    ("lifecycle_stage", gettext_lazy("Lifecycle stage")),
    ("value_tier", gettext_lazy("Value tier")),
    ("grade", gettext_lazy("Grade")),
    ("tags", gettext_lazy("Tags")),
    ("source", gettext_lazy("Source")),
    ("created_at", gettext_lazy("Created")),
    ("updated_at", gettext_lazy("Updated")),
]
DEFAULT_COLUMNS = ["company", "phone", "owner", "location", "lifecycle_stage", "grade", "tags", "updated_at"]
COLUMN_KEYS = {key for key, _label in COLUMNS}


def _day(value: str, *, end: bool = False) -> dt.datetime | None:
    """A YYYY-MM-DD from a date input → the start of that day (or of the next one) in the org's zone."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    if end:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def parse_filters(params: QueryDict) -> tuple[CustomerFilters, dict[str, str]]:
    raw = {key: params.get(key, "").strip()[:100] for key in FILTER_KEYS}
    filters = CustomerFilters(
        q=raw["q"],
        owner=raw["owner"],
        team=raw["team"],
        tag=raw["tag"],
        industry=raw["industry"],
        province=raw["province"],
        city=raw["city"],
        kind=raw["kind"],
        lifecycle_stage=raw["lifecycle_stage"],
        value_tier=raw["value_tier"],
        grade=raw["grade"],
        created_after=_day(raw["created_from"]),
        created_before=_day(raw["created_to"], end=True),
        updated_after=_day(raw["updated_from"]),
        updated_before=_day(raw["updated_to"], end=True),
    )
    return filters, raw


def _columns(request: HttpRequest) -> list[str]:
    pref = queries.preference_of(request.actor.user.pk)  # type: ignore[attr-defined]
    chosen = [c for c in (pref.list_columns if pref else []) if c in COLUMN_KEYS]
    return chosen or DEFAULT_COLUMNS


def _active_query(raw: dict[str, str], sort: str) -> str:
    items = [(k, v) for k, v in raw.items() if v]
    if sort != "-id":
        items.append(("sort", sort))
    return urlencode(items)


def _filtered(request: HttpRequest) -> tuple[Any, dict[str, str], dict[str, str], list[Any]]:
    """The caller's visible customers narrowed by the request's filters, with the raw filter
    values, the raw custom-field filters and the organisation's custom-field definitions."""
    actor = request.actor  # type: ignore[attr-defined]
    filters, raw = parse_filters(request.GET)
    defs = queries.custom_field_defs(actor)
    qs = filter_customers(Customer.objects.visible_to(actor), actor, filters)
    qs, raw_custom = queries.custom_filters(qs, defs, request.GET)
    return qs, raw, raw_custom, defs


@require_GET
@workspace()
def customers(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    sort = request.GET.get("sort", "-id")
    if sort not in dict(SORTS):
        sort = "-id"
    cursor = request.GET.get("cursor", "")
    qs, raw, raw_custom, defs = _filtered(request)
    error = ""
    try:
        page = paginate_rows(qs, fields=ROW_FIELDS, sort=sort, cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed as exc:
        page, error = None, exc.detail
    chosen = _columns(request)
    columns = [key for key, _label in COLUMNS if key in chosen]
    row_html = CellRenderer(columns).rows(page.items) if page is not None and page.items else ""
    query = _active_query({**raw, **{f"cf.{k}": v for k, v in raw_custom.items()}}, sort)
    context: dict[str, Any] = {
        "section": "customers",
        "page": page,
        "row_html": row_html,
        "error": error,
        "columns": columns,
        "column_choices": COLUMNS,
        "raw": raw,
        "sort": sort,
        "query": query,
        "more_url": f"?{query}&cursor={page.next_cursor}" if page and page.next_cursor else "",
    }
    if cursor and request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/customers/list.html#rows", context)
    context["count"], context["count_exact"] = _count_now(actor, qs, page, cursor)
    context["filtered"] = any(raw.values()) or bool(raw_custom)
    if request.htmx and request.htmx.target == "results":  # type: ignore[attr-defined]
        return render(request, "web/customers/list.html#results", context)
    context.update(
        **queries.list_pickers(actor),
        distinct=queries.distinct_values(actor),
        views=queries.cached_saved_views(actor),
        sorts=SORTS,
        lifecycles=Customer.Lifecycle.choices,
        tiers=[c for c in Customer.ValueTier.choices if c[0]],
        kinds=Customer.Kind.choices,
        grades=["A", "B", "C", "D"],
        custom_defs=[d for d in defs if d.field_type in queries.FILTERABLE_CUSTOM],
        custom_field_defs=defs,  # the Export menu's columns
        raw_custom=raw_custom,
    )
    return render(request, "web/customers/list.html", context)


def _count_now(actor: Any, qs: Any, page: Any, cursor: str) -> tuple[int | None, bool]:
    """The count above the rows if it costs nothing now: a first page that holds every match, or a
    count cached by an earlier visit. Otherwise (None, False): the page asks ``customers_count``
    for it once it is shown, so a new filter's rows never wait for a count over up to
    ``COUNT_CAP`` rows (100–300 ms at a million customers)."""
    if page is not None and not cursor and page.next_cursor is None:
        return len(page.items), True
    known = queries.known_count(actor, qs)
    return known if known is not None else (None, False)


@require_GET
@workspace()
def customers_count(request: HttpRequest) -> HttpResponse:
    """The "N customers" above the list for the request's filters (the list page loads it)."""
    qs, _raw, _raw_custom, _defs = _filtered(request)
    count, exact = queries.cached_capped_count(request.actor, qs)  # type: ignore[attr-defined]
    return render(request, "web/customers/list.html#count", {"count": count, "count_exact": exact})


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("customers")


def _ids(request: HttpRequest) -> list[int]:
    out = []
    for value in request.POST.getlist("ids"):
        try:
            out.append(int(value))
        except ValueError:
            continue
    return out


@require_POST
@workspace()
def customers_bulk(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    action = request.POST.get("action", "")
    if request.POST.get("all_matching") == "1":  # "Select all N matching": the whole filter
        return export_pages.bulk_all_matching(request)
    if action == "export":
        return export_pages.start_export(request, all_matching=False, fmt="csv", columns=[])
    ids = _ids(request)
    try:
        n = services.customers_bulk_action(
            actor=actor,
            ids=ids,
            action=action,
            owner=request.POST.get("owner", ""),
            tag=request.POST.get("tag", ""),
        )
    except ValidationFailed as exc:
        messages.error(request, "; ".join(str(e.message) for e in exc.errors) or exc.detail)
        return _back(request)
    labels = {
        "assign": _("Assigned %(n)s customers."),
        "tag_add": _("Tagged %(n)s customers."),
        "tag_remove": _("Removed the tag from %(n)s customers."),
        "delete": _("Moved %(n)s customers to the recycle bin."),
    }
    messages.success(request, labels[action] % {"n": n})
    return _back(request)


@require_POST
@workspace()
def customers_columns(request: HttpRequest) -> HttpResponse:
    chosen = [c for c in request.POST.getlist("columns") if c in COLUMN_KEYS]
    services.preference_update(user_id=request.actor.user.pk, columns=chosen)  # type: ignore[attr-defined]
    return _back(request)


def _clean_query(query: str) -> str:
    """Keep only the list's own filter parameters from a saved query string."""
    params = QueryDict(query)
    keys = [*FILTER_KEYS, "sort", *sorted(k for k in params if k.startswith("cf."))]
    items = [(k, params.get(k, "")[:100]) for k in keys if params.get(k, "").strip()]
    return urlencode(items)


@require_POST
@workspace()
def saved_view_create(request: HttpRequest) -> HttpResponse:
    try:
        view = services.saved_view_create(
            actor=request.actor,  # type: ignore[attr-defined]
            name=request.POST.get("name", ""),
            query=_clean_query(request.POST.get("query", "")),
            shared=request.POST.get("shared") == "on",
        )
    except ValidationFailed as exc:
        messages.error(request, "; ".join(str(e.message) for e in exc.errors))
        return _back(request)
    messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
    return redirect(f"/customers/?{view.query}&view={view.pk}")


@require_POST
@workspace()
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    services.saved_view_delete(actor=request.actor, view_id=view_id)  # type: ignore[attr-defined]
    messages.success(request, _("View deleted."))
    return redirect("customers")


@require_GET
@workspace(Perm.CUSTOMER_DELETE)
def trash(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    cursor = request.GET.get("cursor", "")
    try:
        page = customer_list(
            actor=actor, filters=CustomerFilters(), cursor=cursor, limit=PAGE_SIZE, deleted=True
        )
    except ValidationFailed:
        page = customer_list(actor=actor, filters=CustomerFilters(), limit=PAGE_SIZE, deleted=True)
    return render(
        request,
        "web/customers/trash.html",
        {
            "section": "trash",
            "page": page,
            "deleted_by": queries.deleted_by_names(page.items),
            "more_url": f"?cursor={page.next_cursor}" if page.next_cursor else "",
        },
    )

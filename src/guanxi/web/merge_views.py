"""Merging duplicate customers in the workspace: pick the other record, compare side by side, choose
per field, confirm; the success page offers undo; admins and managers see the history of merges.

Thin: ``customers.merge`` and ``customers.merge_selectors`` do the work, as for the API and the CLI.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, FieldError, ValidationFailed, VersionConflict
from guanxi.core.roles import Perm
from guanxi.customers.merge import customer_merge, merge_undo
from guanxi.customers.merge_fields import BOTH, MERGED, SURVIVOR, UNION
from guanxi.customers.merge_relations import relation_by_label
from guanxi.customers.merge_selectors import (
    MergePreview,
    merge_get,
    merge_list,
    merge_of_merged,
    merge_preview,
)
from guanxi.customers.models import Customer, DuplicateCandidate
from guanxi.customers.selectors import CustomerMergedAway, customer_get, customer_queryset
from guanxi.web import queries
from guanxi.web.decorators import workspace

HISTORY_PAGE = 50
OPTION_LABELS = {UNION: gettext_lazy("Keep both"), BOTH: gettext_lazy("Keep both")}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _suggestions(actor: Actor, customer: Customer) -> list[tuple[Customer, float]]:
    """Open pairs of the duplicate scan that involve this customer, best first."""
    pairs = DuplicateCandidate.objects.filter(
        Q(customer_a_id=customer.pk) | Q(customer_b_id=customer.pk),
        organization_id=actor.org_id,
        status=DuplicateCandidate.Status.OPEN,
    )
    scores = {
        (p.customer_b_id if p.customer_a_id == customer.pk else p.customer_a_id): p.score
        for p in pairs.order_by("-score")[:20]
    }
    others = customer_queryset(actor).filter(pk__in=scores)
    return sorted(((c, scores[c.pk]) for c in others), key=lambda pair: -pair[1])[:8]


@require_GET
@workspace(Perm.CUSTOMER_MERGE)
def merge_start(request: HttpRequest, customer_id: int) -> HttpResponse:
    """ "Merge with…": search for the other record (or take a duplicate-scan suggestion)."""
    actor = _actor(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    return render(
        request,
        "web/merge/start.html",
        {"section": "customers", "customer": customer, "suggestions": _suggestions(actor, customer)},
    )


@require_GET
@workspace(Perm.CUSTOMER_MERGE)
def merge_search(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    q = request.GET.get("q", "")[:100]
    results = (
        [c for c in queries.search_customers(actor, q, limit=11) if c.pk != customer.pk][:10]
        if q.strip()
        else []
    )
    return render(request, "web/merge/start.html#results", {"customer": customer, "q": q, "results": results})


def _text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _rows(preview: MergePreview, chosen: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Differing fields (one radio group each) and identical ones (shown collapsed)."""
    differing, identical = [], []
    for f in preview.fields:
        row = {
            "key": f.key,
            "label": f.label,
            "survivor": _text(f.survivor),
            "merged": _text(f.merged),
            "choice": chosen.get(f.key, f.default),
            "default": f.default,
            "extra": [(o, OPTION_LABELS[o]) for o in f.options if o not in (SURVIVOR, MERGED)],
        }
        if f.identical:
            identical.append(row)
        else:
            differing.append(row)
    return differing, identical


def _moves(preview: MergePreview) -> list[str]:
    return [f"{count} {relation.name(count)}" for relation, count in preview.moves]


@require_http_methods(["GET", "POST"])
@workspace(Perm.CUSTOMER_MERGE)
def merge_compare(request: HttpRequest, survivor_id: int, other_id: int) -> HttpResponse:
    actor = _actor(request)
    errors: list[FieldError] = []
    conflict = ""
    chosen: dict[str, str] = {}
    if request.method == "POST":
        chosen = {k[7:]: str(v) for k, v in request.POST.items() if k.startswith("choice:")}
        try:
            versions = {
                survivor_id: int(request.POST.get("survivor_version", "")),
                other_id: int(request.POST.get("merged_version", "")),
            }
        except ValueError:
            versions = {}
        try:
            record = customer_merge(
                actor=actor,
                survivor_id=survivor_id,
                merged_id=other_id,
                choices=chosen,
                expected_versions=versions,
            )
        except VersionConflict as exc:
            conflict = str(exc.detail)
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            return redirect("merge_detail", record.pk)
    try:
        preview = merge_preview(actor=actor, survivor_id=survivor_id, merged_id=other_id)
    except ValidationFailed as exc:
        return render(
            request,
            "web/merge/refused.html",
            {"section": "customers", "errors": exc.errors, "customer_id": survivor_id},
            status=422,
        )
    if conflict:
        chosen = {}  # the records changed: start again from the defaults of what is there now
    differing, identical = _rows(preview, chosen)
    context = {
        "section": "customers",
        "preview": preview,
        "survivor": preview.survivor,
        "merged": preview.merged,
        "differing": differing,
        "identical": identical,
        "moves": _moves(preview),
        "errors": errors,
        "conflict": conflict,
    }
    status = 409 if conflict else 422 if errors else 200
    return render(request, "web/merge/compare.html", context, status=status)


def _moved_lines(moved: dict[str, Any]) -> list[str]:
    lines = []
    for label, ids in moved.items():
        if label.startswith("_"):
            continue
        relation = relation_by_label(label)
        name = relation.name(len(ids)) if relation else label
        lines.append(f"{len(ids)} {name}")
    return lines


@require_GET
@workspace(Perm.CUSTOMER_MERGE)
def merge_detail(request: HttpRequest, merge_id: int) -> HttpResponse:
    """A merge done (the success page) or undone, with its undo button."""
    merge = merge_get(actor=_actor(request), merge_id=merge_id)
    return render(
        request,
        "web/merge/done.html",
        {"section": "merges", "merge": merge, "moved": _moved_lines(merge.moved)},
    )


@require_POST
@workspace(Perm.CUSTOMER_MERGE)
def merge_undo_view(request: HttpRequest, merge_id: int) -> HttpResponse:
    try:
        result = merge_undo(actor=_actor(request), merge_id=merge_id)
    except Conflict as exc:
        messages.error(request, str(exc.detail))
        return redirect("merge_detail", merge_id)
    merge = result.merge
    text = _("Merge undone: “%(name)s” is back with its own records.") % {"name": merge.merged.name}
    if result.kept:
        from guanxi.customers.merge_fields import LABELS

        kept = "、".join(str(LABELS.get(k, k)) for k in result.kept)
        text += " " + _("Fields edited after the merge were kept on “%(name)s”: %(fields)s.") % {
            "name": merge.survivor.name,
            "fields": kept,
        }
    messages.success(request, text)
    return redirect("customer_detail", merge.merged_id)


@require_GET
@workspace(Perm.CUSTOMER_MERGE)
def merges(request: HttpRequest) -> HttpResponse:
    """The history of merges the actor can see, newest first, with undo."""
    before = request.GET.get("before", "")
    rows = merge_list(
        actor=_actor(request), before_id=int(before) if before.isdigit() else None, limit=HISTORY_PAGE + 1
    )
    more = rows[HISTORY_PAGE - 1].pk if len(rows) > HISTORY_PAGE else None
    return render(
        request,
        "web/merge/history.html",
        {
            "section": "merges",
            "merges": [(m, _moved_lines(m.moved)) for m in rows[:HISTORY_PAGE]],
            "more": more,
        },
    )


def merged_away_page(request: HttpRequest, exc: CustomerMergedAway) -> HttpResponse:
    """What opening a merged-away customer shows: a banner linking to the record it became."""
    actor = _actor(request)
    survivor = customer_queryset(actor, include_deleted=True).filter(pk=exc.merged_into).first()
    customer_id = int(request.resolver_match.kwargs["customer_id"]) if request.resolver_match else 0
    merged = customer_queryset(actor, include_deleted=True).filter(pk=customer_id).first()
    merge = merge_of_merged(actor=actor, customer_id=customer_id) if actor.has(Perm.CUSTOMER_MERGE) else None
    return render(
        request,
        "web/merge/merged_away.html",
        {"section": "customers", "survivor": survivor, "merged": merged, "merge": merge},
    )

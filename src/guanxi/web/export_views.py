"""Export and "all N matching" bulk actions on the customer list, and the page that follows their jobs.

Thin: ``customers.exports`` and ``customers.bulk_all`` decide; these views read the form, call them
and pick an answer — a download, a confirmation page with the count, or the job page that polls
with htmx until the file is ready or the change is done. Job pages and downloads are their
creator's only: anyone else gets 404, like any id they may not see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.core import jobs
from guanxi.core.context import Actor
from guanxi.core.errors import DomainError, FieldError, NotFound, ValidationFailed
from guanxi.core.models import Job
from guanxi.customers import bulk_all, exports
from guanxi.customers.exports_api import download_response
from guanxi.customers.selection import CustomerSelection, selection_from_params
from guanxi.web.decorators import workspace

JOB_KINDS = (exports.JOB_KIND, bulk_all.JOB_KIND)
ACTION_LABELS = {
    "assign": gettext_lazy("Assign owner"),
    "tag_add": gettext_lazy("Add tag"),
    "tag_remove": gettext_lazy("Remove tag"),
    "delete": gettext_lazy("Move to the recycle bin"),
}
FILTER_LABELS = {
    "q": gettext_lazy("Search"),
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "tag": gettext_lazy("Tag"),
    "industry": gettext_lazy("Industry"),
    "province": gettext_lazy("Province"),
    "city": gettext_lazy("City"),
    "kind": gettext_lazy("Kind"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "value_tier": gettext_lazy("Value tier"),
    "grade": gettext_lazy("Grade"),
    "created_from": gettext_lazy("Created from"),
    "created_to": gettext_lazy("Created until"),
    "updated_from": gettext_lazy("Updated from"),
    "updated_to": gettext_lazy("Updated until"),
}


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _list_url(query: str) -> str:
    return reverse("customers") + (f"?{query}" if query else "")


def _query(request: HttpRequest) -> str:
    """The list's filter query string the form carried (only the list's own parameters are read)."""
    return request.POST.get("query", "")[:2000]


def _ids(request: HttpRequest) -> list[str]:
    return [v for v in request.POST.getlist("ids") if v.strip()]


def _error_message(exc: DomainError) -> str:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return str(exc.detail)


def _selection(request: HttpRequest, *, all_matching: bool) -> CustomerSelection:
    actor = _actor(request)
    if all_matching:
        return selection_from_params(actor, QueryDict(_query(request)))
    ids = _ids(request)
    if not ids:
        raise ValidationFailed(
            errors=[FieldError("ids", _("select at least one customer, or export all matching"))]
        )
    return selection_from_params(actor, {"ids": ",".join(ids)})


def start_export(request: HttpRequest, *, all_matching: bool, fmt: str, columns: list[str]) -> HttpResponse:
    """Shared by the Export menu and the bulk bar's "Export" action."""
    try:
        spec = exports.ExportSpec(
            selection=_selection(request, all_matching=all_matching),
            format=fmt,
            columns=tuple(columns),
            header="labels",
        )
        export = exports.export_start(actor=_actor(request), spec=spec)
    except (exports.ExportRateLimited, ValidationFailed) as exc:
        messages.error(request, _error_message(exc))
        return redirect(_list_url(_query(request)))
    if export.job is not None:
        messages.success(
            request,
            _("Preparing the export of %(n)s customers. You will be notified when the file is ready.")
            % {"n": f"{export.rows:,}"},
        )
        return redirect("job_page", job_id=export.job.pk)
    # A streamed file is an HttpResponseBase; Django serves it like any response.
    return cast(HttpResponse, download_response(export))


@require_POST
@workspace()
def customers_export(request: HttpRequest) -> HttpResponse:
    columns = [c for c in request.POST.getlist("columns") if c]
    all_matching = request.POST.get("scope", "all") == "all" or request.POST.get("all_matching") == "1"
    return start_export(
        request, all_matching=all_matching, fmt=request.POST.get("format", "csv"), columns=columns
    )


def _describe(query: str) -> list[tuple[str, str]]:
    """The filters of a list query, as (label, value) pairs for the confirmation page."""
    params = QueryDict(query)
    out = [(str(FILTER_LABELS[k]), params[k]) for k in FILTER_LABELS if params.get(k)]
    out += [(k[3:], str(v)) for k, v in params.items() if k.startswith("cf.") and v]
    return out


def bulk_all_matching(request: HttpRequest) -> HttpResponse:
    """The bulk bar with "all N matching" ticked: confirm with the count, then change or start a job."""
    actor = _actor(request)
    action = request.POST.get("action", "")
    query = _query(request)
    if action == "export":
        return start_export(request, all_matching=True, fmt="csv", columns=[])
    owner, tag = request.POST.get("owner", ""), request.POST.get("tag", "").strip()
    try:
        selection = _selection(request, all_matching=True)
        if request.POST.get("confirmed") != "1":
            bulk_all.bulk_check(actor, action, tag)
            context: dict[str, Any] = {
                "section": "customers",
                "count": bulk_all.bulk_count(actor=actor, selection=selection),
                "action": action,
                "action_label": ACTION_LABELS.get(action, action),
                "owner": owner,
                "tag": tag,
                "query": query,
                "filters": _describe(query),
                "back": _list_url(query),
                "runs_as_job_above": settings.GUANXI_BULK_SYNC_MAX,
            }
            return render(request, "web/exports/confirm_bulk.html", context)
        outcome = bulk_all.customers_bulk_selection(
            actor=actor, selection=selection, action=action, owner=owner, tag=tag
        )
    except ValidationFailed as exc:
        messages.error(request, _error_message(exc))
        return redirect(_list_url(query))
    if outcome.job is not None:
        return redirect("job_page", job_id=outcome.job.pk)
    messages.success(
        request,
        _("%(action)s: done for %(changed)s of %(matched)s matching customers.")
        % {"action": ACTION_LABELS[action], "changed": outcome.changed, "matched": outcome.matched},
    )
    return redirect(_list_url(query))


def _own_job(request: HttpRequest, job_id: int) -> Job:
    actor = _actor(request)
    job = Job.objects.filter(
        pk=job_id, organization_id=actor.org_id, created_by_id=actor.user.pk, kind__in=JOB_KINDS
    ).first()
    if job is None:
        raise NotFound(_("Job not found."))
    return job


def _when(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@require_GET
@workspace()
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _own_job(request, job_id)
    params = job.params or {}
    context = {
        "section": "customers",
        "job": job,
        "is_export": job.kind == exports.JOB_KIND,
        "active": job.state in (Job.State.QUEUED, Job.State.RUNNING),
        "action_label": ACTION_LABELS.get(params.get("action", ""), ""),
        "tag": params.get("tag", ""),
        "owner": params.get("owner", ""),
        "matched": params.get("matched"),
        "back": _list_url(""),
        "expires_at": _when((job.result or {}).get("expires_at")),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/exports/job.html#status", context)
    return render(request, "web/exports/job.html", context)


@require_POST
@workspace()
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _own_job(request, job_id)
    try:
        jobs.job_cancel(actor=_actor(request), job_id=job.pk)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    return redirect("job_page", job_id=job.pk)


@require_GET
@workspace()
def export_download(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        path, filename, content_type = exports.export_file(actor=_actor(request), job_id=job_id)
    except exports.ExportNotReady:
        return redirect("job_page", job_id=job_id)
    except exports.ExportGone as exc:
        return render(
            request, "web/exports/gone.html", {"section": "customers", "message": exc.detail}, status=410
        )
    response = FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return cast(HttpResponse, response)

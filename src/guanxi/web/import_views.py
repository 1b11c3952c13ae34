"""The customer import wizard: upload → map columns and preview → progress → result.

The pages only collect choices and show what the import services answer: reading the file,
mapping, validation, matching and writing all live in ``guanxi.customers.imports`` so the wizard,
the API and ``guanxi import customers`` import the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core import jobs
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.core.models import Job
from guanxi.core.selectors import custom_field_list
from guanxi.customers.imports import selectors as import_selectors
from guanxi.customers.imports import services
from guanxi.customers.imports.engine import ImportOptions
from guanxi.customers.imports.mapping import target_choices
from guanxi.customers.imports.readers import FORMATS, ImportFileError, encoding_label, open_source
from guanxi.customers.models import ImportMapping
from guanxi.web.decorators import forbidden, workspace
from guanxi.web.templatetags.import_tags import can_import

JOB_KIND = "customers.import"
MODES = [
    ("create", gettext_lazy("Create new customers only")),
    ("update", gettext_lazy("Update matching customers only")),
    ("upsert", gettext_lazy("Update matches, create the rest")),
]
MODE_KEYS = {key for key, _label in MODES}
FORMAT_LABELS = {
    "csv": gettext_lazy("CSV"),
    "xlsx": gettext_lazy("Excel workbook"),
    "vcard": gettext_lazy("vCard"),
    "jsonl": gettext_lazy("JSON lines"),
}
FLAVOUR_LABELS = {
    "google": gettext_lazy("Google Contacts export"),
    "outlook": gettext_lazy("Outlook export"),
}
ENCODINGS = [("utf-8", "UTF-8"), ("gb18030", "GBK / GB18030"), ("utf-16", "UTF-16"), ("big5", "Big5")]
PREVIEW_ROWS = 20
MAX_UPLOAD_MB = 200


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _importer(request: HttpRequest) -> HttpResponse | None:
    if not can_import(_actor(request)):
        return forbidden(request, _("Only administrators and sales managers may import customers."))
    return None


def _saved_mappings(actor: Actor) -> list[ImportMapping]:
    return list(import_selectors.mapping_list(actor=actor))


def _recent_jobs(actor: Actor) -> list[Job]:
    return list(
        Job.objects.filter(organization_id=actor.org_id, kind=JOB_KIND, created_by=actor.user).order_by(
            "-id"
        )[:5]
    )


# ----------------------------------------------------------------------------------- step 1


@require_http_methods(["GET", "POST"])
@workspace()
def import_upload(request: HttpRequest) -> HttpResponse:
    if denied := _importer(request):
        return denied
    actor = _actor(request)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file to import.")
        elif upload.size and upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            error = _("The file is larger than %(mb)s MB; use the command line for files this big.") % {
                "mb": MAX_UPLOAD_MB
            }
        else:
            try:
                stored = services.import_upload(actor=actor, filename=upload.name or "upload", fileobj=upload)
            except (ValidationFailed, ImportFileError) as exc:
                error = _error_text(exc)
            else:
                query = {k: request.POST.get(k, "") for k in ("format", "encoding", "sheet", "mapping")}
                query = {k: v for k, v in query.items() if v}
                url = reverse("import_map", args=[stored.id])
                return redirect(f"{url}?{urlencode(query)}" if query else url)
    context = {
        "section": "customers",
        "step": 1,
        "error": error,
        "formats": [(f, FORMAT_LABELS[f]) for f in FORMATS],
        "encodings": ENCODINGS,
        "mappings": _saved_mappings(actor),
        "recent": _recent_jobs(actor),
        "max_mb": MAX_UPLOAD_MB,
    }
    return render(request, "web/imports/upload.html", context, status=400 if error else 200)


# ----------------------------------------------------------------------------------- step 2


def _options_from(
    data: QueryDict, *, headers: list[str] | None = None, saved: ImportMapping | None = None
) -> ImportOptions:
    """ImportOptions from the wizard's fields; ``map-<i>`` fields carry the target of column i."""
    mapping: dict[str, str] | None = None
    if headers is not None and any(k.startswith("map-") for k in data):
        mapping = {}
        for index, header in enumerate(headers):
            mapping[header] = data.get(f"map-{index}", "")
    elif saved is not None:
        mapping = dict(saved.columns)
    mode = data.get("mode", "")
    if mode not in MODE_KEYS:
        mode = (saved.options.get("mode") if saved is not None else "") or "create"
    add_tag = data.get("add_tag", "").strip()[:50]
    return ImportOptions(
        format=data.get("format") or None,
        encoding=data.get("encoding") or None,
        sheet=data.get("sheet") or None,
        mapping=mapping,
        mapping_name=saved.name if saved is not None else None,
        mode=mode,
        add_tags=(add_tag,) if add_tag else (),
    )


def _saved_mapping(actor: Actor, data: QueryDict) -> Any:
    raw = data.get("mapping", "")
    if not raw.isdigit():
        return None
    return next((m for m in _saved_mappings(actor) if m.pk == int(raw)), None)


def _file_headers(actor: Actor, upload_id: str, data: QueryDict) -> list[str]:
    """The file's columns in order: the ``map-<i>`` fields name columns by position."""
    upload = services.upload_get(actor=actor, upload_id=upload_id)
    options = _options_from(data)
    with open_source(
        upload.path, format=options.format, encoding=options.encoding, sheet=options.sheet
    ) as table:
        return list(table.headers)


def _default_tag() -> str:
    return _("Import %(when)s") % {"when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}


def _preview_context(request: HttpRequest, upload_id: str, data: QueryDict) -> dict[str, Any]:
    actor = _actor(request)
    saved = _saved_mapping(actor, data)
    headers = _file_headers(actor, upload_id, data) if any(k.startswith("map-") for k in data) else None
    options = _options_from(data, headers=headers, saved=saved)
    preview = services.import_preview(actor=actor, upload_id=upload_id, options=options, limit=PREVIEW_ROWS)
    mapping = dict(preview.mapping)
    samples: dict[str, list[str]] = {h: [] for h in preview.headers}
    for row in preview.rows:
        for header, value in zip(preview.headers, row.values, strict=False):
            if value and len(samples[header]) < 3 and value not in samples[header]:
                samples[header].append(value)
    mapped = [h for h in preview.headers if mapping.get(h)]
    rows = []
    for row in preview.rows:
        by_column: dict[str, list[str]] = {}
        general: list[str] = []
        for err in row.errors:
            if err.column and err.column in mapping:
                by_column.setdefault(err.column, []).append(str(err.message))
            else:
                general.append(str(err.message))
        values = dict(zip(preview.headers, row.values, strict=False))
        rows.append(
            {
                "row": row.row,
                "action": row.action,
                "match": row.match,
                "cells": [(h, values.get(h, ""), by_column.get(h, [])) for h in mapped],
                "general": general,
                "input": row.input,
            }
        )
    columns = [
        {"index": i, "header": h, "target": mapping.get(h, ""), "samples": samples.get(h, [])}
        for i, h in enumerate(preview.headers)
    ]
    mapping_errors = [(e.field, str(e.message)) for e in preview.mapping_errors]
    counts = {
        a: sum(1 for r in preview.rows if r.action == a) for a in ("create", "update", "skip", "reject")
    }
    custom = list(custom_field_list(actor=actor))
    return {
        "section": "customers",
        "step": 2,
        "upload_id": upload_id,
        "preview": preview,
        "format_label": FLAVOUR_LABELS.get(preview.flavour)
        or FORMAT_LABELS.get(preview.format, preview.format),
        "encoding_label": encoding_label(preview.encoding),
        "columns": [c for c in columns if c["target"] or c["samples"]],
        # Exports carry dozens of columns nobody filled (Google's "Phonetic Middle Name" …): folded away
        "empty_columns": [c for c in columns if not (c["target"] or c["samples"])],
        "targets": target_choices(custom),
        "mapped": mapped,
        "rows": rows,
        "counts": counts,
        "mapping_errors": mapping_errors,
        "general_mapping_errors": [m for f, m in mapping_errors if not f],
        "column_errors": {f: m for f, m in mapping_errors if f},
        "mode": options.mode,
        "modes": MODES,
        "formats": [(f, FORMAT_LABELS[f]) for f in FORMATS],
        "encodings": ENCODINGS,
        "chosen": {k: data.get(k, "") for k in ("format", "encoding", "sheet", "mapping")},
        "add_tag": data["add_tag"] if "add_tag" in data else _default_tag(),
        "saved": saved,
        "mappings": _saved_mappings(actor),
    }


def _preview_or_error(request: HttpRequest, upload_id: str, data: QueryDict) -> HttpResponse:
    try:
        context = _preview_context(request, upload_id, data)
    except (ImportFileError, ValidationFailed) as exc:
        context = {
            "section": "customers",
            "step": 2,
            "upload_id": upload_id,
            "file_error": _error_text(exc),
            "formats": [(f, FORMAT_LABELS[f]) for f in FORMATS],
            "encodings": ENCODINGS,
            "chosen": {k: data.get(k, "") for k in ("format", "encoding", "sheet", "mapping")},
        }
        return render(request, "web/imports/map.html", context, status=422)
    template = "web/imports/map.html#preview" if request.htmx else "web/imports/map.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
@workspace()
def import_map(request: HttpRequest, upload_id: Any) -> HttpResponse:
    if denied := _importer(request):
        return denied
    upload_id = str(upload_id)  # the URL converter hands over a UUID
    return _preview_or_error(request, upload_id, request.GET)


@require_POST
@workspace()
def import_preview(request: HttpRequest, upload_id: Any) -> HttpResponse:
    """htmx: the mapping, mode or options changed; answer the refreshed mapping and preview."""
    if denied := _importer(request):
        return denied
    upload_id = str(upload_id)  # the URL converter hands over a UUID
    return _preview_or_error(request, upload_id, request.POST)


@require_POST
@workspace()
def import_start(request: HttpRequest, upload_id: Any) -> HttpResponse:
    if denied := _importer(request):
        return denied
    upload_id = str(upload_id)  # the URL converter hands over a UUID
    actor = _actor(request)
    try:
        options = _options_from(
            request.POST,
            headers=_file_headers(actor, upload_id, request.POST),
            saved=_saved_mapping(actor, request.POST),
        )
        save_as = request.POST.get("save_as", "").strip()
        if save_as and options.mapping:
            services.mapping_save(
                actor=actor,
                name=save_as[:100],
                columns=options.mapping,
                options={
                    "mode": options.mode,
                    "format": options.format,
                    "encoding": options.encoding,
                    "sheet": options.sheet,
                },
            )
            options.mapping_name = save_as[:100]
        job = services.import_start(actor=actor, upload_id=upload_id, options=options)
    except (ImportFileError, ValidationFailed, Conflict) as exc:
        messages.error(request, _error_text(exc))
        return redirect(f"{reverse('import_map', args=[upload_id])}?{request.POST.urlencode()}")
    return redirect("import_job", job_id=job.pk)


# ------------------------------------------------------------------------------- steps 3 & 4


def _import_job(actor: Actor, job_id: int) -> Job:
    return import_selectors.import_job_get(actor=actor, job_id=job_id)


def _job_context(actor: Actor, job: Job) -> dict[str, Any]:
    counts = {k: int(job.counts.get(k, 0) or 0) for k in ("created", "updated", "skipped", "rejected")}
    tags = list(job.params.get("options", {}).get("add_tags") or job.params.get("add_tags") or [])
    list_url = ""
    if tags and (counts["created"] or counts["updated"]):
        list_url = f"{reverse('customers')}?{urlencode({'tag': tags[0]})}"
    finished = job.state not in (Job.State.QUEUED, Job.State.RUNNING)
    elapsed = None
    if job.started_at:
        elapsed = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
    return {
        "section": "customers",
        "step": 4 if finished else 3,
        "job": job,
        "finished": finished,
        "counts": counts,
        "errors": list(job.errors or [])[:50],
        "error_total": counts["rejected"] or len(job.errors or []),
        "list_url": list_url,
        "tag": tags[0] if tags else "",
        "elapsed": dt.timedelta(seconds=round(elapsed)) if elapsed is not None else None,
        "filename": job.params.get("filename", ""),
    }


@require_GET
@workspace()
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    if denied := _importer(request):
        return denied
    job = _import_job(_actor(request), job_id)
    context = _job_context(_actor(request), job)
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "web/imports/job.html#status", context)
        if context["finished"]:
            response["HX-Refresh"] = "true"  # swap to the full result page once, with its links
        return response
    return render(request, "web/imports/job.html", context)


@require_POST
@workspace()
def import_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    if denied := _importer(request):
        return denied
    actor = _actor(request)
    _import_job(actor, job_id)
    try:
        jobs.job_cancel(actor=actor, job_id=job_id)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The import is being cancelled; nothing it started is kept half-done."))
    return redirect("import_job", job_id=job_id)


@require_GET
@workspace()
def import_errors(request: HttpRequest, job_id: int) -> HttpResponse:
    if denied := _importer(request):
        return denied
    actor = _actor(request)
    _import_job(actor, job_id)
    path = services.import_error_file(actor=actor, job_id=job_id)
    if not path or not path.exists():
        raise Http404(_("This import has no error file."))
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{job_id}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
    return cast(HttpResponse, response)  # streamed; the workspace wrapper only passes it through


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(str(e.message) for e in exc.errors) or str(exc.detail)
    return str(exc)

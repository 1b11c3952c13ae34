"""REST endpoints for customer exports: ``GET /api/v1/customers/export`` and the job file download.

The export takes the same filters as ``GET /api/v1/customers`` (plus ``cf.<key>`` custom-field
filters, ``ids``, ``view``), streams the file when it is small and answers 202 with a job when it
is large. Thin: ``customers.exports`` does the work.
"""

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.api.auth import actor_of
from guanxi.api.idempotency import json_response
from guanxi.api.problems import problem
from guanxi.customers import exports
from guanxi.customers.api import CustomerFilterQuery
from guanxi.customers.selection import selection_from_params

router = Router(tags=["exports"])


class ExportQuery(CustomerFilterQuery):
    """The list's filters, plus what to write and how."""

    format: str = Field("csv", pattern="^(csv|xlsx)$", description="csv (UTF-8 with BOM) or xlsx")
    columns: str = Field(
        "",
        max_length=2000,
        description="Comma-separated column keys (see /customers/export/columns); "
        "empty: the usual columns and every custom field",
    )
    header: str = Field(
        "keys",
        pattern="^(keys|labels)$",
        description="keys: stable column keys and codes; labels: translated headers and values",
    )
    ids: str = Field("", max_length=120_000, description="Only these customer ids (comma-separated)")
    view: str = Field("", max_length=100, description="A saved view's id or name supplies the filters")


class ColumnOut(Schema):
    key: str
    label: str


def rate_limited(exc: exports.ExportRateLimited) -> HttpResponse:
    response = problem(
        429, str(exc.detail), retry_after=exc.retry_after, retry_at=exc.retry_at.isoformat(timespec="seconds")
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def download_response(export: exports.Export) -> HttpResponseBase:
    """The file of a small export, streamed; attachment with an ASCII name."""
    response: HttpResponseBase
    if export.chunks is not None:
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    else:
        response = FileResponse(
            export.file, as_attachment=True, filename=export.filename, content_type=export.content_type
        )
    response["X-Export-Rows"] = str(export.rows)
    response["Cache-Control"] = "no-store"
    return response


def job_accepted(export: exports.Export) -> HttpResponse:
    assert export.job is not None
    job_id = export.job.pk
    return json_response(
        {
            "job_id": job_id,
            "state": export.job.state,
            "rows": export.rows,
            "status_url": f"/api/v1/jobs/{job_id}",
            "download_url": f"/api/v1/exports/{job_id}/download",
        },
        status=202,
        headers={"Location": f"/api/v1/jobs/{job_id}"},
    )


@router.get(
    "/customers/export",
    summary="Export customers as CSV or XLSX (streams; 202 with a job above the size threshold)",
    response={200: None, 202: dict[str, Any]},
)
def export_customers(request: HttpRequest, query: Query[ExportQuery]) -> HttpResponseBase:
    actor = actor_of(request)
    selection = selection_from_params(actor, request.GET)
    spec = exports.ExportSpec(
        selection=selection,
        format=query.format,
        columns=tuple(c.strip() for c in query.columns.split(",") if c.strip()),
        header=query.header,
    )
    try:
        export = exports.export_start(actor=actor, spec=spec)
    except exports.ExportRateLimited as exc:
        return rate_limited(exc)
    return job_accepted(export) if export.job else download_response(export)


@router.get("/customers/export/columns", response=list[ColumnOut], summary="Columns an export can have")
def export_columns(request: HttpRequest) -> list[dict[str, str]]:
    return [{"key": k, "label": label} for k, label in exports.column_choices(actor_of(request))]


@router.get(
    "/exports/{int:job_id}/download",
    summary="Download a finished export (only its creator; 410 once expired)",
    response={200: None},
)
def download_export(request: HttpRequest, job_id: int) -> HttpResponseBase:
    path, filename, content_type = exports.export_file(actor=actor_of(request), job_id=job_id)
    response = FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response

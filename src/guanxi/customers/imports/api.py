"""REST endpoints for imports: upload, preview, start (a job), error file, saved mappings.

``POST /imports`` (multipart ``file``) → upload id; ``POST /imports/{upload}/preview`` and
``POST /imports/{upload}/start`` take the same options; the job is polled at ``/jobs/{id}``.
Thin: ``imports.services`` does the work and raises the domain errors that become problem+json.
"""

from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import Field

from guanxi.api.auth import actor_of
from guanxi.api.idempotency import idempotent, json_response
from guanxi.core.schemas import JobOut
from guanxi.customers.imports import selectors, services
from guanxi.customers.imports.engine import ImportOptions

router = Router(tags=["imports"])
MatchKey = Literal["external_id", "phone", "email"]
DEFAULT_MATCH: tuple[MatchKey, ...] = ("external_id", "phone", "email")


class UploadOut(Schema):
    id: str
    filename: str
    size: int


class OptionsIn(Schema):
    format: Literal["csv", "xlsx", "vcard", "jsonl"] | None = None
    encoding: str | None = Field(None, max_length=40)
    sheet: str | None = Field(None, max_length=100)
    mapping: dict[str, str] | None = Field(
        None, description="source column → customer field; omit for automatic"
    )
    mapping_name: str | None = Field(None, max_length=100, description="a saved mapping to use")
    mode: Literal["create", "update", "upsert"] = "create"
    match_on: list[MatchKey] = Field(default_factory=lambda: list(DEFAULT_MATCH))
    dry_run: bool = False
    default_owner: str | None = Field(
        None, max_length=150, description="owner of new customers (default: you)"
    )
    add_tags: list[str] = Field(default_factory=list, max_length=20)

    def options(self) -> ImportOptions:
        return ImportOptions.from_dict(self.model_dump())


class PreviewIn(OptionsIn):
    limit: int = Field(20, ge=1, le=200)


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class PreviewRowOut(Schema):
    row: int
    values: list[str]
    input: dict[str, Any]
    action: str
    match: dict[str, Any] | None
    errors: list[RowErrorOut]


class FieldErrorOut(Schema):
    field: str
    message: str
    code: str


class PreviewOut(Schema):
    format: str
    flavour: str
    encoding: str | None
    sheet: str | None
    sheets: list[str]
    headers: list[str]
    mapping: dict[str, str]
    mapping_errors: list[FieldErrorOut]
    rows: list[PreviewRowOut]


class MappingIn(Schema):
    name: str = Field(..., max_length=100)
    columns: dict[str, str]
    options: dict[str, Any] = Field(default_factory=dict)


class MappingOut(Schema):
    id: int
    name: str
    columns: dict[str, str]
    options: dict[str, Any]


@router.post(
    "/imports", response={201: UploadOut}, summary="Upload a file to import (multipart field `file`)"
)
def upload(request: HttpRequest, file: File[UploadedFile]) -> Any:
    result = services.import_upload(actor=actor_of(request), filename=file.name or "", fileobj=file)
    return Status(201, UploadOut(id=result.id, filename=result.filename, size=result.size))


@router.post("/imports/{upload_id}/preview", response=PreviewOut, summary="Mapping and the first rows' fate")
def preview(request: HttpRequest, upload_id: str, payload: PreviewIn) -> Any:
    return services.import_preview(
        actor=actor_of(request), upload_id=upload_id, options=payload.options(), limit=payload.limit
    )


@router.post("/imports/{upload_id}/start", response={202: JobOut}, summary="Start the import job")
@idempotent
def start(request: HttpRequest, upload_id: str, payload: OptionsIn) -> HttpResponse:
    job = services.import_start(actor=actor_of(request), upload_id=upload_id, options=payload.options())
    response = json_response(JobOut.model_validate(job).model_dump(mode="json"), status=202)
    response["Location"] = f"/api/v1/jobs/{job.pk}"
    return response


@router.get("/imports/{int:job_id}/errors", summary="The import's error file (CSV, UTF-8 with BOM)")
def error_file(request: HttpRequest, job_id: int) -> FileResponse:
    path = services.import_error_file(actor=actor_of(request), job_id=job_id)
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"import-{job_id}-errors.csv", content_type="text/csv"
    )


@router.get("/import-mappings", response=list[MappingOut], summary="Saved column mappings")
def list_mappings(request: HttpRequest) -> Any:
    return list(selectors.mapping_list(actor=actor_of(request)))


@router.post("/import-mappings", response={201: MappingOut}, summary="Save a column mapping")
@idempotent
def create_mapping(request: HttpRequest, payload: MappingIn) -> HttpResponse:
    mapping = services.mapping_save(
        actor=actor_of(request), name=payload.name, columns=payload.columns, options=payload.options
    )
    return json_response(MappingOut.model_validate(mapping).model_dump(mode="json"), status=201)


@router.get("/import-mappings/{int:mapping_id}", response=MappingOut, summary="A saved column mapping")
def get_mapping(request: HttpRequest, mapping_id: int) -> Any:
    return selectors.mapping_get(actor=actor_of(request), mapping_id=mapping_id)


@router.put("/import-mappings/{int:mapping_id}", response=MappingOut, summary="Change a saved column mapping")
def update_mapping(request: HttpRequest, mapping_id: int, payload: MappingIn) -> Any:
    return services.mapping_save(
        actor=actor_of(request),
        name=payload.name,
        columns=payload.columns,
        options=payload.options,
        mapping_id=mapping_id,
    )


@router.delete("/import-mappings/{int:mapping_id}", response={204: None}, summary="Delete a saved mapping")
def delete_mapping(request: HttpRequest, mapping_id: int) -> HttpResponse:
    services.mapping_delete(actor=actor_of(request), mapping_id=mapping_id)
    return HttpResponse(status=204)

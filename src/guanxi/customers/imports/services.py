"""Writes for imports: upload a file, preview it, start the import job, save mappings.

The job itself is ``engine.ImportRun``; this module checks permissions and input, keeps uploads
in the data directory, and registers the job kind ``customers.import``.

Auditing: an import writes **one** audit event (action ``import``) with the file name, the mode
and the counts, plus the ``job_start`` event every job gets — not one event per row: a million
rows of audit would cost more than the import and say less than the job and its error file.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from guanxi.core.audit import audit
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from guanxi.core.jobs import JobRun, job_create, job_enqueue, job_kind
from guanxi.core.models import Job, Membership
from guanxi.core.roles import Perm
from guanxi.customers.imports import engine
from guanxi.customers.imports.engine import ImportOptions, ImportRun
from guanxi.customers.imports.journal import job_dir
from guanxi.customers.imports.mapping import validate_mapping
from guanxi.customers.imports.readers import ImportFileError
from guanxi.customers.imports.rows import RowError
from guanxi.customers.imports.selectors import IMPORT_KIND, import_job_get, mapping_get
from guanxi.customers.models import ImportMapping

MAX_UPLOAD_BYTES = 1 << 30


@dataclass
class ImportUpload:
    id: str
    filename: str
    size: int
    path: Path


@dataclass
class PreviewRow:
    row: int
    values: list[str]
    input: dict[str, Any]
    action: str  # create | update | skip | reject
    match: dict[str, Any] | None
    errors: list[RowError]


@dataclass
class ImportPreview:
    format: str
    flavour: str
    encoding: str | None
    sheet: str | None
    sheets: list[str]
    headers: list[str]
    mapping: dict[str, str]
    mapping_errors: list[FieldError]
    rows: list[PreviewRow] = field(default_factory=list)


def _require(actor: Actor, options: ImportOptions | None = None) -> None:
    actor.require(Perm.CUSTOMER_IMPORT)
    mode = options.mode if options else "create"
    if mode in ("create", "upsert"):
        actor.require(Perm.CUSTOMER_ADD)
    if mode in ("update", "upsert"):
        actor.require(Perm.CUSTOMER_CHANGE)


def uploads_dir(org_id: int) -> Path:
    return Path(settings.DATA_DIR) / "imports" / str(org_id) / "uploads"


def import_upload(*, actor: Actor, filename: str, fileobj: IO[bytes]) -> ImportUpload:
    """Keep an uploaded file for preview and import; only its uploader (or an admin) may use it."""
    _require(actor)
    upload_id = str(uuid.uuid4())
    name = get_valid_filename(Path(filename or "upload").name)[-100:] or "upload"
    folder = uploads_dir(actor.org_id) / upload_id
    folder.mkdir(parents=True)
    path = folder / name
    with open(path, "wb") as out:
        shutil.copyfileobj(fileobj, out, 1 << 20)
    size = path.stat().st_size
    if size == 0 or size > getattr(settings, "GUANXI_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES):
        shutil.rmtree(folder, ignore_errors=True)
        msg = _("The file is empty.") if size == 0 else _("The file is too large to import.")
        raise ValidationFailed(errors=[FieldError("file", msg)])
    (folder / "meta.json").write_text(json.dumps({"user_id": actor.user.pk, "filename": name, "size": size}))
    audit(actor=actor, action="import_upload", object_type="import", object_id=upload_id, object_repr=name)
    return ImportUpload(id=upload_id, filename=name, size=size, path=path)


def upload_get(*, actor: Actor, upload_id: str) -> ImportUpload:
    try:
        clean_id = str(uuid.UUID(upload_id))
    except ValueError:
        raise NotFound(_("Upload not found.")) from None
    meta_path = uploads_dir(actor.org_id) / clean_id / "meta.json"
    if not meta_path.exists():
        raise NotFound(_("Upload not found."))
    meta = json.loads(meta_path.read_text())
    if meta["user_id"] != actor.user.pk and actor.role != "admin":
        raise NotFound(_("Upload not found."))
    return ImportUpload(
        id=clean_id, filename=meta["filename"], size=meta["size"], path=meta_path.parent / meta["filename"]
    )


def _file_problem(exc: ImportFileError) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError("file", str(exc))])


def import_preview(*, actor: Actor, upload_id: str, options: ImportOptions, limit: int = 20) -> ImportPreview:
    """The file as the import would see it: format, mapping, and what would happen to the first rows."""
    _require(actor, options)
    _check_options(options)
    upload = upload_get(actor=actor, upload_id=upload_id)
    defs = engine.custom_defs(actor)
    try:
        with engine.open_table(upload.path, options) as table:
            mapping = engine.effective_mapping(actor, table.headers, options, defs)
            preview = ImportPreview(
                format=table.format,
                flavour=table.flavour,
                encoding=table.encoding,
                sheet=table.sheet,
                sheets=list(table.sheets),
                headers=list(table.headers),
                mapping=mapping,
                mapping_errors=engine.mapping_problems(mapping, table.headers, defs, options),
            )
            if not preview.mapping_errors:
                for d in engine.preview_rows(actor, table, mapping, options, max(1, min(limit, 200))):
                    preview.rows.append(
                        PreviewRow(
                            row=d.item.row,
                            values=d.item.values,
                            input=d.item.data,
                            action=d.action,
                            match=d.match,
                            errors=d.reasons,
                        )
                    )
    except ImportFileError as exc:
        raise _file_problem(exc) from None
    return preview


def _check_options(options: ImportOptions) -> None:
    errors = options.check()
    if errors:
        raise ValidationFailed(errors=errors)


def _check_source(actor: Actor, path: Path, options: ImportOptions) -> None:
    """Fail before queueing when the file cannot be read or the mapping is wrong."""
    _check_options(options)
    defs = engine.custom_defs(actor)
    try:
        with engine.open_table(path, options) as table:
            mapping = engine.effective_mapping(actor, table.headers, options, defs)
            errors = engine.mapping_problems(mapping, table.headers, defs, options)
    except ImportFileError as exc:
        raise _file_problem(exc) from None
    if errors:
        raise ValidationFailed(errors=errors)


def import_file_job(
    *, actor: Actor, path: Path, options: ImportOptions, filename: str = "", upload_id: str = ""
) -> Job:
    """Check the file and create (not enqueue) its import job: the CLI runs it in the foreground."""
    _require(actor, options)
    _check_source(actor, path, options)
    return job_create(
        actor=actor,
        kind=IMPORT_KIND,
        params={
            "membership_id": actor.membership.pk,
            "via": actor.via,
            "path": str(path.resolve()),
            "filename": filename or path.name,
            "upload_id": upload_id,
            "options": options.as_dict(),
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        },
    )


def import_start(*, actor: Actor, upload_id: str, options: ImportOptions) -> Job:
    """Queue the import of an uploaded file; poll the job for progress, counts and errors."""
    _require(actor, options)
    upload = upload_get(actor=actor, upload_id=upload_id)
    with transaction.atomic():
        job = import_file_job(
            actor=actor, path=upload.path, options=options, filename=upload.filename, upload_id=upload.id
        )
        job_enqueue(job)
    return job


def import_error_file(*, actor: Actor, job_id: int) -> Path:
    """The CSV of rows that did not go in (rejected and skipped), with row, column and reason."""
    job = import_job_get(actor=actor, job_id=job_id)
    path = job_dir(actor.org_id, job.pk) / "errors.csv"
    counts = job.counts or {}
    if not path.exists() or not (counts.get("rejected") or counts.get("skipped")):
        raise NotFound(_("This import has no error file."))
    return path


@job_kind(IMPORT_KIND)
def import_job(run: JobRun) -> dict[str, Any]:
    params = run.params
    membership = Membership.objects.select_related("organization", "user", "team").get(
        pk=params["membership_id"]
    )
    if not membership.is_active:
        raise NotFound(_("The user who started this import no longer has access."))
    actor = Actor(membership=membership, via=params.get("via", "system"), extra={"job": str(run.job.pk)})
    options = ImportOptions.from_dict(params["options"])
    with translation.override(params.get("language") or settings.LANGUAGE_CODE):
        try:
            return ImportRun(
                actor=actor, path=Path(params["path"]), options=options, job=run.job, run=run
            ).execute()
        except ImportFileError as exc:
            raise _file_problem(exc) from None


# Saved mappings --------------------------------------------------------------------------------


def _checked_columns(actor: Actor, columns: dict[str, str]) -> dict[str, str]:
    if not isinstance(columns, dict) or not columns:
        raise ValidationFailed(errors=[FieldError("columns", _("map at least one column"))])
    headers = list(columns)
    problems = validate_mapping(columns, headers=headers, custom_fields=engine.custom_defs(actor))
    if problems:
        raise ValidationFailed(
            errors=[FieldError(f"columns.{e.field}", e.message, e.index, e.code) for e in problems]
        )
    return {str(h): str(t) for h, t in columns.items()}


def mapping_save(
    *,
    actor: Actor,
    name: str,
    columns: dict[str, str],
    options: dict[str, Any],
    mapping_id: int | None = None,
) -> ImportMapping:
    """Create a saved mapping, or change ``mapping_id``; names are unique in the organisation."""
    _require(actor)
    name = " ".join(str(name or "").split())
    if not name or len(name) > 100:
        raise ValidationFailed(errors=[FieldError("name", _("is required (at most 100 characters)"))])
    clean_columns = _checked_columns(actor, columns)
    try:
        opts = ImportOptions.from_dict(options or {})
    except TypeError:
        raise ValidationFailed(errors=[FieldError("options", _("unknown option"))]) from None
    _check_options(opts)
    stored = {k: v for k, v in opts.as_dict().items() if k not in ("mapping", "mapping_name", "dry_run")}
    try:
        with transaction.atomic():
            if mapping_id is None:
                mapping = ImportMapping.objects.create(
                    organization_id=actor.org_id,
                    name=name,
                    columns=clean_columns,
                    options=stored,
                    created_by=actor.user,
                )
                action = "create"
            else:
                mapping = mapping_get(actor=actor, mapping_id=mapping_id)
                mapping.name, mapping.columns, mapping.options = name, clean_columns, stored
                mapping.save()
                action = "update"
            audit(
                actor=actor,
                action=action,
                object_type="import_mapping",
                object_id=mapping.pk,
                object_repr=name,
                changes={"columns": [None, clean_columns]},
            )
    except IntegrityError:
        raise Conflict(_("An import mapping with this name already exists.")) from None
    return mapping


def mapping_delete(*, actor: Actor, mapping_id: int) -> None:
    _require(actor)
    with transaction.atomic():
        mapping = mapping_get(actor=actor, mapping_id=mapping_id)
        audit(
            actor=actor,
            action="delete",
            object_type="import_mapping",
            object_id=mapping.pk,
            object_repr=mapping.name,
        )
        mapping.delete()

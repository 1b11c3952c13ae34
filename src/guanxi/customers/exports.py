"""Export any customer list view to CSV or XLSX: visible rows only, masked per role, audited,
rate-limited, and streamed — directly for small exports, as a job writing a file for large ones.

Every output value comes from ``presenters.customer_to_dict`` (the one masked form of a customer),
every text cell through ``core.spreadsheet.safe_cell`` (no formula injection). Rows are read with
``iterator()`` in chunks, so memory stays flat at any size; a job writes ``<name>.part`` and renames
it when complete, so a killed or cancelled export never leaves a half-written file to download.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import secrets
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.audit import audit
from guanxi.core.context import Actor
from guanxi.core.errors import DomainError, FieldError, NotFound, ValidationFailed
from guanxi.core.events import emit
from guanxi.core.jobs import JobRun, job_create, job_enqueue, job_kind
from guanxi.core.models import AuditEvent, CustomFieldDefinition, Job, Membership
from guanxi.core.roles import Perm
from guanxi.core.schedule import periodic
from guanxi.core.selectors import custom_field_list
from guanxi.core.spreadsheet import BOM, safe_cell
from guanxi.customers.models import Customer, CustomerTag
from guanxi.customers.presenters import customer_to_dict
from guanxi.customers.selection import (
    CustomerSelection,
    ordered,
    selection_check_ids,
    selection_queryset,
)

log = logging.getLogger(__name__)
ACTION = "customers.exported"
JOB_KIND = "customers.export"
READY_EVENT = "customers.export_ready"
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 2000
# XML 1.0 forbids these control characters; openpyxl refuses them rather than write a broken file.
_ILLEGAL_XML = {c: None for c in [*range(0, 9), 11, 12, *range(14, 32)]}


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation
    value: Callable[[dict[str, Any]], Any]


def _choice(choices: Any) -> Callable[[str], str]:
    labels = {value: str(label) for value, label in choices}
    return lambda v: labels.get(v, v)


def _join(values: list[Any], key: str = "") -> str:
    return ", ".join(str(v.get(key, "")) if key else str(v) for v in values if (v.get(key) if key else v))


STANDARD_COLUMNS = [
    Column("id", gettext_lazy("ID"), lambda d: d["id"]),
    Column("kind", gettext_lazy("Kind"), lambda d: d["kind"]),
    Column("name", gettext_lazy("Name"), lambda d: d["name"]),
    Column("company", gettext_lazy("Company"), lambda d: d["company"]),
    Column("title", gettext_lazy("Title"), lambda d: d["title"]),
    Column("gender", gettext_lazy("Gender"), lambda d: d["gender"]),
    Column("phone", gettext_lazy("Phone"), lambda d: d["phone"]),
    Column("phones", gettext_lazy("All phones"), lambda d: _join(d["phones"], "value")),
    Column("email", gettext_lazy("Email"), lambda d: d["email"]),
    Column("emails", gettext_lazy("All emails"), lambda d: _join(d["emails"], "value")),
    Column("wechat", gettext_lazy("WeChat"), lambda d: d["wechat"]),
    Column("province", gettext_lazy("Province"), lambda d: d["province"]),
    Column("city", gettext_lazy("City"), lambda d: d["city"]),
    Column("district", gettext_lazy("District"), lambda d: d["district"]),
    Column("address", gettext_lazy("Address"), lambda d: d["address"]),
    Column("industry", gettext_lazy("Industry"), lambda d: d["industry"]),
    Column("size", gettext_lazy("Size"), lambda d: d["size"]),
    Column("source", gettext_lazy("Source"), lambda d: d["source"]),
    Column("birthday", gettext_lazy("Birthday"), lambda d: d["birthday"]),
    Column("owner", gettext_lazy("Owner"), lambda d: d["owner"]),
    Column("team", gettext_lazy("Team"), lambda d: d["team"]),
    Column("tags", gettext_lazy("Tags"), lambda d: _join(d["tags"])),
    Column("lifecycle_stage", gettext_lazy("Lifecycle stage"), lambda d: d["lifecycle_stage"]),
    Column("value_tier", gettext_lazy("Value tier"), lambda d: d["value_tier"]),
    Column("grade", gettext_lazy("Grade"), lambda d: d["grade"]),
    Column("external_id", gettext_lazy("External ID"), lambda d: d["external_id"]),
    Column("notes", gettext_lazy("Notes"), lambda d: d["notes"]),
    Column("last_contacted_at", gettext_lazy("Last contacted"), lambda d: d["last_contacted_at"]),
    Column("created_at", gettext_lazy("Created"), lambda d: d["created_at"]),
    Column("updated_at", gettext_lazy("Updated"), lambda d: d["updated_at"]),
]
DEFAULT_COLUMNS = [
    "id",
    "name",
    "company",
    "title",
    "phone",
    "email",
    "province",
    "city",
    "industry",
    "owner",
    "team",
    "lifecycle_stage",
    "value_tier",
    "grade",
    "tags",
    "created_at",
]
_DATETIME_KEYS = {"last_contacted_at", "created_at", "updated_at"}
# Shown as labels for people (header=labels); stored codes for machines (header=keys).
_LABELLED = {
    "kind": Customer.Kind.choices,
    "gender": Customer.Gender.choices,
    "lifecycle_stage": Customer.Lifecycle.choices,
    "value_tier": Customer.ValueTier.choices,
}


class ExportRateLimited(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, *, limit: int, retry_at: dt.datetime, zone: ZoneInfo) -> None:
        self.retry_at = retry_at
        self.retry_after = max(1, int((retry_at - timezone.now()).total_seconds()) + 1)
        super().__init__(
            _(
                "You can export %(limit)s times per hour and have reached that. "
                "Try again after %(time)s (in %(minutes)s minutes)."
            )
            % {
                "limit": limit,
                "time": retry_at.astimezone(zone).strftime("%H:%M"),
                "minutes": max(1, round(self.retry_after / 60)),
            }
        )


class ExportGone(DomainError):
    status = 410
    title = "Gone"


@dataclass(frozen=True)
class ExportSpec:
    selection: CustomerSelection = field(default_factory=CustomerSelection)
    format: str = "csv"
    columns: tuple[str, ...] = ()  # empty: DEFAULT_COLUMNS and every custom field
    header: str = "labels"  # labels: translated headers and values for people; keys: stable codes

    def to_dict(self) -> dict[str, Any]:
        return {
            "selection": self.selection.to_dict(),
            "format": self.format,
            "columns": list(self.columns),
            "header": self.header,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportSpec:
        return cls(
            selection=CustomerSelection.from_dict(data.get("selection") or {}),
            format=data.get("format", "csv"),
            columns=tuple(data.get("columns") or ()),
            header=data.get("header", "labels"),
        )


@dataclass
class Export:
    """What an export start gives back: a stream to send now, or the job that writes the file."""

    rows: int
    filename: str
    content_type: str
    chunks: Iterator[str] | None = None  # CSV text, streamed
    file: IO[bytes] | None = None  # XLSX written to an anonymous temporary file, rewound
    job: Job | None = None


def column_choices(actor: Actor, *, defs: list[CustomFieldDefinition] | None = None) -> list[tuple[str, str]]:
    """Every column an export can have: (key, label), custom fields as ``custom.<key>``. ``defs``:
    the organisation's customer custom fields if the caller has already read them."""
    out = [(c.key, str(c.label)) for c in STANDARD_COLUMNS]
    out += [(f"custom.{d.key}", d.label) for d in (custom_field_list(actor=actor) if defs is None else defs)]
    return out


def _resolve_columns(
    spec: ExportSpec, defs: list[CustomFieldDefinition]
) -> list[tuple[str, str, Callable[[dict[str, Any]], Any]]]:
    """(key, header, value getter) for each chosen column; unknown names are an error naming them."""
    standard = {c.key: c for c in STANDARD_COLUMNS}
    custom = {f"custom.{d.key}": d for d in defs}
    wanted = list(spec.columns) or [*DEFAULT_COLUMNS, *custom]
    unknown = [k for k in wanted if k not in standard and k not in custom]
    if unknown:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "columns",
                    _("unknown column(s): %(names)s; choose from %(known)s")
                    % {"names": ", ".join(unknown[:10]), "known": ", ".join([*standard, *custom])},
                )
            ]
        )
    labels = spec.header == "labels"
    out = []
    for key in dict.fromkeys(wanted):
        if key in standard:
            col = standard[key]
            getter = col.value
            if labels and key in _LABELLED and _LABELLED[key]:
                getter = _labelled(getter, _choice(_LABELLED[key]))
            out.append((key, str(col.label) if labels else key, getter))
        else:
            d = custom[key]
            out.append((key, d.label if labels else key, _custom_getter(d.key, d.field_type, labels)))
    return out


def _labelled(getter: Callable[[dict[str, Any]], Any], label: Callable[[str], str]) -> Callable[..., Any]:
    return lambda d: label(getter(d))


def _custom_getter(key: str, field_type: str, labels: bool) -> Callable[[dict[str, Any]], Any]:
    yes, no = (_("Yes"), _("No")) if labels else ("true", "false")

    def get(d: dict[str, Any]) -> Any:
        value = d["custom"].get(key)
        if isinstance(value, bool):
            return yes if value else no
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    return get


def _cell(key: str, value: Any, zone: ZoneInfo, *, xlsx: bool) -> Any:
    """A value as the file should hold it: local times, numbers as numbers in XLSX, text neutralised."""
    if value is None or value == "":
        return None if xlsx else ""
    if key in _DATETIME_KEYS and isinstance(value, str):
        local = dt.datetime.fromisoformat(value).astimezone(zone)
        return local.replace(tzinfo=None, microsecond=0) if xlsx else local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return value if xlsx else str(value).lower()
    if isinstance(value, int | float):
        return value if xlsx else str(value)
    text = safe_cell(value)
    return text.translate(_ILLEGAL_XML) if xlsx else text


def _rows(
    actor: Actor,
    spec: ExportSpec,
    columns: list[Any],
    *,
    xlsx: bool,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[list[Any]]:
    zone = _zone(actor)
    qs = ordered(selection_queryset(actor, spec.selection), spec.selection.sort)
    for n, customer in enumerate(_light_customers(qs), 1):
        data = customer_to_dict(cast(Customer, customer), actor)
        yield [_cell(key, get(data), zone, xlsx=xlsx) for key, _h, get in columns]
        if on_progress is not None and n % 1000 == 0:
            on_progress(n)


# Every stored column except the search index text (never output); owner and team names come joined.
_VALUE_FIELDS = [f.attname for f in Customer._meta.concrete_fields if f.attname != "search_text"]


class _Named:
    """Stands in for the owner (``username``) or team (``name``) that ``customer_to_dict`` reads."""

    __slots__ = ("name", "username")

    def __init__(self, name: str) -> None:
        self.name = self.username = name


class _TagNames:
    """Stands in for ``customer.tags`` (``.all()`` → objects with ``.name``), names already sorted."""

    __slots__ = ("_tags",)

    def __init__(self, names: list[str]) -> None:
        self._tags = [_Named(n) for n in names]

    def all(self) -> list[_Named]:
        return self._tags


def _light_customers(qs: Any) -> Iterator[SimpleNamespace]:
    """The selected customers as plain attribute bags, ``CHUNK`` at a time, one tag query per chunk.

    Building model instances and prefetching tags through related managers was ~60 % of an export;
    rows from ``.values()`` with the same attribute names go through the same ``customer_to_dict``,
    so masking has one implementation whichever way the rows were read.
    """
    rows = qs.values(*_VALUE_FIELDS, "owner__username", "team__name").iterator(chunk_size=CHUNK)
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield from _with_tag_names(batch)
            batch = []
    if batch:
        yield from _with_tag_names(batch)


def _with_tag_names(batch: list[dict[str, Any]]) -> Iterator[SimpleNamespace]:
    names: dict[int, list[str]] = defaultdict(list)
    links = (
        CustomerTag.objects.filter(customer_id__in=[row["id"] for row in batch])
        .order_by("tag__name")
        .values_list("customer_id", "tag__name")
    )
    for customer_id, tag_name in links:
        names[customer_id].append(tag_name)
    for row in batch:
        owner, team = row.pop("owner__username"), row.pop("team__name")
        yield SimpleNamespace(
            **row,
            pk=row["id"],
            owner=_Named(owner) if owner is not None else None,
            team=_Named(team) if team is not None else None,
            tags=_TagNames(names.get(row["id"], [])),
        )


def _zone(actor: Actor) -> ZoneInfo:
    try:
        return ZoneInfo(actor.org.time_zone)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def export_csv_chunks(header: list[str], rows: Iterator[list[Any]], every: int = 200) -> Iterator[str]:
    """The CSV as text pieces: the BOM and header first, then about ``every`` rows at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([safe_cell(h) for h in header])
    yield BOM + buf.getvalue()
    buf.seek(0)
    buf.truncate()
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % every == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def write_xlsx(target: str | IO[bytes], header: list[str], rows: Iterator[list[Any]]) -> None:
    """A write-only workbook: openpyxl spools rows to disk, so memory does not grow with the rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Customers")[:31])
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for text in header:
        cell = WriteOnlyCell(ws, value=safe_cell(text).translate(_ILLEGAL_XML))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    try:
        for row in rows:
            ws.append(row)
    except BaseException:
        ws.close()  # release openpyxl's spool file before the error (a cancel) goes up
        raise
    wb.save(target)


def _filename(fmt: str, now: dt.datetime, zone: ZoneInfo) -> str:
    return f"customers-{now.astimezone(zone):%Y%m%d-%H%M}.{fmt}"


def export_rate_check(actor: Actor, *, now: dt.datetime | None = None) -> None:
    """At most ``GUANXI_EXPORTS_PER_HOUR`` exports per user and organisation in any hour (0: no limit).

    The audit rows are the ledger, so the limit holds across processes and restarts. The CLI,
    run by someone with shell access to the server, is not limited."""
    limit: int = settings.GUANXI_EXPORTS_PER_HOUR
    if limit <= 0 or actor.via == "cli":
        return
    now = now or timezone.now()
    window = now - dt.timedelta(hours=1)
    times = list(
        AuditEvent.objects.filter(
            organization_id=actor.org_id, actor=actor.user, action=ACTION, created_at__gt=window
        )
        .exclude(context__via="cli")
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(times) >= limit:
        raise ExportRateLimited(limit=limit, retry_at=times[-1] + dt.timedelta(hours=1), zone=_zone(actor))


def export_start(
    *,
    actor: Actor,
    spec: ExportSpec,
    as_job: bool | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Export:
    """Check, audit and begin an export.

    ``as_job`` None decides by size: above ``GUANXI_EXPORT_SYNC_MAX_ROWS`` rows a job writes a file."""
    actor.require(Perm.CUSTOMER_EXPORT)
    errors = []
    if spec.format not in FORMATS:
        errors.append(FieldError("format", _("must be csv or xlsx")))
    if spec.header not in ("labels", "keys"):
        errors.append(FieldError("header", _("must be labels or keys")))
    if errors:
        raise ValidationFailed(errors=errors)
    defs = list(custom_field_list(actor=actor))
    columns = _resolve_columns(spec, defs)
    selection_check_ids(actor, spec.selection)
    export_rate_check(actor)
    rows = selection_queryset(actor, spec.selection).count()
    if as_job is None:
        as_job = rows > settings.GUANXI_EXPORT_SYNC_MAX_ROWS
    now = timezone.now()
    zone = _zone(actor)
    filename = _filename(spec.format, now, zone)
    job = None
    if as_job:
        job = job_create(
            actor=actor,
            kind=JOB_KIND,
            params={
                "membership_id": actor.membership.pk,
                "via": actor.via,
                "language": translation.get_language() or settings.LANGUAGE_CODE,
                "filename": filename,
                "spec": spec.to_dict(),
            },
        )
    audit(
        actor=actor,
        action=ACTION,
        object_type="customer",
        object_repr=_("%(n)s customers") % {"n": rows},
        context={
            **spec.selection.to_dict(),
            "format": spec.format,
            "columns": [key for key, _h, _g in columns],
            "rows": rows,
            "mode": "job" if job else "stream",
            **({"job_id": job.pk} if job else {}),
        },
    )
    if job is not None:
        job_enqueue(job)
        return Export(rows=rows, filename=filename, content_type=FORMATS[spec.format], job=job)
    header = [h for _k, h, _g in columns]
    if spec.format == "csv":
        chunks = export_csv_chunks(header, _rows(actor, spec, columns, xlsx=False, on_progress=on_progress))
        return Export(rows=rows, filename=filename, content_type=FORMATS["csv"], chunks=chunks)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (anonymous: gone when the response closes it)
    write_xlsx(spool, header, _rows(actor, spec, columns, xlsx=True, on_progress=on_progress))
    spool.seek(0)
    return Export(rows=rows, filename=filename, content_type=FORMATS["xlsx"], file=spool)


# The job path -----------------------------------------------------------------------------------


def exports_dir(org_id: int | None = None) -> Path:
    base = Path(settings.DATA_DIR) / "exports"
    return base / str(org_id) if org_id is not None else base


def _counted(rows: Iterator[list[Any]], run: JobRun, total: int) -> Iterator[list[Any]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if done % 500 == 0:
            run.progress(done, total)  # also raises JobCancelled once someone asked to stop
    run.progress(done, total, force=True)


@job_kind(JOB_KIND)
def export_job(run: JobRun) -> dict[str, Any]:
    params = run.params
    membership = Membership.objects.select_related("organization", "user", "team").get(
        pk=params["membership_id"]
    )
    if not membership.is_active:
        raise NotFound(_("The user who asked for this export no longer has access."))
    actor = Actor(membership=membership, via=params.get("via", "system"))
    spec = ExportSpec.from_dict(params["spec"])
    with translation.override(params.get("language") or settings.LANGUAGE_CODE):
        columns = _resolve_columns(spec, list(custom_field_list(actor=actor)))
        total = selection_queryset(actor, spec.selection).count()
        run.progress(0, total, force=True)
        folder = exports_dir(actor.org_id)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{run.job.pk}-{secrets.token_hex(8)}.{spec.format}"
        part = final.with_name(final.name + ".part")
        header = [h for _k, h, _g in columns]
        try:
            rows = _counted(_rows(actor, spec, columns, xlsx=spec.format == "xlsx"), run, total)
            if spec.format == "csv":
                with part.open("w", encoding="utf-8", newline="") as out:
                    for chunk in export_csv_chunks(header, rows):
                        out.write(chunk)
            else:
                write_xlsx(str(part), header, rows)
            os.replace(part, final)  # complete or absent: never half a file behind a link
        finally:
            part.unlink(missing_ok=True)
    done = run.job.progress_done
    expires = timezone.now() + dt.timedelta(hours=settings.GUANXI_EXPORT_TTL_HOURS)
    emit(
        READY_EVENT,
        org_id=actor.org_id,
        user_id=actor.user.pk,
        job_id=run.job.pk,
        rows=done,
        filename=params["filename"],
        language=params.get("language", ""),
    )
    return {
        "file": str(final.relative_to(exports_dir())),
        "filename": params["filename"],
        "rows": done,
        "bytes": final.stat().st_size,
        "format": spec.format,
        "expires_at": expires.isoformat(),
        "download_url": f"/api/v1/exports/{run.job.pk}/download",
    }


def export_file(*, actor: Actor, job_id: int) -> tuple[Path, str, str]:
    """(path, download name, content type) of a finished export — only for the user who made it."""
    job = Job.objects.filter(
        pk=job_id, organization_id=actor.org_id, kind=JOB_KIND, created_by_id=actor.user.pk
    ).first()
    if job is None:
        raise NotFound(_("Export not found."))
    if job.state != Job.State.SUCCEEDED:
        raise ExportNotReady(job)
    result = job.result or {}
    path = (exports_dir() / str(result.get("file", ""))).resolve()
    expires = result.get("expires_at")
    expired = bool(expires) and dt.datetime.fromisoformat(str(expires)) <= timezone.now()
    if expired or not path.is_file() or exports_dir().resolve() not in path.parents:
        raise ExportGone(_("This export has expired and its file was deleted. Export again."))
    fmt = str(result.get("format", "csv"))
    return path, str(result.get("filename", path.name)), FORMATS.get(fmt, "application/octet-stream")


class ExportNotReady(DomainError):
    status = 409
    title = "Conflict"

    def __init__(self, job: Job) -> None:
        messages: dict[str, str] = {
            Job.State.QUEUED: _("The export has not started yet."),
            Job.State.RUNNING: _("The export is still running."),
            Job.State.FAILED: _("The export failed: %(m)s") % {"m": job.message},
            Job.State.CANCELLED: _("The export was cancelled."),
        }
        super().__init__(messages.get(job.state, _("The export is not ready.")))
        self.state = job.state


def exports_cleanup(*, now: dt.datetime | None = None) -> int:
    """Delete export files past ``GUANXI_EXPORT_TTL_HOURS`` and ``.part`` files left by killed jobs."""
    now = now or timezone.now()
    cutoff = (now - dt.timedelta(hours=settings.GUANXI_EXPORT_TTL_HOURS)).timestamp()
    removed = 0
    base = exports_dir()
    if not base.is_dir():
        return 0
    for path in base.glob("*/*"):
        try:
            if path.is_file() and path.stat().st_mtime <= cutoff:
                path.unlink()
                removed += 1
        except OSError:  # a file another process removed meanwhile
            log.warning("could not remove expired export %s", path)
    return removed


@periodic("exports_cleanup", minute="40", description="Delete customer export files past their expiry")
def exports_cleanup_periodic(now: dt.datetime) -> str:
    return f"removed {exports_cleanup(now=now)}"

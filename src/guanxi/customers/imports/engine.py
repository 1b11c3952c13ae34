"""The import engine: stream a file, decide per row (create / update / skip / reject), write in chunks.

A run reads the source once (``readers.open_source``), maps and cleans rows (``cleaner``), and
commits every ``CHUNK_ROWS`` rows in one transaction together with the chunk's **checkpoint** (rows
read, counts, errors so far, lengths of the journal files). A process killed mid-chunk loses that
chunk's transaction and nothing else; running the job again continues after the last checkpoint,
so a resumed import neither loses nor doubles a row.

Matching (modes update and upsert, and the duplicate check of mode create) looks, within the
organisation, for the row's external id, then its normalised phones, then its emails. A row whose
keys point at two different customers is rejected, and so is a row repeating a key of an earlier
row of the same file — whether that row is in the same chunk (a dict), was created by this import
(its id falls in one of the import's id ranges) or was updated by it (the ``IdLog``).
"""

from __future__ import annotations

import bisect
import gc
import itertools
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, ValidationFailed, VersionConflict
from guanxi.core.events import emit, emit_many
from guanxi.core.jobs import JobRun
from guanxi.core.models import CustomFieldDefinition, Job
from guanxi.customers.bulkwrite import bulk_writer
from guanxi.customers.cleaning import MemberDirectory, clean_customer_input
from guanxi.customers.imports.cleaner import CleanContext, Prepared, SourceRow, prepare, prepared_chunks
from guanxi.customers.imports.journal import ErrorFile, IdLog, job_dir
from guanxi.customers.imports.mapping import auto_mapping, validate_mapping
from guanxi.customers.imports.readers import SourceTable, open_source
from guanxi.customers.imports.rows import RowError, RowMapper
from guanxi.customers.models import Customer, Tag

MODES = ("create", "update", "upsert")
MATCH_KEYS = ("external_id", "phone", "email")
# Rows per committed chunk (the unit of resumption); settings.GUANXI_IMPORT_CHUNK_ROWS.
CHUNK_ROWS = settings.GUANXI_IMPORT_CHUNK_ROWS
INLINE_INDEX_LIMIT = 5_000  # more created rows than this: search grams in a follow-up job
POOL_MIN_ROWS = 20_000  # from this many rows, clean in forked worker processes


def _usable_cpus() -> int:
    """The CPUs this process may run on (a taskset or cpuset can leave fewer than the host has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Cleaner processes for a large import, while the parent reads, matches and writes; at most 4:
# each worker holds ~40 MB of its own besides the pages it shares with the parent.
WORKERS = settings.GUANXI_IMPORT_WORKERS or min(_usable_cpus(), 4)
MAX_JOB_ERRORS = 1_000
COLLECT_EVERY = 10  # chunks between two cyclic garbage collections during an import
BATCH = 5_000  # values per IN (…) lookup  # kept on the Job; the error file has all of them
KILL_ENV = "GUANXI_IMPORT_TEST_KILL_AFTER_CHUNKS"  # tests only: SIGKILL mid-chunk after N commits
ProgressHook = Callable[[int, int | None, dict[str, int]], None]
progress_hook: ContextVar[ProgressHook | None] = ContextVar("import_progress_hook", default=None)


@dataclass
class ImportOptions:
    format: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    mapping: dict[str, str] | None = None  # None: the saved mapping_name, else automatic
    mapping_name: str | None = None
    mode: str = "create"
    match_on: tuple[str, ...] = MATCH_KEYS
    dry_run: bool = False
    default_owner: str | None = None
    add_tags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["match_on"], data["add_tags"] = list(self.match_on), list(self.add_tags)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["match_on"] = tuple(known.get("match_on") or MATCH_KEYS)
        known["add_tags"] = tuple(known.get("add_tags") or ())
        return cls(**known)

    def check(self) -> list[FieldError]:
        errors = []
        if self.mode not in MODES:
            errors.append(
                FieldError("mode", _("must be one of: %(choices)s") % {"choices": ", ".join(MODES)})
            )
        unknown = [k for k in self.match_on if k not in MATCH_KEYS]
        if unknown or not self.match_on:
            errors.append(
                FieldError("match_on", _("must be one or more of: %(c)s") % {"c": ", ".join(MATCH_KEYS)})
            )
        return errors


@dataclass
class Checkpoint:
    """Where a run stands; written in the same transaction as the rows it accounts for."""

    rows_read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    error_bytes: int = 0
    updated_bytes: int = 0
    created_ranges: list[list[int]] = field(default_factory=list)  # [first id, last id] per chunk
    unindexed_ranges: list[list[int]] = field(default_factory=list)  # created without search grams
    finished: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": self.rejected,
        }


@dataclass
class Decision:
    item: Prepared
    action: str  # create | update | skip | reject
    match: dict[str, Any] | None = None  # {"customer_id", "by"}
    reasons: list[RowError] = field(default_factory=list)


def effective_mapping(
    actor: Actor, headers: list[str], options: ImportOptions, defs: list[Any]
) -> dict[str, str]:
    if options.mapping is not None:
        return {h: t for h, t in options.mapping.items() if h in headers}
    if options.mapping_name:
        from guanxi.customers.imports.selectors import mapping_get_by_name

        saved = mapping_get_by_name(actor=actor, name=options.mapping_name)
        auto = auto_mapping(headers, custom_fields=defs)
        return {h: saved.columns.get(h, auto.get(h, "")) for h in headers}
    return auto_mapping(headers, custom_fields=defs)


def mapping_problems(
    mapping: dict[str, str], headers: list[str], defs: list[Any], options: ImportOptions
) -> list[FieldError]:
    """The mapping's problems; updating existing customers needs no name column."""
    problems = validate_mapping(mapping, headers=headers, custom_fields=defs)
    return [e for e in problems if not (options.mode == "update" and e.code == "name_required")]


def custom_defs(actor: Actor) -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer"))


def open_table(path: Path, options: ImportOptions) -> SourceTable:
    return open_source(path, format=options.format, encoding=options.encoding, sheet=options.sheet)


class Matcher:
    """Decides what happens to each cleaned row of a chunk. Reads the database, never writes."""

    def __init__(
        self, actor: Actor, options: ImportOptions, ckpt: Checkpoint, updated: set[int], mapper: RowMapper
    ) -> None:
        self.actor, self.options, self.ckpt, self.updated = actor, options, ckpt, updated
        self.columns = {
            "external_id": mapper.column_for("external_id"),
            "phone": mapper.column_for("phones"),
            "email": mapper.column_for("emails"),
            "name": mapper.column_for("name"),
        }
        self._range_starts = [r[0] for r in ckpt.created_ranges]

    def created_here(self, customer_id: int) -> bool:
        i = bisect.bisect_right(self._range_starts, customer_id) - 1
        return i >= 0 and self.ckpt.created_ranges[i][0] <= customer_id <= self.ckpt.created_ranges[i][1]

    def note_created(self, first: int, last: int) -> None:
        self.ckpt.created_ranges.append([first, last])
        self._range_starts.append(first)

    def _lookup(self, items: list[Prepared]) -> dict[tuple[str, str], tuple[int, bool]]:
        """key → (customer id, in the recycle bin) for every key of the chunk known in the organisation.

        Plain SQL: the ORM spent longer preparing 5,000 IN parameters than the database answering.
        The external-id query repeats the condition of the partial unique index
        cust_unique_external_id as a literal (``NOT (external_id = '')``): with a bound parameter
        SQLite cannot prove the index applies and scans the whole organisation for every chunk."""
        keys = {k for item in items for k in item.identity_keys()}
        found: dict[tuple[str, str], tuple[int, bool]] = {}
        org_id = self.actor.org_id
        by_kind: dict[str, list[str]] = {"external_id": [], "phone": [], "email": []}
        for kind, value in keys:
            by_kind[kind].append(value)
        with connection.cursor() as cursor:
            external = by_kind["external_id"]
            for start in range(0, len(external), BATCH):
                batch = external[start : start + BATCH]
                cursor.execute(
                    "SELECT external_id, id, deleted_at IS NOT NULL FROM customers_customer "
                    f"WHERE organization_id = %s AND external_id IN ({', '.join(['%s'] * len(batch))}) "
                    "AND NOT (external_id = '') "
                    "ORDER BY deleted_at IS NOT NULL, deleted_at, id",  # the live customer first
                    [org_id, *batch],
                )
                for ext, pk, deleted in cursor.fetchall():
                    found.setdefault(("external_id", ext), (pk, bool(deleted)))
            for kind in ("phone", "email"):
                values = by_kind[kind]
                for start in range(0, len(values), BATCH):
                    batch = values[start : start + BATCH]
                    cursor.execute(
                        "SELECT i.value, i.customer_id FROM customers_customeridentifier i "
                        "INNER JOIN customers_customer c ON i.customer_id = c.id "
                        "WHERE i.organization_id = %s AND i.kind = %s "
                        f"AND i.value IN ({', '.join(['%s'] * len(batch))}) AND c.deleted_at IS NULL",
                        [org_id, kind, *batch],
                    )
                    for value, pk in cursor.fetchall():
                        found.setdefault((kind, value), (pk, False))
        return found

    def decide(self, items: list[Prepared]) -> list[Decision]:
        good = [i for i in items if not i.errors]
        known = self._lookup(good)
        matched_ids = {pk for pk, _deleted in known.values()}
        visible = set(self._visible(list(matched_ids)))
        first_in_chunk: dict[tuple[str, str], int] = {}
        decisions = []
        for item in items:
            if item.errors:
                decisions.append(Decision(item, "reject", reasons=item.errors))
                continue
            decisions.append(self._decide_one(item, known, visible, first_in_chunk))
        return decisions

    def _visible(self, ids: list[int]) -> list[int]:
        from guanxi.customers.selectors import customer_visible_ids

        return customer_visible_ids(self.actor, ids) if ids else []

    def _decide_one(
        self,
        item: Prepared,
        known: dict[tuple[str, str], tuple[int, bool]],
        visible: set[int],
        first_in_chunk: dict[tuple[str, str], int],
    ) -> Decision:
        mode, row = self.options.mode, item.row
        matches: dict[int, str] = {}  # customer id -> the first key that found it (keys in match_on)
        others: dict[int, str] = {}  # customers holding one of the row's other keys
        for kind, value in item.identity_keys():
            column = self.columns[kind]
            earlier = first_in_chunk.get((kind, value))
            if earlier is not None:
                msg = _("%(what)s repeats row %(row)s of this file") % {"what": _label(kind), "row": earlier}
                return self._reject(item, column, msg)
            hit = known.get((kind, value))
            if hit is None:
                continue
            pk, deleted = hit
            if self.created_here(pk) or pk in self.updated:
                return self._reject(
                    item, column, _("%(what)s repeats an earlier row of this file") % {"what": _label(kind)}
                )
            if deleted:
                msg = _("%(what)s belongs to a customer in the recycle bin") % {"what": _label(kind)}
                return self._reject(item, column, msg)
            (matches if kind in self.options.match_on else others).setdefault(pk, kind)
        for key in item.identity_keys():
            first_in_chunk.setdefault(key, row)
        if mode == "create":
            matches.update({pk: by for pk, by in others.items() if pk not in matches})
        elif set(others) - set(matches):
            pk, by = next((pk, by) for pk, by in others.items() if pk not in matches)
            msg = _("%(what)s already belongs to another customer") % {"what": _label(by)}
            return self._reject(item, self.columns[by], msg)
        if len(matches) > 1:
            described = ", ".join(f"#{pk} ({_label(by)})" for pk, by in matches.items())
            return self._reject(
                item, "", _("matches more than one customer: %(which)s") % {"which": described}
            )
        if not matches:
            if mode == "update":
                return Decision(
                    item, "skip", reasons=[RowError(row, "", _("no matching customer to update"))]
                )
            if not item.can_create:
                return self._reject(item, self.columns["name"], _("is required to create a customer"))
            return Decision(item, "create")
        pk, by = next(iter(matches.items()))
        column = self.columns[by]
        if mode == "create":
            if pk in visible:
                msg = _("already exists as customer #%(id)s (same %(what)s)") % {"id": pk, "what": _label(by)}
                return Decision(item, "skip", {"customer_id": pk, "by": by}, [RowError(row, column, msg)])
            msg = _("already exists (same %(what)s), owned by another user") % {"what": _label(by)}
            return Decision(item, "skip", None, [RowError(row, column, msg)])
        if pk not in visible:
            return self._reject(
                item, column, _("matches a customer you cannot see (same %(what)s)") % {"what": _label(by)}
            )
        self.updated.add(pk)  # a later row of the file matching it again is a repeat
        return Decision(item, "update", {"customer_id": pk, "by": by})

    @staticmethod
    def _reject(item: Prepared, column: str, message: str) -> Decision:
        return Decision(item, "reject", reasons=[RowError(item.row, column, message)])


def _label(kind: str) -> str:
    return {"external_id": _("external ID"), "phone": _("phone number"), "email": _("email address")}[kind]


class ImportRun:
    """One execution (first or resumed) of an import job, or a dry run."""

    def __init__(
        self, *, actor: Actor, path: Path, options: ImportOptions, job: Job, run: JobRun | None = None
    ):
        self.actor, self.path, self.options, self.job, self.run = actor, path, options, job, run
        saved = (job.result or {}).get("checkpoint")
        self.ckpt = Checkpoint(**saved) if saved else Checkpoint()
        self.errors: list[dict[str, Any]] = list(job.errors or []) if saved else []
        self.skipped_rows: list[dict[str, Any]] = []
        self.total: int | None = job.progress_total
        self.folder = job_dir(actor.org_id, job.pk)
        self.tag_ids: dict[str, int] = {}
        self.chunks_done = 0
        self.pg = connection.vendor == "postgresql"

    # -- driving -----------------------------------------------------------------------------

    def execute(self) -> dict[str, Any]:
        if self.options.dry_run:
            with transaction.atomic():
                summary = self._execute()
                transaction.set_rollback(True)
            return summary
        return self._execute()

    def _execute(self) -> dict[str, Any]:
        defs = custom_defs(self.actor)
        with open_table(self.path, self.options) as table:
            mapping = effective_mapping(self.actor, table.headers, self.options, defs)
            problems = mapping_problems(mapping, table.headers, defs, self.options) + self.options.check()
            if problems:
                raise ValidationFailed(errors=problems)
            if self.total is None:
                self.total = estimate_rows(self.path, table)
            mapper = RowMapper(
                headers=table.headers,
                mapping=mapping,
                custom_fields=defs,
                default_region=self.actor.org.default_phone_region or "CN",
            )
            ctx = CleanContext(
                actor=self.actor,
                mapper=mapper,
                custom_defs=defs,
                directory=MemberDirectory.load(self.actor.org_id),
                default_owner=self.options.default_owner,
                add_tags=self.options.add_tags,
                pg=self.pg,
                mode=self.options.mode,
            )
            errors_file = ErrorFile(self.folder / "errors.csv", table.headers, self.ckpt.error_bytes)
            updated_log = IdLog(self.folder / "updated.bin", self.ckpt.updated_bytes)
            try:
                if not self.ckpt.finished:
                    rows = itertools.islice(table.rows, self.ckpt.rows_read, None)
                    self._report(force=True)
                    with collect_per_chunk() as collect:
                        for prepared in prepared_chunks(ctx, _chunks(rows), self._workers(defs)):
                            self._commit_chunk(ctx, prepared, errors_file, updated_log)
                            collect()
                return self._finish(mapping, errors_file)
            finally:
                errors_file.close()
                updated_log.close()

    def _workers(self, defs: list[CustomFieldDefinition]) -> int:
        if (self.total or 0) - self.ckpt.rows_read < POOL_MIN_ROWS or any(d.unique for d in defs):
            return 0  # small, or a unique custom field needs the database while cleaning
        return WORKERS

    # -- one chunk ----------------------------------------------------------------------------

    def _commit_chunk(
        self, ctx: CleanContext, items: list[Prepared], errors_file: ErrorFile, log: IdLog
    ) -> None:
        kill_after = os.environ.get(KILL_ENV)
        with transaction.atomic():
            matcher = Matcher(self.actor, self.options, self.ckpt, log.ids, ctx.mapper)
            decisions = matcher.decide(items)
            self._write_creates(ctx, matcher, [d for d in decisions if d.action == "create"])
            self._write_updates(ctx, [d for d in decisions if d.action == "update"], log)
            for d in decisions:
                if d.action in ("reject", "skip"):
                    self._report_row(d, errors_file)
            self.ckpt.rows_read += len(items)
            self.ckpt.error_bytes = errors_file.flush()
            self.ckpt.updated_bytes = log.flush()
            if kill_after is not None and self.chunks_done >= int(kill_after):
                os.kill(os.getpid(), signal.SIGKILL)  # the test of "killed mid-chunk": nothing above commits
            self._save_checkpoint()
        self.chunks_done += 1
        self._refresh_statistics()
        self._report()

    def _refresh_statistics(self) -> None:
        """PostgreSQL plans the matching queries from table statistics; autovacuum refreshes them
        only now and then, and while a big import grows the tables the planner can believe an
        organisation has a handful of identifiers and filter all of them instead of searching the
        index by value (a scan that grows with every chunk). The written tables are analysed after
        chunks 1, 2, 4, 8, … — a sample of ~30,000 rows each time, at most ~log2(chunks) times."""
        done = self.chunks_done
        if self.pg and self.ckpt.created and done & (done - 1) == 0:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE customers_customer")
                cursor.execute("ANALYZE customers_customeridentifier")

    def _write_creates(self, ctx: CleanContext, matcher: Matcher, creates: list[Decision]) -> None:
        if not creates:
            return
        writer = bulk_writer(big_cache=False)
        first = writer.reserve_ids(len(creates))
        customers, identifiers, links, grams = [], [], [], []
        inline_grams = self._index_inline(len(creates))
        org_id = self.actor.org_id
        from guanxi.customers.search import grams_of

        for pk, d in enumerate(creates, start=first):
            item = d.item
            assert item.tuple_ is not None
            customers.append((pk, *item.tuple_))
            keys = item.identity_keys()
            identifiers += [(org_id, pk, kind, value) for kind, value in keys if kind != "external_id"]
            if item.tags:
                links += [(pk, tag_id) for tag_id in self._tag_ids(item.tags)]
            if inline_grams:
                grams += [(org_id, g, pk) for g in grams_of(item.search_text)]
        writer.customers(customers)
        writer.identifiers(identifiers)
        if links:
            writer.tags(links)
        if grams:
            grams.sort()
            writer.grams(grams)
        matcher.note_created(first, first + len(creates) - 1)
        if not inline_grams:
            self.ckpt.unindexed_ranges.append([first, first + len(creates) - 1])
        self.ckpt.created += len(creates)
        actor_id, job_id = self.actor.user.pk, self.job.pk
        emit_many(
            "customer.created",
            [
                {"org_id": org_id, "customer_id": pk, "actor_id": actor_id, "via": "import", "job_id": job_id}
                for pk in range(first, first + len(creates))
            ],
        )

    def _index_inline(self, adding: int) -> bool:
        """Small imports index for search as they go; large ones leave it to a follow-up job
        (docs/adr: import search index). Decided from the row count when it is known up front."""
        if self.ckpt.unindexed_ranges:
            return False
        if self.total is not None:
            return self.total <= INLINE_INDEX_LIMIT
        return self.ckpt.created + adding <= INLINE_INDEX_LIMIT

    def _tag_ids(self, names: list[str]) -> list[int]:
        known = self.tag_ids
        for name in names:
            if name not in known:
                tag, _created = Tag.objects.get_or_create(organization_id=self.actor.org_id, name=name)
                known[name] = tag.pk
        return [known[n] for n in names]

    def _write_updates(self, ctx: CleanContext, updates: list[Decision], log: IdLog) -> None:
        from guanxi.customers.services import _apply_update

        if not updates:
            return
        ids = [d.match["customer_id"] for d in updates if d.match]
        existing = Customer.objects.select_related("owner", "team").in_bulk(ids)
        for d in updates:
            assert d.match is not None
            customer = existing[d.match["customer_id"]]
            data = {k: v for k, v in d.item.data.items() if v not in ("", None, [], {})}
            cleaned = clean_customer_input(
                actor=self.actor,
                data=data,
                existing=customer,
                custom_defs=ctx.custom_defs,
                directory=ctx.directory,
            )
            if cleaned.errors:
                d.action = "reject"
                d.reasons = [
                    RowError(d.item.row, ctx.mapper.column_for(e.field), str(e.message))
                    for e in cleaned.errors
                ]
                continue
            try:
                with transaction.atomic():  # a savepoint: a conflict rejects this row, not the chunk
                    _apply_update(self.actor, customer, cleaned, None, audit_row=False)
            except VersionConflict:
                d.action = "reject"
                msg = _("the customer was changed by someone else meanwhile; import this row again")
                d.reasons = [RowError(d.item.row, "", msg)]
                continue
            log.record(customer.pk)
            self.ckpt.updated += 1

    def _report_row(self, d: Decision, errors_file: ErrorFile) -> None:
        if d.action == "reject":
            self.ckpt.rejected += 1
            for reason in d.reasons:
                errors_file.add(d.item.values, reason.row, reason.column, reason.message)
                if len(self.errors) < MAX_JOB_ERRORS:
                    self.errors.append(
                        {"row": reason.row, "column": reason.column, "message": reason.message}
                    )
        else:
            self.ckpt.skipped += 1
            for reason in d.reasons:
                text = _("skipped: %(reason)s") % {"reason": reason.message}
                errors_file.add(d.item.values, reason.row, reason.column, text)
                if len(self.skipped_rows) < MAX_JOB_ERRORS:
                    self.skipped_rows.append(
                        {"row": reason.row, "column": reason.column, "message": reason.message}
                    )

    def _save_checkpoint(self) -> None:
        job = self.job
        job.progress_done = self.ckpt.rows_read
        job.progress_total = max(self.total or 0, self.ckpt.rows_read)
        job.counts = self.ckpt.counts()
        job.errors = self.errors
        job.result = {"checkpoint": asdict(self.ckpt)}
        Job.objects.filter(pk=job.pk).update(
            progress_done=job.progress_done,
            progress_total=job.progress_total,
            counts=job.counts,
            errors=job.errors,
            result=job.result,
            heartbeat_at=timezone.now(),
        )

    def _report(self, *, force: bool = False) -> None:
        hook = progress_hook.get()
        if hook is not None:
            hook(self.ckpt.rows_read, self.total, self.ckpt.counts())
        if self.run is not None:
            self.run.progress(self.ckpt.rows_read, self.total, force=force)  # raises JobCancelled on cancel

    # -- the end ------------------------------------------------------------------------------

    def _finish(self, mapping: dict[str, str], errors_file: ErrorFile) -> dict[str, Any]:
        from guanxi.customers.imports.search_index import reindex_job_for

        reindex_job_id = None
        with transaction.atomic():
            if not self.ckpt.finished:
                self.ckpt.finished = True
                if not self.options.dry_run:
                    audit(
                        actor=self.actor,
                        action="import",
                        object_type="customer",
                        object_repr=str(self.job.params.get("filename", ""))[:200],
                        context={"job_id": self.job.pk, "mode": self.options.mode, **self.ckpt.counts()},
                    )
                    if self.ckpt.unindexed_ranges:
                        reindex_job_id = reindex_job_for(self.actor, self.ckpt.unindexed_ranges).pk
                self._save_checkpoint()
                self.job.result["reindex_job"] = reindex_job_id
                Job.objects.filter(pk=self.job.pk).update(result=self.job.result)
            else:
                reindex_job_id = (self.job.result or {}).get("reindex_job")
        if not self.options.dry_run:
            emit(
                "customers.imported",
                org_id=self.actor.org_id,
                job_id=self.job.pk,
                actor_id=self.actor.user.pk,
                **self.ckpt.counts(),
            )
        self.total = self.ckpt.rows_read
        self._report(force=True)
        return {
            **self.ckpt.counts(),
            "rows": self.ckpt.rows_read,
            "dry_run": self.options.dry_run,
            "mode": self.options.mode,
            "mapping": mapping,
            "errors": self.errors,
            "errors_truncated": self.ckpt.rejected > 0 and len(self.errors) >= MAX_JOB_ERRORS,
            "skipped_rows": self.skipped_rows,
            "has_error_file": self.ckpt.rejected + self.ckpt.skipped > 0,
            "reindex_job": reindex_job_id,
        }


@contextmanager
def collect_per_chunk() -> Iterator[Callable[[], None]]:
    """Cyclic garbage collected every few chunks instead of every few hundred allocations.

    A chunk allocates ~30 objects per row, so automatic collection ran hundreds of times per chunk
    and its older generations rescanned everything the process held (Django, the mapper, the
    directory). What existed before the import is frozen (never rescanned); a collection every
    ``COLLECT_EVERY`` chunks (it walks the chunks still held, ~60 ms) picks up the rare cycles, so
    memory stays flat. The caller's collector settings come back afterwards (the engine also runs
    inside web workers and tests)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    calls = itertools.count(1)

    def collect() -> None:
        if next(calls) % COLLECT_EVERY == 0:
            gc.collect()

    try:
        yield collect
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _chunks(rows: Iterator[SourceRow]) -> Iterator[list[SourceRow]]:
    while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
        yield chunk


def estimate_rows(path: Path, table: SourceTable) -> int | None:
    """Rows in a text file, counted as lines (quoted newlines make it an estimate); None otherwise."""
    if table.format not in ("csv", "jsonl"):
        return None
    started = time.perf_counter()
    lines = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            if time.perf_counter() - started > 5:
                return None
    return max(lines - (1 if table.format == "csv" else 0), 0)


def preview_rows(
    actor: Actor, table: SourceTable, mapping: dict[str, str], options: ImportOptions, limit: int
) -> list[Decision]:
    defs = custom_defs(actor)
    mapper = RowMapper(
        headers=table.headers,
        mapping=mapping,
        custom_fields=defs,
        default_region=actor.org.default_phone_region or "CN",
    )
    ctx = CleanContext(
        actor=actor,
        mapper=mapper,
        custom_defs=defs,
        directory=MemberDirectory.load(actor.org_id),
        default_owner=options.default_owner,
        add_tags=options.add_tags,
        pg=connection.vendor == "postgresql",
        mode=options.mode,
    )
    items = prepare(ctx, list(itertools.islice(table.rows, limit)))
    return Matcher(actor, options, Checkpoint(), set(), mapper).decide(items)

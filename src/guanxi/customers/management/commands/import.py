"""``guanxi import customers FILE --org NAME`` imports a file in the foreground; ``guanxi import resume JOB``
continues an import whose process was killed, after its last committed chunk."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from guanxi.core.context import Actor
from guanxi.core.errors import DomainError
from guanxi.core.jobs import job_execute
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Job, Membership, Organization
from guanxi.customers.imports.engine import MATCH_KEYS, MODES, ImportOptions, progress_hook
from guanxi.customers.imports.journal import job_dir
from guanxi.customers.imports.selectors import IMPORT_KIND

STALE_AFTER = dt.timedelta(seconds=60)


class Command(GuanxiCommand):
    help = "Import customers from CSV, XLSX, vCard or JSON lines; resume a killed import."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        cust = sub.add_parser("customers", help="import customers from a file")
        cust.add_argument("file", help="CSV (UTF-8 or GBK), XLSX, vCard (.vcf) or JSON lines")
        cust.add_argument("--org", required=True)
        cust.add_argument("--as", dest="as_user", help="import as this member (default: the first admin)")
        cust.add_argument("--mode", choices=MODES, default="create")
        cust.add_argument(
            "--match-on", default=",".join(MATCH_KEYS), help="keys that find existing customers"
        )
        cust.add_argument("--mapping", help="a saved column mapping (by name); default: automatic")
        cust.add_argument("--format", choices=["csv", "xlsx", "vcard", "jsonl"])
        cust.add_argument("--encoding", help="CSV encoding, e.g. gb18030 (default: detected)")
        cust.add_argument("--sheet", help="XLSX sheet (default: the first)")
        cust.add_argument("--owner", dest="default_owner", help="owner of new customers (default: you)")
        cust.add_argument("--tag", action="append", default=[], help="add this tag to every imported row")
        cust.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        cust.add_argument(
            "--queue-index",
            action="store_true",
            help="large imports: leave the search index to the queued job (default: build it now)",
        )
        self.add_json_flag(cust)
        resume = sub.add_parser("resume", help="continue a killed import after its last checkpoint")
        resume.add_argument("job_id", type=int)
        resume.add_argument("--force", action="store_true", help="even if it was alive in the last minute")
        self.add_json_flag(resume)

    def handle(self, *args: Any, **options: Any) -> None:
        job = self._resume(options) if options["what"] == "resume" else self._start(options)
        self._report(job, options)

    # -- start / resume ------------------------------------------------------------------------

    def _actor(self, org: Organization, username: str | None) -> Actor:
        members = Membership.objects.select_related("user", "organization", "team").filter(
            organization=org, is_active=True
        )
        membership = (
            members.filter(user__username=username).first()
            if username
            else members.filter(role="admin").order_by("pk").first()
        )
        if membership is None:
            raise CommandError(f"{username or 'an admin'!r} is not an active member of {org.name!r}")
        return Actor(membership=membership, via="cli")

    def _start(self, options: dict[str, Any]) -> Job:
        from guanxi.customers.imports.services import import_file_job

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"cannot read {path}: no such file")
        actor = self._actor(self.get_org(options["org"]), options["as_user"])
        opts = ImportOptions(
            format=options["format"],
            encoding=options["encoding"],
            sheet=options["sheet"],
            mapping_name=options["mapping"],
            mode=options["mode"],
            match_on=tuple(k.strip() for k in options["match_on"].split(",") if k.strip()),
            dry_run=options["dry_run"],
            default_owner=options["default_owner"],
            add_tags=tuple(options["tag"]),
        )
        try:
            job = import_file_job(actor=actor, path=path, options=opts, filename=path.name)
        except DomainError as exc:
            raise self.fail(exc) from None
        return self._run(job.pk, options)

    def _resume(self, options: dict[str, Any]) -> Job:
        job = Job.objects.filter(pk=options["job_id"], kind=IMPORT_KIND).first()
        if job is None:
            raise CommandError(f"no import job {options['job_id']}")
        if job.state not in (Job.State.QUEUED, Job.State.RUNNING):
            raise CommandError(f"import job {job.pk} has already finished ({job.state})")
        alive = job.heartbeat_at and timezone.now() - job.heartbeat_at < STALE_AFTER
        if job.state == Job.State.RUNNING and alive and not options["force"]:
            raise CommandError(
                f"import job {job.pk} was working less than a minute ago; use --force if it is dead"
            )
        return self._run(job.pk, options)

    def _run(self, job_id: int, options: dict[str, Any]) -> Job:
        bar = _ProgressBar(enabled=not options["json"] and sys.stderr.isatty(), write=sys.stderr.write)
        token = progress_hook.set(bar.update)
        started = time.perf_counter()
        try:
            job = job_execute(job_id)
        finally:
            progress_hook.reset(token)
            bar.close()
        self.timings = {"import_seconds": round(time.perf_counter() - started, 2), "index_seconds": 0.0}
        wait = not options.get("queue_index")
        if wait and job.state == Job.State.SUCCEEDED and (job.result or {}).get("reindex_job"):
            # The CLI may have no worker beside it: build the search index now, in the foreground.
            if not options["json"] and sys.stderr.isatty():
                sys.stderr.write("building the search index …\n")
            started = time.perf_counter()
            job_execute(int(job.result["reindex_job"]))
            self.timings["index_seconds"] = round(time.perf_counter() - started, 2)
        return job

    # -- output --------------------------------------------------------------------------------

    def _report(self, job: Job, options: dict[str, Any]) -> None:
        if job.state != Job.State.SUCCEEDED:
            raise CommandError(f"import job {job.pk} {job.state}: {job.message}")
        result = job.result
        errors_path = job_dir(job.organization_id or 0, job.pk) / "errors.csv"
        data = {
            "job": job.pk,
            **{k: result.get(k, 0) for k in ("created", "updated", "skipped", "rejected", "rows")},
            "dry_run": result.get("dry_run", False),
            "errors": result.get("errors", []),
            "errors_truncated": result.get("errors_truncated", False),
            "error_file": str(errors_path) if result.get("has_error_file") else None,
            "reindex_job": result.get("reindex_job"),
            **getattr(self, "timings", {}),
        }
        lines = [
            f"{'dry run: ' if data['dry_run'] else ''}{data['rows']:,} rows: {data['created']:,} created, "
            f"{data['updated']:,} updated, {data['skipped']:,} skipped, {data['rejected']:,} rejected "
            f"(job {job.pk})"
        ]
        lines += [
            f"  row {e['row']}{' ' + e['column'] if e['column'] else ''}: {e['message']}"
            for e in data["errors"][:20]
        ]
        if len(data["errors"]) > 20 or data["errors_truncated"]:
            lines.append("  …")
        if data["error_file"]:
            lines.append(f"rows that did not go in, with reasons: {data['error_file']}")
        self.emit(options, data, "\n".join(lines))


class _ProgressBar:
    def __init__(self, *, enabled: bool, write: Any) -> None:
        self.enabled, self.write = enabled, write
        self.started = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, total: int | None, counts: dict[str, int]) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        if total:
            filled = int(30 * min(done / total, 1))
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,}"
        else:
            bar = f"{done:,} rows"
        self.write(
            f"\r{bar}  {rate:,.0f}/s  created {counts.get('created', 0):,}  "
            f"updated {counts.get('updated', 0):,}  rejected {counts.get('rejected', 0):,}"
        )

    def close(self) -> None:
        if self.enabled:
            self.write("\n")

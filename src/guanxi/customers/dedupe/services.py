"""Writes of the duplicate review: start a scan (a job), dismiss or reopen a pair, change the rules.

Who may do what:
- scan: admins and managers (a scan reads the whole organisation and rewrites the open pairs);
- review (dismiss / reopen): anyone who may change customers and can see *both* records of the
  pair — a pair with a record the actor cannot see answers 404 like any invisible record;
- rules and threshold: admins.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, PermissionDenied
from guanxi.core.events import emit
from guanxi.core.jobs import JobRun, job_create, job_enqueue, job_kind
from guanxi.core.models import Job
from guanxi.core.roles import Perm, Role
from guanxi.customers.dedupe.rules import DEFAULT_THRESHOLD, clean_rules, clean_threshold, effective_rules
from guanxi.customers.dedupe.scan import run_scan
from guanxi.customers.dedupe.selectors import duplicate_get
from guanxi.customers.models import DedupeSettings, DuplicateCandidate

SCAN_KIND = "customers.dedupe_scan"
SCAN_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def can_scan(actor: Actor) -> bool:
    if actor.role not in SCAN_ROLES:
        return False
    return actor.token_scopes is None or "write" in actor.token_scopes


def can_review(actor: Actor) -> bool:
    return actor.has(Perm.CUSTOMER_CHANGE)


def dedupe_scan_start(*, actor: Actor, threshold: float | None = None) -> Job:
    """Queue a scan of the actor's organisation; answers the job to poll."""
    if not can_scan(actor):
        raise PermissionDenied(_("Only administrators and managers may run the duplicate scan."))
    params: dict[str, Any] = {}
    if threshold is not None:
        params["threshold"] = clean_threshold(threshold)
    running = Job.objects.filter(
        organization_id=actor.org_id, kind=SCAN_KIND, state__in=[Job.State.QUEUED, Job.State.RUNNING]
    ).first()
    if running is not None:
        raise Conflict(_("A duplicate scan is already running (job %(id)s).") % {"id": running.pk})
    with transaction.atomic():
        job = job_create(actor=actor, kind=SCAN_KIND, params=params)
        job_enqueue(job)
    return job


@job_kind(SCAN_KIND)
def _scan_job(run: JobRun) -> dict[str, Any]:
    org_id = run.job.organization_id
    assert org_id is not None
    run.progress(0, 4, force=True)
    result, stored = run_scan(
        org_id,
        threshold=run.params.get("threshold"),
        job_id=run.job.pk,
        progress=lambda done, total: run.progress(done, total),
        check=run.check,
    )
    run.progress(4, 4, force=True, pairs=len(result.pairs), clusters=result.clusters)
    audit(
        actor=None,
        org_id=org_id,
        action="dedupe_scan",
        object_type="job",
        object_id=run.job.pk,
        object_repr=SCAN_KIND,
        context={"customers": result.customers, "pairs": len(result.pairs), **stored},
    )
    emit("customers.duplicates_scanned", org_id=org_id, job_id=run.job.pk, pairs=len(result.pairs))
    return {
        "customers": result.customers,
        "compared": result.candidates,
        "pairs": len(result.pairs),
        "clusters": result.clusters,
        "seconds": result.seconds,
        **stored,
    }


def _decide(*, actor: Actor, candidate_id: int, status: str, action: str) -> DuplicateCandidate:
    if not can_review(actor):
        raise PermissionDenied()
    with transaction.atomic():
        pair = duplicate_get(actor=actor, candidate_id=candidate_id, for_update=True)
        if pair.status == DuplicateCandidate.Status.MERGED:
            raise Conflict(_("These customers were merged already."))
        before = pair.status
        pair.status = status
        pair.decided_by = actor.user if status != DuplicateCandidate.Status.OPEN else None
        pair.decided_at = timezone.now() if status != DuplicateCandidate.Status.OPEN else None
        pair.save(update_fields=["status", "decided_by", "decided_at"])
        audit(
            actor=actor,
            action=action,
            object_type="duplicate_candidate",
            object_id=pair.pk,
            object_repr=f"{pair.customer_a_id}~{pair.customer_b_id}",
            changes={"status": [before, status]},
        )
        emit(f"customers.duplicate_{action}", org_id=actor.org_id, candidate_id=pair.pk)
    return pair


def duplicate_dismiss(*, actor: Actor, candidate_id: int) -> DuplicateCandidate:
    """ "Not a duplicate": the pair stays dismissed through later scans."""
    return _decide(
        actor=actor, candidate_id=candidate_id, status=DuplicateCandidate.Status.DISMISSED, action="dismiss"
    )


def duplicate_reopen(*, actor: Actor, candidate_id: int) -> DuplicateCandidate:
    """Undo a dismissal."""
    return _decide(
        actor=actor, candidate_id=candidate_id, status=DuplicateCandidate.Status.OPEN, action="reopen"
    )


def dedupe_settings_get(*, actor: Actor) -> dict[str, Any]:
    actor.require(Perm.ORG_ADMIN)
    cfg = DedupeSettings.objects.filter(organization_id=actor.org_id).first()
    return {
        "threshold": cfg.threshold if cfg else DEFAULT_THRESHOLD,
        "rules": effective_rules(cfg.rules if cfg else {}),
        "overrides": (cfg.rules if cfg else {}) or {},
    }


def dedupe_settings_update(*, actor: Actor, threshold: Any = None, rules: Any = None) -> dict[str, Any]:
    """Replace the threshold and/or the rule overrides (only the keys given differ from the defaults)."""
    actor.require(Perm.ORG_ADMIN)
    clean_t = clean_threshold(threshold) if threshold is not None else None
    clean_r = clean_rules(rules) if rules is not None else None
    with transaction.atomic():
        cfg, _created = DedupeSettings.objects.select_for_update().get_or_create(
            organization_id=actor.org_id, defaults={"threshold": DEFAULT_THRESHOLD, "rules": {}}
        )
        before = {"threshold": cfg.threshold, "rules": cfg.rules}
        if clean_t is not None:
            cfg.threshold = clean_t
        if clean_r is not None:
            cfg.rules = clean_r
        cfg.save()
        audit(
            actor=actor,
            action="update",
            object_type="dedupe_settings",
            object_id=actor.org_id,
            object_repr="duplicate rules",
            changes=diff(before, {"threshold": cfg.threshold, "rules": cfg.rules}),
        )
    return dedupe_settings_get(actor=actor)

"""Bulk actions on "all N matching" a filter (assign owner, add/remove a tag, delete).

Every customer goes through the same services as a single edit (permission, validation, audit
row, events), so a bulk change can never do what a person could not do by hand. Up to
``GUANXI_BULK_SYNC_MAX`` customers change at once, all or nothing; more run as a job that works in
chunks by ascending id. Each chunk commits together with the job's cursor (the last id done), so a
killed worker resumes where it stopped instead of starting over, and cancelling stops between
chunks — every customer is either fully changed or untouched. Customers created after the user
confirmed (id above the snapshot taken then) are never swept in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import DomainError, FieldError, NotFound, ValidationFailed
from guanxi.core.jobs import JobRun, job_create, job_enqueue, job_kind
from guanxi.core.models import Job, Membership
from guanxi.core.roles import Perm
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.customers.selection import CustomerSelection, selection_queryset
from guanxi.customers.selectors import with_tags

JOB_KIND = "customers.bulk"
CHUNK = 200
MAX_ERRORS = 100
ACTIONS = {
    "assign": Perm.CUSTOMER_ASSIGN,
    "tag_add": Perm.CUSTOMER_CHANGE,
    "tag_remove": Perm.CUSTOMER_CHANGE,
    "delete": Perm.CUSTOMER_DELETE,
}


@dataclass
class BulkOutcome:
    matched: int
    changed: int = 0
    job: Job | None = None


def bulk_check(actor: Actor, action: str, tag: str) -> None:
    if action not in ACTIONS:
        raise ValidationFailed(errors=[FieldError("action", _("unknown action"))])
    actor.require(ACTIONS[action])
    if action in ("tag_add", "tag_remove") and not tag.strip():
        raise ValidationFailed(errors=[FieldError("tag", _("is required"))])


def _apply(actor: Actor, customer: Customer, action: str, owner: str, tag: str) -> bool:
    """One customer through the ordinary services; True when it changed."""
    if action == "assign":
        if (customer.owner.username if customer.owner_id and customer.owner else "") == owner:
            return False
        customer_services.customer_update(
            actor=actor,
            customer_id=customer.pk,
            data={"owner": owner or None},
            expected_version=customer.version,
        )
        return True
    if action in ("tag_add", "tag_remove"):
        names = {t.name for t in customer.tags.all()}
        new = names | {tag} if action == "tag_add" else names - {tag}
        if new == names:
            return False
        customer_services.customer_update(
            actor=actor,
            customer_id=customer.pk,
            data={"tags": sorted(new)},
            expected_version=customer.version,
        )
        return True
    customer_services.customer_delete(actor=actor, customer_id=customer.pk, expected_version=customer.version)
    return True


def bulk_count(*, actor: Actor, selection: CustomerSelection) -> int:
    return selection_queryset(actor, selection).count()


def customers_bulk_selection(
    *,
    actor: Actor,
    selection: CustomerSelection,
    action: str,
    owner: str = "",
    tag: str = "",
    as_job: bool | None = None,
) -> BulkOutcome:
    """Apply ``action`` to every customer of ``selection`` the actor can see.

    Small selections change at once (all or nothing: one invalid owner or tag changes nobody);
    large ones (``as_job`` None decides by ``GUANXI_BULK_SYNC_MAX``) return a queued job."""
    bulk_check(actor, action, tag)
    tag = tag.strip()
    qs = selection_queryset(actor, selection)
    matched = qs.count()
    if as_job is None:
        as_job = matched > settings.GUANXI_BULK_SYNC_MAX
    if as_job:
        job = job_create(
            actor=actor,
            kind=JOB_KIND,
            params={
                "membership_id": actor.membership.pk,
                "via": actor.via,
                "language": translation.get_language() or settings.LANGUAGE_CODE,
                "selection": selection.to_dict(),
                "action": action,
                "owner": owner,
                "tag": tag,
                # Customers created after confirming are not part of "the N matching".
                "max_id": qs.aggregate(m=Max("pk"))["m"] or 0,
                "matched": matched,
            },
        )
        job_enqueue(job)
        return BulkOutcome(matched=matched, job=job)
    changed = 0
    with transaction.atomic():
        for customer in with_tags(qs.order_by("pk").select_for_update(of=("self",))):
            changed += _apply(actor, customer, action, owner, tag)
    return BulkOutcome(matched=matched, changed=changed)


@job_kind(JOB_KIND)
def bulk_job(run: JobRun) -> dict[str, Any]:
    params = run.params
    membership = Membership.objects.select_related("organization", "user", "team").get(
        pk=params["membership_id"]
    )
    if not membership.is_active:
        raise NotFound(_("The user who started this no longer has access."))
    actor = Actor(membership=membership, via=params.get("via", "system"))
    action, owner, tag = params["action"], params.get("owner", ""), params.get("tag", "")
    selection = CustomerSelection.from_dict(params["selection"])
    job = run.job
    counts = dict(job.counts or {})
    after = int(counts.get("after", 0))  # a resumed run continues after the last committed chunk
    with translation.override(params.get("language") or settings.LANGUAGE_CODE):
        bulk_check(actor, action, tag)
        base = selection_queryset(actor, selection).filter(pk__lte=params["max_id"]).order_by("pk")
        total = int(params.get("matched") or 0)
        while True:
            run.check()
            chunk = list(with_tags(base.filter(pk__gt=after))[:CHUNK])
            if not chunk:
                break
            errors: list[dict[str, Any]] = []
            with transaction.atomic():
                changed = 0
                for customer in chunk:
                    try:
                        with transaction.atomic():  # one refused customer does not undo the chunk
                            changed += _apply(actor, customer, action, owner, tag)
                    except DomainError as exc:
                        errors.append({"id": customer.pk, "name": customer.name, "message": str(exc.detail)})
                after = chunk[-1].pk
                counts = {
                    "after": after,
                    "changed": int(counts.get("changed", 0)) + changed,
                    "failed": int(counts.get("failed", 0)) + len(errors),
                }
                job.counts = counts
                job.progress_done = min(total, job.progress_done + len(chunk)) if total else 0
                job.progress_total = total or None
                job.errors = [*(job.errors or []), *errors][:MAX_ERRORS]
                Job.objects.filter(pk=job.pk).update(
                    counts=job.counts,
                    progress_done=job.progress_done,
                    progress_total=job.progress_total,
                    errors=job.errors,
                )
    return {
        "action": action,
        "matched": total,
        "changed": counts.get("changed", 0),
        "failed": counts.get("failed", 0),
    }

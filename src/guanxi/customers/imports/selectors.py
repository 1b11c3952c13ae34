"""Reads for imports: saved mappings and import jobs, always within the actor's organisation."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import NotFound
from guanxi.core.jobs import job_get
from guanxi.core.models import Job
from guanxi.core.roles import Perm
from guanxi.customers.models import ImportMapping

IMPORT_KIND = "customers.import"


def mapping_list(*, actor: Actor) -> QuerySet[ImportMapping]:
    actor.require(Perm.CUSTOMER_IMPORT)
    return ImportMapping.objects.filter(organization_id=actor.org_id).order_by("name")


def mapping_get(*, actor: Actor, mapping_id: int) -> ImportMapping:
    found = mapping_list(actor=actor).filter(pk=mapping_id).first()
    if found is None:
        raise NotFound(_("Import mapping not found."))
    return found


def mapping_get_by_name(*, actor: Actor, name: str) -> ImportMapping:
    found = mapping_list(actor=actor).filter(name=name).first()
    if found is None:
        raise NotFound(_("No saved import mapping named “%(name)s”.") % {"name": name})
    return found


def import_job_get(*, actor: Actor, job_id: int) -> Job:
    """An import job the actor may see (their own; admins: anyone's in the organisation)."""
    job = job_get(actor=actor, job_id=job_id)
    if job.kind != IMPORT_KIND:
        raise NotFound(_("Job not found."))
    return job

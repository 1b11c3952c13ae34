"""The follow-up job that builds search grams for the customers a large import created.

A large import writes customers and their identifiers (what the duplicate check needs) and leaves
the ~25 search grams per customer to this job (docs/adr/0006-import-search-index-job.md): it shows
in the job list as "customers.reindex", works through the id ranges in chunks, and commits each
chunk with its progress, so a killed run resumes where it stopped. Each chunk first deletes the
grams it is about to write, so running a chunk twice cannot double them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.core.context import Actor
from guanxi.core.jobs import JobRun, job_create, job_enqueue, job_kind
from guanxi.core.models import Job
from guanxi.customers.bulkwrite import bulk_writer
from guanxi.customers.models import Customer, SearchGram
from guanxi.customers.search import grams_of

REINDEX_KIND = "customers.reindex"
CHUNK_IDS = 5_000


def reindex_job_for(actor: Actor, ranges: list[list[int]]) -> Job:
    """Create and enqueue (after commit) the job that indexes customers ``ranges`` of ``actor``'s org."""
    job = job_create(actor=actor, kind=REINDEX_KIND, params={"org_id": actor.org_id, "ranges": ranges})
    job.progress_total = sum(hi - lo + 1 for lo, hi in ranges)
    Job.objects.filter(pk=job.pk).update(progress_total=job.progress_total)
    job_enqueue(job)
    return job


def _id_chunks(ranges: list[list[int]], skip: int) -> list[tuple[int, int, int]]:
    """(first id, last id, ids before this chunk) over the ranges, skipping ``skip`` ids already done."""
    out = []
    before = 0
    for lo, hi in ranges:
        for start in range(lo, hi + 1, CHUNK_IDS):
            end = min(start + CHUNK_IDS - 1, hi)
            if before + (end - start + 1) > skip:
                out.append((start, end, before))
            before += end - start + 1
    return out


@job_kind(REINDEX_KIND)
def reindex_job(run: JobRun) -> dict[str, Any]:
    org_id = int(run.params["org_id"])
    ranges = [list(r) for r in run.params["ranges"]]
    total = sum(hi - lo + 1 for lo, hi in ranges)
    done = run.job.progress_done or 0
    grams_written = int((run.job.counts or {}).get("grams", 0))
    for lo, hi, before in _id_chunks(ranges, done):
        with transaction.atomic():
            SearchGram.objects.filter(
                organization_id=org_id, customer_id__gte=lo, customer_id__lte=hi
            ).delete()
            texts = Customer.objects.filter(
                organization_id=org_id, pk__gte=lo, pk__lte=hi, deleted_at__isnull=True
            ).values_list("pk", "search_text")
            grams = sorted((org_id, g, pk) for pk, text in texts for g in grams_of(text))
            if grams:
                bulk_writer(big_cache=False).grams(grams)
            grams_written += len(grams)
            done = before + (hi - lo + 1)
            run.job.progress_done, run.job.progress_total = done, total
            run.job.counts = {"customers": done, "grams": grams_written}
            # The progress is the checkpoint: committed with the grams it accounts for.
            Job.objects.filter(pk=run.job.pk).update(
                progress_done=done, progress_total=total, counts=run.job.counts, heartbeat_at=timezone.now()
            )
        run.check()
    return {"customers": total, "grams": grams_written}

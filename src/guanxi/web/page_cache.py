"""Short-lived caches for the customer pages, dropped whenever the organisation's data changes.

Every cache key carries the organisation's *generation*: a random token that is replaced by any
save or delete of a customer, tag, team, membership or saved view (Django signals, at once) and by
the domain events of writes that bypass ``save()`` (edits, deletes, restores, merges, imports, pool
moves, membership changes; after commit). A new token orphans every older entry, so a user who
edits a customer sees the new count on the next request. The time-outs bound how long an entry
lives when nothing signals: ``customer.created`` is not listened to, because imports emit it once
per row, so a bulk API create shows in the count after at most ``COUNT_SECONDS`` (the rows
themselves are never cached). Keys also carry the organisation's creation time, so a database
rebuilt with the same ids (tests) never meets an entry of its predecessor.

The cache is per process with the default local-memory backend: a change made in another process
(an import finishing in the job worker, a second web worker) does not replace this process's token,
so there the time-outs — one minute for counts and pickers — are the bound. Point ``CACHES`` at a
shared backend to make the invalidation global.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Model, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save

T = TypeVar("T")
COUNT_SECONDS = 60
PICKER_SECONDS = 60  # also the bound when a change happens in another process (a job worker)
_PREFIX = "gx:web:gen:"
# Writes that do not go through ``Model.save()`` but announce themselves (guanxi.core.events).
EVENTS = (
    "customer.updated",
    "customer.deleted",
    "customer.restored",
    "customer.purged",
    "customer.merged",
    "customer.merge_undone",
    "customers.imported",
    "pool.claimed",
    "pool.released",
    "pool.reclaimed",
    "pool.assigned",
    "membership.changed",
)


def generation(org_id: int) -> str:
    token: str | None = cache.get(f"{_PREFIX}{org_id}")
    if token is None:
        token = uuid.uuid4().hex
        # add, not set: two first requests at once must agree on one token.
        if not cache.add(f"{_PREFIX}{org_id}", token, None):
            token = cache.get(f"{_PREFIX}{org_id}") or token
    return token


def bump(org_id: int | None) -> None:
    if org_id:
        cache.set(f"{_PREFIX}{org_id}", uuid.uuid4().hex, None)


def _key(org: Any, name: str) -> str:
    born = int(org.created_at.timestamp() * 1_000_000) if getattr(org, "created_at", None) else 0
    return f"gx:web:{name}:{org.pk}:{born}:{generation(org.pk)}"


def peek(org: Any, name: str) -> Any:
    """What ``cached`` holds under ``name`` for the current generation, or None (nothing computed)."""
    return cache.get(_key(org, name))


def cached(org: Any, name: str, compute: Callable[[], T], seconds: int) -> T:
    """``compute()`` cached under ``name`` for the organisation's current generation."""
    key = _key(org, name)
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def cached_for(org: Any, name: str, compute: Callable[[], T], seconds: int) -> T:
    """``compute()`` cached for ``seconds`` whatever changes meanwhile (the caller shows its age)."""
    born = int(org.created_at.timestamp() * 1_000_000) if getattr(org, "created_at", None) else 0
    key = f"gx:web:{name}:{org.pk}:{born}"
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def query_key(qs: QuerySet[Any]) -> str:
    """A short stable name for a queryset: its SQL and parameters, which carry the organisation,
    the caller's visibility (user, team, shares) and every filter."""
    sql, params = qs.query.sql_with_params()
    return hashlib.blake2b(repr((sql, params)).encode(), digest_size=16).hexdigest()


def _org_of(instance: Model) -> int | None:
    org_id = getattr(instance, "organization_id", None)
    return org_id if isinstance(org_id, int) else None


def _on_model_change(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    bump(_org_of(instance))


def _on_user_change(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    """A renamed user changes the owner picker of every organisation they belong to."""
    from guanxi.core.models import Membership

    for org_id in Membership.objects.filter(user_id=instance.pk).values_list("organization_id", flat=True):
        bump(org_id)


def _on_event(name: str, payload: dict[str, Any]) -> None:
    org_id = payload.get("org_id") or payload.get("organization_id")
    if isinstance(org_id, int):
        bump(org_id)


def connect() -> None:
    """Wire the invalidation (called once from ``WebConfig.ready``)."""
    from guanxi.core.events import subscribe
    from guanxi.core.models import CustomFieldDefinition, Membership, Team
    from guanxi.customers.models import Customer, Tag
    from guanxi.web.models import SavedView

    for model in (Customer, Tag, Team, Membership, SavedView, CustomFieldDefinition):
        uid = f"gx-web-page-cache-{model.__name__}"
        post_save.connect(_on_model_change, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_on_model_change, sender=model, dispatch_uid=f"{uid}-delete")
    post_save.connect(_on_user_change, sender=get_user_model(), dispatch_uid="gx-web-page-cache-user")
    m2m_changed.connect(_on_model_change, sender=Customer.tags.through, dispatch_uid="gx-web-page-cache-tags")
    for name in EVENTS:
        subscribe(name, _on_event)

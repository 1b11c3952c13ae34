"""The customer timeline: one selector merging every source of events about a customer.

Customers cannot import the apps above it, so each app registers a *source* here (engagement in
its ``AppConfig.ready``: activities; later sales: orders, service: tickets …). The customers app
contributes the audit trail itself.

A source is ``fn(actor, customer, cursor, limit) -> list[TimelineItem]``: the customer's newest
``limit`` items strictly before ``cursor`` (``None``: from the newest), ordered newest first.
``cursor.q("created_at", "audit")`` builds the keyset filter for a source's own queryset.

Order is (at, source, pk) descending, so paging is exact even when two sources share a timestamp.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    source: str  # "activity", "audit", … (the registered source name)
    pk: int  # the row's id in its source
    kind: str  # e.g. "call", "visit", "update"
    title: str
    body: str = ""
    actor: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[dt.datetime, str, int]:
        return (self.at, self.source, self.pk)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": f"{self.source}:{self.pk}",
            "source": self.source,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "title": self.title,
            "body": self.body,
            "actor": self.actor,
            "data": self.data,
        }


@dataclass(frozen=True)
class Cursor:
    at: dt.datetime
    source: str
    pk: int

    def q(self, at_field: str, source: str, pk_field: str = "pk") -> Q:
        """Rows of ``source`` that sort strictly after (older than) this cursor."""
        if source < self.source:
            return Q(**{f"{at_field}__lte": self.at})
        if source > self.source:
            return Q(**{f"{at_field}__lt": self.at})
        return Q(**{f"{at_field}__lt": self.at}) | Q(**{at_field: self.at, f"{pk_field}__lt": self.pk})

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.source, self.pk]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            at, source, pk = json.loads(raw)
            when = dt.datetime.fromisoformat(at)
            if when.tzinfo is None or not isinstance(source, str) or not isinstance(pk, int):
                raise ValueError
            return cls(when, source, pk)
        except (ValueError, TypeError, json.JSONDecodeError):
            raise ValidationFailed(
                errors=[FieldError("before", _("is not a cursor this timeline gave out"))]
            ) from None


TimelineSource = Callable[[Actor, Customer, Cursor | None, int], list[TimelineItem]]
_sources: dict[str, TimelineSource] = {}


def register_timeline_source(name: str, source: TimelineSource) -> None:
    _sources[name] = source


def timeline_sources() -> list[str]:
    return sorted(_sources)


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": [i.as_dict() for i in self.items], "next_cursor": self.next_cursor}


def customer_timeline(
    *,
    actor: Actor,
    customer_id: int,
    before: str | None = None,
    limit: int = 50,
    customer: Customer | None = None,
) -> TimelinePage:
    """The customer's timeline, newest first; ``before`` is the ``next_cursor`` of the last page.

    ``customer``: the row the caller already read through ``customer_get`` for this actor (the 360°
    page does), so the visibility check is not run a second time."""
    from guanxi.customers.selectors import customer_get

    if customer is None or customer.pk != customer_id:
        customer = customer_get(actor=actor, customer_id=customer_id, include_deleted=True)
    limit = max(1, min(limit, 200))
    cursor = Cursor.decode(before) if before else None
    merged: list[TimelineItem] = []
    for name in timeline_sources():
        merged.extend(_sources[name](actor, customer, cursor, limit + 1))
    merged.sort(key=lambda i: i.sort_key, reverse=True)
    if cursor is not None:  # a source that ignored the cursor must not repeat items
        merged = [i for i in merged if i.sort_key < (cursor.at, cursor.source, cursor.pk)]
    page = merged[:limit]
    next_cursor = None
    if len(merged) > limit:
        last = page[-1]
        next_cursor = Cursor(last.at, last.source, last.pk).encode()
    return TimelinePage(page, next_cursor)


# Audit actions whose event another source already shows (an email sent is an email activity).
SHOWN_BY_OTHER_SOURCES = ["email"]


def audit_timeline_source(
    actor: Actor, customer: Customer, cursor: Cursor | None, limit: int
) -> list[TimelineItem]:
    """Changes to the customer itself (create, field updates, delete/restore, reveal, share …)."""
    qs = AuditEvent.objects.filter(
        organization_id=actor.org_id, object_type="customer", object_id=str(customer.pk)
    ).exclude(action__in=SHOWN_BY_OTHER_SOURCES)
    if cursor is not None:
        qs = qs.filter(cursor.q("created_at", "audit"))
    events = list(qs.order_by("-created_at", "-id")[:limit])
    if not actor.sees_contact_details:
        from guanxi.customers.presenters import mask_changes

        for event in events:
            event.changes = mask_changes(event.changes, actor)
    return [
        TimelineItem(
            at=e.created_at,
            source="audit",
            pk=e.pk,
            kind=e.action,
            title=e.action,
            actor=e.actor_name,
            data={"changes": e.changes, "via": (e.context or {}).get("via", "")},
        )
        for e in events
    ]


register_timeline_source("audit", audit_timeline_source)

"""Reading duplicate candidates: only pairs whose two customers the actor can see, newest decisions
kept, keyset-paginated by (score, id) — a reviewer works from the most certain pairs down."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.normalize import mask_email, mask_phone
from guanxi.core.roles import Scope
from guanxi.customers.dedupe.reasons import describe_all, evidence_for
from guanxi.customers.models import Customer, DuplicateCandidate

STATUSES = {s.value for s in DuplicateCandidate.Status}
PAIR_FIELDS = ("id", "name", "kind", "company", "phone", "email", "province", "city", "address", "birthday")


def duplicate_queryset(actor: Actor) -> QuerySet[DuplicateCandidate]:
    """Pairs of the actor's organisation whose both customers are alive and visible to the actor."""
    qs = DuplicateCandidate.objects.filter(
        organization_id=actor.org_id,
        customer_a__deleted_at__isnull=True,
        customer_b__deleted_at__isnull=True,
    )
    if actor.scope != Scope.ALL:
        visible = Customer.objects.visible_to(actor).values("id")
        qs = qs.filter(customer_a_id__in=visible, customer_b_id__in=visible)
    return qs


def duplicate_get(*, actor: Actor, candidate_id: int, for_update: bool = False) -> DuplicateCandidate:
    qs = duplicate_queryset(actor)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    pair = qs.filter(pk=candidate_id).first()
    if pair is None:
        raise NotFound(_("Duplicate pair not found."))
    return pair


def _encode(score: float, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([score, pk]).encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[float, int]:
    try:
        score, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return float(score), int(pk)
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed(
            errors=[FieldError("cursor", _("is not a cursor this list gave out"))]
        ) from None


@dataclass
class PairPage:
    items: list[DuplicateCandidate]
    next_cursor: str | None


def duplicate_list(
    *,
    actor: Actor,
    status: str = "open",
    min_score: float = 0.0,
    customer_id: int | None = None,
    cluster: int | None = None,
    cursor: str = "",
    limit: int = 50,
) -> PairPage:
    if status and status not in STATUSES:
        raise ValidationFailed(
            errors=[FieldError("status", _("must be one of: %(s)s") % {"s": ", ".join(sorted(STATUSES))})]
        )
    qs = duplicate_queryset(actor)
    if status:
        qs = qs.filter(status=status)
    if min_score:
        qs = qs.filter(score__gte=min_score)
    if customer_id:
        qs = qs.filter(Q(customer_a_id=customer_id) | Q(customer_b_id=customer_id))
    if cluster:
        qs = qs.filter(cluster=cluster)
    if cursor:
        score, pk = _decode(cursor)
        qs = qs.filter(Q(score__lt=score) | Q(score=score, pk__lt=pk))
    rows = list(
        qs.select_related("customer_a", "customer_b", "decided_by").order_by("-score", "-pk")[: limit + 1]
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode(rows[-1].score, rows[-1].pk)
    return PairPage(items=rows, next_cursor=next_cursor)


def duplicate_counts(*, actor: Actor) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for row in duplicate_queryset(actor).order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def customer_summary(customer: Customer, actor: Actor) -> dict[str, Any]:
    """The side-by-side fields of one record of a pair, masked like the record itself."""
    full = actor.sees_contact_details
    return {
        "id": customer.pk,
        "name": customer.name,
        "kind": customer.kind,
        "company": customer.company,
        "phone": customer.phone if full else mask_phone(customer.phone),
        "email": customer.email if full else mask_email(customer.email),
        "province": customer.province,
        "city": customer.city,
        "address": customer.address,
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "version": customer.version,
    }


def pair_to_dict(pair: DuplicateCandidate, actor: Actor) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "a": pair.customer_a_id,
        "b": pair.customer_b_id,
        "score": round(pair.score, 4),
        "reasons": describe_all(pair.reasons, actor),
        "evidence": evidence_for(pair.reasons, actor),
        "cluster": pair.cluster,
        "status": pair.status,
        "decided_by": pair.decided_by.username if pair.decided_by_id and pair.decided_by else None,
        "decided_at": pair.decided_at.isoformat() if pair.decided_at else None,
        "created_at": pair.created_at.isoformat(),
        "customer_a": customer_summary(pair.customer_a, actor),
        "customer_b": customer_summary(pair.customer_b, actor),
    }

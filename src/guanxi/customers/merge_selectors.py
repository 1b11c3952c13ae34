"""Reads for merging: the pair as the actor may see it, the side-by-side preview, and past merges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.roles import Perm
from guanxi.customers.merge_fields import LABELS, choice_keys, default_choice, group_value, options_for
from guanxi.customers.merge_relations import Relation, count_rows
from guanxi.customers.models import Customer, CustomerMerge
from guanxi.customers.presenters import customer_to_dict
from guanxi.customers.selectors import customer_queryset, with_tags


def _refusal(name: str, customer: Customer) -> FieldError | None:
    if customer.merged_into_id:
        return FieldError(
            name,
            _("customer %(id)s was already merged into customer %(into)s")
            % {"id": customer.pk, "into": customer.merged_into_id},
            code="merged",
        )
    if customer.deleted_at is not None:
        return FieldError(
            name,
            _("customer %(id)s is in the recycle bin; restore it first") % {"id": customer.pk},
            code="deleted",
        )
    return None


def merge_pair(
    *, actor: Actor, survivor_id: int, merged_id: int, for_update: bool = False
) -> tuple[Customer, Customer]:
    """Both records, visible to the actor, live and distinct — or the error that says why not.

    An id of another organisation or one the actor cannot see is a 404, like everywhere else; a
    deleted or already merged one the actor can see is a 422 naming the field."""
    if survivor_id == merged_id:
        raise ValidationFailed(
            errors=[FieldError("merged_id", _("is the same customer; choose another one"), code="same")]
        )
    qs = customer_queryset(actor, include_deleted=True).filter(pk__in=[survivor_id, merged_id])
    if for_update:
        # Both rows locked, in id order, so two merges of the same pair cannot deadlock.
        qs = qs.select_for_update(of=("self",))
    found = {c.pk: c for c in with_tags(qs.order_by("pk"))}
    if survivor_id not in found or merged_id not in found:
        raise NotFound(_("Customer not found."))
    survivor, merged = found[survivor_id], found[merged_id]
    errors = [e for e in (_refusal("survivor_id", survivor), _refusal("merged_id", merged)) if e]
    if errors:
        raise ValidationFailed(errors=errors)
    return survivor, merged


def _display(data: dict[str, Any], customer: Customer, key: str) -> Any:
    """A choice key's value as the actor may see it (masked by the presenter)."""
    if key.startswith("custom."):
        return data["custom"].get(key[7:])
    if key == "phones":
        return [p["value"] for p in data["phones"]]
    if key == "emails":
        return [e["value"] for e in data["emails"]]
    if key == "address":
        parts = [data["province"], data["city"] if data["city"] != data["province"] else "", data["district"]]
        return " ".join(p for p in ["".join(parts), data["address"]] if p)
    if key == "birthday":
        if not data["birthday"]:
            return None
        return data["birthday"] + (f" ({_('lunar')})" if data["birthday_is_lunar"] else "")
    if key == "owner":
        if not data["owner"]:
            return _("public pool") if customer.in_public_pool else None
        return data["owner"] + (f" · {data['team']}" if data["team"] else "")
    if key in ("kind", "gender", "lifecycle_stage", "value_tier"):
        return str(getattr(customer, f"get_{key}_display")()) if getattr(customer, key) else None
    return data[key]


@dataclass
class PreviewField:
    key: str
    label: str
    survivor: Any
    merged: Any
    default: str
    options: tuple[str, ...]
    identical: bool


@dataclass
class MergePreview:
    survivor: Customer
    merged: Customer
    fields: list[PreviewField]
    moves: list[tuple[Relation, int]] = field(default_factory=list)

    @property
    def defaults(self) -> dict[str, str]:
        return {f.key: f.default for f in self.fields}

    def moves_as_dicts(self) -> list[dict[str, Any]]:
        return [{"relation": r.label, "name": r.name(n), "count": n} for r, n in self.moves]


def merge_preview(*, actor: Actor, survivor_id: int, merged_id: int) -> MergePreview:
    """Both records side by side, the default choice per field, and what would move."""
    if not actor.membership.has(Perm.CUSTOMER_MERGE):
        from guanxi.core.errors import PermissionDenied

        raise PermissionDenied(_("Your role may not merge customers."))
    survivor, merged = merge_pair(actor=actor, survivor_id=survivor_id, merged_id=merged_id)
    mine, theirs = customer_to_dict(survivor, actor), customer_to_dict(merged, actor)
    custom_labels = _custom_labels(actor)
    fields = []
    for key in choice_keys(survivor, merged):
        label = custom_labels.get(key[7:], key[7:]) if key.startswith("custom.") else str(LABELS[key])
        fields.append(
            PreviewField(
                key=key,
                label=label,
                survivor=_display(mine, survivor, key),
                merged=_display(theirs, merged, key),
                default=default_choice(key, survivor, merged),
                options=options_for(key),
                identical=_same(group_value(survivor, key), group_value(merged, key)),
            )
        )
    tags = next(f.default for f in fields if f.key == "tags")
    moves = count_rows(survivor_id=survivor.pk, merged_id=merged.pk, tags=tags)
    return MergePreview(survivor=survivor, merged=merged, fields=fields, moves=moves)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return set(map(str, a)) == set(map(str, b))
    return a == b or (a in (None, "", [], {}) and b in (None, "", [], {}))


def _custom_labels(actor: Actor) -> dict[str, str]:
    from guanxi.core.models import CustomFieldDefinition

    return dict(
        CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer").values_list(
            "key", "label"
        )
    )


def merge_queryset(actor: Actor) -> QuerySet[CustomerMerge]:
    """Merges whose two records the actor can see (merged-away records included)."""
    visible = Customer.objects.visible_to(actor, include_deleted=True).values("pk")
    return CustomerMerge.objects.filter(
        organization_id=actor.org_id, survivor_id__in=visible, merged_id__in=visible
    ).select_related("survivor", "merged", "merged_by", "undone_by")


def merge_get(*, actor: Actor, merge_id: int, for_update: bool = False) -> CustomerMerge:
    qs = merge_queryset(actor)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    merge = qs.filter(pk=merge_id).first()
    if merge is None:
        raise NotFound(_("Merge not found."))
    return merge


def merge_list(
    *, actor: Actor, before_id: int | None = None, limit: int = 50, customer_id: int | None = None
) -> list[CustomerMerge]:
    """Newest first; ``before_id`` is the last id of the previous page (keyset)."""
    from django.db.models import Q

    qs = merge_queryset(actor)
    if customer_id is not None:
        qs = qs.filter(Q(survivor_id=customer_id) | Q(merged_id=customer_id))
    if before_id:
        qs = qs.filter(pk__lt=before_id)
    return list(qs.order_by("-pk")[:limit])


def merge_of_merged(*, actor: Actor, customer_id: int) -> CustomerMerge | None:
    """The (not undone) merge that took ``customer_id`` away, for the "merged into" banner."""
    return merge_queryset(actor).filter(merged_id=customer_id, undone_at__isnull=True).order_by("-pk").first()


def merge_to_dict(merge: CustomerMerge) -> dict[str, Any]:
    """The one output form of a merge (API, CLI)."""
    return {
        "id": merge.pk,
        "survivor_id": merge.survivor_id,
        "survivor_name": merge.survivor.name,
        "merged_id": merge.merged_id,
        "merged_name": merge.merged.name,
        "choices": merge.choices,
        "moved": {k: len(v) for k, v in merge.moved.items() if not k.startswith("_")},
        "merged_by": merge.merged_by.get_username() if merge.merged_by else None,
        "merged_at": merge.merged_at.isoformat(),
        "undone_by": merge.undone_by.get_username() if merge.undone_by else None,
        "undone_at": merge.undone_at.isoformat() if merge.undone_at else None,
    }

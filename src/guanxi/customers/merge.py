"""Merging two customers into one, and undoing it.

``customer_merge`` keeps the *survivor*, takes field values from either record as chosen (see
``merge_fields`` for the defaults), moves every related row of the *merged* record to the survivor
(see ``merge_relations``: contacts, tags, shares, ownership history and every higher app's rows),
and soft-deletes the merged record with ``merged_into`` = survivor. Everything needed to undo it is
stored on a ``CustomerMerge`` row:

- ``choices``: the choice per field that was applied;
- ``survivor_before`` / ``merged_before``: both records' written fields before the merge;
- ``moved``: relation label (``"engagement.activity.customer"``) → ids of the rows moved, plus
  ``"_dropped"`` (duplicates deleted because of a unique constraint, with their column values),
  ``"_left"`` (duplicates kept on the merged record), ``"_survivor_after"`` (the survivor's fields
  as the merge left them) and ``"_candidate"`` (the duplicate-scan pair's status before).

Both services check the actor's role (``customer.merge``: admins and managers), that the actor may
change both records (visibility + ``customer.change``), lock both rows, audit on both records and
emit a domain event after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, FieldError, NotFound, ValidationFailed, VersionConflict
from guanxi.core.events import emit
from guanxi.core.models import AuditEvent, CustomFieldDefinition
from guanxi.core.roles import Perm
from guanxi.customers.indexing import reindex, search_text_of
from guanxi.customers.merge_fields import (
    AUTOMATIC,
    GROUPS,
    from_json,
    merged_values,
    resolve_choices,
    snapshot_fields,
    to_json,
)
from guanxi.customers.merge_relations import move_back, move_rows
from guanxi.customers.merge_selectors import merge_get, merge_pair
from guanxi.customers.models import Customer, CustomerMerge, DuplicateCandidate
from guanxi.customers.services import AUDITED_FIELDS, snapshot


class MergeVersionConflict(VersionConflict):
    """One of the two records changed since the user looked at them (412)."""

    def __init__(self, customer: Customer) -> None:
        last = (
            AuditEvent.objects.filter(object_type="customer", object_id=str(customer.pk))
            .order_by("-id")
            .values("actor_name", "created_at")
            .first()
        )
        super().__init__(
            current_version=customer.version,
            changed_by=last["actor_name"] if last else "",
            changed_at=last["created_at"].isoformat() if last else "",
        )
        self.detail = _(
            "Customer %(id)s (%(name)s) was changed by someone else (now version %(version)s). "
            "Reload both records and try again."
        ) % {"id": customer.pk, "name": customer.name, "version": customer.version}
        self.args = (self.detail,)
        self.problem_extra = {"customer_id": customer.pk}


def _unique_custom_keys(org_id: int) -> set[str]:
    return set(
        CustomFieldDefinition.objects.filter(
            organization_id=org_id, entity="customer", unique=True
        ).values_list("key", flat=True)
    )


def _check_versions(
    survivor: Customer, merged: Customer, expected_versions: Mapping[int, int] | None
) -> None:
    given = {int(k): v for k, v in (expected_versions or {}).items()}
    missing = [c for c in (survivor, merged) if c.pk not in given]
    if missing:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "expected_versions",
                    _("give the version you read of customer %(id)s") % {"id": c.pk},
                    code="required",
                )
                for c in missing
            ]
        )
    for customer in (survivor, merged):
        if given[customer.pk] != customer.version:
            raise MergeVersionConflict(customer)


def _customer_label(customer: Customer) -> str:
    return f"{customer.name} (#{customer.pk})"


def _mark_candidate(actor: Actor, survivor: Customer, merged: Customer, now: Any) -> dict[str, Any] | None:
    low, high = sorted((survivor.pk, merged.pk))
    pair = DuplicateCandidate.objects.filter(
        organization_id=actor.org_id, customer_a_id=low, customer_b_id=high
    ).first()
    if pair is None:
        return None
    before = {
        "id": pair.pk,
        "status": pair.status,
        "decided_by_id": pair.decided_by_id,
        "decided_at": to_json(pair.decided_at),
    }
    DuplicateCandidate.objects.filter(pk=pair.pk).update(
        status=DuplicateCandidate.Status.MERGED, decided_by_id=actor.user.pk, decided_at=now
    )
    return before


def customer_merge(
    *,
    actor: Actor,
    survivor_id: int,
    merged_id: int,
    choices: Mapping[str, Any] | None = None,
    expected_versions: Mapping[int, int] | None = None,
) -> CustomerMerge:
    """Merge ``merged_id`` into ``survivor_id``; returns the ``CustomerMerge`` (undo it with ``merge_undo``).

    ``choices`` maps a choice key to ``survivor``/``merged`` (``union``/``both`` for lists and
    notes); missing keys take the defaults. ``expected_versions`` maps both customer ids to the
    version the user saw: a record changed since then raises ``VersionConflict`` (412)."""
    actor.require(Perm.CUSTOMER_MERGE)
    actor.require(Perm.CUSTOMER_CHANGE)
    with transaction.atomic():
        survivor, merged = merge_pair(
            actor=actor, survivor_id=survivor_id, merged_id=merged_id, for_update=True
        )
        _check_versions(survivor, merged, expected_versions)
        applied, errors = resolve_choices(survivor, merged, choices)
        if errors:
            raise ValidationFailed(errors=errors)
        result = merged_values(survivor, merged, applied, _unique_custom_keys(actor.org_id))
        audit_survivor, audit_merged = snapshot(survivor), snapshot(merged)
        survivor_before, merged_before = snapshot_fields(survivor), snapshot_fields(merged)
        now = timezone.now()

        # The merged record first: it gives up unique values (external ID …) the survivor takes.
        # Version check and write in one statement (ADR 0003), as for an ordinary edit.
        written = Customer.objects.filter(pk=merged.pk, version=merged.version).update(
            **result.merged_cleared,
            deleted_at=now,
            deleted_by_id=actor.user.pk,
            merged_into_id=survivor.pk,
            version=F("version") + 1,
            updated_at=now,
        )
        if not written:
            merged.refresh_from_db()
            raise MergeVersionConflict(merged)
        moved = move_rows(survivor_id=survivor.pk, merged_id=merged.pk, tags=applied["tags"])

        values = dict(result.values)
        for key, value in values.items():
            setattr(survivor, key, value)
        values["search_text"] = survivor.search_text = search_text_of(survivor)
        written = Customer.objects.filter(pk=survivor.pk, version=survivor.version).update(
            **values, version=F("version") + 1, updated_at=now
        )
        if not written:
            survivor.refresh_from_db()
            raise MergeVersionConflict(survivor)
        survivor.refresh_from_db()
        merged.refresh_from_db()
        reindex([survivor, merged])

        candidate = _mark_candidate(actor, survivor, merged, now)
        record: dict[str, Any] = dict(moved.rows)
        record["_dropped"] = moved.dropped
        record["_left"] = moved.left
        record["_survivor_after"] = snapshot_fields(survivor)
        record["_candidate"] = candidate
        merge = CustomerMerge.objects.create(
            organization_id=actor.org_id,
            survivor=survivor,
            merged=merged,
            choices=applied,
            survivor_before=survivor_before,
            merged_before=merged_before,
            moved=record,
            merged_by=actor.user,
            merged_at=now,
        )
        counts = moved.counts()
        context = {"merge_id": merge.pk, "moved": counts}
        audit(
            actor=actor,
            action="merged_into",
            object_type="customer",
            object_id=merged.pk,
            object_repr=merged.name,
            changes={
                **diff(audit_merged, snapshot(merged), AUDITED_FIELDS),
                "merged_into": [None, _customer_label(survivor)],
                "deleted_at": [None, now.isoformat()],
            },
            context={**context, "survivor_id": survivor.pk},
        )
        changes = diff(audit_survivor, snapshot(survivor), AUDITED_FIELDS)
        audit(
            actor=actor,
            action="merge",
            object_type="customer",
            object_id=survivor.pk,
            object_repr=survivor.name,
            changes={**changes, "merged_from": [None, _customer_label(merged)]},
            context={**context, "merged_id": merged.pk},
        )
        emit(
            "customer.merged",
            org_id=actor.org_id,
            merge_id=merge.pk,
            survivor_id=survivor.pk,
            merged_id=merged.pk,
            actor_id=actor.user.pk,
            moved=counts,
        )
        if changes:  # subscribers of ordinary edits (ownership history …) see the survivor's change
            emit(
                "customer.updated",
                org_id=actor.org_id,
                customer_id=survivor.pk,
                actor_id=actor.user.pk,
                fields=sorted(changes),
            )
        return merge


@dataclass
class MergeUndone:
    merge: CustomerMerge
    kept: list[str] = field(default_factory=list)  # survivor fields edited since the merge: not restored
    moved_back: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)  # moved rows deleted since the merge
    not_restored: list[str] = field(default_factory=list)  # merged record's values another record took


def _restorable_survivor_fields(merge: CustomerMerge, survivor: Customer) -> tuple[dict[str, Any], list[str]]:
    """The survivor's fields to put back, per choice group, and the groups edited since the merge.

    A group goes back only if *every* field of it still holds what the merge wrote; otherwise
    someone edited it afterwards and their edit wins (the group is reported as kept)."""
    before, after = merge.survivor_before, merge.moved.get("_survivor_after") or {}
    current = snapshot_fields(survivor)
    restore: dict[str, Any] = {}
    kept: list[str] = []
    groups: dict[str, tuple[str, ...]] = {**GROUPS, **{name: (name,) for name in AUTOMATIC}}
    for key, names in groups.items():
        if all(after.get(n) == before.get(n) for n in names):
            continue  # the merge did not change it
        if all(current.get(n) == after.get(n) for n in names):
            restore.update({n: from_json(n, before.get(n)) for n in names})
        else:
            kept.append(key)
    custom_before, custom_after = before.get("custom") or {}, after.get("custom") or {}
    custom_now = dict(current.get("custom") or {})
    for name in sorted(set(custom_before) | set(custom_after)):
        if custom_before.get(name) == custom_after.get(name):
            continue
        if custom_now.get(name) == custom_after.get(name):
            if name in custom_before:
                custom_now[name] = custom_before[name]
            else:
                custom_now.pop(name, None)
        else:
            kept.append(f"custom.{name}")
    if custom_now != (current.get("custom") or {}):
        restore["custom"] = custom_now
    return restore, kept


def _restorable_merged_fields(
    actor: Actor, merge: CustomerMerge, merged: Customer
) -> tuple[dict[str, Any], list[str]]:
    """The merged record's fields as they were, minus unique values another record holds now."""
    values = {name: from_json(name, merge.merged_before.get(name)) for name in merge.merged_before}
    lost: list[str] = []
    others = Customer.objects.filter(organization_id=actor.org_id).exclude(pk=merged.pk)
    if values.get("external_id") and others.filter(external_id=values["external_id"]).exists():
        values["external_id"] = ""
        lost.append("external_id")
    custom = dict(values.get("custom") or {})
    for key in _unique_custom_keys(actor.org_id) & set(custom):
        taken = others.annotate(_v=KeyTransform(key, "custom")).filter(_v=custom[key]).exists()
        if taken:
            custom.pop(key)
            lost.append(f"custom.{key}")
    values["custom"] = custom
    return values, lost


def merge_undo(*, actor: Actor, merge_id: int) -> MergeUndone:
    """Undo a merge once: the merged record comes back, its moved rows return, the survivor's fields
    are restored.

    If the survivor was edited after the merge, those edits are not overwritten: a field (or field
    group such as the address) goes back only if it still holds exactly the value the merge gave
    it; edited ones are kept and listed in ``MergeUndone.kept`` (and in the audit). Rows moved by
    the merge but deleted since cannot come back (``missing``). Refused (409) when the merge was
    already undone, or when one of the two records was merged or deleted again since — undo that
    first."""
    actor.require(Perm.CUSTOMER_MERGE)
    actor.require(Perm.CUSTOMER_CHANGE)
    with transaction.atomic():
        merge = merge_get(actor=actor, merge_id=merge_id, for_update=True)
        if merge.undone_at is not None:
            raise Conflict(
                _("This merge was already undone on %(when)s.")
                % {"when": timezone.localtime(merge.undone_at).strftime("%Y-%m-%d %H:%M")}
            )
        rows = {
            c.pk: c
            for c in Customer.objects.visible_to(actor, include_deleted=True)
            .select_for_update(of=("self",))
            .filter(pk__in=[merge.survivor_id, merge.merged_id])
            .order_by("pk")
        }
        survivor, merged = rows.get(merge.survivor_id), rows.get(merge.merged_id)
        if survivor is None or merged is None:
            raise NotFound(_("Merge not found."))
        _refuse_undo(survivor, merged)

        audit_survivor, audit_merged = snapshot(survivor), snapshot(merged)
        now = timezone.now()
        back = move_back(
            survivor_id=survivor.pk,
            merged_id=merged.pk,
            rows={k: v for k, v in merge.moved.items() if not k.startswith("_")},
            dropped=merge.moved.get("_dropped") or [],
        )
        restore, kept = _restorable_survivor_fields(merge, survivor)
        for key, value in restore.items():
            setattr(survivor, key, value)
        restore["search_text"] = survivor.search_text = search_text_of(survivor)
        # The survivor first: it gives back unique values (external ID …) the merged record had.
        Customer.objects.filter(pk=survivor.pk).update(**restore, version=F("version") + 1, updated_at=now)
        merged_values_, lost = _restorable_merged_fields(actor, merge, merged)
        for key, value in merged_values_.items():
            setattr(merged, key, value)
        merged_values_["search_text"] = search_text_of(merged)
        Customer.objects.filter(pk=merged.pk).update(
            **merged_values_,
            deleted_at=None,
            deleted_by=None,
            merged_into=None,
            version=F("version") + 1,
            updated_at=now,
        )
        survivor.refresh_from_db()
        merged.refresh_from_db()
        reindex([survivor, merged])
        _restore_candidate(merge.moved.get("_candidate"))
        merge.undone_at, merge.undone_by = now, actor.user
        merge.save(update_fields=["undone_at", "undone_by"])

        context = {"merge_id": merge.pk, "moved_back": back.rows, "kept": kept}
        audit(
            actor=actor,
            action="merge_undo",
            object_type="customer",
            object_id=merged.pk,
            object_repr=merged.name,
            changes={
                **diff(audit_merged, snapshot(merged), AUDITED_FIELDS),
                "merged_into": [_customer_label(survivor), None],
                "deleted_at": [to_json(merge.merged_at), None],
            },
            context={**context, "survivor_id": survivor.pk},
        )
        changes = diff(audit_survivor, snapshot(survivor), AUDITED_FIELDS)
        audit(
            actor=actor,
            action="merge_undo",
            object_type="customer",
            object_id=survivor.pk,
            object_repr=survivor.name,
            changes={**changes, "merged_from": [_customer_label(merged), None]},
            context={**context, "merged_id": merged.pk},
        )
        emit(
            "customer.merge_undone",
            org_id=actor.org_id,
            merge_id=merge.pk,
            survivor_id=survivor.pk,
            merged_id=merged.pk,
            actor_id=actor.user.pk,
        )
        if changes:
            emit(
                "customer.updated",
                org_id=actor.org_id,
                customer_id=survivor.pk,
                actor_id=actor.user.pk,
                fields=sorted(changes),
            )
        return MergeUndone(
            merge=merge, kept=kept, moved_back=back.rows, missing=back.missing, not_restored=lost
        )


def _refuse_undo(survivor: Customer, merged: Customer) -> None:
    if survivor.merged_into_id:
        raise Conflict(
            _("Customer %(id)s was itself merged into customer %(into)s later; undo that merge first.")
            % {"id": survivor.pk, "into": survivor.merged_into_id}
        )
    if survivor.deleted_at is not None:
        raise Conflict(_("Customer %(id)s is in the recycle bin; restore it first.") % {"id": survivor.pk})
    if merged.merged_into_id != survivor.pk or merged.deleted_at is None:
        raise Conflict(_("Customer %(id)s is no longer merged away.") % {"id": merged.pk})


def _restore_candidate(before: dict[str, Any] | None) -> None:
    if not before:
        return
    DuplicateCandidate.objects.filter(pk=before["id"]).update(
        status=before["status"],
        decided_by_id=before["decided_by_id"],
        decided_at=from_json("updated_at", before["decided_at"]),
    )

"""Writes to customers, contacts, tags and shares. Every write is audited and emits an event on commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, audit_many, diff
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, FieldError, ValidationFailed, VersionConflict
from guanxi.core.events import emit
from guanxi.core.models import AuditEvent, CustomFieldDefinition, Team
from guanxi.core.roles import Perm
from guanxi.customers.cleaning import Cleaned, clean_customer_input, find_exact_duplicates
from guanxi.customers.indexing import reindex, search_text_of
from guanxi.customers.models import Customer, CustomerIdentifier, CustomerShare, CustomerTag, Tag

AUDITED_FIELDS = [
    "kind",
    "name",
    "company",
    "title",
    "gender",
    "phone",
    "phone_e164",
    "email",
    "phones",
    "emails",
    "wechat",
    "province",
    "city",
    "district",
    "address",
    "birthday",
    "birthday_is_lunar",
    "industry",
    "size",
    "source",
    "owner",
    "team",
    "tags",
    "notes",
    "custom",
    "external_id",
    "lifecycle_stage",
    "value_tier",
    "grade",
]
INDEXED_FIELDS = {"name", "company", "phones", "emails", "wechat"}


class DuplicateCustomer(Conflict):
    """A live customer already has one of the phones or emails."""

    def __init__(self, ids: list[int], visible_ids: list[int]) -> None:
        super().__init__(
            _("A customer with this phone number or email already exists.")
            if visible_ids
            else _("A customer with this phone number or email already exists (owned by another user).")
        )
        self.ids = ids
        self.visible_ids = visible_ids


def snapshot(customer: Customer, tags: list[str] | None = None) -> dict[str, Any]:
    data = {name: getattr(customer, name) for name in AUDITED_FIELDS if name not in {"owner", "team", "tags"}}
    data["owner"] = customer.owner.get_username() if customer.owner_id and customer.owner else None
    data["team"] = customer.team.name if customer.team_id and customer.team else None
    data["tags"] = tags if tags is not None else sorted(customer.tags.values_list("name", flat=True))
    return data


def _raise_if_errors(cleaned: Cleaned) -> None:
    if cleaned.errors:
        raise ValidationFailed(errors=cleaned.errors)


def _tag_ids(actor: Actor, names: list[str]) -> list[int]:
    existing = dict(
        Tag.objects.filter(organization_id=actor.org_id, name__in=names).values_list("name", "id")
    )
    for name in names:
        if name not in existing:
            tag, _created = Tag.objects.get_or_create(organization_id=actor.org_id, name=name)
            existing[name] = tag.pk
    return [existing[n] for n in names]


def _set_tags(actor: Actor, customer: Customer, names: list[str]) -> None:
    ids = _tag_ids(actor, names)
    CustomerTag.objects.filter(customer=customer).exclude(tag_id__in=ids).delete()
    have = set(CustomerTag.objects.filter(customer=customer).values_list("tag_id", flat=True))
    CustomerTag.objects.bulk_create([CustomerTag(customer=customer, tag_id=i) for i in ids if i not in have])


def _check_duplicates(actor: Actor, values: dict[str, Any], exclude_id: int | None = None) -> None:
    from guanxi.customers.selectors import customer_visible_ids

    ids = find_exact_duplicates(
        org_id=actor.org_id,
        phones_e164=[p["e164"] for p in values.get("phones", [])],
        emails=[e["value"] for e in values.get("emails", [])],
        exclude_id=exclude_id,
    )
    if ids:
        raise DuplicateCustomer(ids, customer_visible_ids(actor, ids))


def _check_external_id(
    actor: Actor, values: dict[str, Any], exclude_id: int | None, index: int | None = None
) -> None:
    ext = values.get("external_id")
    if not ext:
        return
    qs = Customer.objects.filter(organization_id=actor.org_id, external_id=ext)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    if qs.exists():
        raise ValidationFailed(
            errors=[FieldError("external_id", _("another customer has this external ID"), index, "unique")]
        )


def _insert(actor: Actor, cleaned: Cleaned) -> Customer:
    customer = Customer(organization_id=actor.org_id, created_by_id=actor.user.pk, **cleaned.values)
    customer.search_text = search_text_of(customer)
    customer.save()
    if cleaned.tags:
        _set_tags(actor, customer, cleaned.tags)
    reindex([customer])
    after = {
        k: v for k, v in snapshot(customer, cleaned.tags or []).items() if v not in ("", None, [], {}, False)
    }
    audit(
        actor=actor,
        action="create",
        object_type="customer",
        object_id=customer.pk,
        object_repr=customer.name,
        changes=diff({}, after, AUDITED_FIELDS),
    )
    emit("customer.created", org_id=actor.org_id, customer_id=customer.pk, actor_id=actor.user.pk)
    return customer


def _insert_many(actor: Actor, cleaned_items: list[Cleaned]) -> list[Customer]:
    """Insert many customers with a fixed number of queries (bulk insert, one reindex, one audit batch)."""
    from django.contrib.auth import get_user_model

    if not cleaned_items:
        return []
    customers = [
        Customer(organization_id=actor.org_id, created_by_id=actor.user.pk, **cleaned.values)
        for cleaned in cleaned_items
    ]
    for customer in customers:
        customer.search_text = search_text_of(customer)
    Customer.objects.bulk_create(customers, batch_size=500)
    names = sorted({name for cleaned in cleaned_items for name in cleaned.tags or []})
    if names:
        tag_ids = dict(zip(names, _tag_ids(actor, names), strict=True))
        CustomerTag.objects.bulk_create(
            [
                CustomerTag(customer=customer, tag_id=tag_ids[name])
                for customer, cleaned in zip(customers, cleaned_items, strict=True)
                for name in cleaned.tags or []
            ],
            batch_size=2000,
        )
    reindex(customers)
    users = get_user_model().objects.in_bulk({c.owner_id for c in customers if c.owner_id})
    teams = Team.objects.in_bulk({c.team_id for c in customers if c.team_id})
    rows = []
    for customer, cleaned in zip(customers, cleaned_items, strict=True):
        customer.owner = users.get(customer.owner_id) if customer.owner_id else None
        customer.team = teams.get(customer.team_id) if customer.team_id else None
        after = {
            k: v
            for k, v in snapshot(customer, cleaned.tags or []).items()
            if v not in ("", None, [], {}, False)
        }
        rows.append((customer.pk, customer.name, diff({}, after, AUDITED_FIELDS)))
    audit_many(actor=actor, action="create", object_type="customer", rows=rows)
    for customer in customers:
        emit("customer.created", org_id=actor.org_id, customer_id=customer.pk, actor_id=actor.user.pk)
    return customers


def customer_create(*, actor: Actor, data: dict[str, Any], allow_duplicate: bool = False) -> Customer:
    actor.require(Perm.CUSTOMER_ADD)
    cleaned = clean_customer_input(actor=actor, data=data)
    _raise_if_errors(cleaned)
    with transaction.atomic():
        _check_external_id(actor, cleaned.values, None)
        if not allow_duplicate:
            _check_duplicates(actor, cleaned.values)
        return _insert(actor, cleaned)


def _locked_visible(actor: Actor, customer_id: int, *, include_deleted: bool = False) -> Customer:
    from guanxi.customers.selectors import customer_get

    return customer_get(
        actor=actor, customer_id=customer_id, include_deleted=include_deleted, for_update=True
    )


def _apply_update(
    actor: Actor,
    customer: Customer,
    cleaned: Cleaned,
    expected_version: int | None,
    action: str = "update",
    *,
    audit_row: bool = True,
) -> Customer:
    """Write the changed fields. ``audit_row=False`` is for imports, which audit once per file."""
    before = snapshot(customer)
    values = {k: v for k, v in cleaned.values.items() if getattr(customer, k) != v}
    tags_changed = cleaned.tags is not None and cleaned.tags != before["tags"]
    if not values and not tags_changed:
        return customer
    for key, value in values.items():
        setattr(customer, key, value)
    if INDEXED_FIELDS & set(values):
        values["search_text"] = customer.search_text = search_text_of(customer)
    now = timezone.now()
    version = customer.version if expected_version is None else expected_version
    # The version check and the write are one statement, so two editors can never both win.
    updated = Customer.objects.filter(pk=customer.pk, version=version).update(
        **values, updated_at=now, version=F("version") + 1
    )
    if not updated:
        raise _conflict(customer.pk)
    customer.version = version + 1
    customer.updated_at = now
    if cleaned.tags is not None and tags_changed:
        _set_tags(actor, customer, cleaned.tags)
    if INDEXED_FIELDS & set(values):
        reindex([customer])
    customer.refresh_from_db(fields=["owner", "team"]) if {"owner_id", "team_id"} & set(values) else None
    changes = diff(
        before,
        snapshot(customer, cleaned.tags if cleaned.tags is not None else before["tags"]),
        AUDITED_FIELDS,
    )
    if audit_row:
        audit(
            actor=actor,
            action=action,
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
            changes=changes,
        )
    emit(
        "customer.updated",
        org_id=actor.org_id,
        customer_id=customer.pk,
        actor_id=actor.user.pk,
        fields=sorted(changes),
    )
    return customer


def _conflict(customer_id: int) -> VersionConflict:
    current = Customer.objects.filter(pk=customer_id).values("version", "updated_at").first() or {
        "version": 0
    }
    last = (
        AuditEvent.objects.filter(object_type="customer", object_id=str(customer_id))
        .order_by("-id")
        .values("actor_name", "created_at")
        .first()
    )
    return VersionConflict(
        current_version=int(current["version"]),
        changed_by=last["actor_name"] if last else "",
        changed_at=last["created_at"].isoformat() if last else "",
    )


def customer_update(
    *, actor: Actor, customer_id: int, data: dict[str, Any], expected_version: int | None
) -> Customer:
    """Change the fields present in ``data``. ``expected_version`` None means "I accept last-write-wins"
    and is reserved for system callers; the API and UI always pass the version they read."""
    actor.require(Perm.CUSTOMER_CHANGE)
    with transaction.atomic():
        customer = _locked_visible(actor, customer_id)
        if expected_version is not None and customer.version != expected_version:
            raise _conflict(customer.pk)
        cleaned = clean_customer_input(actor=actor, data=data, existing=customer)
        _raise_if_errors(cleaned)
        _check_external_id(actor, cleaned.values, customer.pk)
        if "phones" in cleaned.values or "emails" in cleaned.values:
            new_phones = {p["e164"] for p in cleaned.values.get("phones", [])} - {
                p.get("e164") for p in customer.phones
            }
            new_emails = {e["value"] for e in cleaned.values.get("emails", [])} - {
                e.get("value") for e in customer.emails
            }
            if new_phones or new_emails:
                _check_duplicates(
                    actor,
                    {
                        "phones": [{"e164": p} for p in new_phones],
                        "emails": [{"value": e} for e in new_emails],
                    },
                    exclude_id=customer.pk,
                )
        return _apply_update(actor, customer, cleaned, expected_version)


def customer_delete(*, actor: Actor, customer_id: int, expected_version: int | None = None) -> None:
    """Soft delete: into the recycle bin, restorable for ``GUANXI_RECYCLE_BIN_DAYS`` days."""
    actor.require(Perm.CUSTOMER_DELETE)
    with transaction.atomic():
        customer = _locked_visible(actor, customer_id)
        version = customer.version if expected_version is None else expected_version
        now = timezone.now()
        updated = Customer.objects.filter(pk=customer.pk, version=version).update(
            deleted_at=now, deleted_by_id=actor.user.pk, version=F("version") + 1, updated_at=now
        )
        if not updated:
            raise _conflict(customer.pk)
        customer.deleted_at = now
        reindex([customer])
        audit(
            actor=actor,
            action="delete",
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
            changes={"deleted_at": [None, now.isoformat()]},
        )
        emit("customer.deleted", org_id=actor.org_id, customer_id=customer.pk, actor_id=actor.user.pk)


def customer_restore(*, actor: Actor, customer_id: int) -> Customer:
    actor.require(Perm.CUSTOMER_DELETE)
    with transaction.atomic():
        customer = _locked_visible(actor, customer_id, include_deleted=True)
        if customer.deleted_at is None:
            raise Conflict(_("This customer is not in the recycle bin."))
        if customer.merged_into_id:  # restoring alone would leave its rows on the survivor
            raise Conflict(
                _("This customer was merged into customer %(id)s; undo the merge instead.")
                % {"id": customer.merged_into_id}
            )
        was = customer.deleted_at
        Customer.objects.filter(pk=customer.pk).update(
            deleted_at=None, deleted_by=None, version=F("version") + 1, updated_at=timezone.now()
        )
        customer.refresh_from_db()
        reindex([customer])
        audit(
            actor=actor,
            action="restore",
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
            changes={"deleted_at": [was.isoformat(), None]},
        )
        emit("customer.restored", org_id=actor.org_id, customer_id=customer.pk, actor_id=actor.user.pk)
        return customer


def customer_purge(*, actor: Actor, customer_id: int) -> None:
    """Delete for good, from the recycle bin only (admin)."""
    actor.require(Perm.CUSTOMER_PURGE)
    with transaction.atomic():
        customer = _locked_visible(actor, customer_id, include_deleted=True)
        if customer.deleted_at is None:
            raise Conflict(_("Only customers in the recycle bin can be purged."))
        audit(
            actor=actor,
            action="purge",
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
        )
        customer.delete()
        emit("customer.purged", org_id=actor.org_id, customer_id=customer_id, actor_id=actor.user.pk)


def customers_purge_expired(*, days: int, now: dt.datetime | None = None) -> int:
    """System job: purge customers that have been in the recycle bin for more than ``days`` days."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    count = 0
    expired = Customer.objects.filter(deleted_at__lt=cutoff).values_list("pk", "organization_id", "name")
    for pk, org_id, name in expired.iterator():
        with transaction.atomic():
            Customer.objects.filter(pk=pk).delete()
            audit(
                actor=None,
                action="purge",
                object_type="customer",
                object_id=pk,
                object_repr=name,
                org_id=org_id,
                context={"reason": f"in recycle bin more than {days} days"},
            )
        count += 1
    return count


def customers_bulk(
    *, actor: Actor, items: list[dict[str, Any]], mode: str, allow_duplicate: bool = False
) -> list[tuple[Customer, bool]]:
    """Create (``mode="create"``) or upsert by ``external_id`` (``mode="upsert"``), all or nothing.

    Every item is validated first; any error anywhere rejects the whole call with per-item errors.
    Returns ``(customer, created)`` in input order.
    """
    actor.require(Perm.CUSTOMER_ADD)
    if mode == "upsert":
        actor.require(Perm.CUSTOMER_CHANGE)
    defs = list(CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer"))
    errors: list[FieldError] = []
    ext_ids = [str(i.get("external_id") or "") for i in items]
    if mode == "upsert":
        for idx, ext in enumerate(ext_ids):
            if not ext:
                errors.append(FieldError("external_id", _("is required for upsert"), idx, "required"))
    seen: dict[str, int] = {}
    for idx, ext in enumerate(ext_ids):
        if ext and ext in seen:
            errors.append(
                FieldError("external_id", _("repeats item %(i)s") % {"i": seen[ext]}, idx, "duplicate")
            )
        seen.setdefault(ext, idx) if ext else None
    from guanxi.customers.selectors import customers_by_external_id

    results: list[tuple[Customer, bool]] = []
    with transaction.atomic():
        existing = customers_by_external_id(
            actor=actor, external_ids=[e for e in ext_ids if e], for_update=True
        )
        if mode == "create":
            taken = set(
                Customer.objects.filter(
                    organization_id=actor.org_id, external_id__in=[e for e in ext_ids if e]
                ).values_list("external_id", flat=True)
            )
            for idx, ext in enumerate(ext_ids):
                if ext and (ext in existing or ext in taken):
                    errors.append(
                        FieldError("external_id", _("another customer has this external ID"), idx, "unique")
                    )
        elif mode == "upsert":
            hidden = Customer.objects.filter(
                organization_id=actor.org_id, external_id__in=[e for e in ext_ids if e and e not in existing]
            )
            for ext in hidden.values_list("external_id", flat=True):
                # Exists but the caller cannot see it (or it is in the recycle bin): refuse, do not leak.
                errors.append(
                    FieldError(
                        "external_id",
                        _("belongs to a customer you cannot change"),
                        ext_ids.index(ext),
                        "forbidden",
                    )
                )
        plans: list[tuple[Customer | None, Cleaned]] = []
        for idx, item in enumerate(items):
            current = existing.get(ext_ids[idx]) if mode == "upsert" else None
            cleaned = clean_customer_input(
                actor=actor, data=item, existing=current, index=idx, custom_defs=defs
            )
            errors.extend(cleaned.errors)
            plans.append((current, cleaned))
        errors.extend(_repeated_unique_custom(defs, [cleaned for _current, cleaned in plans]))
        if not allow_duplicate:
            errors.extend(_duplicate_contacts(actor, plans))
        if errors:
            raise ValidationFailed(errors=errors)
        new_positions = [i for i, (current, _cleaned) in enumerate(plans) if current is None]
        inserted = iter(_insert_many(actor, [plans[i][1] for i in new_positions]))
        for current, cleaned in plans:
            if current is None:
                results.append((next(inserted), True))
            else:
                results.append((_apply_update(actor, current, cleaned, None), False))
    return results


def _duplicate_contacts(actor: Actor, plans: list[tuple[Customer | None, Cleaned]]) -> list[FieldError]:
    """New phones/emails that another live customer, or an earlier item of the call, already has —
    the same exact-duplicate rule as a single create (409), reported per item."""
    wanted: list[tuple[int, str, str, str]] = []  # (index, field, kind, value)
    for idx, (current, cleaned) in enumerate(plans):
        have_phones = {p.get("e164") for p in current.phones} if current else set()
        have_emails = {e.get("value") for e in current.emails} if current else set()
        for p in cleaned.values.get("phones", []):
            if p["e164"] not in have_phones:
                wanted.append((idx, "phone", "phone", p["e164"]))
        for e in cleaned.values.get("emails", []):
            if e["value"] not in have_emails:
                wanted.append((idx, "email", "email", e["value"]))
    if not wanted:
        return []
    from django.db.models import Q

    cond = Q()
    for kind in ("phone", "email"):
        values = [v for _i, _f, k, v in wanted if k == kind]
        if values:
            cond |= Q(kind=kind, value__in=values)
    owners = {p[0].pk for p in plans if p[0] is not None}
    taken = set(
        CustomerIdentifier.objects.filter(
            cond, organization_id=actor.org_id, customer__deleted_at__isnull=True
        )
        .exclude(customer_id__in=owners)
        .values_list("kind", "value")
    )
    errors: list[FieldError] = []
    first: dict[tuple[str, str], int] = {}
    for idx, field, kind, value in wanted:
        if (kind, value) in taken:
            errors.append(
                FieldError(
                    field, _("a customer with this %(f)s already exists") % {"f": field}, idx, "duplicate"
                )
            )
        elif (kind, value) in first and first[(kind, value)] != idx:
            msg = _("repeats item %(i)s") % {"i": first[(kind, value)]}
            errors.append(FieldError(field, msg, idx, "duplicate"))
        else:
            first.setdefault((kind, value), idx)
    return errors


def _repeated_unique_custom(defs: list[CustomFieldDefinition], cleaned: list[Cleaned]) -> list[FieldError]:
    """A unique custom value given twice in one bulk call (the database check cannot see either yet)."""
    import json

    keys = [d.key for d in defs if d.unique]
    first: dict[tuple[str, str], int] = {}
    errors: list[FieldError] = []
    for idx, item in enumerate(cleaned):
        custom = item.values.get("custom") or {}
        for key in keys:
            if key not in custom:
                continue
            marker = (key, json.dumps(custom[key], sort_keys=True, ensure_ascii=False))
            if marker in first:
                errors.append(
                    FieldError(
                        f"custom.{key}", _("repeats item %(i)s") % {"i": first[marker]}, idx, "duplicate"
                    )
                )
            else:
                first[marker] = idx
    return errors


def customer_share(*, actor: Actor, customer_id: int, username: str) -> None:
    from django.contrib.auth import get_user_model

    actor.require(Perm.CUSTOMER_CHANGE)
    with transaction.atomic():
        customer = _locked_visible(actor, customer_id)
        user = (
            get_user_model()
            .objects.filter(
                username=username, memberships__organization_id=actor.org_id, memberships__is_active=True
            )
            .first()
        )
        if user is None:
            raise ValidationFailed(
                errors=[
                    FieldError("username", _("no active user “%(u)s” in this organisation") % {"u": username})
                ]
            )
        CustomerShare.objects.get_or_create(organization_id=actor.org_id, customer=customer, user=user)
        audit(
            actor=actor,
            action="share",
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
            changes={"shared_with": [None, username]},
        )

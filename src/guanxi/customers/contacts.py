"""Contacts (people at a company customer): writes and reads, scoped by the customer's visibility."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed, VersionConflict
from guanxi.core.events import emit
from guanxi.core.normalize import clean_text, normalize_email, normalize_phone
from guanxi.core.roles import Perm
from guanxi.customers.models import Contact, Customer

FIELDS = ["name", "title", "phone", "email", "wechat", "is_primary", "notes"]


def contact_queryset(actor: Actor) -> QuerySet[Contact]:
    visible = Customer.objects.visible_to(actor).values("pk")
    return Contact.objects.filter(organization_id=actor.org_id, customer_id__in=visible)


def contact_get(*, actor: Actor, contact_id: int) -> Contact:
    contact = contact_queryset(actor).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def contact_list(
    *, actor: Actor, customer_id: int | None = None, after_id: int = 0, limit: int = 50
) -> list[Contact]:
    qs = contact_queryset(actor)
    if customer_id is not None:
        from guanxi.customers.selectors import customer_get

        customer_get(actor=actor, customer_id=customer_id)  # an invisible or foreign id is a 404
        qs = qs.filter(customer_id=customer_id)
    return list(qs.filter(pk__gt=after_id).order_by("pk")[:limit])


def _clean(actor: Actor, data: dict[str, Any], creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in ("name", "title", "wechat"):
        if name in data:
            values[name] = clean_text(data[name])
    if (creating or "name" in data) and not values.get("name"):
        errors.append(FieldError("name", _("is required"), code="required"))
    if "notes" in data:
        values["notes"] = str(data["notes"] or "").strip()
    if "is_primary" in data:
        values["is_primary"] = bool(data["is_primary"])
    if "phone" in data:
        raw = clean_text(data["phone"])
        values["phone"], values["phone_e164"] = raw, ""
        if raw:
            try:
                values["phone_e164"] = normalize_phone(raw, actor.org.default_phone_region)
            except ValueError as exc:
                errors.append(FieldError("phone", str(exc)))
    if "email" in data:
        raw = clean_text(data["email"])
        values["email"] = ""
        if raw:
            try:
                values["email"] = normalize_email(raw)
            except ValueError as exc:
                errors.append(FieldError("email", str(exc)))
    if errors:
        raise ValidationFailed(errors=errors)
    return values


def _snap(c: Contact) -> dict[str, Any]:
    return {f: getattr(c, f) for f in FIELDS}


def contact_create(*, actor: Actor, customer_id: int, data: dict[str, Any]) -> Contact:
    actor.require(Perm.CUSTOMER_CHANGE)
    from guanxi.customers.selectors import customer_get

    values = _clean(actor, data, creating=True)
    with transaction.atomic():
        customer = customer_get(actor=actor, customer_id=customer_id, for_update=True)
        if values.get("is_primary"):
            Contact.objects.filter(customer=customer, is_primary=True).update(is_primary=False)
        contact = Contact.objects.create(organization_id=actor.org_id, customer=customer, **values)
        audit(
            actor=actor,
            action="create",
            object_type="contact",
            object_id=contact.pk,
            object_repr=contact.name,
            changes=diff({}, _snap(contact)),
            context={"customer_id": customer.pk},
        )
        audit(
            actor=actor,
            action="contact_add",
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
            changes={"contacts": [None, contact.name]},
        )
        emit("contact.created", org_id=actor.org_id, contact_id=contact.pk, customer_id=customer.pk)
    return contact


def contact_update(
    *, actor: Actor, contact_id: int, data: dict[str, Any], expected_version: int | None
) -> Contact:
    actor.require(Perm.CUSTOMER_CHANGE)
    values = _clean(actor, data, creating=False)
    with transaction.atomic():
        contact = contact_get(actor=actor, contact_id=contact_id)
        before = _snap(contact)
        version = contact.version if expected_version is None else expected_version
        if values.get("is_primary"):
            Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
                pk=contact.pk
            ).update(is_primary=False)
        updated = Contact.objects.filter(pk=contact.pk, version=version).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
        if not updated:
            raise VersionConflict(current_version=contact.version)
        contact.refresh_from_db()
        audit(
            actor=actor,
            action="update",
            object_type="contact",
            object_id=contact.pk,
            object_repr=contact.name,
            changes=diff(before, _snap(contact)),
            context={"customer_id": contact.customer_id},
        )
    return contact


def contact_delete(*, actor: Actor, contact_id: int) -> None:
    actor.require(Perm.CUSTOMER_CHANGE)
    with transaction.atomic():
        contact = contact_get(actor=actor, contact_id=contact_id)
        audit(
            actor=actor,
            action="delete",
            object_type="contact",
            object_id=contact.pk,
            object_repr=contact.name,
            changes=diff(_snap(contact), {}),
            context={"customer_id": contact.customer_id},
        )
        audit(
            actor=actor,
            action="contact_remove",
            object_type="customer",
            object_id=contact.customer_id,
            object_repr="",
            changes={"contacts": [contact.name, None]},
        )
        contact.delete()

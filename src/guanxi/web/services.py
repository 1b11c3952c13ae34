"""Writes the workspace owns: organisation settings, preferences, saved views, the audited "reveal"
and bulk actions. Bulk actions compose the customer services one customer at a time, so every
change is validated, permission-checked and audited exactly as a single edit (UI = API)."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.models import Organization
from guanxi.core.roles import Perm
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get, customer_queryset, with_tags
from guanxi.web.models import SavedView, UserPreference

BULK_MAX = 500
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def organization_settings_update(*, actor: Actor, data: dict[str, Any]) -> Organization:
    """Change time zone, currency and default phone region of the actor's organisation (admin)."""
    actor.require(Perm.ORG_ADMIN)
    errors: list[FieldError] = []
    values: dict[str, str] = {}
    if "time_zone" in data:
        tz = str(data["time_zone"] or "").strip()
        try:
            ZoneInfo(tz)
            values["time_zone"] = tz
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(FieldError("time_zone", _("is not a known time zone (like Asia/Shanghai)")))
    if "currency" in data:
        cur = str(data["currency"] or "").strip().upper()
        if _CURRENCY.match(cur):
            values["currency"] = cur
        else:
            errors.append(FieldError("currency", _("must be a three-letter ISO 4217 code, like CNY")))
    if "default_phone_region" in data:
        region = str(data["default_phone_region"] or "").strip().upper()
        if region in phonenumbers.SUPPORTED_REGIONS:
            values["default_phone_region"] = region
        else:
            errors.append(FieldError("default_phone_region", _("must be a two-letter region, like CN")))
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=actor.org_id)
        before = {k: getattr(org, k) for k in values}
        changes = diff(before, values)
        if changes:
            for key, value in values.items():
                setattr(org, key, value)
            org.save(update_fields=list(values))
            audit(
                actor=actor,
                action="update",
                object_type="organization",
                object_id=org.pk,
                object_repr=org.name,
                changes=changes,
            )
    return org


def preference_update(*, user_id: int, language: str | None = None, columns: list[str] | None = None) -> None:
    pref, _created = UserPreference.objects.get_or_create(user_id=user_id)
    fields = []
    if language is not None:
        pref.language = language
        fields.append("language")
    if columns is not None:
        pref.list_columns = columns
        fields.append("list_columns")
    if fields:
        pref.save(update_fields=[*fields, "updated_at"])


def saved_view_create(*, actor: Actor, name: str, query: str, shared: bool) -> SavedView:
    name = name.strip()
    errors = []
    if not name or len(name) > 100:
        errors.append(FieldError("name", _("must be 1 to 100 characters")))
    if len(query) > 1000:
        errors.append(FieldError("query", _("too many filters to save")))
    if shared and not actor.has(Perm.CUSTOMER_CHANGE):
        errors.append(FieldError("shared", _("you may not share views")))
    if errors:
        raise ValidationFailed(errors=errors)
    return SavedView.objects.create(
        organization_id=actor.org_id, user_id=actor.user.pk, name=name, query=query, shared=shared
    )


def saved_view_delete(*, actor: Actor, view_id: int) -> None:
    view = SavedView.objects.filter(organization_id=actor.org_id, pk=view_id).first()
    if view is None or (view.user_id != actor.user.pk and not actor.has(Perm.ORG_ADMIN)):
        raise NotFound()
    view.delete()


def customer_reveal(*, actor: Actor, customer_id: int) -> Customer:
    """Show the full phone numbers and emails of one customer, leaving an audit row."""
    actor.require(Perm.VIEW_CONTACT_DETAILS)
    customer = customer_get(actor=actor, customer_id=customer_id)
    audit(
        actor=actor,
        action="reveal",
        object_type="customer",
        object_id=customer.pk,
        object_repr=customer.name,
        changes={"fields": [None, ["phone", "email", "wechat"]]},
    )
    return customer


def _bulk_targets(actor: Actor, ids: list[int]) -> list[Customer]:
    if not ids:
        raise ValidationFailed(errors=[FieldError("ids", _("select at least one customer"))])
    if len(ids) > BULK_MAX:
        raise ValidationFailed(
            errors=[FieldError("ids", _("select at most %(n)s customers at once") % {"n": BULK_MAX})]
        )
    customers = list(with_tags(customer_queryset(actor).filter(pk__in=ids)))
    if len(customers) != len(set(ids)):
        raise NotFound()
    return customers


def customers_bulk_action(
    *, actor: Actor, ids: list[int], action: str, owner: str = "", tag: str = ""
) -> int:
    """Apply one action to every selected customer, all or nothing. Returns how many changed."""
    with transaction.atomic():
        customers = _bulk_targets(actor, ids)
        if action == "assign":
            actor.require(Perm.CUSTOMER_ASSIGN)
            for c in customers:
                customer_services.customer_update(
                    actor=actor, customer_id=c.pk, data={"owner": owner or None}, expected_version=c.version
                )
        elif action in ("tag_add", "tag_remove"):
            actor.require(Perm.CUSTOMER_CHANGE)
            tag = tag.strip()
            if not tag:
                raise ValidationFailed(errors=[FieldError("tag", _("is required"))])
            for c in customers:
                names = {t.name for t in c.tags.all()}
                new = names | {tag} if action == "tag_add" else names - {tag}
                if new != names:
                    customer_services.customer_update(
                        actor=actor, customer_id=c.pk, data={"tags": sorted(new)}, expected_version=c.version
                    )
        elif action == "delete":
            actor.require(Perm.CUSTOMER_DELETE)
            for c in customers:
                customer_services.customer_delete(actor=actor, customer_id=c.pk, expected_version=c.version)
        else:
            raise ValidationFailed(errors=[FieldError("action", _("unknown action"))])
    return len(customers)

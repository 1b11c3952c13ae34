"""One dictionary form of a customer for every output (API, UI, export), masked by permission."""

from __future__ import annotations

from typing import Any

from guanxi.core.context import Actor
from guanxi.core.normalize import mask_email, mask_phone, mask_text
from guanxi.customers.models import Contact, Customer


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def customer_to_dict(customer: Customer, actor: Actor) -> dict[str, Any]:
    full = actor.sees_contact_details
    phones = [
        {
            "label": p.get("label", ""),
            "value": p.get("value", "") if full else mask_phone(p.get("value", "")),
            "e164": p.get("e164", "") if full else mask_phone(p.get("e164", "")),
        }
        for p in customer.phones or []
    ]
    emails = [
        {"label": e.get("label", ""), "value": e.get("value", "") if full else mask_email(e.get("value", ""))}
        for e in customer.emails or []
    ]
    return {
        "id": customer.pk,
        "kind": customer.kind,
        "name": customer.name,
        "company": customer.company,
        "title": customer.title,
        "gender": customer.gender,
        "phone": customer.phone if full else mask_phone(customer.phone),
        "phone_e164": customer.phone_e164 if full else mask_phone(customer.phone_e164),
        "email": customer.email if full else mask_email(customer.email),
        "phones": phones,
        "emails": emails,
        "wechat": customer.wechat if full else mask_text(customer.wechat),
        "province": customer.province,
        "city": customer.city,
        "district": customer.district,
        "address": customer.address,
        "industry": customer.industry,
        "size": customer.size,
        "source": customer.source,
        "birthday": _iso(customer.birthday),
        "birthday_is_lunar": customer.birthday_is_lunar,
        "owner": customer.owner.username if customer.owner_id and customer.owner else None,
        "team": customer.team.name if customer.team_id and customer.team else None,
        "tags": [t.name for t in customer.tags.all()],
        "notes": customer.notes,
        "custom": customer.custom or {},
        "lifecycle_stage": customer.lifecycle_stage,
        "value_tier": customer.value_tier,
        "grade": customer.grade,
        "external_id": customer.external_id,
        "last_contacted_at": _iso(customer.last_contacted_at),
        "version": customer.version,
        "created_at": _iso(customer.created_at),
        "updated_at": _iso(customer.updated_at),
        "deleted_at": _iso(customer.deleted_at),
    }


def contact_to_dict(contact: Contact, actor: Actor) -> dict[str, Any]:
    full = actor.sees_contact_details
    return {
        "id": contact.pk,
        "customer_id": contact.customer_id,
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone if full else mask_phone(contact.phone),
        "phone_e164": contact.phone_e164 if full else mask_phone(contact.phone_e164),
        "email": contact.email if full else mask_email(contact.email),
        "wechat": contact.wechat if full else mask_text(contact.wechat),
        "is_primary": contact.is_primary,
        "notes": contact.notes,
        "version": contact.version,
        "created_at": _iso(contact.created_at),
        "updated_at": _iso(contact.updated_at),
    }


_MASKERS = {
    "phone": mask_phone,
    "phone_e164": mask_phone,
    "email": mask_email,
    "wechat": mask_text,
}


def _mask_value(key: str, value: Any) -> Any:
    if value is None:
        return value
    if key in _MASKERS and isinstance(value, str):
        return _MASKERS[key](value)
    if key == "phones" and isinstance(value, list):
        return [
            {**p, "value": mask_phone(str(p.get("value", ""))), "e164": mask_phone(str(p.get("e164", "")))}
            if isinstance(p, dict)
            else p
            for p in value
        ]
    if key == "emails" and isinstance(value, list):
        return [
            {**e, "value": mask_email(str(e.get("value", "")))} if isinstance(e, dict) else e for e in value
        ]
    return value


def mask_changes(changes: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """An audit ``{field: [before, after]}`` with contact details masked for roles that may not see them."""
    if actor.sees_contact_details or not isinstance(changes, dict):
        return changes
    return {
        key: [_mask_value(key, v) for v in pair] if isinstance(pair, list) else _mask_value(key, pair)
        for key, pair in changes.items()
    }

"""Which value wins when two customers are merged: field groups, default choices, and the result.

A *choice key* is what the user decides on, one radio per key in the UI:

- plain groups (``name``, ``company`` … ``grade``): ``"survivor"`` or ``"merged"``. Fields that only
  make sense together are one group — the four address parts, birthday with its lunar flag, the
  owner with the team and the public-pool flag — so a merge never produces a half-and-half address;
- ``phones``, ``emails``, ``tags``: ``"union"`` (default: both records' values, deduplicated by the
  normalised value, the survivor's first) or one record's list;
- ``notes``: ``"both"`` (default: concatenated, survivor's first) or one record's;
- ``custom.<key>``: one per custom-field key either record has.

Defaults: a non-empty value beats an empty one; when both are set and differ, the value of the
record updated most recently wins (the survivor on a tie). Computed dates follow fixed rules (see
``AUTOMATIC``) and are not offered as choices.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.errors import FieldError
from guanxi.customers.models import Customer

SURVIVOR, MERGED, UNION, BOTH = "survivor", "merged", "union", "both"

# choice key -> the Customer attnames it decides, in display order
GROUPS: dict[str, tuple[str, ...]] = {
    "kind": ("kind",),
    "name": ("name",),
    "company": ("company",),
    "title": ("title",),
    "gender": ("gender",),
    "phones": ("phones", "phone", "phone_e164"),
    "emails": ("emails", "email"),
    "wechat": ("wechat",),
    "address": ("province", "city", "district", "address"),
    "birthday": ("birthday", "birthday_is_lunar"),
    "industry": ("industry",),
    "size": ("size",),
    "source": ("source",),
    "owner": ("owner_id", "team_id", "in_public_pool"),
    "lifecycle_stage": ("lifecycle_stage",),
    "value_tier": ("value_tier",),
    "grade": ("grade",),
    "external_id": ("external_id",),
    "notes": ("notes",),
}
LIST_GROUPS = {"phones", "emails", "tags"}

LABELS: dict[str, Any] = {
    "kind": gettext_lazy("Kind"),
    "name": gettext_lazy("Name"),
    "company": gettext_lazy("Company"),
    "title": gettext_lazy("Job title"),
    "gender": gettext_lazy("Gender"),
    "phones": gettext_lazy("Phones"),
    "emails": gettext_lazy("Emails"),
    "wechat": gettext_lazy("WeChat ID"),
    "address": gettext_lazy("Address"),
    "birthday": gettext_lazy("Birthday"),
    "industry": gettext_lazy("Industry"),
    "size": gettext_lazy("Company size"),
    "source": gettext_lazy("Source channel"),
    "owner": gettext_lazy("Owner"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "value_tier": gettext_lazy("Value tier"),
    "grade": gettext_lazy("Grade"),
    "external_id": gettext_lazy("External ID"),
    "notes": gettext_lazy("Notes"),
    "tags": gettext_lazy("Tags"),
}


def _earliest(a: Any, b: Any) -> Any:
    return min(v for v in (a, b) if v is not None) if a is not None or b is not None else None


def _latest(a: Any, b: Any) -> Any:
    return max(v for v in (a, b) if v is not None) if a is not None or b is not None else None


# Not offered as choices: the customer relationship started with the earlier record, and the last
# contact / order is the later of the two. Scores (RFM, CLV …) are recomputed by the insights jobs.
AUTOMATIC: dict[str, Callable[[Any, Any], Any]] = {
    "created_at": _earliest,
    "last_contacted_at": _latest,
    "last_ordered_at": _latest,
}

# Every Customer attname a merge may write: what ``survivor_before`` records and undo restores.
WRITTEN = [name for names in GROUPS.values() for name in names] + ["custom", *AUTOMATIC]


def options_for(key: str) -> tuple[str, ...]:
    if key in LIST_GROUPS:
        return (UNION, SURVIVOR, MERGED)
    if key == "notes":
        return (BOTH, SURVIVOR, MERGED)
    return (SURVIVOR, MERGED)


def to_json(value: Any) -> Any:
    """A model value as stored in ``CustomerMerge`` JSON (and compared on undo)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def from_json(attname: str, value: Any) -> Any:
    if value is None:
        return None
    field = Customer._meta.get_field(attname)
    if not isinstance(field, models.Field) or field.get_internal_type() in ("JSONField", "ForeignKey"):
        return value
    return field.to_python(value)


def snapshot_fields(customer: Customer) -> dict[str, Any]:
    return {name: to_json(getattr(customer, name)) for name in WRITTEN}


def _empty(value: Any) -> bool:
    return value in (None, "", [], {}, False)


def group_value(customer: Customer, key: str) -> Any:
    """The comparable value of a choice key on one record (raw, unmasked)."""
    if key.startswith("custom."):
        return (customer.custom or {}).get(key[7:])
    if key == "owner":
        return customer.owner_id
    if key == "birthday":
        return (to_json(customer.birthday), customer.birthday_is_lunar) if customer.birthday else None
    if key == "phones":
        return [p.get("e164") or p.get("value") for p in customer.phones or []]
    if key == "emails":
        return [e.get("value") for e in customer.emails or []]
    if key == "tags":
        return sorted(customer.tags.values_list("name", flat=True))
    names = GROUPS[key]
    if len(names) == 1:
        return getattr(customer, names[0])
    values = tuple(getattr(customer, n) for n in names)
    return None if all(_empty(v) for v in values) else values


def choice_keys(survivor: Customer, merged: Customer) -> list[str]:
    custom = sorted(set(survivor.custom or {}) | set(merged.custom or {}))
    keys = list(GROUPS)
    keys.insert(keys.index("notes"), "tags")
    return keys + [f"custom.{k}" for k in custom]


def default_choice(key: str, survivor: Customer, merged: Customer) -> str:
    mine, theirs = group_value(survivor, key), group_value(merged, key)
    if key in LIST_GROUPS:
        return SURVIVOR if set(theirs or []) <= set(mine or []) else UNION
    if key == "notes":
        if _empty(theirs) or (theirs or "").strip() in (mine or ""):
            return SURVIVOR
        return MERGED if _empty(mine) else BOTH
    if _empty(theirs) or mine == theirs:
        return SURVIVOR
    if _empty(mine):
        return MERGED
    return MERGED if merged.updated_at > survivor.updated_at else SURVIVOR


def resolve_choices(
    survivor: Customer, merged: Customer, given: Mapping[str, Any] | None
) -> tuple[dict[str, str], list[FieldError]]:
    """Defaults overridden by ``given``; every unknown key or value is an error naming it."""
    keys = choice_keys(survivor, merged)
    choices = {key: default_choice(key, survivor, merged) for key in keys}
    errors: list[FieldError] = []
    for key, value in (given or {}).items():
        if key not in choices:
            errors.append(
                FieldError(f"choices.{key}", _("is not a field that can be merged"), code="unknown")
            )
        elif value not in options_for(key):
            allowed = ", ".join(options_for(key))
            errors.append(
                FieldError(f"choices.{key}", _("must be one of: %(s)s") % {"s": allowed}, code="invalid")
            )
        else:
            choices[key] = str(value)
    return choices, errors


def _union(first: list[dict[str, Any]], second: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for item in [*first, *second]:
        marker = str(item.get(key) or item.get("value") or "").lower()
        if marker and marker in seen:
            continue
        seen.add(marker)
        out.append(item)
    return out


@dataclass
class Result:
    values: dict[str, Any]  # Customer attname -> value for the survivor
    merged_cleared: dict[str, Any]  # attnames to clear on the merged record (unique values it gave up)


def merged_values(
    survivor: Customer, merged: Customer, choices: Mapping[str, str], unique_custom: set[str]
) -> Result:
    """The survivor's new field values (only those that change) under ``choices``."""
    new: dict[str, Any] = {}
    for key, names in GROUPS.items():
        choice = choices.get(key, SURVIVOR)
        if key == "phones" and choice == UNION:
            phones = _union(list(survivor.phones or []), list(merged.phones or []), "e164")
            new["phones"] = phones
            new["phone"] = phones[0].get("value", "") if phones else ""
            new["phone_e164"] = phones[0].get("e164", "") if phones else ""
        elif key == "emails" and choice == UNION:
            emails = _union(list(survivor.emails or []), list(merged.emails or []), "value")
            new["emails"] = emails
            new["email"] = emails[0].get("value", "") if emails else ""
        elif key == "notes" and choice == BOTH:
            parts = [p.strip() for p in (survivor.notes, merged.notes) if p and p.strip()]
            new["notes"] = "\n\n".join(dict.fromkeys(parts))
        else:
            source = merged if choice == MERGED else survivor
            for name in names:
                new[name] = getattr(source, name)
    custom = dict(survivor.custom or {})
    cleared: dict[str, Any] = {}
    merged_custom = dict(merged.custom or {})
    for key, choice in choices.items():
        if not key.startswith("custom.") or choice != MERGED:
            continue
        name = key[7:]
        if name in merged_custom:
            custom[name] = merged_custom[name]
            if name in unique_custom:  # a unique value may live on one record only
                merged_custom.pop(name)
        else:
            custom.pop(name, None)
    new["custom"] = custom
    if merged_custom != (merged.custom or {}):
        cleared["custom"] = merged_custom
    if choices.get("external_id") == MERGED and merged.external_id:
        cleared["external_id"] = ""  # the unique external ID moves to the survivor
    for name, pick in AUTOMATIC.items():
        new[name] = pick(getattr(survivor, name), getattr(merged, name))
    changed = {k: v for k, v in new.items() if to_json(getattr(survivor, k)) != to_json(v)}
    return Result(values=changed, merged_cleared=cleared)

"""Turns caller input into clean customer field values, collecting every field error at once.

Shared by create, update and bulk so every channel (UI, API, CLI, import) validates the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.custom_fields import validate_custom
from guanxi.core.errors import FieldError
from guanxi.core.models import CustomFieldDefinition, Membership, Team
from guanxi.core.normalize import clean_text, normalize_email, normalize_phone
from guanxi.core.roles import Perm
from guanxi.customers.models import Customer, CustomerIdentifier

User = get_user_model()

TEXT_FIELDS = [
    "name",
    "company",
    "title",
    "wechat",
    "province",
    "city",
    "district",
    "address",
    "industry",
    "size",
    "source",
    "notes",
    "external_id",
    "grade",
]
CHOICE_FIELDS = {
    "kind": Customer.Kind.values,
    "gender": Customer.Gender.values,
    "lifecycle_stage": Customer.Lifecycle.values,
    "value_tier": Customer.ValueTier.values,
}
MAX_PHONES = 10
MAX_EMAILS = 10


@dataclass
class MemberDirectory:
    """An organisation's active members and teams held in memory, so that cleaning many rows (an
    import, possibly in a worker process that must not touch the database) needs no query per row."""

    memberships: dict[str, Membership]  # by username
    teams: dict[str, int]  # team name -> id

    @classmethod
    def load(cls, org_id: int) -> MemberDirectory:
        members = Membership.objects.select_related("user").filter(organization_id=org_id, is_active=True)
        return cls(
            memberships={m.user.get_username(): m for m in members},
            teams=dict(Team.objects.filter(organization_id=org_id).values_list("name", "id")),
        )


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    tags: list[str] | None = None  # None: leave tags alone
    errors: list[FieldError] = field(default_factory=list)


@functools.cache
def _max_length(name: str) -> int | None:
    return getattr(Customer._meta.get_field(name), "max_length", None)


def _channel_entries(
    data: dict[str, Any],
    existing: Customer | None,
    index: int | None,
    out: Cleaned,
    *,
    single: str,
    plural: str,
    default_label: str,
    max_items: int,
    too_many: Callable[[], str],
    max_len: int,
    normalize: Callable[[str], str],
) -> list[dict[str, str]] | None:
    """Clean a customer's phones or emails; ``None`` when the input does not touch them.

    ``plural`` replaces the whole list; ``single`` alone replaces its primary (first) entry and keeps
    the others. Each entry is normalised (errors name ``single`` or ``plural[i]``) and repeats of
    the same normalised value are dropped. Entries: ``{label, value: as given, norm}``.
    """
    if single not in data and plural not in data:
        return None
    if plural in data:
        items = list(data.get(plural) or [])
    else:
        items = list(getattr(existing, plural, None) or [])[1:]
    primary = data.get(single) if single in data else None
    if primary:
        items = [{"label": default_label, "value": primary}, *[i for i in items if i.get("value") != primary]]
    if len(items) > max_items:
        out.errors.append(FieldError(plural, too_many(), index))
        return None
    entries: list[dict[str, str]] = []
    seen: set[str] = set()
    for pos, item in enumerate(items):
        raw = clean_text(str(item.get("value") or ""))
        where = single if pos == 0 and primary else f"{plural}[{pos}]"
        if not raw:
            continue
        if len(raw) > max_len:
            out.errors.append(FieldError(where, _("at most %(n)s characters") % {"n": max_len}, index))
            continue
        try:
            norm = normalize(raw)
        except ValueError as exc:
            out.errors.append(FieldError(where, str(exc), index))
            continue
        if norm not in seen:
            seen.add(norm)
            label = clean_text(str(item.get("label") or default_label))[:20]
            entries.append({"label": label, "value": raw, "norm": norm})
    return entries


def _clean_phones(
    data: dict[str, Any], existing: Customer | None, region: str, index: int | None, out: Cleaned
) -> None:
    entries = _channel_entries(
        data, existing, index, out, single="phone", plural="phones", default_label="mobile",
        max_items=MAX_PHONES, max_len=40,
        too_many=lambda: _("at most %(n)s phone numbers") % {"n": MAX_PHONES},
        normalize=lambda raw: normalize_phone(raw, region),
    )  # fmt: skip
    if entries is None:
        return
    phones = [{"label": e["label"], "value": e["value"], "e164": e["norm"]} for e in entries]
    out.values["phones"] = phones
    out.values["phone"] = phones[0]["value"] if phones else ""
    out.values["phone_e164"] = phones[0]["e164"] if phones else ""


def _clean_emails(data: dict[str, Any], existing: Customer | None, index: int | None, out: Cleaned) -> None:
    entries = _channel_entries(
        data, existing, index, out, single="email", plural="emails", default_label="work",
        max_items=MAX_EMAILS, max_len=254,
        too_many=lambda: _("at most %(n)s email addresses") % {"n": MAX_EMAILS},
        normalize=normalize_email,
    )  # fmt: skip
    if entries is None:
        return
    emails = [{"label": e["label"], "value": e["norm"]} for e in entries]  # emails are stored normalised
    out.values["emails"] = emails
    out.values["email"] = emails[0]["value"] if emails else ""


def clean_customer_input(
    *,
    actor: Actor,
    data: dict[str, Any],
    existing: Customer | None = None,
    index: int | None = None,
    custom_defs: list[CustomFieldDefinition] | None = None,
    directory: MemberDirectory | None = None,
    today: dt.date | None = None,
) -> Cleaned:
    """Validate and normalise ``data`` (only the keys present are touched on update).

    ``custom_defs``, ``directory`` and ``today`` let bulk callers look definitions, members, teams
    and the local date up once instead of per row.
    """
    out = Cleaned()
    creating = existing is None
    for name in TEXT_FIELDS:
        if name not in data:
            continue
        value = clean_text(data[name]) if name != "notes" else str(data[name] or "").strip()
        limit = _max_length(name)
        if limit and len(value) > limit:
            out.errors.append(
                FieldError(name, _("at most %(n)s characters") % {"n": limit}, index, "too_long")
            )
            continue
        out.values[name] = value
    name_missing = not out.values.get("name") and not any(e.field == "name" for e in out.errors)
    if (creating or "name" in data) and name_missing:
        out.errors.append(FieldError("name", _("is required"), index, "required"))
    for name, allowed in CHOICE_FIELDS.items():
        if name in data:
            value = data[name] if data[name] is not None else ""
            if value not in allowed:
                msg = _("must be one of: %(choices)s") % {"choices": ", ".join(v or '""' for v in allowed)}
                out.errors.append(FieldError(name, msg, index))
            else:
                out.values[name] = value
    if "birthday" in data:
        birthday = data["birthday"]
        if isinstance(birthday, str) and birthday:
            try:
                birthday = dt.date.fromisoformat(birthday)
            except ValueError:
                out.errors.append(FieldError("birthday", _("must be a date as YYYY-MM-DD"), index))
                birthday = None
        if birthday and (birthday > (today or timezone.localdate()) or birthday.year < 1900):
            out.errors.append(FieldError("birthday", _("must be between 1900 and today"), index))
        elif not any(e.field == "birthday" for e in out.errors):
            out.values["birthday"] = birthday or None
    if "birthday_is_lunar" in data:
        out.values["birthday_is_lunar"] = bool(data["birthday_is_lunar"])

    region = actor.org.default_phone_region or "CN"
    _clean_phones(data, existing, region, index, out)
    _clean_emails(data, existing, index, out)
    _clean_owner_and_team(actor, data, existing, index, out, directory)

    if "tags" in data:
        names = [clean_text(t) for t in data["tags"] or []]
        bad = [t for t in names if len(t) > 50]
        if bad:
            out.errors.append(FieldError("tags", _("a tag has at most 50 characters"), index))
        out.tags = sorted({t for t in names if t})
    if "custom" in data or creating:
        defs = (
            custom_defs
            if custom_defs is not None
            else list(CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer"))
        )
        merged = dict(existing.custom) if existing else {}
        incoming = data.get("custom") or {}
        clean, errors = validate_custom(defs, incoming, partial=not creating, index=index)
        out.errors.extend(errors)
        if isinstance(incoming, dict):
            for key in incoming:
                merged.pop(key, None)
        merged.update(clean)
        out.values["custom"] = merged
        _check_unique_custom(actor, defs, clean, existing, index, out)
    return out


def _clean_owner_and_team(
    actor: Actor,
    data: dict[str, Any],
    existing: Customer | None,
    index: int | None,
    out: Cleaned,
    directory: MemberDirectory | None = None,
) -> None:
    owner_membership = None
    if "owner" in data:
        username = data["owner"]
        if username and directory is not None:
            owner_membership = directory.memberships.get(username)
        elif username:
            owner_membership = (
                Membership.objects.select_related("user")
                .filter(organization_id=actor.org_id, user__username=username, is_active=True)
                .first()
            )
            if owner_membership is None:
                out.errors.append(
                    FieldError(
                        "owner", _("no active user “%(u)s” in this organisation") % {"u": username}, index
                    )
                )
                return
        current_owner = existing.owner_id if existing else actor.user.pk
        new_owner = owner_membership.user_id if owner_membership else None
        if new_owner != current_owner and not actor.has(Perm.CUSTOMER_ASSIGN):
            out.errors.append(
                FieldError("owner", _("you may not assign customers to other users"), index, "forbidden")
            )
            return
        out.values["owner_id"] = new_owner
        if new_owner is not None:
            out.values["in_public_pool"] = False  # an owned customer is no longer in the public pool
    elif existing is None:
        out.values["owner_id"] = actor.user.pk
        owner_membership = actor.membership
    if "team" in data:
        if data["team"]:
            if directory is not None:
                team_id = directory.teams.get(data["team"])
            else:
                team = Team.objects.filter(organization_id=actor.org_id, name=data["team"]).first()
                team_id = team.pk if team else None
            if team_id is None:
                out.errors.append(
                    FieldError("team", _("no team “%(t)s” in this organisation") % {"t": data["team"]}, index)
                )
            else:
                out.values["team_id"] = team_id
        else:
            out.values["team_id"] = None
    elif owner_membership is not None:
        # A customer follows its owner's team unless a team is given.
        out.values["team_id"] = owner_membership.team_id
    elif "owner" in data and existing is not None:
        out.values["team_id"] = None


def _check_unique_custom(
    actor: Actor,
    defs: list[CustomFieldDefinition],
    clean: dict[str, Any],
    existing: Customer | None,
    index: int | None,
    out: Cleaned,
) -> None:
    for defn in defs:
        if not defn.unique or defn.key not in clean:
            continue
        # An explicit key transform: a key named like a lookup ("contains", "in") must not become one.
        clash = (
            Customer.objects.filter(organization_id=actor.org_id)
            .annotate(_custom_value=KeyTransform(defn.key, "custom"))
            .filter(_custom_value=clean[defn.key])
        )
        if existing is not None:
            clash = clash.exclude(pk=existing.pk)
        if clash.exists():
            out.errors.append(
                FieldError(
                    f"custom.{defn.key}", _("another customer already has this value"), index, "unique"
                )
            )


def find_exact_duplicates(
    *, org_id: int, phones_e164: list[str], emails: list[str], exclude_id: int | None = None
) -> list[int]:
    """Ids of live customers in the organisation sharing a normalised phone or email."""
    if not phones_e164 and not emails:
        return []
    from django.db.models import Q

    cond = Q()
    if phones_e164:
        cond |= Q(kind="phone", value__in=phones_e164)
    if emails:
        cond |= Q(kind="email", value__in=emails)
    qs = CustomerIdentifier.objects.filter(cond, organization_id=org_id, customer__deleted_at__isnull=True)
    if exclude_id:
        qs = qs.exclude(customer_id=exclude_id)
    return sorted(set(qs.values_list("customer_id", flat=True)))

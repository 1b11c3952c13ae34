"""Public-pool settings of an organisation: limits on claims and the per-grade reclaim rules (admin)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.normalize import clean_text
from guanxi.core.roles import Perm
from guanxi.customers.models import PoolRule, PoolSettings

MAX_DAYS = 3650
MAX_LIMIT = 100_000


def pool_settings_of(org_id: int) -> PoolSettings:
    return PoolSettings.objects.filter(organization_id=org_id).first() or PoolSettings(organization_id=org_id)


def pool_rules_of(org_id: int) -> list[PoolRule]:
    return list(PoolRule.objects.filter(organization_id=org_id).order_by("grade"))


def _settings_dict(cfg: PoolSettings, rules: list[PoolRule]) -> dict[str, Any]:
    return {
        "reclaim_enabled": cfg.reclaim_enabled,
        "max_owned": cfg.max_owned,
        "daily_claim_limit": cfg.daily_claim_limit,
        "reclaim_block_days": cfg.reclaim_block_days,
        "rules": [
            {
                "grade": r.grade,
                "follow_up_days": r.follow_up_days,
                "close_days": r.close_days,
                "warn_days": r.warn_days,
            }
            for r in rules
        ],
    }


def pool_settings_get(*, actor: Actor) -> dict[str, Any]:
    actor.require(Perm.ORG_ADMIN)
    return _settings_dict(pool_settings_of(actor.org_id), pool_rules_of(actor.org_id))


def _int_or_none(
    data: dict[str, Any], key: str, errors: list[FieldError], *, low: int, high: int, nullable: bool = True
) -> int | None:
    value = data.get(key)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(key, _("must be a whole number from %(a)s to %(b)s") % {"a": low, "b": high})
        )
        return None
    return value


def _clean_rules(raw: Any, errors: list[FieldError]) -> list[PoolRule]:
    if not isinstance(raw, list) or len(raw) > 50:
        errors.append(FieldError("rules", _("must be a list of at most 50 rules")))
        return []
    rules: list[PoolRule] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append(FieldError(f"rules[{i}]", _("must be an object")))
            continue
        rule_errors: list[FieldError] = []
        grade = clean_text(str(item.get("grade") or ""))
        if len(grade) > 10:
            rule_errors.append(FieldError("grade", _("is longer than 10 characters")))
        elif grade in seen:
            rule_errors.append(FieldError("grade", _("has a rule already"), code="duplicate"))
        seen.add(grade)
        follow = _int_or_none(item, "follow_up_days", rule_errors, low=1, high=MAX_DAYS)
        close = _int_or_none(item, "close_days", rule_errors, low=1, high=MAX_DAYS)
        warn = _int_or_none(
            {"warn_days": item.get("warn_days", 0)},
            "warn_days",
            rule_errors,
            low=0,
            high=MAX_DAYS,
            nullable=False,
        )
        if not rule_errors and follow is None and close is None:
            rule_errors.append(
                FieldError("follow_up_days", _("set follow_up_days, close_days or both"), code="required")
            )
        shortest = min(d for d in (follow, close, MAX_DAYS + 1) if d is not None)
        if not rule_errors and warn and warn >= shortest:
            rule_errors.append(
                FieldError(
                    "warn_days",
                    _("must be fewer days than the rule's shortest deadline (%(d)s)") % {"d": shortest},
                )
            )
        for err in rule_errors:
            errors.append(FieldError(f"rules[{i}].{err.field}", err.message, code=err.code))
        rules.append(PoolRule(grade=grade, follow_up_days=follow, close_days=close, warn_days=warn or 0))
    return rules


def pool_settings_update(*, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Change the pool limits and, when ``rules`` is given, replace the reclaim rules (admin)."""
    actor.require(Perm.ORG_ADMIN)
    errors: list[FieldError] = []
    with transaction.atomic():
        cfg = pool_settings_of(actor.org_id)
        old_rules = pool_rules_of(actor.org_id)
        before = _settings_dict(cfg, old_rules)
        if "reclaim_enabled" in data:
            if not isinstance(data["reclaim_enabled"], bool):
                errors.append(FieldError("reclaim_enabled", _("must be true or false")))
            else:
                cfg.reclaim_enabled = data["reclaim_enabled"]
        if "max_owned" in data:
            cfg.max_owned = _int_or_none(data, "max_owned", errors, low=0, high=MAX_LIMIT)
        if "daily_claim_limit" in data:
            cfg.daily_claim_limit = _int_or_none(data, "daily_claim_limit", errors, low=0, high=MAX_LIMIT)
        if "reclaim_block_days" in data:
            cfg.reclaim_block_days = (
                _int_or_none(data, "reclaim_block_days", errors, low=0, high=MAX_DAYS, nullable=False) or 0
            )
        rules = _clean_rules(data["rules"], errors) if "rules" in data else old_rules
        if errors:
            raise ValidationFailed(errors=errors)
        cfg.save()
        if "rules" in data:
            PoolRule.objects.filter(organization_id=actor.org_id).delete()
            for rule in rules:
                rule.organization_id = actor.org_id
            PoolRule.objects.bulk_create(rules)
        after = _settings_dict(cfg, sorted(rules, key=lambda r: r.grade))
        audit(
            actor=actor,
            action="update",
            object_type="pool_settings",
            object_id=actor.org_id,
            object_repr="public pool settings",
            changes=diff(before, after),
        )
    return after

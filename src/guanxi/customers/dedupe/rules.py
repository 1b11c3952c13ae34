"""The duplicate-scan rules of an organisation: which signals count and how much, and the threshold.

Stored in ``DedupeSettings`` (``threshold`` + ``rules`` JSON). Only the keys an organisation
changed are stored; everything else comes from ``DEFAULT_RULES``, so improving a default reaches
every organisation that did not override it.

Weights are evidence in log-odds units (Fellegi–Sunter style): a pair's score is
``sigmoid(sum of the weights of what agrees or disagrees − OFFSET)``. A missing value on either
side adds nothing. The defaults are set from what each signal means in a CRM, not fitted to a test
set (see docs: dedupe-architecture).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from guanxi.core.errors import FieldError, ValidationFailed

DEFAULT_THRESHOLD = 0.8
OFFSET = 6.0  # log-odds a pair needs before its score passes 0.5

SIGNALS = (
    "name",
    "phone",
    "email",
    "wechat",
    "birthday",
    "address",
    "city",
    "company",
    "custom",
)

DEFAULT_RULES: dict[str, dict[str, Any]] = {
    # exact: same characters (or same words in any order); pinyin: same sound, other characters
    # (張偉/张伟, or a homophone: weaker); high/medium/low: rapidfuzz similarity ≥ 92/85/75 %.
    "name": {
        "enabled": True,
        "exact": 5.5,
        "pinyin": 3.5,
        "high": 4.0,
        "medium": 2.5,
        "low": 0.5,
        "partial": 1.5,
        "one_word": -1.5,
        "mismatch": -4.0,
    },
    "phone": {"enabled": True, "agree": 6.0, "disagree": -1.5},
    "email": {"enabled": True, "agree": 6.0, "disagree": -1.0},
    "wechat": {"enabled": True, "agree": 6.0, "disagree": -0.5},
    # near: one of year/month/day differs by a typo, or day and month swapped
    "birthday": {"enabled": True, "agree": 4.5, "near": 1.5, "disagree": -3.0},
    "address": {"enabled": True, "high": 3.0, "medium": 1.5, "mismatch": -1.5},
    "city": {"enabled": True, "agree": 1.0, "disagree": -1.0},
    "company": {"enabled": True, "agree": 1.5, "disagree": -0.5},
    # Custom text fields: a shared value is worth ln(customers / customers with that value),
    # capped: a member number or ID shared by two records is strong, a shared "retail" is nothing.
    "custom": {"enabled": True, "cap": 6.0, "near": 1.0, "disagree": -0.5, "ignore": []},
}

_NUMBER_KEYS = {
    "exact",
    "pinyin",
    "high",
    "medium",
    "low",
    "partial",
    "one_word",
    "mismatch",
    "agree",
    "near",
    "disagree",
    "cap",
}


@dataclass(frozen=True)
class Rules:
    threshold: float
    weights: dict[str, dict[str, Any]]

    def on(self, signal: str) -> bool:
        return bool(self.weights[signal].get("enabled", True))

    def w(self, signal: str, level: str) -> float:
        return float(self.weights[signal][level])


def effective_rules(stored: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Defaults overlaid with what the organisation stored (unknown keys are ignored)."""
    rules = copy.deepcopy(DEFAULT_RULES)
    for signal, values in (stored or {}).items():
        if signal in rules and isinstance(values, dict):
            for key, value in values.items():
                if key in rules[signal]:
                    rules[signal][key] = value
    return rules


def clean_rules(data: Any) -> dict[str, dict[str, Any]]:
    """Validate a rules object from a user; only known signals and levels, numbers in −20..20."""
    errors: list[FieldError] = []
    if not isinstance(data, dict):
        raise ValidationFailed(errors=[FieldError("rules", _("must be an object"))])
    clean: dict[str, dict[str, Any]] = {}
    for signal, values in data.items():
        if signal not in DEFAULT_RULES:
            errors.append(FieldError(f"rules.{signal}", _("is not a known signal"), code="unknown"))
            continue
        if not isinstance(values, dict):
            errors.append(FieldError(f"rules.{signal}", _("must be an object")))
            continue
        clean[signal] = {}
        for key, value in values.items():
            field = f"rules.{signal}.{key}"
            if key not in DEFAULT_RULES[signal]:
                errors.append(FieldError(field, _("is not a setting of this signal"), code="unknown"))
            elif key == "enabled":
                if not isinstance(value, bool):
                    errors.append(FieldError(field, _("must be true or false")))
                else:
                    clean[signal][key] = value
            elif key == "ignore":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    errors.append(FieldError(field, _("must be a list of custom-field keys")))
                else:
                    clean[signal][key] = sorted({v.strip() for v in value if v.strip()})
            elif key in _NUMBER_KEYS:
                if isinstance(value, bool) or not isinstance(value, int | float) or not -20 <= value <= 20:
                    errors.append(FieldError(field, _("must be a number from -20 to 20")))
                else:
                    clean[signal][key] = float(value)
    if errors:
        raise ValidationFailed(errors=errors)
    return {k: v for k, v in clean.items() if v}


def clean_threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.5 <= value <= 0.99:
        raise ValidationFailed(errors=[FieldError("threshold", _("must be a number from 0.5 to 0.99"))])
    return float(value)

"""Validation of ``custom`` JSON values against an organisation's field definitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from guanxi.core.errors import FieldError
from guanxi.core.models import CustomFieldDefinition

MAX_TEXT = 1000


def _coerce(defn: CustomFieldDefinition, value: Any) -> Any:
    """Return the stored form of ``value`` or raise ``ValueError`` saying why it does not fit."""
    kind = defn.field_type
    if kind == "text":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(_("must be text"))
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            raise ValueError(_("must be at most %(n)s characters") % {"n": MAX_TEXT})
        return text
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(_("must be a number"))
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValueError(_("must be a number")) from None
        if not number.is_finite():
            raise ValueError(_("must be a number"))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(_("must be a date as YYYY-MM-DD")) from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "1", "yes", "是", "y"}:
            return True
        if text in {"false", "0", "no", "否", "n"}:
            return False
        raise ValueError(_("must be true or false"))
    allowed = [str(c) for c in defn.choices or []]
    if kind == "choice":
        if str(value) not in allowed:
            raise ValueError(_("must be one of: %(choices)s") % {"choices": ", ".join(allowed)})
        return str(value)
    if kind == "multi_choice":
        items = value if isinstance(value, list) else [value]
        bad = [str(v) for v in items if str(v) not in allowed]
        if bad:
            raise ValueError(
                _("%(bad)s not among: %(choices)s") % {"bad": ", ".join(bad), "choices": ", ".join(allowed)}
            )
        return sorted({str(v) for v in items}, key=allowed.index)
    raise ValueError(_("has an unknown type"))


def validate_custom(
    definitions: Iterable[CustomFieldDefinition],
    values: Mapping[str, Any] | None,
    *,
    partial: bool = False,
    index: int | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check ``values`` against ``definitions``; return (clean values, errors).

    Unknown keys are errors, not silently dropped. ``None`` or "" clears a value. With ``partial``,
    required fields need not be present (a PATCH that does not touch them).
    """
    defs = {d.key: d for d in definitions}
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    values = values or {}
    if not isinstance(values, Mapping):
        return {}, [FieldError("custom", _("must be an object"), index)]
    for key, value in values.items():
        defn = defs.get(key)
        if defn is None:
            errors.append(FieldError(f"custom.{key}", _("unknown custom field"), index, "unknown_field"))
            continue
        if value is None or value == "" or value == []:
            if defn.required:
                errors.append(FieldError(f"custom.{key}", _("is required"), index, "required"))
            continue
        try:
            clean[key] = _coerce(defn, value)
        except ValueError as exc:
            errors.append(FieldError(f"custom.{key}", str(exc), index))
    if not partial:
        for key, defn in defs.items():
            if defn.required and key not in clean and not any(e.field == f"custom.{key}" for e in errors):
                errors.append(FieldError(f"custom.{key}", _("is required"), index, "required"))
    return clean, errors

"""What the customer list's Export menu needs, without widening the list view's context."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from guanxi.customers.exports import DEFAULT_COLUMNS, column_choices

register = template.Library()


@register.simple_tag(takes_context=True)
def export_columns(context: Any) -> list[dict[str, Any]]:
    """Every exportable column with whether it is ticked by default (custom fields are)."""
    actor = context["request"].actor
    return [
        {"key": key, "label": label, "checked": key in DEFAULT_COLUMNS or key.startswith("custom.")}
        for key, label in column_choices(actor, defs=context.get("custom_field_defs"))
    ]


@register.simple_tag
def export_sync_max() -> int:
    return int(settings.GUANXI_EXPORT_SYNC_MAX_ROWS)

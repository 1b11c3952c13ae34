"""Template filters of the engagement pages (navigation and actions ask the services' own checks)."""

from __future__ import annotations

from django import template

from guanxi.core.context import Actor
from guanxi.engagement.email import can_edit_templates

register = template.Library()


@register.filter
def edits_templates(actor: Actor | None) -> bool:
    return actor is not None and can_edit_templates(actor)

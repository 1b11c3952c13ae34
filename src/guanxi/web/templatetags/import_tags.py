"""Who may import customers, for the navigation and the customer list toolbar."""

from __future__ import annotations

from django import template

from guanxi.core.context import Actor
from guanxi.core.roles import Perm

register = template.Library()


@register.filter
def can_import(actor: Actor | None) -> bool:
    return actor is not None and actor.has(Perm.CUSTOMER_IMPORT)

"""Template helpers of the public-pool pages: ``{% load pool_tags %}`` → ``actor|works_pool``."""

from __future__ import annotations

from django import template

from guanxi.core.context import Actor
from guanxi.customers.views import works_pool as _works_pool

register = template.Library()


@register.filter
def works_pool(actor: Actor | None) -> bool:
    """True for active sales reps, managers and admins — the roles that see the public pool."""
    return _works_pool(actor)

"""Small template helpers for the workspace: permission checks, masking, the user's organisations."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from guanxi.core.context import Actor
from guanxi.core.normalize import mask_email, mask_phone, mask_text
from guanxi.core.roles import Perm
from guanxi.core.selectors import memberships_of_user

register = template.Library()


@register.filter
def can(actor: Actor | None, perm: str) -> bool:
    return bool(actor) and actor.has(Perm(perm))  # type: ignore[union-attr]


@register.filter
def phone_mask(value: str) -> str:
    return mask_phone(value or "")


@register.filter
def email_mask(value: str) -> str:
    return mask_email(value or "")


@register.filter
def text_mask(value: str) -> str:
    return mask_text(value or "")


@register.simple_tag(takes_context=True)
def user_orgs(context: dict[str, Any]) -> list[Any]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    loaded = getattr(request, "user_memberships", None)  # read by the ``workspace`` decorator
    if loaded is not None:
        return sorted(loaded, key=lambda m: m.organization.name)
    return list(memberships_of_user(request.user.pk).order_by("organization__name"))


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "") if mapping else ""


@register.filter
def initial(name: str) -> str:
    return (name or "?")[:1].upper()


@register.filter
def tag_style(color: str) -> str:
    color = color if color and color.startswith("#") and len(color) == 7 else "#64748b"
    return f"--tag:{color}"


@register.filter
def join_if_list(value: Any) -> Any:
    return "、".join(str(v) for v in value) if isinstance(value, list) else value


CHANNEL_LABELS = {"mobile": _("mobile"), "work": _("work"), "home": _("home"), "other": _("other")}


@register.filter
def channel_label(label: str) -> Any:
    return CHANNEL_LABELS.get(label, label)


@register.filter
def user_label(user: Any) -> str:
    """A user's display name, falling back to the username; "—" for nobody."""
    if not user:
        return "—"
    return str(user.get_full_name() or user.get_username())


@register.simple_tag(takes_context=True)
def unread_notifications(context: dict[str, Any]) -> list[Any]:
    """The signed-in user's newest unread in-app notifications (reminders, pool warnings …)."""
    request = context.get("request")
    actor = getattr(request, "actor", None)
    if actor is None:
        return []
    from guanxi.engagement.selectors import notification_list

    return notification_list(actor=actor, unread=True, limit=8).items


POOL_ROLES = {"admin", "manager", "sales"}


@register.filter
def works_pool(actor: Actor | None) -> bool:
    """Sales reps, managers and administrators work the public pool (公海)."""
    return bool(actor) and actor.membership.role in POOL_ROLES and actor.membership.is_active  # type: ignore[union-attr]


@register.simple_tag
def options(items: Iterable[Any], selected: Any = None) -> SafeString:
    """``<option>`` tags for a ``<select>`` or ``<datalist>``, rendered in one pass: a filter
    panel has hundreds of them (owners, tags, a datalist of cities) and a template loop cost about
    millisecond per hundred. ``items`` are values (label = value) or ``(value, label)`` pairs; the
    one equal to ``selected`` is marked. Without ``selected`` (a datalist) only values are written.
    The output is what the template loops it replaced wrote."""
    chosen = None if selected is None else str(selected)
    out = []
    for item in items:
        if selected is None:  # a datalist: suggestions only
            out.append(f'<option value="{html.escape(str(item))}">')
        elif isinstance(item, tuple):
            mark = " selected" if str(item[0]) == chosen else ""
            out.append(
                f'<option value="{html.escape(str(item[0]))}"{mark}>{html.escape(str(item[1]))}</option>'
            )
        else:  # the label is the value
            mark = " selected" if str(item) == chosen else ""
            out.append(f"<option{mark}>{html.escape(str(item))}</option>")
    return mark_safe("".join(out))  # every value and label escaped above

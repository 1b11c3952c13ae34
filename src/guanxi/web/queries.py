"""Reads the workspace needs beyond the customers/core selectors. Every customer read starts from
``Customer.objects.visible_to(actor)`` (through ``customers.selectors``)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet

from guanxi.core.context import Actor
from guanxi.core.models import CustomFieldDefinition, Membership, Team
from guanxi.core.selectors import custom_field_list
from guanxi.customers.models import Contact, Customer, Tag
from guanxi.customers.selectors import CustomerFilters, customer_queryset, filter_customers
from guanxi.web import page_cache
from guanxi.web.models import SavedView, UserPreference

COUNT_CAP = 10_000  # beyond this the list says "10,000+" instead of counting every row


def capped_count(qs: QuerySet[Customer], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, exact): a COUNT over at most ``cap + 1`` ids, so it stays fast at a million rows."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return (cap, False) if n > cap else (n, True)


def _count_name(qs: QuerySet[Customer]) -> str:
    return f"count:{page_cache.query_key(qs.order_by().values('pk'))}"


def cached_capped_count(actor: Actor, qs: QuerySet[Customer]) -> tuple[int, bool]:
    """``capped_count`` remembered for a minute per organisation, visibility and filter (the SQL
    carries all three) and dropped on any change the organisation signals (``page_cache``): at a
    million rows a filtered capped count is the page's slowest query."""
    return page_cache.cached(actor.org, _count_name(qs), lambda: capped_count(qs), page_cache.COUNT_SECONDS)


def known_count(actor: Actor, qs: QuerySet[Customer]) -> tuple[int, bool] | None:
    """The ``cached_capped_count`` of ``qs`` if it is cached, without counting; else None."""
    found: tuple[int, bool] | None = page_cache.peek(actor.org, _count_name(qs))
    return found


def list_pickers(actor: Actor) -> dict[str, Any]:
    """What the list's owner, team and tag pickers offer, as plain values, cached per organisation
    until one of its memberships, users, teams or tags changes (``page_cache``)."""

    def compute() -> dict[str, Any]:
        return {
            "members": [
                (m.user.get_username(), str(m.user.get_full_name() or m.user.get_username()))
                for m in org_members(actor)
            ],
            "teams": [t.name for t in org_teams(actor)],
            "tags": [t.name for t in org_tags(actor)],
        }

    return page_cache.cached(actor.org, "pickers", compute, page_cache.PICKER_SECONDS)


def custom_field_defs(actor: Actor) -> list[CustomFieldDefinition]:
    """The organisation's customer custom-field definitions for the pages that show or filter by
    them (list, 360°), cached like the pickers; forms and services read them fresh."""
    return page_cache.cached(
        actor.org, "custom-fields", lambda: list(custom_field_list(actor=actor)), page_cache.PICKER_SECONDS
    )


def cached_saved_views(actor: Actor) -> list[SavedView]:
    return page_cache.cached(
        actor.org, f"views:{actor.user.pk}", lambda: saved_views(actor), page_cache.PICKER_SECONDS
    )


def org_members(actor: Actor) -> list[Membership]:
    return list(
        Membership.objects.select_related("user")
        .filter(organization_id=actor.org_id, is_active=True)
        .order_by("user__username")
    )


def org_teams(actor: Actor) -> list[Team]:
    return list(Team.objects.filter(organization_id=actor.org_id).order_by("name"))


def org_tags(actor: Actor) -> list[Tag]:
    return list(Tag.objects.filter(organization_id=actor.org_id).order_by("name"))


def distinct_values(actor: Actor) -> dict[str, list[str]]:
    """Industries, provinces and cities in use (for the filter pickers), cached for a few minutes."""
    key = f"gx:web:distinct:{actor.org_id}"
    data: dict[str, list[str]] | None = cache.get(key)
    if data is None:
        base = Customer.objects.filter(organization_id=actor.org_id, deleted_at__isnull=True)
        data = {
            name: sorted(
                v
                for v in base.exclude(**{name: ""})
                .order_by(name)
                .values_list(name, flat=True)
                .distinct()[:300]
                if v
            )
            for name in ("industry", "province", "city", "grade")
        }
        cache.set(key, data, 300)
    return data


def search_customers(actor: Actor, q: str, limit: int = 8) -> list[Customer]:
    if len(q.strip()) < 1:
        return []
    qs = filter_customers(customer_queryset(actor), actor, CustomerFilters(q=q.strip()))
    return list(qs.order_by("-id")[:limit])


def preference_of(user_id: int) -> UserPreference | None:
    return UserPreference.objects.filter(user_id=user_id).first()


def saved_views(actor: Actor) -> list[SavedView]:
    return list(
        SavedView.objects.filter(organization_id=actor.org_id)
        .filter(Q(user_id=actor.user.pk) | Q(shared=True))
        .select_related("user")
    )


def contacts_page(actor: Actor, *, q: str = "", after_id: int = 0, limit: int = 50) -> list[Contact]:
    visible = Customer.objects.visible_to(actor).values("pk")
    qs = Contact.objects.filter(organization_id=actor.org_id, customer_id__in=visible).select_related(
        "customer"
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(customer__name__icontains=q) | Q(title__icontains=q))
    if after_id:
        qs = qs.filter(pk__lt=after_id)
    return list(qs.order_by("-pk")[: limit + 1])


def customer_contacts(actor: Actor, customer: Customer, *, limit: int = 100) -> list[Contact]:
    """The contacts of a customer the caller already read through ``customer_get`` for ``actor``."""
    return list(
        Contact.objects.filter(organization_id=actor.org_id, customer_id=customer.pk).order_by("pk")[:limit]
    )


def deleted_by_names(customers: list[Customer]) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    ids = {c.deleted_by_id for c in customers if c.deleted_by_id}
    users: dict[Any, Any] = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return {c.pk: users.get(c.deleted_by_id, "") for c in customers}


FILTERABLE_CUSTOM = ("text", "choice", "bool")


def custom_filters(
    qs: QuerySet[Customer], defs: list[Any], params: Any
) -> tuple[QuerySet[Customer], dict[str, str]]:
    """Narrow by ``cf.<key>=value`` for text, choice and yes/no custom fields."""
    raw: dict[str, str] = {}
    for d in defs:
        if d.field_type not in FILTERABLE_CUSTOM:
            continue
        value = str(params.get(f"cf.{d.key}", "")).strip()[:100]
        if not value:
            continue
        raw[d.key] = value
        if d.field_type == "bool":
            qs = qs.filter(**{f"custom__{d.key}": value == "true"})
        else:
            qs = qs.filter(**{f"custom__{d.key}": value})
    return qs, raw

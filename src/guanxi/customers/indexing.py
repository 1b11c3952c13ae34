"""Keeps the search grams and the identifier table in step with customer rows."""

from __future__ import annotations

from collections.abc import Sequence

from guanxi.customers.models import Customer, CustomerIdentifier, SearchGram
from guanxi.customers.search import grams_of, search_text_for


def search_text_of(customer: Customer) -> str:
    return search_text_for(
        name=customer.name,
        company=customer.company,
        phones_e164=[p.get("e164", "") for p in customer.phones or []],
        phones_raw=[p.get("value", "") for p in customer.phones or []],
        emails=[e.get("value", "") for e in customer.emails or []],
        wechat=customer.wechat,
    )


def identifiers_of(customer: Customer) -> set[tuple[str, str]]:
    idents = {("phone", p["e164"]) for p in customer.phones or [] if p.get("e164")}
    idents |= {("email", e["value"]) for e in customer.emails or [] if e.get("value")}
    return idents


def reindex(customers: Sequence[Customer]) -> None:
    """Rewrite grams and identifiers of ``customers`` (whose ``search_text`` is already set)."""
    if not customers:
        return
    ids = [c.pk for c in customers]
    SearchGram.objects.filter(customer_id__in=ids).delete()
    CustomerIdentifier.objects.filter(customer_id__in=ids).delete()
    grams = [
        SearchGram(organization_id=c.organization_id, gram=g, customer_id=c.pk)
        for c in customers
        if c.deleted_at is None
        for g in grams_of(c.search_text)
    ]
    SearchGram.objects.bulk_create(grams, batch_size=2000)
    idents = [
        CustomerIdentifier(organization_id=c.organization_id, customer_id=c.pk, kind=k, value=v)
        for c in customers
        for k, v in identifiers_of(c)
    ]
    CustomerIdentifier.objects.bulk_create(idents, batch_size=2000)

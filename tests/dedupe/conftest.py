from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from guanxi.customers.models import Customer


def bulk_customers(org_id: int, records: Iterable[dict[str, Any]], owner_id: int | None = None) -> list[int]:
    """Insert plain customer rows in one bulk statement (tests of the scan do not need the services)."""
    objs = [
        Customer(
            organization_id=org_id,
            owner_id=owner_id,
            name=r.get("name", ""),
            address=r.get("address", ""),
            city=r.get("city", ""),
            province=r.get("province", ""),
            birthday=r.get("birthday"),
            custom=r.get("custom") or {},
            phone_e164=r.get("phone_e164", ""),
            email=r.get("email", ""),
        )
        for r in records
    ]
    created = Customer.objects.bulk_create(objs, batch_size=2000)
    if created and created[0].pk is None:  # backends that do not return ids
        return list(
            Customer.objects.filter(organization_id=org_id).order_by("id").values_list("id", flat=True)
        )
    return [c.pk for c in created]

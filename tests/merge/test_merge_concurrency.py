"""Two people merge the same pair at the same moment, each keeping a different record: one wins."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.errors import DomainError
from guanxi.customers.merge import customer_merge
from guanxi.customers.models import Contact, Customer, CustomerMerge
from tests.conftest import World
from tests.pool.test_pool_concurrency import db_for_threads, read_back, run_together  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_opposite_merges_of_one_pair_cannot_both_happen(
    world: World,
    make_customer: Any,
    db_for_threads: dict[str, Any] | None,  # noqa: F811
) -> None:
    a = make_customer("owner", name="甲")
    b = make_customer("owner", name="乙")
    Contact.objects.create(organization=world.org, customer=a, name="甲的联系人")
    Contact.objects.create(organization=world.org, customer=b, name="乙的联系人")
    versions = {a.pk: 1, b.pk: 1}

    def keep(survivor: int, merged: int, who: str) -> Any:
        return lambda: customer_merge(
            actor=world.actor(who), survivor_id=survivor, merged_id=merged, expected_versions=versions
        )

    results = run_together(db_for_threads, [keep(a.pk, b.pk, "admin"), keep(b.pk, a.pk, "manager")])
    winners = [r for r in results if isinstance(r, CustomerMerge)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1 and len(losers) == 1, results

    def state() -> tuple[int, int, set[int]]:
        alive = set(
            Customer.objects.filter(pk__in=[a.pk, b.pk], deleted_at__isnull=True).values_list("pk", flat=True)
        )
        owners = set(Contact.objects.values_list("customer_id", flat=True))
        return CustomerMerge.objects.count(), len(alive), owners

    merges, alive, contact_owners = read_back(db_for_threads, state)
    assert merges == 1 and alive == 1
    assert contact_owners == {winners[0].survivor_id}  # every contact is on the one record left

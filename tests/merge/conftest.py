"""Merge fixtures: two records of the same person, owned by ``owner`` (sales, East), with related rows.

``older`` (张伟, mobile, tag VIP, a contact, notes) was created first; ``newer`` (张 伟 with a second
phone, an email, tags VIP and 北京, a contact, an activity, a task, a share and a consent) was
updated last — so by default its non-empty values win where both differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.contacts import contact_create
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_share
from guanxi.engagement.models import Activity, Consent, Task
from tests.conftest import World


@dataclass
class Pair:
    older: Customer
    newer: Customer

    def versions(self) -> dict[int, int]:
        self.older.refresh_from_db()
        self.newer.refresh_from_db()
        return {self.older.pk: self.older.version, self.newer.pk: self.newer.version}


@pytest.fixture
def pair(world: World, make_customer: Any) -> Pair:
    older = make_customer(
        "owner",
        name="张伟",
        company="星河科技",
        phone="13812348000",
        tags=["VIP"],
        notes="老客户，喜欢电话联系",
        province="北京",
        city="北京",
        custom={},
    )
    newer = make_customer(
        "owner",
        name="张 伟",
        company="",
        phones=[{"label": "mobile", "value": "13812348000"}, {"label": "work", "value": "010-62345678"}],
        email="zw@example.com",
        tags=["VIP", "北京"],
        notes="从展会名单导入",
        title="采购经理",
    )
    owner = world.actor("owner")
    contact_create(actor=owner, customer_id=older.pk, data={"name": "王秘书", "phone": "13900001111"})
    contact_create(actor=owner, customer_id=newer.pk, data={"name": "李助理"})
    Activity.objects.create(
        organization=world.org,
        customer=newer,
        kind="call",
        subject="首次电话",
        occurred_at=timezone.now() - dt.timedelta(days=2),
        created_by=world.owner.user,
    )
    Task.objects.create(
        organization=world.org,
        title="回访",
        assignee=world.owner.user,
        customer=newer,
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    Consent.objects.create(
        organization=world.org,
        customer=newer,
        purpose="marketing",
        channel="email",
        granted=True,
        at=timezone.now(),
    )
    customer_share(actor=owner, customer_id=newer.pk, username="outsider")
    customer_share(actor=owner, customer_id=older.pk, username="outsider")
    # "newer" really is the most recently updated one.
    Customer.objects.filter(pk=older.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    older.refresh_from_db()
    newer.refresh_from_db()
    return Pair(older=older, newer=newer)

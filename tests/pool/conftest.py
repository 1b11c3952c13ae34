"""Pool fixtures: customers put in the pool through the services, fixed times, captured events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from guanxi.core.events import subscribe, unsubscribe
from guanxi.customers.models import Customer, PoolRule, PoolSettings
from guanxi.customers.pool import pool_release

T0 = dt.datetime(2027, 3, 1, 10, 0, tzinfo=dt.UTC)  # 18:00 in Asia/Shanghai


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def to_pool(world: Any, make_customer: Any) -> Any:
    """``to_pool(name=..., phone=...)``: a new customer, released into the pool by the admin."""

    def make(at: dt.datetime | None = None, **data: Any) -> Customer:
        data.setdefault("name", "王芳")
        data.setdefault("owner", None)
        customer = make_customer("admin", **data)
        pool_release(actor=world.actor("admin"), customer_id=customer.pk, reason="新线索", now=at)
        customer.refresh_from_db()
        return customer

    return make


@pytest.fixture
def pooled(to_pool: Any) -> Customer:
    return to_pool(
        name="王芳",
        company="上海晨光贸易有限公司",
        phone="139 0000 1234",
        email="wang.fang@chenguang.cn",
        wechat="wangfang_sh",
        address="南京西路 1266 号",
        notes="老板电话 13911112222",
        grade="A",
    )


@pytest.fixture
def limits(world: Any) -> Any:
    """``limits(max_owned=…, daily_claim_limit=…, reclaim_block_days=…)`` for acme."""

    def set_limits(**values: Any) -> PoolSettings:
        cfg, _ = PoolSettings.objects.update_or_create(organization=world.org, defaults=values)
        return cfg

    return set_limits


@pytest.fixture
def rule(world: Any) -> Any:
    def make(grade: str = "", **values: Any) -> PoolRule:
        return PoolRule.objects.create(organization=world.org, grade=grade, **values)

    return make


@pytest.fixture
def events() -> Any:
    """Every domain event dispatched during the test, as ``(name, payload)``."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(name: str, payload: dict[str, Any]) -> None:
        seen.append((name, payload))

    subscribe("*", handler)
    yield seen
    unsubscribe("*", handler)

"""The per-rep cap on owned customers, the daily claim limit, and no claiming back within D days."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.customers.pool import PoolRefused, pool_assign, pool_claim, pool_quota, pool_release
from tests.pool.conftest import T0, days


def _claim(world, who, customer, now):
    return pool_claim(actor=world.actor(who), customer_id=customer.pk, now=now)


def _refusal(world, who, customer, now):
    with pytest.raises(PoolRefused) as exc:
        _claim(world, who, customer, now)
    return exc.value


def test_cap_on_owned_customers(world, make_customer, to_pool, limits):
    limits(max_owned=2)
    make_customer("owner", name="已有客户")
    a, b = to_pool(name="甲"), to_pool(name="乙")
    _claim(world, "owner", a, T0)
    refused = _refusal(world, "owner", b, T0)
    assert refused.code == "cap_reached" and refused.extra == {"owned": 2, "max_owned": 2}
    assert refused.detail
    # Over the API: 409 problem+json with the code.
    r = world.api("owner").post(f"/pool/{b.pk}/claim")
    assert r.status_code == 409 and r.json()["code"] == "cap_reached" and r.json()["max_owned"] == 2
    # Another rep is not affected; releasing one makes room.
    pool_release(actor=world.actor("owner"), customer_id=a.pk, reason="预算不足", now=T0 + days(1))
    _claim(world, "owner", b, T0 + days(1))
    assert Customer.objects.get(pk=b.pk).owner_id == world.owner.user_id


def test_deleted_customers_do_not_count_towards_the_cap(world, make_customer, to_pool, limits):
    limits(max_owned=1)
    gone = make_customer("owner", name="已删除")
    Customer.objects.filter(pk=gone.pk).update(deleted_at=T0)
    _claim(world, "owner", to_pool(), T0)


def test_daily_claim_limit_counts_the_organisations_calendar_day(world, to_pool, limits):
    limits(daily_claim_limit=2)
    a, b, c, d = (to_pool(name=n) for n in "甲乙丙丁")
    _claim(world, "owner", a, T0)  # 18:00 in Shanghai
    _claim(world, "owner", b, T0 + days(5 / 24))  # 23:00
    refused = _refusal(world, "owner", c, T0 + days(5.5 / 24))  # 23:30, same day in Shanghai
    assert refused.code == "daily_limit" and refused.extra["claimed_today"] == 2
    _claim(world, "teammate", c, T0 + days(5.5 / 24))  # the limit is per rep
    _claim(world, "owner", d, T0 + days(6 / 24) + days(1 / 1440))  # 00:01 the next day in Shanghai


def test_releasing_does_not_give_back_a_claim_of_the_day(world, to_pool, limits):
    limits(daily_claim_limit=1, reclaim_block_days=0)
    a, b = to_pool(name="甲"), to_pool(name="乙")
    _claim(world, "owner", a, T0)
    pool_release(actor=world.actor("owner"), customer_id=a.pk, reason="不合适", now=T0 + days(0.01))
    assert _refusal(world, "owner", b, T0 + days(0.02)).code == "daily_limit"


def test_a_rep_cannot_claim_back_a_customer_they_lost_within_d_days(world, pooled, limits):
    limits(reclaim_block_days=15)
    _claim(world, "owner", pooled, T0)
    pool_release(actor=world.actor("owner"), customer_id=pooled.pk, reason="暂无需求", now=T0 + days(1))
    refused = _refusal(world, "owner", pooled, T0 + days(10))
    assert refused.code == "recently_lost"
    assert refused.extra["claimable_after"] == (T0 + days(16)).isoformat()
    assert _refusal(world, "owner", pooled, T0 + days(16) - days(0.001)).code == "recently_lost"
    _claim(world, "owner", pooled, T0 + days(16))


def test_api_says_when_a_lost_customer_can_be_claimed_again(world, pooled):
    rep = world.api("owner")
    assert rep.post(f"/pool/{pooled.pk}/claim").status_code == 200
    assert rep.post(f"/customers/{pooled.pk}/release", {"reason": "暂无需求"}).status_code == 200
    r = rep.post(f"/pool/{pooled.pk}/claim")
    assert r.status_code == 409 and r.json()["code"] == "recently_lost"
    after = dt.datetime.fromisoformat(r.json()["claimable_after"])
    assert dt.timedelta(days=29.9) < after - timezone.now() <= dt.timedelta(days=30)
    assert rep.get("/pool").json()["items"][0]["claimable_after"] == r.json()["claimable_after"]
    assert world.api("teammate").get("/pool").json()["items"][0]["claimable_after"] is None
    assert world.api("teammate").post(f"/pool/{pooled.pk}/claim").status_code == 200


def test_the_block_is_per_rep_and_can_be_turned_off(world, pooled, limits):
    limits(reclaim_block_days=30)
    _claim(world, "owner", pooled, T0)
    pool_release(actor=world.actor("owner"), customer_id=pooled.pk, reason="暂无需求", now=T0 + days(1))
    _claim(world, "teammate", pooled, T0 + days(2))
    pool_release(actor=world.actor("teammate"), customer_id=pooled.pk, reason="联系不上", now=T0 + days(3))
    assert _refusal(world, "owner", pooled, T0 + days(4)).code == "recently_lost"
    limits(reclaim_block_days=0)
    _claim(world, "owner", pooled, T0 + days(4))


def test_assignment_respects_the_cap_but_not_the_claim_rules(world, to_pool, limits):
    """A manager's decision is not a rep's claim: no daily limit, no D-day block; the cap holds."""
    limits(max_owned=2, daily_claim_limit=1, reclaim_block_days=30)
    a, b, c = to_pool(name="甲"), to_pool(name="乙"), to_pool(name="丙")
    _claim(world, "owner", a, T0)
    pool_release(actor=world.actor("owner"), customer_id=a.pk, reason="暂无需求", now=T0 + days(0.1))
    pool_assign(actor=world.actor("manager"), customer_id=a.pk, username="owner", now=T0 + days(0.2))
    pool_assign(actor=world.actor("manager"), customer_id=b.pk, username="owner", now=T0 + days(0.3))
    with pytest.raises(PoolRefused) as exc:
        pool_assign(actor=world.actor("manager"), customer_id=c.pk, username="owner", now=T0 + days(0.4))
    assert exc.value.code == "cap_reached" and exc.value.extra["owned"] == 2


def test_quota_endpoint(world, make_customer, to_pool, limits):
    limits(max_owned=50, daily_claim_limit=5)
    make_customer("owner")
    world.api("owner").post(f"/pool/{to_pool().pk}/claim")
    body = world.api("owner").get("/pool/quota").json()
    assert body == {
        "owned": 2,
        "max_owned": 50,
        "claimed_today": 1,
        "daily_claim_limit": 5,
        "reclaim_block_days": 30,
    }
    assert world.api("marketing").get("/pool/quota").status_code == 403
    assert pool_quota(actor=world.actor("teammate"))["owned"] == 0

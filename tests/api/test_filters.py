"""List filters: owner, team, tag, industry, province, lifecycle_stage, value_tier, date ranges."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer


@pytest.fixture
def rows(world, make_customer):
    a = make_customer("owner", name="A", industry="软件", province="北京", lifecycle_stage="active",
                      value_tier="high", tags=["VIP"], grade="A")  # fmt: skip
    b = make_customer(
        "outsider", name="B", industry="制造", province="上海", lifecycle_stage="lead", value_tier="low"
    )
    c = make_customer("admin", name="C", industry="软件", province="上海", owner="", tags=["VIP", "新"])
    old = timezone.now() - dt.timedelta(days=30)
    Customer.objects.filter(pk=b.pk).update(created_at=old, updated_at=old)
    return {"a": a.pk, "b": b.pk, "c": c.pk}


def _ids(world, **params):
    r = world.api("admin").get("/customers", params)
    assert r.status_code == 200, r.json()
    return {c["id"] for c in r.json()["items"]}


def test_owner_filter(world, rows):
    assert _ids(world, owner="owner") == {rows["a"]}
    assert _ids(world, owner="-") == {rows["c"]}
    assert _ids(world, owner="nobody") == set()


def test_team_tag_industry_province(world, rows):
    assert _ids(world, team="East") == {rows["a"]}
    assert _ids(world, team="West") == {rows["b"]}
    assert _ids(world, tag="VIP") == {rows["a"], rows["c"]}
    assert _ids(world, tag="新") == {rows["c"]}
    assert _ids(world, industry="软件") == {rows["a"], rows["c"]}
    assert _ids(world, province="上海") == {rows["b"], rows["c"]}
    assert _ids(world, industry="软件", province="上海") == {rows["c"]}


def test_classification_filters(world, rows):
    assert _ids(world, lifecycle_stage="active") == {rows["a"]}
    assert _ids(world, lifecycle_stage="potential") == {rows["c"]}
    assert _ids(world, value_tier="low") == {rows["b"]}
    assert _ids(world, grade="A") == {rows["a"]}


def test_date_ranges(world, rows):
    cut = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert _ids(world, created_after=cut) == {rows["a"], rows["c"]}
    assert _ids(world, created_before=cut) == {rows["b"]}
    assert _ids(world, updated_after=cut) == {rows["a"], rows["c"]}
    assert _ids(world, updated_before=cut) == {rows["b"]}


def test_bad_date_is_422(world, rows):
    r = world.api("admin").get("/customers", {"created_after": "yesterday"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "created_after"


def test_filters_never_widen_visibility(world, rows):
    r = world.api("owner").get("/customers", {"owner": "outsider"})
    assert r.json()["items"] == []
    r = world.api("owner").get("/customers", {"team": "West"})
    assert r.json()["items"] == []


def test_tag_filter_does_not_repeat_rows(world, rows):
    items = world.api("admin").get("/customers", {"tag": "VIP"}).json()["items"]
    assert len(items) == len({c["id"] for c in items})

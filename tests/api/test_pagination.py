"""Keyset pagination: every row exactly once across pages, for every sort; bad cursors and limits."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer

NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "Alice",
    "bob",
    "张伟",
    "王芳",
    "赵敏",
    "孙丽",
    "周杰",
    "吴昊",
]


@pytest.fixture
def many(world, make_customer):
    ids = [make_customer("owner", name=n).pk for n in NAMES]
    # spread timestamps, with ties, so the (value, id) tiebreak matters
    base = timezone.now() - dt.timedelta(days=10)
    for i, pk in enumerate(ids):
        Customer.objects.filter(pk=pk).update(
            created_at=base + dt.timedelta(hours=i // 3), updated_at=base + dt.timedelta(hours=(i * 7) % 5)
        )
    return ids


def _walk(api, sort, limit=4, **params):
    seen, cursor, pages = [], "", 0
    while True:
        r = api.get("/customers", {"sort": sort, "limit": limit, "cursor": cursor, **params})
        assert r.status_code == 200, r.json()
        body = r.json()
        assert len(body["items"]) <= limit
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            return seen, pages
        assert pages < 50


@pytest.mark.parametrize(
    "sort", ["id", "-id", "created_at", "-created_at", "updated_at", "-updated_at", "name", "-name"]
)
def test_each_sort_returns_every_row_once_in_order(world, many, sort):
    api = world.api("admin")
    seen, pages = _walk(api, sort)
    assert sorted(seen) == sorted(many)
    assert len(seen) == len(set(seen))
    assert pages == 4
    field = sort.lstrip("-")
    # the database's own order (its collation decides how 张 and Alice compare), id as tiebreak
    order = [sort, "-pk" if sort.startswith("-") else "pk"]
    assert seen == list(Customer.objects.order_by(*order).values_list("pk", flat=True))
    if field != "name":
        rows = {c.pk: c for c in Customer.objects.all()}
        keys = [(getattr(rows[pk], field), pk) for pk in seen]
        assert keys == sorted(keys, reverse=sort.startswith("-"))


def test_default_sort_is_newest_first(world, many):
    items = world.api("admin").get("/customers").json()["items"]
    assert [c["id"] for c in items] == sorted(many, reverse=True)


def test_pagination_with_filter_and_search(world, many):
    seen, _ = _walk(world.api("admin"), "name", limit=1, q="张伟")
    assert len(seen) == 2


def test_inserts_between_pages_do_not_repeat_rows(world, many, make_customer):
    api = world.api("admin")
    first = api.get("/customers", {"sort": "-id", "limit": 5}).json()
    make_customer("owner", name="新来的")
    second = api.get("/customers", {"sort": "-id", "limit": 5, "cursor": first["next_cursor"]}).json()
    assert not {c["id"] for c in first["items"]} & {c["id"] for c in second["items"]}


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "W10", "WyJ4Il0", "eyJhIjoxfQ", "WyJ4IiwgIngiXQ"])
def test_bad_cursor_is_422(world, many, cursor):
    for sort in ("id", "created_at", "name"):
        r = world.api("admin").get("/customers", {"cursor": cursor, "sort": sort})
        assert r.status_code == 422, (cursor, sort, r.content)
        assert r["Content-Type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "cursor"


def test_cursor_of_another_sort_is_422_not_500(world, many):
    api = world.api("admin")
    cursor = api.get("/customers", {"sort": "name", "limit": 2}).json()["next_cursor"]
    for sort in ("created_at", "id"):
        assert api.get("/customers", {"sort": sort, "cursor": cursor}).status_code == 422


@pytest.mark.parametrize("limit", [0, 201, -1, "x"])
def test_bad_limit_is_422(world, limit):
    r = world.api("admin").get("/customers", {"limit": limit})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "limit"


def test_bad_sort_is_422(world):
    r = world.api("admin").get("/customers", {"sort": "phone"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "sort"


def test_limit_200_is_allowed(world, many):
    assert world.api("admin").get("/customers", {"limit": 200}).status_code == 200

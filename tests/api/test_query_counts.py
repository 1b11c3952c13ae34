"""The list endpoint runs a fixed number of queries whatever the page size (no N+1)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def _count(api, params):
    with CaptureQueriesContext(connection) as ctx:
        r = api.get("/customers", params)
    assert r.status_code == 200
    return len(ctx.captured_queries), len(r.json()["items"])


def test_list_queries_do_not_grow_with_page_size(world, make_customer):
    for i in range(60):
        make_customer("owner", name=f"客户{i}", tags=["VIP", f"t{i % 3}"], phone=f"139{i:08d}")
    for who in ("admin", "owner", "manager", "readonly"):
        api = world.api(who)
        api.get("/me")  # the token's first use records last_used_at once
        small, n_small = _count(api, {"limit": 10})
        large, n_large = _count(api, {"limit": 50})
        assert (n_small, n_large) == (10, 50)
        assert small == large, who
        assert large <= 5, who
        searched, _ = _count(api, {"limit": 50, "q": "客户"})
        assert searched == large


def test_detail_query_count_is_small(world, customer, django_assert_max_num_queries):
    api = world.api("owner")
    api.get("/me")
    with django_assert_max_num_queries(5):
        assert api.get(f"/customers/{customer.pk}").status_code == 200

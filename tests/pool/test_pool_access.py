"""Who sees the pool, and what: reps see it masked until they claim; managers and admins in full."""

import pytest

from guanxi.customers.pool import PoolFilters, pool_list


def _ids(response):
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["items"]]


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "manager", "admin"])
def test_sales_managers_and_admins_see_the_whole_pool(world, pooled, who):
    """Reps too, although their normal scope is their own customers."""
    assert _ids(world.api(who).get("/pool")) == [pooled.pk]
    assert world.api(who).get(f"/pool/{pooled.pk}").status_code == 200


@pytest.mark.parametrize("who", ["marketing", "service", "readonly"])
def test_other_roles_do_not_work_the_pool(world, pooled, who):
    api = world.api(who)
    for response in (api.get("/pool"), api.get(f"/pool/{pooled.pk}"), api.post(f"/pool/{pooled.pk}/claim")):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"


def test_other_organisation_sees_its_own_pool_only(world, pooled):
    api = world.api("other_admin")
    assert _ids(api.get("/pool")) == []
    assert api.get(f"/pool/{pooled.pk}").status_code == 404
    assert api.post(f"/pool/{pooled.pk}/claim").status_code == 404
    assert world.api("other_sales").post(f"/pool/{pooled.pk}/claim").status_code == 404


def test_pool_customers_are_not_in_a_reps_normal_list(world, pooled):
    assert pooled.pk not in _ids(world.api("owner").get("/customers"))
    assert world.api("owner").get(f"/customers/{pooled.pk}").status_code == 404


def test_inactive_member_cannot_see_the_pool(world, pooled):
    world.teammate.is_active = False
    world.teammate.save()
    assert world.session("teammate").get("/pool").status_code in (401, 403)


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider"])
def test_reps_see_contact_details_masked_until_they_claim(world, pooled, who):
    item = world.api(who).get("/pool").json()["items"][0]
    assert item["details_masked"] is True
    assert item["phone"] == "139****1234"
    assert item["email"] == "w***@chenguang.cn"
    assert item["wechat"] == "w***"
    for hidden in ("phones", "emails", "phone_e164", "address", "notes", "custom"):
        assert hidden not in item, hidden
    assert item["release_note"] == ""
    assert (item["name"], item["company"], item["grade"]) == ("王芳", "上海晨光贸易有限公司", "A")
    detail = world.api(who).get(f"/pool/{pooled.pk}").json()
    assert detail["phone"] == "139****1234" and "notes" not in detail
    # Once claimed, the rep sees everything.
    claimed = world.api(who).post(f"/pool/{pooled.pk}/claim").json()
    assert claimed["phone"] == "139 0000 1234"
    assert claimed["notes"] == "老板电话 13911112222"


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_managers_and_admins_see_the_pool_in_full(world, pooled, who):
    item = world.api(who).get("/pool").json()["items"][0]
    assert item["details_masked"] is False
    assert item["phone"] == "139 0000 1234"
    assert item["address"] == "南京西路 1266 号"
    assert item["release_note"] == "新线索"
    assert item["pool_reason"] == "release"


def test_a_rep_cannot_search_the_pool_by_phone(world, pooled):
    """A phone search would tell a rep whether a masked number is the one they typed."""
    rep = world.api("teammate")
    assert _ids(rep.get("/pool", {"q": "13900001234"})) == []
    assert _ids(rep.get("/pool", {"q": "1234"})) == []
    assert _ids(rep.get("/pool", {"q": "wang.fang"})) == []
    assert _ids(rep.get("/pool", {"q": "王芳"})) == [pooled.pk]
    assert _ids(rep.get("/pool", {"q": "晨光"})) == [pooled.pk]
    assert _ids(world.api("manager").get("/pool", {"q": "13900001234"})) == [pooled.pk]


def test_filters_and_keyset_pagination(world, to_pool):
    made = [to_pool(name=f"客户{i}", grade="A" if i % 2 else "B", province="广东") for i in range(7)]
    api = world.api("owner")
    seen, cursor = [], ""
    while True:
        body = api.get("/pool", {"limit": 3, "cursor": cursor}).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted((c.pk for c in made), reverse=True)
    assert set(_ids(api.get("/pool", {"grade": "A"}))) == {c.pk for c in made if c.grade == "A"}
    assert _ids(api.get("/pool", {"province": "北京"})) == []
    assert _ids(api.get("/pool", {"sort": "name", "limit": 2})) == [made[0].pk, made[1].pk]
    assert api.get("/pool", {"cursor": "garbage"}).status_code == 422


def test_list_query_count_does_not_grow_with_the_page(world, to_pool, django_assert_max_num_queries):
    for i in range(20):
        to_pool(name=f"客户{i}")
    actor = world.actor("owner")
    with django_assert_max_num_queries(8):
        page = pool_list(actor=actor, filters=PoolFilters(), limit=20)
        assert len(page.items) == 20


def test_read_only_token_lists_but_cannot_claim(world, pooled):
    api = world.api("owner", scopes=["read"])
    assert _ids(api.get("/pool")) == [pooled.pk]
    assert api.post(f"/pool/{pooled.pk}/claim").status_code == 403


def test_openapi_lists_the_pool_endpoints(db):
    from django.test import Client

    paths = set(Client().get("/api/v1/openapi.json").json()["paths"])
    for path in [
        "/api/v1/pool",
        "/api/v1/pool/quota",
        "/api/v1/pool/settings",
        "/api/v1/pool/{customer_id}",
        "/api/v1/pool/{customer_id}/claim",
        "/api/v1/pool/{customer_id}/assign",
        "/api/v1/customers/{customer_id}/release",
        "/api/v1/customers/{customer_id}/assignments",
    ]:
        assert path in paths, path

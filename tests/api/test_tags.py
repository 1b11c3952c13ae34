"""Tags: created by name on customers or managed directly (admin, manager, marketing)."""

import pytest

from guanxi.customers.models import Tag


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 201), ("manager", 201), ("marketing", 201), ("owner", 403)]
)
def test_who_may_create_tags(world, who, status):
    assert world.api(who).post("/tags", {"name": "VIP"}).status_code == status


def test_tag_crud(world, customer):
    api = world.api("admin")
    tag = api.post("/tags", {"name": " ＶＩＰ ", "color": "#ff0000"}).json()
    assert tag["name"] == "VIP"
    assert api.post("/tags", {"name": "VIP"}).status_code == 422
    assert api.post("/tags", {"name": "x", "color": "red"}).status_code == 422
    world.api("owner").patch(f"/customers/{customer.pk}", {"tags": ["VIP"]}, headers={"If-Match": '"1"'})
    r = api.patch(f"/tags/{tag['id']}", {"name": "贵宾"})
    assert r.status_code == 200
    assert world.api("owner").get(f"/customers/{customer.pk}").json()["tags"] == ["贵宾"]
    assert api.delete(f"/tags/{tag['id']}").status_code == 204
    assert world.api("owner").get(f"/customers/{customer.pk}").json()["tags"] == []


def test_rename_onto_existing_name_is_422(world):
    api = world.api("admin")
    api.post("/tags", {"name": "A"})
    b = api.post("/tags", {"name": "B"}).json()
    assert api.patch(f"/tags/{b['id']}", {"name": "A"}).status_code == 422


def test_tags_are_per_organisation(world):
    tag = world.api("admin").post("/tags", {"name": "VIP"}).json()
    other = world.api("other_admin")
    assert other.get("/tags").json() == []
    assert other.patch(f"/tags/{tag['id']}", {"name": "x"}).status_code == 404
    assert other.delete(f"/tags/{tag['id']}").status_code == 404
    assert other.post("/tags", {"name": "VIP"}).status_code == 201
    assert Tag.objects.filter(name="VIP").count() == 2

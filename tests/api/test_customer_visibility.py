"""Who sees which customer through every customer endpoint (owner / teammate / outsider / other org)."""

import pytest

from guanxi.customers.models import Contact, Customer

VISIBLE_TO_ALL_OF_ACME = ["owner", "manager", "admin", "marketing", "service", "readonly"]
INVISIBLE = ["teammate", "outsider", "other_admin", "other_sales"]


@pytest.mark.parametrize("who", VISIBLE_TO_ALL_OF_ACME)
def test_visible_roles_read_the_customer(world, customer, who):
    api = world.api(who)
    assert api.get(f"/customers/{customer.pk}").status_code == 200
    ids = [c["id"] for c in api.get("/customers").json()["items"]]
    assert customer.pk in ids


@pytest.mark.parametrize("who", INVISIBLE)
def test_invisible_roles_get_404_and_empty_lists(world, customer, who):
    api = world.api(who)
    r = api.get(f"/customers/{customer.pk}")
    assert r.status_code == 404
    assert r["Content-Type"] == "application/problem+json"
    assert "张伟" not in r.content.decode()
    assert customer.pk not in [c["id"] for c in api.get("/customers").json()["items"]]
    assert api.get("/customers", {"q": "张伟"}).json()["items"] == []
    assert api.get("/customers", {"q": "8000"}).json()["items"] == []


@pytest.mark.parametrize("who", INVISIBLE)
def test_invisible_id_based_endpoints_answer_404(world, customer, who):
    api = world.api(who)
    pk = customer.pk
    assert api.patch(f"/customers/{pk}", {"name": "x"}, headers={"If-Match": '"1"'}).status_code == 404
    assert api.patch(f"/customers/{pk}", {"name": "x"}).status_code == 404  # 404 before 428
    assert api.get(f"/customers/{pk}/history").status_code == 404
    assert api.post(f"/customers/{pk}/shares", {"username": who}).status_code == 404
    assert api.get("/contacts", {"customer_id": pk}).status_code == 404
    assert api.post("/contacts", {"customer_id": pk, "name": "王经理"}).status_code == 404
    customer.refresh_from_db()
    assert customer.name == "张伟" and customer.version == 1
    assert not Contact.objects.filter(customer=customer).exists()


def test_other_org_admin_gets_404_on_delete_restore_purge(world, customer):
    api = world.api("other_admin")
    pk = customer.pk
    assert api.delete(f"/customers/{pk}").status_code == 404
    assert Customer.objects.get(pk=pk).deleted_at is None
    world.api("admin").delete(f"/customers/{pk}")
    assert api.post(f"/customers/{pk}/restore").status_code == 404
    assert api.delete(f"/customers/{pk}/purge").status_code == 404
    assert Customer.objects.get(pk=pk).deleted_at is not None
    assert api.get("/customers/deleted").json()["items"] == []


def test_other_org_contact_ids_answer_404(world, customer):
    contact = world.api("owner").post("/contacts", {"customer_id": customer.pk, "name": "王经理"}).json()
    api = world.api("other_admin")
    assert api.get(f"/contacts/{contact['id']}").status_code == 404
    assert api.patch(f"/contacts/{contact['id']}", {"name": "x", "version": 1}).status_code == 404
    assert api.delete(f"/contacts/{contact['id']}").status_code == 404
    assert api.get("/contacts").json()["items"] == []
    assert Contact.objects.filter(pk=contact["id"]).exists()


def test_sales_rep_sees_only_own_customers(world, customer, make_customer):
    mine = make_customer("teammate", name="赵六")
    ids = [c["id"] for c in world.api("teammate").get("/customers").json()["items"]]
    assert ids == [mine.pk]


def test_manager_sees_team_not_other_team(world, customer, make_customer):
    west = make_customer("outsider", name="West customer")
    api = world.api("manager")
    ids = {c["id"] for c in api.get("/customers").json()["items"]}
    assert customer.pk in ids
    assert west.pk not in ids
    assert api.get(f"/customers/{west.pk}").status_code == 404
    r = api.patch(f"/customers/{customer.pk}", {"grade": "A"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200


@pytest.mark.parametrize("who", ["admin", "marketing", "service", "readonly"])
def test_org_wide_roles_see_every_team(world, customer, make_customer, who):
    west = make_customer("outsider", name="West customer")
    ids = {c["id"] for c in world.api(who).get("/customers").json()["items"]}
    assert {customer.pk, west.pk} <= ids


def test_readonly_cannot_write(world, customer):
    api = world.api("readonly")
    assert api.post("/customers", {"name": "新客户"}).status_code == 403
    assert (
        api.patch(f"/customers/{customer.pk}", {"name": "x"}, headers={"If-Match": '"1"'}).status_code == 403
    )
    assert api.delete(f"/customers/{customer.pk}").status_code == 403
    assert api.post("/customers/bulk", {"items": [{"name": "a"}]}).status_code == 403
    assert api.post("/contacts", {"customer_id": customer.pk, "name": "x"}).status_code == 403
    assert api.post(f"/customers/{customer.pk}/shares", {"username": "teammate"}).status_code == 403
    r = api.post("/tags", {"name": "VIP"})
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert customer.name == "张伟"


def test_sales_cannot_delete_or_purge(world, customer):
    api = world.api("owner")
    assert api.delete(f"/customers/{customer.pk}").status_code == 403
    assert Customer.objects.get(pk=customer.pk).deleted_at is None


def test_explicit_share_makes_customer_visible_to_teammate(world, customer):
    teammate = world.api("teammate")
    assert teammate.get(f"/customers/{customer.pk}").status_code == 404
    r = world.api("owner").post(f"/customers/{customer.pk}/shares", {"username": "teammate"})
    assert r.status_code == 204
    assert teammate.get(f"/customers/{customer.pk}").status_code == 200
    assert customer.pk in [c["id"] for c in teammate.get("/customers").json()["items"]]
    assert teammate.get("/customers", {"q": "张伟"}).json()["items"][0]["id"] == customer.pk
    # still invisible to the outsider
    assert world.api("outsider").get(f"/customers/{customer.pk}").status_code == 404


def test_share_with_user_of_other_org_is_refused(world, customer):
    r = world.api("owner").post(f"/customers/{customer.pk}/shares", {"username": "other_admin"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "username"


def test_sales_rep_cannot_assign_to_someone_else(world, customer):
    r = world.api("owner").patch(
        f"/customers/{customer.pk}", {"owner": "teammate"}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "owner"
    r = world.api("owner").post("/customers", {"name": "新客户", "owner": "teammate"})
    assert r.status_code == 422


def test_manager_assigns_customer_and_new_owner_sees_it(world, customer):
    r = world.api("manager").patch(
        f"/customers/{customer.pk}", {"owner": "teammate"}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200, r.json()
    assert r.json()["owner"] == "teammate"
    assert world.api("teammate").get(f"/customers/{customer.pk}").status_code == 200
    assert world.api("owner").get(f"/customers/{customer.pk}").status_code == 404


def test_owner_of_other_org_cannot_be_assigned(world, customer):
    r = world.api("admin").patch(
        f"/customers/{customer.pk}", {"owner": "other_admin"}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 422

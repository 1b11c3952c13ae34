"""Idempotency-Key on POST: a retry replays the first answer and writes nothing new."""

from guanxi.core.models import IdempotencyRecord
from guanxi.customers.models import Contact, Customer


def test_replay_returns_same_customer(world):
    api = world.api("owner")
    key = {"Idempotency-Key": "abc-123"}
    first = api.post("/customers", {"name": "王芳", "phone": "13900002222"}, headers=key)
    assert first.status_code == 201
    again = api.post("/customers", {"name": "王芳", "phone": "13900002222"}, headers=key)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1


def test_same_key_different_body_is_422(world):
    api = world.api("owner")
    key = {"Idempotency-Key": "abc-123"}
    api.post("/customers", {"name": "王芳"}, headers=key)
    r = api.post("/customers", {"name": "李雷"}, headers=key)
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert list(Customer.objects.values_list("name", flat=True)) == ["王芳"]


def test_keys_are_per_user(world):
    key = {"Idempotency-Key": "shared-key"}
    a = world.api("owner").post("/customers", {"name": "王芳"}, headers=key)
    b = world.api("teammate").post("/customers", {"name": "王芳"}, headers=key)
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b


def test_failed_request_is_not_stored(world):
    api = world.api("owner")
    key = {"Idempotency-Key": "k1"}
    assert api.post("/customers", {"name": "x", "phone": "123"}, headers=key).status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert api.post("/customers", {"name": "x", "phone": "13900002222"}, headers=key).status_code == 201


def test_over_long_key_is_400(world):
    r = world.api("owner").post("/customers", {"name": "x"}, headers={"Idempotency-Key": "k" * 300})
    assert r.status_code == 400
    assert not Customer.objects.exists()


def test_bulk_and_contacts_are_idempotent(world, customer):
    api = world.api("owner")
    key = {"Idempotency-Key": "bulk-1"}
    body = {"mode": "create", "items": [{"name": "A"}, {"name": "B"}]}
    first = api.post("/customers/bulk", body, headers=key)
    again = api.post("/customers/bulk", body, headers=key)
    assert again.json() == first.json()
    assert Customer.objects.count() == 3
    key = {"Idempotency-Key": "contact-1"}
    c1 = api.post("/contacts", {"customer_id": customer.pk, "name": "王经理"}, headers=key)
    c2 = api.post("/contacts", {"customer_id": customer.pk, "name": "王经理"}, headers=key)
    assert c1.json()["id"] == c2.json()["id"]
    assert Contact.objects.count() == 1

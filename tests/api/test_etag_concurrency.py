"""ETag on GET, If-Match on PATCH: 412 when stale, 428 when missing, 304 on If-None-Match."""

import threading

import pytest
from django.db import connection

from guanxi.core.errors import VersionConflict
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_update


def test_get_has_etag_and_if_none_match_gives_304(world, customer):
    api = world.api("owner")
    r = api.get(f"/customers/{customer.pk}")
    assert r["ETag"] == '"1"'
    r = api.get(f"/customers/{customer.pk}", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304
    assert r.content == b""
    assert api.get(f"/customers/{customer.pk}", headers={"If-None-Match": '"7"'}).status_code == 200


def test_stale_if_match_is_412_with_current_version(world, customer):
    api = world.api("owner")
    assert (
        api.patch(f"/customers/{customer.pk}", {"title": "a"}, headers={"If-Match": '"1"'}).status_code == 200
    )
    r = api.patch(f"/customers/{customer.pk}", {"title": "b"}, headers={"If-Match": '"1"'})
    assert r.status_code == 412
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["current_version"] == 2
    assert r.json()["changed_by"] == "owner"
    customer.refresh_from_db()
    assert customer.title == "a"


def test_body_version_works_like_if_match(world, customer):
    api = world.api("owner")
    assert api.patch(f"/customers/{customer.pk}", {"title": "a", "version": 1}).status_code == 200
    assert api.patch(f"/customers/{customer.pk}", {"title": "b", "version": 1}).status_code == 412


def test_missing_precondition_is_428(world, customer):
    r = world.api("owner").patch(f"/customers/{customer.pk}", {"title": "a"})
    assert r.status_code == 428
    assert r.json()["errors"][0]["field"] == "If-Match"
    customer.refresh_from_db()
    assert customer.title == ""


def test_weak_etag_and_garbage_if_match(world, customer):
    api = world.api("owner")
    assert (
        api.patch(f"/customers/{customer.pk}", {"title": "a"}, headers={"If-Match": 'W/"1"'}).status_code
        == 200
    )
    assert (
        api.patch(f"/customers/{customer.pk}", {"title": "b"}, headers={"If-Match": "abc"}).status_code == 422
    )


def test_stale_delete_is_412(world, customer):
    api = world.api("admin")
    api.patch(f"/customers/{customer.pk}", {"title": "a"}, headers={"If-Match": '"1"'})
    assert api.delete(f"/customers/{customer.pk}", headers={"If-Match": '"1"'}).status_code == 412
    assert api.delete(f"/customers/{customer.pk}", headers={"If-Match": '"2"'}).status_code == 204


def test_two_updates_with_same_version_only_one_wins(world, customer):
    """Sequentially through the service: the second caller read version 1 too."""
    customer_update(
        actor=world.actor("owner"), customer_id=customer.pk, data={"title": "A"}, expected_version=1
    )
    with pytest.raises(VersionConflict):
        customer_update(
            actor=world.actor("manager"), customer_id=customer.pk, data={"title": "B"}, expected_version=1
        )
    customer.refresh_from_db()
    assert (customer.title, customer.version) == ("A", 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_exactly_one_wins(world, customer):
    """Two threads, two connections, the same expected version: one 200, one conflict."""
    if (
        connection.vendor == "sqlite" and connection.settings_dict["NAME"] in ("", ":memory:")
    ) or "mode=memory" in str(connection.settings_dict["NAME"]):
        pytest.skip("in-memory SQLite cannot be shared between threads")
    results: list[str] = []
    barrier = threading.Barrier(2)

    def edit(who: str, title: str) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=5)
            customer_update(
                actor=world.actor(who), customer_id=customer.pk, data={"title": title}, expected_version=1
            )
            results.append("ok")
        except VersionConflict:
            results.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=(w, t)) for w, t in (("owner", "A"), ("manager", "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    c = Customer.objects.get(pk=customer.pk)
    assert c.version == 2 and c.title in {"A", "B"}


def _needs_threads():
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name in ("", ":memory:") or "mode=memory" in name):
        pytest.skip("in-memory SQLite cannot be shared between threads")


def _race(n, work):
    from django.db import connections

    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_api_patches_one_200_rest_412(world, customer):
    _needs_threads()
    clients = [world.api(who) for who in ("owner", "manager", "admin", "service")]
    results = _race(
        4,
        lambda i: (
            clients[i]
            .patch(f"/customers/{customer.pk}", {"title": f"t{i}"}, headers={"If-Match": '"1"'})
            .status_code
        ),
    )
    assert sorted(results) == [200, 412, 412, 412]
    assert Customer.objects.get(pk=customer.pk).version == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_idempotency_key_create_one_row(world):
    _needs_threads()
    api = world.api("owner")
    results = _race(
        3,
        lambda i: api.post("/customers", {"name": "王芳"}, headers={"Idempotency-Key": "same"}),
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert Customer.objects.filter(name="王芳").count() == 1

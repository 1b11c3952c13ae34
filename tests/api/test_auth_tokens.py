"""Bearer tokens (hashed, scoped, revocable, expiring) and session auth with CSRF."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.core.models import ApiToken, hash_token
from guanxi.core.services import api_token_create
from guanxi.customers.models import Customer


def _bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _problem_401(r):
    assert r.status_code == 401
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 401


def test_no_credentials_is_401(db):
    _problem_401(Client().get("/api/v1/customers"))


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer ", "Basic YWRtaW46YWRtaW4=", "gx_abc", "Bearer gx_" + "a" * 43]
)
def test_bad_token_is_401(world, header):
    _problem_401(Client().get("/api/v1/customers", HTTP_AUTHORIZATION=header))


def test_token_is_stored_hashed(world):
    token, raw = api_token_create(membership=world.owner)
    assert raw.startswith("gx_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hash_token(raw) != raw
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_read_scope_cannot_write(world, customer):
    api = world.api("owner", scopes=["read"])
    assert api.get("/customers").status_code == 200
    r = api.post("/customers", {"name": "x"})
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    assert (
        api.patch(f"/customers/{customer.pk}", {"name": "x"}, headers={"If-Match": '"1"'}).status_code == 403
    )
    assert Customer.objects.count() == 1


def test_write_only_token_cannot_read(world):
    r = world.api("owner", scopes=["write"]).get("/customers")
    assert r.status_code == 403


def test_admin_scope_needed_for_admin_endpoints(world):
    api = world.api("admin", scopes=["read", "write"])
    assert api.get("/users").status_code == 403
    assert api.get("/audit-events").status_code == 403
    assert world.api("admin", scopes=["read", "admin"]).get("/users").status_code == 200


def test_revoked_token_is_401(world):
    token, raw = api_token_create(membership=world.owner)
    assert Client().get("/api/v1/me", **_bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    _problem_401(Client().get("/api/v1/me", **_bearer(raw)))


def test_expired_token_is_401(world):
    token, raw = api_token_create(membership=world.owner, days=1)
    assert Client().get("/api/v1/me", **_bearer(raw)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    _problem_401(Client().get("/api/v1/me", **_bearer(raw)))


def test_token_of_inactive_user_is_401(world):
    _, raw = api_token_create(membership=world.owner)
    world.owner.user.is_active = False
    world.owner.user.save()
    _problem_401(Client().get("/api/v1/me", **_bearer(raw)))


def test_token_binds_to_its_organisation(world):
    """A user in two organisations: the token answers for the organisation it was made in."""
    from guanxi.core.services import membership_upsert

    m, _ = membership_upsert(org=world.other_org, username="owner", role="admin")
    _, raw = api_token_create(membership=m)
    assert Client().get("/api/v1/me", **_bearer(raw)).json()["organization"] == "other"
    _, raw = api_token_create(membership=world.owner)
    assert Client().get("/api/v1/me", **_bearer(raw)).json()["organization"] == "acme"


def test_unknown_scope_refused(world):
    from guanxi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        api_token_create(membership=world.owner, scopes=["root"])


def test_session_auth_reads_and_writes_with_csrf(world):
    api = world.session("owner")
    assert api.get("/me").json()["username"] == "owner"
    r = api.post("/customers", {"name": "王芳"})
    assert r.status_code == 201
    assert r.json()["owner"] == "owner"


def test_session_post_without_csrf_is_403(world):
    api = world.session("owner", csrf=False)
    assert api.get("/customers").status_code == 200
    r = api.post("/customers", {"name": "王芳"})
    assert r.status_code == 403
    assert r["Content-Type"] == "application/problem+json"
    assert not Customer.objects.exists()


def test_session_patch_and_delete_without_csrf_are_403(world, customer):
    api = world.session("admin", csrf=False)
    assert (
        api.patch(f"/customers/{customer.pk}", {"name": "x"}, headers={"If-Match": '"1"'}).status_code == 403
    )
    assert api.delete(f"/customers/{customer.pk}").status_code == 403
    customer.refresh_from_db()
    assert customer.name == "张伟" and customer.deleted_at is None


def test_session_of_user_without_membership_is_401(world):
    from django.contrib.auth import get_user_model

    lonely = get_user_model().objects.create_user("lonely")
    client = Client()
    client.force_login(lonely)
    assert client.get("/api/v1/me").status_code == 401

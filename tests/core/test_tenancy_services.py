"""Organisations, memberships and tokens through the services: idempotent, validated, audited."""

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.core.models import AuditEvent, Membership, Organization, Team
from guanxi.core.services import (
    api_token_authenticate,
    api_token_create,
    membership_upsert,
    organization_create,
)


def test_organization_create_is_idempotent(db):
    a, created = organization_create(name=" acme ")
    b, created_again = organization_create(name="acme")
    assert (a.pk, created, created_again) == (b.pk, True, False)
    assert a.name == "acme"
    assert AuditEvent.objects.filter(object_type="organization").count() == 1
    for bad in ("", " ", "x" * 101):
        with pytest.raises(ValidationFailed):
            organization_create(name=bad)


def test_membership_upsert_is_idempotent_and_updates_role(world):
    m1, created = membership_upsert(org=world.org, username="newbie", role="sales", team="North")
    m2, created_again = membership_upsert(org=world.org, username="newbie", role="sales", team="North")
    assert (created, created_again, m1.pk) == (True, False, m2.pk)
    assert Team.objects.filter(organization=world.org, name="North").count() == 1
    m3, _ = membership_upsert(org=world.org, username="newbie", role="manager")
    assert m3.role == "manager" and m3.team.name == "North"
    assert not m3.user.has_usable_password()


def test_membership_upsert_validation(world):
    with pytest.raises(ValidationFailed) as info:
        membership_upsert(org=world.org, username="bad name", role="king", password="123")
    assert {e.field for e in info.value.errors} == {"username", "role", "password"}
    assert not Membership.objects.filter(user__username="bad name").exists()


def test_same_user_in_two_organisations(world):
    membership_upsert(org=world.other_org, username="owner", role="readonly")
    assert Membership.objects.filter(user__username="owner").count() == 2
    assert Organization.objects.count() == 2


def test_token_authenticate(world):
    token, raw = api_token_create(membership=world.owner, scopes=["read"])
    found = api_token_authenticate(raw)
    assert found is not None and found[0].pk == token.pk and found[1].pk == world.owner.pk
    assert api_token_authenticate(raw + "x") is None
    assert api_token_authenticate("") is None
    world.owner.is_active = False
    world.owner.save()
    assert api_token_authenticate(raw) is None

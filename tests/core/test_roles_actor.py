"""The role table and the Actor: permissions, scopes, token narrowing."""

import pytest

from guanxi.core.errors import PermissionDenied
from guanxi.core.roles import ROLE_PERMISSIONS, ROLE_SCOPE, Perm, Role, Scope


def test_scopes():
    assert ROLE_SCOPE[Role.SALES] == Scope.OWN
    assert ROLE_SCOPE[Role.MANAGER] == Scope.TEAM
    for role in (Role.ADMIN, Role.MARKETING, Role.SERVICE, Role.READONLY):
        assert ROLE_SCOPE[role] == Scope.ALL


def test_contact_details_permission():
    see = {r for r in Role if Perm.VIEW_CONTACT_DETAILS in ROLE_PERMISSIONS[r]}
    assert see == {Role.ADMIN, Role.MANAGER, Role.SALES, Role.SERVICE}


def test_readonly_has_no_permissions():
    assert ROLE_PERMISSIONS[Role.READONLY] == frozenset()


def test_actor_has_and_require(world):
    assert world.actor("admin").has(Perm.CUSTOMER_PURGE)
    assert not world.actor("manager").has(Perm.CUSTOMER_PURGE)
    with pytest.raises(PermissionDenied):
        world.actor("readonly").require(Perm.CUSTOMER_ADD)


def test_token_scopes_narrow_but_do_not_widen(world):
    admin_read = world.actor("admin", token_scopes=frozenset({"read"}))
    assert not admin_read.has(Perm.CUSTOMER_ADD)
    assert not admin_read.has(Perm.ORG_ADMIN)
    assert admin_read.sees_contact_details
    readonly_all = world.actor("readonly", token_scopes=frozenset({"read", "write", "admin"}))
    assert not readonly_all.has(Perm.CUSTOMER_ADD)
    assert world.actor("admin", token_scopes=frozenset({"admin"})).has(Perm.ORG_ADMIN)


def test_inactive_membership_has_nothing(world):
    m = world.admin
    m.is_active = False
    assert not m.has(Perm.CUSTOMER_ADD)


def test_audit_context(world):
    ctx = world.actor("owner", via="api", ip="10.0.0.1", extra={"token": "gx_abc"}).audit_context()
    assert ctx == {"via": "api", "ip": "10.0.0.1", "token": "gx_abc"}

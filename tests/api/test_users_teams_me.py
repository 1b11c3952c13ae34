"""/me, /teams and /users (admin only): add users, change role, team or access; no self-demotion."""

import pytest

from guanxi.core.models import Membership


def test_me(world):
    me = world.api("owner").get("/me").json()
    assert me["username"] == "owner"
    assert me["organization"] == "acme"
    assert me["role"] == "sales"
    assert me["team"] == "East"
    assert "customer.add" in me["permissions"] and "customer.delete" not in me["permissions"]
    assert me["organizations"] == ["acme"]


def test_me_with_read_only_token_lists_only_what_the_token_allows(world):
    me = world.api("owner", scopes=["read"]).get("/me").json()
    assert "customer.add" not in me["permissions"]


def test_teams(world):
    names = [t["name"] for t in world.api("readonly").get("/teams").json()]
    assert names == ["East", "West"]
    assert world.api("other_admin").get("/teams").json() == []
    assert world.api("manager").post("/teams", {"name": "North"}).status_code == 403
    assert world.api("admin").post("/teams", {"name": "North"}).status_code == 201


@pytest.mark.parametrize("who", ["manager", "owner", "marketing", "service", "readonly"])
def test_users_endpoints_are_admin_only(world, who):
    api = world.api(who)
    assert api.get("/users").status_code == 403
    assert api.post("/users", {"username": "new", "role": "sales"}).status_code == 403
    assert api.patch(f"/users/{world.teammate.pk}", {"role": "admin"}).status_code == 403
    world.teammate.refresh_from_db()
    assert world.teammate.role == "sales"


def test_admin_manages_users(world):
    api = world.api("admin")
    users = api.get("/users").json()
    assert {u["username"] for u in users} == {
        "admin", "manager", "owner", "teammate", "outsider", "marketing", "service", "readonly"
    }  # fmt: skip
    r = api.post("/users", {"username": "newbie", "role": "sales", "team": "West", "email": "n@acme.cn"})
    assert r.status_code == 201, r.json()
    assert r.json()["team"] == "West"
    r = api.patch(f"/users/{r.json()['id']}", {"role": "manager", "team": "East"})
    assert (r.json()["role"], r.json()["team"]) == ("manager", "East")
    r = api.patch(f"/users/{world.teammate.pk}", {"is_active": False})
    assert r.json()["is_active"] is False


def test_deactivated_user_loses_api_access(world):
    api = world.api("teammate")
    world.api("admin").patch(f"/users/{world.teammate.pk}", {"is_active": False})
    assert api.get("/customers").status_code == 401


def test_admin_cannot_demote_or_deactivate_self(world):
    api = world.api("admin")
    r = api.patch(f"/users/{world.admin.pk}", {"role": "sales"})
    assert r.status_code == 422
    assert api.patch(f"/users/{world.admin.pk}", {"is_active": False}).status_code == 422
    world.admin.refresh_from_db()
    assert world.admin.role == "admin" and world.admin.is_active


def test_admin_cannot_touch_other_org_members(world):
    api = world.api("admin")
    assert api.patch(f"/users/{world.other_admin.pk}", {"role": "readonly"}).status_code == 404
    assert Membership.objects.get(pk=world.other_admin.pk).role == "admin"


def test_bad_user_input(world):
    api = world.api("admin")
    assert api.post("/users", {"username": "x", "role": "god"}).status_code == 422
    assert api.post("/users", {"username": "bad name!", "role": "sales"}).status_code == 422
    r = api.post("/users", {"username": "x", "role": "sales", "password": "password"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "password"


def test_adding_existing_user_of_other_org_does_not_change_their_password(world):
    """POST /users with an existing username from another organisation must not take the account over."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="other_admin")
    user.set_password("their-own-secret-1")
    user.save()
    r = world.api("admin").post(
        "/users", {"username": "other_admin", "role": "readonly", "password": "hijacked-pass-77"}
    )
    user.refresh_from_db()
    assert user.check_password("their-own-secret-1")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "username"
    assert not Membership.objects.filter(organization=world.org, user=user).exists()


def test_admin_cannot_demote_self_by_re_adding(world):
    r = world.api("admin").post("/users", {"username": "admin", "role": "readonly"})
    assert r.status_code == 422
    world.admin.refresh_from_db()
    assert world.admin.role == "admin"


def test_admin_may_reset_password_of_own_org_user(world):
    from django.contrib.auth import get_user_model

    r = world.api("admin").post(
        "/users", {"username": "teammate", "role": "sales", "password": "new-secret-pass-1"}
    )
    assert r.status_code == 201
    assert get_user_model().objects.get(username="teammate").check_password("new-secret-pass-1")

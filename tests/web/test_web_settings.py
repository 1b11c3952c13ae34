"""Admin settings: users & memberships & teams, custom fields, tags, organisation settings; contacts page."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import AuditEvent, CustomFieldDefinition, Membership, Organization, Team
from guanxi.customers.models import Contact, Tag
from guanxi.customers.tags import tag_create


@pytest.mark.parametrize("path", ["/settings/users/", "/settings/fields/", "/settings/organisation/"])
@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("manager", 403), ("owner", 403), ("readonly", 403)]
)
def test_admin_pages_need_admin(login: Any, world: Any, path: str, who: str, status: int) -> None:
    assert login(who).get(path).status_code == status
    posted = login(who).post(path, {"op": "nothing"}).status_code
    assert posted == 403 if status == 403 else posted in (200, 422)


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("manager", 200), ("marketing", 200), ("owner", 403)]
)
def test_tags_page_needs_tag_manage(login: Any, world: Any, who: str, status: int) -> None:
    assert login(who).get("/settings/tags/").status_code == status


def test_users_page_lists_only_own_org(login: Any, world: Any) -> None:
    html = login("admin").get("/settings/users/").content.decode()
    assert "teammate" in html and "other_admin" not in html


def test_add_user_and_update_membership(login: Any, world: Any) -> None:
    client = login("admin")
    response = client.post(
        "/settings/users/",
        {"op": "add", "username": "sales3", "role": "sales", "team": "West", "password": "a-good-password-1"},
    )
    assert response.status_code == 302
    m = Membership.objects.get(user__username="sales3")
    assert (m.organization, m.role, m.team.name) == (world.org, "sales", "West")
    assert m.user.check_password("a-good-password-1")
    client.post(
        "/settings/users/",
        {"op": "update", "membership": m.pk, "role": "manager", "team": "East", "is_active": "on"},
    )
    m.refresh_from_db()
    assert (m.role, m.team.name, m.is_active) == ("manager", "East", True)
    assert AuditEvent.objects.filter(action="permission_change", object_repr="sales3").exists()
    client.post("/settings/users/", {"op": "update", "membership": m.pk, "role": "manager", "team": ""})
    m.refresh_from_db()
    assert m.is_active is False and m.team is None


def test_add_user_errors(login: Any, world: Any) -> None:
    response = login("admin").post("/settings/users/", {"op": "add", "username": "bad name!", "role": "boss"})
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count('class="field-error"') >= 2


def test_cannot_edit_membership_of_other_org(login: Any, world: Any) -> None:
    response = login("admin").post(
        "/settings/users/", {"op": "update", "membership": world.other_admin.pk, "role": "readonly"}
    )
    assert response.status_code == 404
    assert Membership.objects.get(pk=world.other_admin.pk).role == "admin"


def test_admin_cannot_demote_self(login: Any, world: Any) -> None:
    login("admin").post("/settings/users/", {"op": "update", "membership": world.admin.pk, "role": "sales"})
    assert Membership.objects.get(pk=world.admin.pk).role == "admin"


def test_add_team(login: Any, world: Any) -> None:
    login("admin").post("/settings/users/", {"op": "team", "name": "华南"})
    assert Team.objects.filter(organization=world.org, name="华南").exists()


def test_custom_field_definitions(login: Any, world: Any) -> None:
    client = login("admin")
    response = client.post(
        "/settings/fields/",
        {
            "op": "add",
            "key": "source_detail",
            "label": "来源明细",
            "field_type": "choice",
            "choices": "展会, 官网",
        },
    )
    assert response.status_code == 302
    defn = CustomFieldDefinition.objects.get(key="source_detail")
    assert defn.choices == ["展会", "官网"] and defn.organization == world.org
    client.post(
        "/settings/fields/",
        {
            "op": "update",
            "field": defn.pk,
            "label": "来源",
            "field_type": "choice",
            "choices": "展会,官网,转介绍",
            "required": "on",
        },
    )
    defn.refresh_from_db()
    assert (defn.label, defn.required, defn.choices) == ("来源", True, ["展会", "官网", "转介绍"])
    bad = client.post(
        "/settings/fields/", {"op": "add", "key": "Bad Key", "label": "", "field_type": "choice"}
    )
    assert bad.status_code == 422
    client.post("/settings/fields/", {"op": "delete", "field": defn.pk})
    assert not CustomFieldDefinition.objects.filter(pk=defn.pk).exists()


def test_custom_field_of_other_org_is_404(login: Any, world: Any) -> None:
    from guanxi.core.services import custom_field_create

    foreign = custom_field_create(
        actor=world.actor("other_admin"), data={"key": "x", "label": "X", "field_type": "text"}
    )
    assert login("admin").post("/settings/fields/", {"op": "delete", "field": foreign.pk}).status_code == 404
    assert CustomFieldDefinition.objects.filter(pk=foreign.pk).exists()


def test_tags(login: Any, world: Any) -> None:
    client = login("manager")
    client.post("/settings/tags/", {"op": "add", "name": "重点客户", "color": "#c0262d"})
    tag = Tag.objects.get(name="重点客户")
    assert tag.color == "#c0262d"
    dup = client.post("/settings/tags/", {"op": "add", "name": "重点客户"})
    assert dup.status_code == 422
    client.post("/settings/tags/", {"op": "update", "tag": tag.pk, "name": "VIP", "color": "nonsense"})
    tag.refresh_from_db()
    assert (tag.name, tag.color) == ("VIP", "#64748b")
    client.post("/settings/tags/", {"op": "delete", "tag": tag.pk})
    assert not Tag.objects.filter(pk=tag.pk).exists()


def test_tag_of_other_org_is_404(login: Any, world: Any) -> None:
    foreign = tag_create(actor=world.actor("other_admin"), name="外部")
    assert login("admin").post("/settings/tags/", {"op": "delete", "tag": foreign.pk}).status_code == 404


def test_organisation_settings(login: Any, world: Any) -> None:
    client = login("admin")
    response = client.post(
        "/settings/organisation/",
        {"time_zone": "Asia/Hong_Kong", "currency": "hkd", "default_phone_region": "hk"},
    )
    assert response.status_code == 302
    org = Organization.objects.get(pk=world.org.pk)
    assert (org.time_zone, org.currency, org.default_phone_region) == ("Asia/Hong_Kong", "HKD", "HK")
    event = AuditEvent.objects.get(action="update", object_type="organization")
    assert event.changes["currency"] == ["CNY", "HKD"]
    bad = client.post(
        "/settings/organisation/",
        {"time_zone": "Mars/Base", "currency": "yuan", "default_phone_region": "ZZ"},
    )
    assert bad.status_code == 422
    assert bad.content.decode().count('class="field-error"') == 3
    assert Organization.objects.get(pk=world.org.pk).time_zone == "Asia/Hong_Kong"
    assert Organization.objects.get(pk=world.other_org.pk).time_zone == "Asia/Shanghai"


def test_contacts_page_is_scoped(login: Any, world: Any, make_customer: Any) -> None:
    mine = make_customer("owner", kind="company", name="星河")
    theirs = make_customer("outsider", kind="company", name="远航")
    Contact.objects.create(organization=world.org, customer=mine, name="赵敏", phone="13900001111")
    Contact.objects.create(organization=world.org, customer=theirs, name="钱多")
    html = login("owner").get("/contacts/").content.decode()
    assert "赵敏" in html and "钱多" not in html and "139****1111" in html
    assert "赵敏" not in login("other_admin").get("/contacts/").content.decode()
    assert "钱多" in login("admin").get("/contacts/", {"q": "远航"}).content.decode()

"""The customer 360° page: visibility, masking and audited reveal, inline edit with optimistic
concurrency, tabs, change history, contacts, delete."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import AuditEvent
from guanxi.core.services import custom_field_create
from guanxi.customers.models import Contact, Customer
from guanxi.customers.services import customer_update
from tests.web.conftest import htmx


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("teammate", 404),
        ("outsider", 404),
        ("manager", 200),
        ("admin", 200),
        ("readonly", 200),
        ("other_admin", 404),
        ("other_sales", 404),
    ],
)
def test_detail_visibility(login: Any, customer: Any, who: str, status: int) -> None:
    assert login(who).get(f"/customers/{customer.pk}/").status_code == status
    assert login(who).get(f"/customers/{customer.pk}/tab/history/").status_code == status


def test_unknown_customer_is_404(login: Any, db: Any) -> None:
    assert login("admin").get("/customers/999999/").status_code == 404


def test_detail_shows_facts_badges_and_masked_phone(login: Any, world: Any, customer: Any) -> None:
    customer_update(
        actor=world.actor("owner"),
        customer_id=customer.pk,
        data={"grade": "A", "lifecycle_stage": "active", "tags": ["重点客户"]},
        expected_version=customer.version,
    )
    html = login("owner").get(f"/customers/{customer.pk}/").content.decode()
    assert "张伟" in html and "北京星河科技有限公司" in html
    assert "grade-A" in html and "stage-active" in html and "重点客户" in html
    assert "138****8000" in html and "13812348000" not in html and "138 1234 8000" not in html
    assert 'id="reveal"' in html  # sales reps may see contact details, after an audited click


def test_readonly_sees_masked_phone_and_cannot_reveal(login: Any, customer: Any) -> None:
    client = login("readonly")
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "138****8000" in html and 'id="reveal"' not in html
    assert client.post(f"/customers/{customer.pk}/reveal/").status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_reveal_shows_full_phone_and_is_audited(login: Any, customer: Any) -> None:
    response = login("admin").post(f"/customers/{customer.pk}/reveal/", headers=htmx("contact-info"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "138 1234 8000" in html and "zhang.wei@example.com" in html
    event = AuditEvent.objects.get(action="reveal")
    assert event.object_id == str(customer.pk) and event.actor_name == "admin"
    assert event.context["via"] == "ui"


def test_reveal_of_invisible_customer_is_404(login: Any, customer: Any) -> None:
    assert login("teammate").post(f"/customers/{customer.pk}/reveal/").status_code == 404
    assert login("other_admin").post(f"/customers/{customer.pk}/reveal/").status_code == 404
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_inline_edit_form_and_save(login: Any, customer: Any) -> None:
    client = login("owner")
    form = client.get(f"/customers/{customer.pk}/edit/", headers=htmx("details-card")).content.decode()
    assert 'id="inline-edit"' in form and f'name="version" value="{customer.version}"' in form
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {"version": customer.version, "inline": "1", "name": "张伟", "company": "新公司", "grade": "B"},
        headers=htmx("customer-main"),
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "customer-changed"
    assert "新公司" in response.content.decode()
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.company, fresh.grade, fresh.version) == ("新公司", "B", customer.version + 1)
    event = AuditEvent.objects.filter(action="update", object_id=str(customer.pk)).latest("id")
    assert event.changes["company"] == ["北京星河科技有限公司", "新公司"]


def test_edit_validation_errors_show_next_to_the_field(login: Any, customer: Any) -> None:
    client = login("owner")
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {"version": customer.version, "inline": "1", "name": "", "phone": "12"},
        headers=htmx("customer-main"),
    )
    assert response.status_code == 200  # htmx swaps 2xx only; the form is retargeted
    assert response["HX-Retarget"] == "#details-card"
    html = response.content.decode()
    assert 'id="e-name"' in html and 'id="e-phone"' in html
    assert Customer.objects.get(pk=customer.pk).version == customer.version


def test_full_page_edit(login: Any, customer: Any) -> None:
    client = login("owner")
    assert client.get(f"/customers/{customer.pk}/edit/").status_code == 200
    response = client.post(f"/customers/{customer.pk}/edit/", {"version": customer.version, "name": "张伟伟"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).name == "张伟伟"
    bad = client.post(f"/customers/{customer.pk}/edit/", {"version": 1, "name": ""})
    assert bad.status_code in (409, 422)


def test_concurrent_edit_shows_conflict_then_overwrite(login: Any, world: Any, customer: Any) -> None:
    stale = customer.version
    customer_update(
        actor=world.actor("manager", via="ui"),
        customer_id=customer.pk,
        data={"title": "总经理"},
        expected_version=stale,
    )
    client = login("owner")
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {"version": stale, "inline": "1", "name": "张伟", "title": "采购经理"},
        headers=htmx("customer-main"),
    )
    html = response.content.decode()
    assert 'id="conflict"' in html
    assert "changed by manager" in html
    assert 'id="conflict-overwrite"' in html and 'id="conflict-reload"' in html
    assert Customer.objects.get(pk=customer.pk).title == "总经理"
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {
            "version": stale,
            "overwrite_version": stale + 1,
            "inline": "1",
            "name": "张伟",
            "title": "采购经理",
        },
        headers=htmx("customer-main"),
    )
    assert response.status_code == 200 and 'id="conflict"' not in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).title == "采购经理"


def test_edit_permissions(login: Any, customer: Any) -> None:
    assert login("readonly").get(f"/customers/{customer.pk}/edit/").status_code == 403
    assert login("teammate").get(f"/customers/{customer.pk}/edit/").status_code == 404
    assert login("other_admin").post(f"/customers/{customer.pk}/edit/", {"name": "x"}).status_code == 404


def test_marketing_edit_form_hides_contact_details(login: Any, customer: Any) -> None:
    html = login("marketing").get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'name="phone"' not in html and "138 1234 8000" not in html
    response = login("marketing").post(
        f"/customers/{customer.pk}/edit/", {"version": 1, "name": "张伟", "title": "x"}
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).phone == "138 1234 8000"


def test_custom_fields_on_detail_and_edit(login: Any, world: Any, customer: Any) -> None:
    custom_field_create(
        actor=world.actor("admin"),
        data={"key": "channel", "label": "偏好渠道", "field_type": "choice", "choices": ["电话", "微信"]},
    )
    custom_field_create(actor=world.actor("admin"), data={"key": "vip", "label": "VIP", "field_type": "bool"})
    client = login("owner")
    form = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'name="custom.channel"' in form and "偏好渠道" in form and 'name="custom.vip"' in form
    client.post(
        f"/customers/{customer.pk}/edit/",
        {"version": customer.version, "name": "张伟", "custom.channel": "微信", "custom.vip": "true"},
    )
    assert Customer.objects.get(pk=customer.pk).custom == {"channel": "微信", "vip": True}
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "偏好渠道" in html and "微信" in html
    bad = client.post(
        f"/customers/{customer.pk}/edit/",
        {"version": customer.version + 1, "name": "张伟", "custom.channel": "飞鸽"},
    )
    assert 'id="e-custom.channel"' in bad.content.decode()


def test_pages_follow_custom_field_changes(login: Any, world: Any, customer: Any) -> None:
    """The list and the 360° page cache the definitions; adding, renaming or deleting one shows on
    the next request."""
    from guanxi.core.services import custom_field_delete, custom_field_update

    client = login("owner")
    assert "偏好渠道" not in client.get(f"/customers/{customer.pk}/").content.decode()
    assert "偏好渠道" not in client.get("/customers/").content.decode()  # both pages now cached
    admin = world.actor("admin")
    field = custom_field_create(
        actor=admin,
        data={"key": "channel", "label": "偏好渠道", "field_type": "choice", "choices": ["电话", "微信"]},
    )
    customer_update(
        actor=world.actor("owner"),
        customer_id=customer.pk,
        data={"custom": {"channel": "微信"}},
        expected_version=customer.version,
    )
    assert "偏好渠道" in client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'name="cf.channel"' in client.get("/customers/").content.decode()
    custom_field_update(actor=admin, field_id=field.pk, data={"label": "联系渠道"})
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "联系渠道" in detail and "偏好渠道" not in detail
    custom_field_delete(actor=admin, field_id=field.pk)
    assert "联系渠道" not in client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'name="cf.channel"' not in client.get("/customers/").content.decode()


def test_tabs_timeline_and_history(login: Any, world: Any, customer: Any) -> None:
    customer_update(
        actor=world.actor("owner"),
        customer_id=customer.pk,
        data={"grade": "A"},
        expected_version=customer.version,
    )
    client = login("owner")
    timeline = client.get(
        f"/customers/{customer.pk}/tab/timeline/", headers=htmx("tab-panel")
    ).content.decode()
    assert "created this customer" in timeline and "updated" in timeline
    history = client.get(f"/customers/{customer.pk}/tab/history/", headers=htmx("tab-panel")).content.decode()
    assert "Grade" in history and 'class="after">A<' in history
    # Contact details in the history are masked too.
    assert "138****8000" in history and "138 1234 8000" not in history
    assert client.get(f"/customers/{customer.pk}/tab/bogus/").status_code == 200


def test_detail_query_count_is_fixed(login: Any, world: Any, customer: Any) -> None:
    client = login("owner")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/customers/{customer.pk}/")
    for i in range(10):
        c = Customer.objects.get(pk=customer.pk)
        customer_update(
            actor=world.actor("owner"),
            customer_id=c.pk,
            data={"title": f"t{i}", "tags": [f"x{i}"]},
            expected_version=c.version,
        )
    Contact.objects.bulk_create(
        [Contact(organization=world.org, customer=customer, name=f"c{i}") for i in range(5)]
    )
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"/customers/{customer.pk}/").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 24  # fixed, whatever the history or contacts; PG adds share-existence probes


def test_company_contacts_add_and_remove(login: Any, world: Any, make_customer: Any) -> None:
    company = make_customer("owner", kind="company", name="星河科技")
    client = login("owner")
    html = client.get(f"/customers/{company.pk}/").content.decode()
    assert 'id="contacts"' in html
    response = client.post(
        f"/customers/{company.pk}/contacts/",
        {"name": "赵敏", "title": "采购", "phone": "13900001111"},
        headers=htmx("contacts"),
    )
    assert response.status_code == 200
    assert "赵敏" in response.content.decode() and "139****1111" in response.content.decode()
    contact = Contact.objects.get(name="赵敏")
    bad = client.post(f"/customers/{company.pk}/contacts/", {"name": ""}, headers=htmx("contacts"))
    assert "field-error" in bad.content.decode()
    assert login("teammate").post(f"/customers/{company.pk}/contacts/{contact.pk}/delete/").status_code == 404
    assert login("readonly").post(f"/customers/{company.pk}/contacts/{contact.pk}/delete/").status_code == 403
    assert client.post(f"/customers/{company.pk}/contacts/{contact.pk}/delete/").status_code == 200
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_delete_moves_to_recycle_bin(login: Any, customer: Any) -> None:
    assert (
        login("owner").post(f"/customers/{customer.pk}/delete/", {"version": customer.version}).status_code
        == 403
    )
    response = login("manager").post(f"/customers/{customer.pk}/delete/", {"version": customer.version})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).deleted_at is not None
    assert login("manager").get(f"/customers/{customer.pk}/").status_code == 404


def test_delete_with_stale_version_changes_nothing(login: Any, customer: Any) -> None:
    response = login("manager").post(f"/customers/{customer.pk}/delete/", {"version": customer.version + 5})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).deleted_at is None


def test_edit_form_never_prints_full_contact_details(login: Any, customer: Any) -> None:
    client = login("owner")
    html = client.get(f"/customers/{customer.pk}/edit/", headers=htmx("details-card")).content.decode()
    assert "138 1234 8000" not in html and "zhang.wei@example.com" not in html
    assert 'placeholder="138****8000"' in html
    # Saving with the contact inputs left empty keeps the stored values.
    client.post(
        f"/customers/{customer.pk}/edit/",
        {
            "version": customer.version,
            "name": "张伟",
            "orig.name": '"张伟"',
            "phone": "",
            "orig.phone": '""',
            "email": "",
            "orig.email": '""',
            "title": "经理",
            "orig.title": '""',
        },
    )
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.phone, fresh.email, fresh.title) == ("138 1234 8000", "zhang.wei@example.com", "经理")


def test_overwrite_after_conflict_keeps_other_fields_changed_meanwhile(
    login: Any, world: Any, customer: Any
) -> None:
    stale = customer.version
    customer_update(
        actor=world.actor("manager"),
        customer_id=customer.pk,
        data={"notes": "经理备注"},
        expected_version=stale,
    )
    form = {
        "version": stale,
        "inline": "1",
        "title": "采购经理",
        "orig.title": '""',
        "notes": "",
        "orig.notes": '""',
    }
    client = login("owner")
    assert 'id="conflict"' in client.post(f"/customers/{customer.pk}/edit/", form).content.decode()
    client.post(f"/customers/{customer.pk}/edit/", {**form, "overwrite_version": stale + 1})
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.title, fresh.notes) == ("采购经理", "经理备注")


def test_timeline_merges_activities_through_one_selector(login: Any, world: Any, customer: Any) -> None:
    from guanxi.engagement.services import activity_create

    activity_create(
        actor=world.actor("owner"),
        customer_id=customer.pk,
        data={"kind": "visit", "subject": "上门拜访", "content": "确认年底采购需求", "next_step": "发报价"},
    )
    html = login("owner").get(f"/customers/{customer.pk}/").content.decode()
    assert "上门拜访" in html and "确认年底采购需求" in html and "发报价" in html
    assert "created this customer" in html
    assert "上门拜访" not in login("teammate").get(f"/customers/{customer.pk}/tab/timeline/").content.decode()


def test_release_to_pool_link(login: Any, customer: Any) -> None:
    assert 'id="release-to-pool"' in login("owner").get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="release-to-pool"' in login("manager").get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="release-to-pool"' not in login("readonly").get(f"/customers/{customer.pk}/").content.decode()

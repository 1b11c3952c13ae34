"""Email template pages: list, create/edit with field errors, delete, and the live preview rendered
for a chosen customer (salutations, custom fields, consent, masking, visibility)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanxi.core.models import AuditEvent, CustomFieldDefinition
from guanxi.customers.models import Customer
from guanxi.engagement import care
from guanxi.engagement.email import template_create
from guanxi.engagement.models import MessageTemplate
from guanxi.engagement.services import consent_record

pytestmark = pytest.mark.django_db
EDITORS = ("admin", "manager", "marketing")
NOT_EDITORS = ("owner", "teammate", "outsider", "service", "readonly")
PREVIEW = "/engagement/templates/preview/"


def login(world: Any, who: str) -> Client:
    client = Client(headers={"Accept-Language": "en"})  # assertions independent of the catalogue
    client.force_login(world.members[who].user)
    return client


def _template(world: Any, **data: Any) -> MessageTemplate:
    values = {
        "name": "报价跟进",
        "purpose": "transactional",
        "subject": "{{ salutation }}，您的报价单",
        "body_text": "{{ salutation }}您好！等级：{{ customer.custom.level }}",
        **data,
    }
    return template_create(actor=world.actor("admin"), data=values)


def _form(**change: Any) -> dict[str, Any]:
    return {
        "name": "新品推荐",
        "purpose": "marketing",
        "subject": "{{ salutation }}，新品上市",
        "body_text": "{{ salutation }}您好！{{ customer.company }} 专享价。",
        "body_html": "<p>{{ salutation }}您好！<b>{{ customer.name }}</b></p>",
        **change,
    }


# Access ---------------------------------------------------------------------------------------


def test_admins_managers_and_marketers_manage_templates(world: Any) -> None:
    template = _template(world)
    urls = ["/engagement/templates/", "/engagement/templates/new/", f"/engagement/templates/{template.pk}/"]
    for who in EDITORS:
        client = login(world, who)
        for url in urls:
            assert client.get(url).status_code == 200, (who, url)
        assert 'id="nav-email-templates"' in client.get(urls[0]).content.decode()
    for who in NOT_EDITORS:
        client = login(world, who)
        for url in urls:
            assert client.get(url).status_code == 403, (who, url)
        assert client.post(urls[1], _form(name=f"by {who}")).status_code == 403
        assert client.post(urls[2], _form(name="hijacked")).status_code == 403
        assert client.post(f"/engagement/templates/{template.pk}/delete/").status_code == 403
        assert client.post(PREVIEW, {"subject": "x", "body_text": "y"}).status_code == 403
        assert 'id="nav-email-templates"' not in client.get("/engagement/my-day/").content.decode()
    other = login(world, "other_admin")
    assert other.get(urls[2]).status_code == 404
    assert other.post(urls[2], _form(name="hijacked")).status_code == 404
    assert other.post(f"/engagement/templates/{template.pk}/delete/").status_code == 404
    assert "报价跟进" not in other.get(urls[0]).content.decode()
    assert list(MessageTemplate.objects.values_list("name", flat=True)) == ["报价跟进"]


def test_list_shows_name_purpose_and_subject(world: Any) -> None:
    _template(world)
    _template(world, name="春节问候", purpose="marketing", subject="新春快乐")
    html = login(world, "marketing").get("/engagement/templates/").content.decode()
    assert "报价跟进" in html and "春节问候" in html and "新春快乐" in html
    assert "purpose-marketing" in html and "purpose-transactional" in html


# Create, edit, delete -------------------------------------------------------------------------


def test_marketer_creates_and_edits_a_template(world: Any) -> None:
    client = login(world, "marketing")
    r = client.post("/engagement/templates/new/", _form())
    assert r.status_code == 302, r.content.decode()[:2000]
    template = MessageTemplate.objects.get()
    assert r["Location"] == f"/engagement/templates/{template.pk}/"
    assert (template.name, template.purpose, template.created_by) == (
        "新品推荐",
        "marketing",
        world.marketing.user,
    )
    assert template.body_html == "<p>{{ salutation }}您好！<b>{{ customer.name }}</b></p>"

    html = client.get(r["Location"]).content.decode()
    assert 'value="新品推荐"' in html and "{{ customer.company }} 专享价。" in html
    r = client.post(r["Location"], _form(subject="{{ salutation }}，限时优惠", purpose="transactional"))
    assert r.status_code == 302
    template.refresh_from_db()
    assert (template.subject, template.purpose) == ("{{ salutation }}，限时优惠", "transactional")
    event = AuditEvent.objects.filter(object_type="message_template", action="update").get()
    assert event.changes["subject"] == ["{{ salutation }}，新品上市", "{{ salutation }}，限时优惠"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "报价跟进"}, "name", "a template with this name exists"),
        ({"subject": ""}, "subject", "This field is required."),
        ({"subject": "{{ salutation|shout }}"}, "subject", "template error"),
        ({"body_text": ""}, "body_text", "This field is required."),
        ({"body_text": "{% if %}"}, "body_text", "template error"),
        ({"body_html": "<p>{% for x in %}</p>"}, "body_html", "template error"),
        ({"purpose": "spam"}, "purpose", "Select a valid choice."),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: Any, change: dict[str, Any], field: str, message: str
) -> None:
    existing = _template(world)
    before = list(MessageTemplate.objects.values())
    client = login(world, "admin")
    r = client.post("/engagement/templates/new/", _form(**change))
    assert r.status_code == 400
    assert any(message in e for e in r.context["form"].errors.get(field, [])), r.context["form"].errors
    if change.get("name") != "报价跟进":  # keeping its own name is fine when editing
        r = client.post(f"/engagement/templates/{existing.pk}/", _form(**change))
        assert r.status_code == 400, change
    assert list(MessageTemplate.objects.values()) == before


def test_delete_refuses_a_template_in_use_by_a_care_rule(world: Any) -> None:
    template = _template(world)
    rule = care.rule_create(
        actor=world.actor("admin"), data={"name": "生日", "kind": "birthday", "template_id": template.pk}
    )
    client = login(world, "manager")
    r = client.post(f"/engagement/templates/{template.pk}/delete/", follow=True)
    assert "is used by a care rule" in r.content.decode()
    assert MessageTemplate.objects.filter(pk=template.pk).exists()
    care.rule_delete(actor=world.actor("admin"), rule_id=rule.pk)
    r = client.post(f"/engagement/templates/{template.pk}/delete/")
    assert r.status_code == 302 and r["Location"] == "/engagement/templates/"
    assert not MessageTemplate.objects.exists()


# Live preview ---------------------------------------------------------------------------------


def _preview(client: Client, customer: Customer, **fields: str) -> Any:
    return client.post(PREVIEW, {"preview_customer": str(customer.pk), **_form(**fields)})


def test_preview_renders_salutations_and_custom_fields_for_the_chosen_customer(
    world: Any, make_customer: Any
) -> None:
    CustomFieldDefinition.objects.create(
        organization=world.org, key="level", label="会员等级", field_type="text"
    )
    wang = make_customer("owner", name="王强", title="总经理", gender="male", company="星河科技",
                         email="wang@example.com", custom={"level": "VIP"})  # fmt: skip
    li = make_customer("owner", name="李娜", gender="female", email="li@example.com")
    consent_record(
        actor=world.actor("admin"), customer_id=wang.pk, purpose="marketing", channel="email", granted=True
    )
    client = login(world, "admin")
    html = _preview(
        client, wang, body_text="{{ salutation }}您好！等级：{{ customer.custom.level }}"
    ).content.decode()
    assert "王总，新品上市" in html and "王总您好！等级：VIP" in html
    assert "wang@example.com" in html and "cannot be sent" not in html
    # The HTML part goes into a sandboxed frame, escaped into srcdoc.
    assert (
        'sandbox title="HTML version" srcdoc="&lt;p&gt;王总您好！&lt;b&gt;王强&lt;/b&gt;&lt;/p&gt;"' in html
    )

    html = _preview(client, li).content.decode()
    assert "李女士，新品上市" in html
    assert "This email cannot be sent to this customer: no marketing consent for email." in html
    html = _preview(client, li, purpose="transactional").content.decode()
    assert "cannot be sent" not in html


def test_preview_escapes_customer_data_in_html(world: Any, make_customer: Any) -> None:
    evil = make_customer("owner", name="<script>alert(1)</script>", email="x@example.com")
    html = _preview(login(world, "admin"), evil, body_html="<p>{{ customer.name }}</p>").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&amp;lt;script&amp;gt;" in html  # escaped by the template, then again into srcdoc


def test_preview_shows_syntax_errors_instead_of_failing(world: Any, customer: Any) -> None:
    r = _preview(login(world, "admin"), customer, subject="{{ salutation|shout }}")
    assert r.status_code == 200 and "template error" in r.content.decode()


def test_preview_only_for_customers_the_editor_can_see(
    world: Any, make_customer: Any, other_customer: Any
) -> None:
    west = make_customer("outsider", name="西区客户", email="west@example.com")
    east = make_customer("owner", name="东区客户", email="east@example.com")
    manager = login(world, "manager")  # team scope: East only
    assert _preview(manager, west).status_code == 404
    assert _preview(manager, east).status_code == 200
    assert _preview(login(world, "admin"), other_customer).status_code == 404
    html = manager.get("/engagement/templates/new/").content.decode()
    assert "东区客户" in html and "西区客户" not in html


def test_preview_masks_the_address_for_roles_without_contact_details(world: Any, customer: Any) -> None:
    html = _preview(login(world, "marketing"), customer).content.decode()
    assert "zhang.wei@example.com" not in html and "z***@example.com" in html

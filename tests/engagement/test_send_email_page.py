"""Sending an email from the customer 360° page: who may, consent blocking with a clear message,
the sender identity, the preview, delivery to a real SMTP server (aiosmtpd) and the timeline."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanxi.customers.models import Customer
from guanxi.engagement.email import email_deliver, template_create
from guanxi.engagement.models import Activity, EmailMessage, MessageTemplate
from guanxi.engagement.services import consent_record, settings_update

pytestmark = pytest.mark.django_db


def login(world: Any, who: str) -> Client:
    client = Client(headers={"Accept-Language": "en"})  # assertions independent of the catalogue
    client.force_login(world.members[who].user)
    return client


def url(customer: Customer, suffix: str = "") -> str:
    return f"/engagement/customers/{customer.pk}/email/{suffix}"


def _template(world: Any, purpose: str, name: str) -> MessageTemplate:
    return template_create(
        actor=world.actor("admin"),
        data={
            "name": name,
            "purpose": purpose,
            "subject": "{{ salutation }}，" + ("新品上市" if purpose == "marketing" else "您的报价单"),
            "body_text": "{{ salutation }}您好！{{ customer.company }} 的报价见附件。",
            "body_html": "<p>{{ salutation }}您好！</p>",
        },
    )


@pytest.fixture
def boss(world: Any, customer: Customer) -> Customer:
    """The ``customer`` fixture (owner's, East) as a general manager: 张总."""
    Customer.objects.filter(pk=customer.pk).update(title="总经理", gender="male")
    settings_update(
        actor=world.actor("admin"), data={"from_name": "艾克米销售部", "from_email": "sales@acme.test"}
    )
    return Customer.objects.get(pk=customer.pk)


# Access ---------------------------------------------------------------------------------------


def test_who_may_open_and_send(world: Any, boss: Customer, other_customer: Customer) -> None:
    for who in ("owner", "manager", "admin"):  # the owner, the owner's team manager, the admin
        assert login(world, who).get(url(boss)).status_code == 200, who
    for who in ("teammate", "outsider"):  # sales see their own customers only
        client = login(world, who)
        assert client.get(url(boss)).status_code == 404, who
        assert client.post(url(boss), {"subject": "x", "body_text": "y"}).status_code == 404, who
        assert client.post(url(boss, "preview/"), {"subject": "x"}).status_code == 404, who
    readonly = login(world, "readonly")
    assert readonly.get(url(boss)).status_code == 403
    assert (
        readonly.post(url(boss), {"subject": "x", "body_text": "y", "purpose": "transactional"}).status_code
        == 403
    )
    assert login(world, "other_admin").get(url(boss)).status_code == 404
    assert login(world, "admin").get(url(other_customer)).status_code == 404
    assert not EmailMessage.objects.exists()


def test_customer_page_offers_send_email_to_those_who_may(world: Any, boss: Customer) -> None:
    assert 'id="send-email-link"' in login(world, "owner").get(f"/customers/{boss.pk}/").content.decode()
    assert (
        'id="send-email-link"' not in login(world, "readonly").get(f"/customers/{boss.pk}/").content.decode()
    )


def test_compose_shows_sender_recipient_consent_and_a_preview(world: Any, boss: Customer) -> None:
    _template(world, "transactional", "报价跟进")
    html = login(world, "owner").get(url(boss)).content.decode()
    assert "艾克米销售部 &lt;sales@acme.test&gt;" in html
    assert "zhang.wei@example.com" in html
    assert "never given" in html  # marketing consent
    assert "报价跟进 · Transactional" in html
    consent_record(actor=world.actor("owner"), customer_id=boss.pk, purpose="marketing", channel="email",
                   granted=True, source="展会登记")  # fmt: skip
    html = login(world, "owner").get(url(boss)).content.decode()
    assert "given" in html.split('id="consent-state"')[1][:300] and "展会登记" in html


def test_preview_renders_the_message_for_this_customer(world: Any, boss: Customer) -> None:
    marketing = _template(world, "marketing", "新品推荐")
    client = login(world, "owner")
    html = client.post(url(boss, "preview/"), {"template": str(marketing.pk)}).content.decode()
    assert "张总，新品上市" in html and "张总您好！北京星河科技有限公司 的报价见附件。" in html
    assert "This email cannot be sent to this customer: no marketing consent for email." in html
    written = {
        "template": "",
        "subject": "{{ salutation }}，合同",
        "body_text": "{{ customer.name }}：合同已寄出。",
    }
    html = client.post(url(boss, "preview/"), written).content.decode()
    assert "张总，合同" in html and "张伟：合同已寄出。" in html and "cannot be sent" not in html


# Sending --------------------------------------------------------------------------------------


def test_send_with_a_template_arrives_and_is_on_the_timeline(
    world: Any, boss: Customer, smtp: Any, huey_inline: Any, django_capture_on_commit_callbacks: Any
) -> None:
    template = _template(world, "transactional", "报价跟进")
    client = login(world, "owner")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(url(boss), {"template": str(template.pk)})
    assert r.status_code == 302 and r["Location"] == f"/customers/{boss.pk}/"
    [msg] = smtp.messages
    assert msg["Subject"] == "张总，您的报价单" and msg["To"] == "zhang.wei@example.com"
    assert "sales@acme.test" in msg["From"] and "艾克米销售部" in msg["From"]
    assert "张总您好！北京星河科技有限公司 的报价见附件。" in msg.get_body(("plain",)).get_content()
    assert "<p>张总您好！</p>" in msg.get_body(("html",)).get_content()
    row = EmailMessage.objects.get()
    assert (row.status, row.template_id, row.created_by, row.attempts) == (
        "sent",
        template.pk,
        world.owner.user,
        1,
    )
    activity = Activity.objects.get(kind="email")
    assert activity.pk == row.activity_id and activity.created_by == world.owner.user
    assert Customer.objects.get(pk=boss.pk).last_contacted_at is not None

    detail = client.get(r["Location"]).content.decode()
    assert "queued for 张伟" in detail  # the flash message
    timeline = detail.split('id="tab-panel"')[1]
    assert "张总，您的报价单" in timeline

    # At most once: a duplicated or retried delivery sends nothing more.
    assert email_deliver(row.pk) == "sent"
    assert len(smtp.messages) == 1


def test_written_transactional_message_needs_no_consent(
    world: Any, boss: Customer, smtp: Any, huey_inline: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = login(world, "manager").post(
            url(boss),
            {"template": "", "purpose": "transactional", "subject": "{{ salutation }}，发票已开",
             "body_text": "{{ salutation }}：发票已寄出，请查收。"},
        )  # fmt: skip
    assert r.status_code == 302
    [msg] = smtp.messages
    assert msg["Subject"] == "张总，发票已开"
    assert EmailMessage.objects.get().created_by == world.manager.user


def test_marketing_without_consent_is_blocked_with_a_clear_message(
    world: Any, boss: Customer, smtp: Any, huey_inline: Any, django_capture_on_commit_callbacks: Any
) -> None:
    template = _template(world, "marketing", "新品推荐")
    client = login(world, "owner")
    for data in (
        {"template": str(template.pk)},
        {"template": "", "purpose": "marketing", "subject": "促销", "body_text": "全场八折"},
    ):
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(url(boss), data)
        assert r.status_code == 400
        html = r.content.decode()
        assert 'id="send-blocked"' in html
        assert "张伟 cannot get this email: no marketing consent for email." in html
        assert "Send a transactional message, or record the customer's consent first." in html
    assert not EmailMessage.objects.exists() and not Activity.objects.exists() and smtp.messages == []

    # Consent withdrawn after being given: still blocked. Given again: it goes out.
    for granted in (True, False):
        consent_record(actor=world.actor("owner"), customer_id=boss.pk, purpose="marketing", channel="email",
                       granted=granted)  # fmt: skip
    assert client.post(url(boss), {"template": str(template.pk)}).status_code == 400
    consent_record(
        actor=world.actor("owner"), customer_id=boss.pk, purpose="marketing", channel="email", granted=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url(boss), {"template": str(template.pk)}).status_code == 302
    assert [m["Subject"] for m in smtp.messages] == ["张总，新品上市"]


def test_customer_without_an_address(world: Any, make_customer: Any) -> None:
    nomail = make_customer("owner", name="孙七")
    client = login(world, "owner")
    html = client.get(url(nomail)).content.decode()
    assert "This customer has no email address" in html and 'id="send-email" disabled' in html
    r = client.post(
        url(nomail), {"template": "", "purpose": "transactional", "subject": "s", "body_text": "b"}
    )
    assert r.status_code == 400 and "the customer has no email address" in r.content.decode()
    assert not EmailMessage.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"subject": "", "body_text": "正文"}, "subject", "is required without a template_id"),
        ({"subject": "主题", "body_text": "  "}, "body_text", "is required without a template_id"),
        ({"subject": "{{ salutation|shout }}", "body_text": "正文"}, "subject", "template error"),
        ({"template": "999999"}, "template", "Select a valid choice."),
        ({"purpose": "spam", "subject": "s", "body_text": "b"}, "purpose", "Select a valid choice."),
        ({"subject": "x" * 201, "body_text": "b"}, "subject", "at most 200 characters"),
    ],
)
def test_bad_input_names_the_field_and_sends_nothing(
    world: Any, boss: Customer, smtp: Any, data: dict[str, str], field: str, message: str
) -> None:
    form = {"template": "", "purpose": "transactional", **data}
    r = login(world, "owner").post(url(boss), form)
    assert r.status_code == 400
    errors = r.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert not EmailMessage.objects.exists() and not Activity.objects.exists() and smtp.messages == []


def test_another_orgs_template_cannot_be_used(world: Any, boss: Customer) -> None:
    foreign = template_create(
        actor=world.actor("other_admin"),
        data={"name": "外部", "purpose": "transactional", "subject": "s", "body_text": "b"},
    )
    r = login(world, "owner").post(url(boss), {"template": str(foreign.pk)})
    assert r.status_code == 400 and "template" in r.context["form"].errors
    assert not EmailMessage.objects.exists()

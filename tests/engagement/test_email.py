"""Email through a real SMTP server (aiosmtpd): templates, salutations, consent, idempotent delivery."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.models import Customer
from guanxi.engagement.email import EmailDeliveryFailed, email_deliver
from guanxi.engagement.models import Activity, EmailMessage, MessageTemplate
from guanxi.engagement.rendering import salutation

pytestmark = pytest.mark.django_db

TEMPLATE = {
    "name": "报价跟进",
    "purpose": "transactional",
    "subject": "{{ salutation }}，您的报价单",
    "body_text": (
        "{{ salutation }}您好！{{ customer.company }} 的报价见附件。等级：{{ customer.custom.level }}"
    ),
    "body_html": "<p>{{ salutation }}您好！<b>{{ customer.name }}</b></p>",
}


@pytest.mark.parametrize(
    ("name", "title", "gender", "kind", "expected"),
    [
        ("王强", "总经理", "male", "person", "王总"),
        ("王强", "销售经理", "", "person", "王总"),
        ("赵敏", "董事长", "female", "person", "赵总"),
        ("钱多多", "老板", "", "person", "钱总"),
        ("李娜", "", "female", "person", "李女士"),
        ("张伟", "工程师", "male", "person", "张先生"),
        ("欧阳娜娜", "", "female", "person", "欧阳女士"),
        ("司马光", "总监", "male", "person", "司马总"),
        ("陈静", "", "", "person", "陈静"),
        ("John Smith", "", "male", "person", "Mr. Smith"),
        ("Jane Doe", "CEO", "female", "person", "Ms. Doe"),
        ("星河科技", "", "", "company", "星河科技"),
    ],
)
def test_salutations(name: str, title: str, gender: str, kind: str, expected: str) -> None:
    assert salutation(Customer(name=name, title=title, gender=gender, kind=kind)) == expected


def _setup(world: Any, customer: Any) -> int:
    admin = world.api("admin")
    r = admin.put("/engagement/settings", {"from_name": "艾克米销售部", "from_email": "sales@acme.test"})
    assert r.status_code == 200, r.content
    Customer.objects.filter(pk=customer.pk).update(
        title="总经理", gender="male", custom={"level": "VIP"}, company="星河科技"
    )
    r = world.api("marketing").post("/email-templates", TEMPLATE)
    assert r.status_code == 201, r.content
    return int(r.json()["id"])


def test_send_with_template_arrives_personalised_and_is_logged(
    world: Any, customer: Any, smtp: Any, huey_inline: Any, django_capture_on_commit_callbacks: Any
) -> None:
    template_id = _setup(world, customer)
    with django_capture_on_commit_callbacks(execute=True):
        r = world.api("owner").post(f"/customers/{customer.pk}/emails", {"template_id": template_id})
    assert r.status_code == 202, r.content
    [msg] = smtp.messages
    assert msg["Subject"] == "张总，您的报价单"
    assert "sales@acme.test" in msg["From"] and "艾克米销售部" in msg["From"]
    assert msg["To"] == "zhang.wei@example.com"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "张总您好！星河科技 的报价见附件。等级：VIP" in text
    assert "<b>张伟</b>" in html
    row = EmailMessage.objects.get()
    assert row.status == "sent" and row.sent_at and row.attempts == 1
    activity = Activity.objects.get(kind="email")
    assert activity.subject == "张总，您的报价单" and row.activity_id == activity.pk
    assert Customer.objects.get(pk=customer.pk).last_contacted_at is not None
    emails = world.api("owner").get(f"/customers/{customer.pk}/emails").json()
    assert emails[0]["status"] == "sent"
    items = world.api("owner").get(f"/customers/{customer.pk}/timeline").json()["items"]
    assert [i["kind"] for i in items if i["source"] == "activity"] == ["email"]  # shown once, as the email
    assert "email" not in [i["kind"] for i in items if i["source"] == "audit"]


def test_html_is_escaped_text_is_not(world: Any, customer: Any) -> None:
    from guanxi.engagement.rendering import render_message

    customer.name = "<script>x</script>&"
    out = render_message(
        subject="{{ customer.name }}",
        body_text="{{ customer.name }}",
        body_html="<p>{{ customer.name }}</p>",
        customer=customer,
    )
    assert out.text == "<script>x</script>&" and "&lt;script&gt;" in out.html


def test_delivery_is_at_most_once(world: Any, customer: Any, smtp: Any) -> None:
    template_id = _setup(world, customer)
    r = world.api("owner").post(f"/customers/{customer.pk}/emails", {"template_id": template_id})
    message_id = r.json()["id"]
    assert r.json()["status"] == "queued"
    assert email_deliver(message_id) == "sent"
    assert email_deliver(message_id) == "sent"  # a retried or duplicated task
    assert len(smtp.messages) == 1
    # a crash after SMTP accepted it leaves "sending": never sent again
    EmailMessage.objects.filter(pk=message_id).update(status="sending")
    assert email_deliver(message_id) == "sending"
    assert len(smtp.messages) == 1


def test_failure_is_recorded_and_retried(world: Any, customer: Any, smtp: Any, settings: Any) -> None:
    template_id = _setup(world, customer)
    message_id = (
        world.api("owner").post(f"/customers/{customer.pk}/emails", {"template_id": template_id}).json()["id"]
    )
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there
    with pytest.raises(EmailDeliveryFailed):
        email_deliver(message_id)
    row = EmailMessage.objects.get(pk=message_id)
    assert row.status == "failed" and row.error and row.attempts == 1
    settings.EMAIL_PORT = good_port
    assert email_deliver(message_id) == "sent"  # the retry
    assert len(smtp.messages) == 1 and EmailMessage.objects.get(pk=message_id).attempts == 2


def test_refused_recipient_is_bounced(world: Any, customer: Any, smtp: Any) -> None:
    template_id = _setup(world, customer)
    smtp.refuse.add("zhang.wei@example.com")
    message_id = (
        world.api("owner").post(f"/customers/{customer.pk}/emails", {"template_id": template_id}).json()["id"]
    )
    assert email_deliver(message_id) == "bounced"
    assert "550" in EmailMessage.objects.get(pk=message_id).error
    assert smtp.messages == []


def test_later_bounce_recorded_by_admin(world: Any, customer: Any) -> None:
    template_id = _setup(world, customer)
    message_id = (
        world.api("owner").post(f"/customers/{customer.pk}/emails", {"template_id": template_id}).json()["id"]
    )
    assert world.api("owner").post(f"/emails/{message_id}/bounce", {"error": "x"}).status_code == 403
    assert world.api("other_admin").post(f"/emails/{message_id}/bounce", {"error": "x"}).status_code == 404
    r = world.api("admin").post(f"/emails/{message_id}/bounce", {"error": "mailbox full"})
    assert r.status_code == 200 and r.json()["status"] == "bounced"


def test_marketing_needs_consent_transactional_does_not(world: Any, customer: Any, smtp: Any) -> None:
    api = world.api("owner")
    payload = {"subject": "新品", "body_text": "{{ salutation }}，新品上市", "purpose": "marketing"}
    r = api.post(f"/customers/{customer.pk}/emails", payload)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "consent"
    assert not EmailMessage.objects.exists() and not Activity.objects.exists()
    assert (
        api.post(
            f"/customers/{customer.pk}/consents",
            {"purpose": "marketing", "channel": "email", "granted": True, "source": "web form"},
        ).status_code
        == 201
    )
    assert api.post(f"/customers/{customer.pk}/emails", payload).status_code == 202
    api.post(
        f"/customers/{customer.pk}/consents", {"purpose": "marketing", "channel": "email", "granted": False}
    )
    assert api.post(f"/customers/{customer.pk}/emails", payload).status_code == 422
    assert (
        api.post(f"/customers/{customer.pk}/emails", {**payload, "purpose": "transactional"}).status_code
        == 202
    )
    assert len(api.get(f"/customers/{customer.pk}/consents").json()) == 2


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_admin"])
def test_others_cannot_email_or_list(world: Any, customer: Any, who: str) -> None:
    api = world.api(who)
    assert api.post(f"/customers/{customer.pk}/emails", {"subject": "x", "body_text": "y"}).status_code == 404
    assert api.get(f"/customers/{customer.pk}/emails").status_code == 404
    assert (
        api.post(
            f"/customers/{customer.pk}/consents",
            {"purpose": "marketing", "channel": "email", "granted": True},
        ).status_code
        == 404
    )
    assert not EmailMessage.objects.exists()


def test_send_bad_input(world: Any, customer: Any, make_customer: Any) -> None:
    api = world.api("owner")
    r = api.post(f"/customers/{customer.pk}/emails", {"subject": "", "body_text": ""})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"subject", "body_text"}
    r = api.post(f"/customers/{customer.pk}/emails", {"subject": "{% bad %}", "body_text": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "subject"
    no_email = make_customer("owner", name="无邮箱")
    r = api.post(f"/customers/{no_email.pk}/emails", {"subject": "x", "body_text": "y"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"
    assert api.post(f"/customers/{customer.pk}/emails", {"template_id": 99999}).status_code == 404
    assert (
        world.api("readonly")
        .post(f"/customers/{customer.pk}/emails", {"subject": "x", "body_text": "y"})
        .status_code
        == 403
    )
    assert not EmailMessage.objects.exists()


def test_template_permissions_and_validation(world: Any) -> None:
    assert world.api("owner").post("/email-templates", TEMPLATE).status_code == 403
    assert world.api("readonly").post("/email-templates", TEMPLATE).status_code == 403
    admin = world.api("admin")
    r = admin.post("/email-templates", {**TEMPLATE, "body_text": "{% if %}"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body_text"
    r = admin.post("/email-templates", {**TEMPLATE, "purpose": "spam"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "purpose"
    template_id = admin.post("/email-templates", TEMPLATE).json()["id"]
    r = admin.post("/email-templates", TEMPLATE)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    assert world.api("owner").get(f"/email-templates/{template_id}").status_code == 200
    assert world.api("other_admin").get(f"/email-templates/{template_id}").status_code == 404
    assert world.api("other_admin").patch(f"/email-templates/{template_id}", {"name": "x"}).status_code == 404
    r = admin.patch(f"/email-templates/{template_id}", {"subject": "新主题"})
    assert r.status_code == 200 and r.json()["subject"] == "新主题"
    assert admin.delete(f"/email-templates/{template_id}").status_code == 204
    assert not MessageTemplate.objects.exists()


def test_settings_admin_only_and_validated(world: Any) -> None:
    assert world.api("owner").put("/engagement/settings", {"from_email": "a@b.cn"}).status_code == 403
    r = world.api("admin").put("/engagement/settings", {"from_email": "not-an-address"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from_email"
    assert world.api("owner").get("/engagement/settings").json()["from_email"] == ""


def test_sweep_delivers_emails_whose_queue_message_was_lost(world: Any, customer: Any, smtp: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from guanxi.engagement.email import email_sweep_queued

    template_id = _setup(world, customer)
    message_id = (
        world.api("owner").post(f"/customers/{customer.pk}/emails", {"template_id": template_id}).json()["id"]
    )
    assert email_sweep_queued(now=timezone.now()) == 0  # too fresh: the worker is probably on it
    later = timezone.now() + dt.timedelta(minutes=5)
    assert email_sweep_queued(now=later) == 1
    assert email_sweep_queued(now=later) == 0
    assert len(smtp.messages) == 1 and EmailMessage.objects.get(pk=message_id).status == "sent"

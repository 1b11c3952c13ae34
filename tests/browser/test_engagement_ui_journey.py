"""Care rules and email in a real browser: an admin creates a birthday greeting and sees who the
next run will contact; a rep sends an email from a customer page, it reaches the SMTP server and
shows on the timeline. Screenshots of every page in Chinese and English, desktop and phone."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.engagement.email import template_create
from guanxi.engagement.models import CareRule, EmailMessage
from guanxi.engagement.selectors import org_zone
from guanxi.engagement.services import consent_record, settings_update
from tests.browser.conftest import shot
from tests.engagement.conftest import huey_inline, smtp  # noqa: F401

LANGS = [("zh-hans", "zh"), ("en", "en")]


def _birthday_today() -> str:
    today = timezone.now().astimezone(org_zone("Asia/Shanghai")).date()
    return today.replace(year=1980, day=min(today.day, 28)).isoformat()


def _seed(world: Any, make_customer: Any) -> dict[str, Any]:
    admin = world.actor("admin")
    settings_update(actor=admin, data={"from_name": "艾克米销售部", "from_email": "sales@acme.test"})
    birthday = template_create(
        actor=admin,
        data={
            "name": "生日祝福",
            "purpose": "marketing",
            "subject": "{{ salutation }}，生日快乐！",
            "body_text": "{{ salutation }}：\n\n祝您生日快乐、万事如意！\n\n艾克米全体同仁",
            "body_html": "<p>{{ salutation }}：</p><p>祝您<b>生日快乐</b>、万事如意！</p>"
            "<p>艾克米全体同仁</p>",
        },
    )
    quote = template_create(
        actor=admin,
        data={
            "name": "报价跟进",
            "purpose": "transactional",
            "subject": "{{ salutation }}，您要的报价单",
            "body_text": "{{ salutation }}您好！\n\n附件是{{ customer.company }}所需产品的报价单，"
            "有效期 30 天。",
        },
    )
    day = _birthday_today()
    wang = make_customer("owner", name="王强", title="总经理", gender="male", company="星河科技",
                         email="wang@example.com", birthday=day, grade="A", province="广东")  # fmt: skip
    li = make_customer("owner", name="李娜", gender="female", email="li@example.com", birthday=day, grade="A")
    make_customer("owner", name="赵六", email="zhao@example.com", birthday=day, grade="B")
    consent_record(actor=admin, customer_id=wang.pk, purpose="marketing", channel="email", granted=True)
    return {"wang": wang, "li": li, "birthday": birthday, "quote": quote}


@pytest.mark.parametrize(("lang", "tag"), LANGS)
def test_admin_creates_a_birthday_rule_and_sees_the_preview(
    open_as: Any, site: Any, world: Any, make_customer: Any, lang: str, tag: str
) -> None:
    seed = _seed(world, make_customer)
    page = open_as("admin", lang=lang, width=1440)
    page.click("#nav-care-rules")
    page.wait_for_url(f"{site.url}/engagement/care-rules/")
    page.click("#new-care-rule")
    page.fill("#id_name", "A级客户生日祝福")
    page.select_option("#id_kind", "birthday")
    # Only the birthday parameters show; the holiday and revisit ones appear with their kinds.
    assert page.is_visible(".only-birthday") and not page.is_visible(".only-revisit")
    page.select_option("#id_template", str(seed["birthday"].pk))
    page.check("#field-audience_grade input[value=A]")
    page.select_option("#id_kind", "revisit")
    assert page.is_visible(".only-revisit") and not page.is_visible(".only-birthday")
    page.select_option("#id_kind", "birthday")
    shot(page, f"care-rule-form-{tag}", full_page=True)
    page.click("#save-care-rule")

    rule = CareRule.objects.get()
    page.wait_for_url(f"{site.url}/engagement/care-rules/{rule.pk}/")
    assert rule.audience == {"grade": ["A"]} and rule.template_id == seed["birthday"].pk
    # 王强 consented and will get it; 李娜 has no marketing consent; 赵六 is grade B.
    assert page.get_attribute("#preview-will-send", "data-count") == "1"
    assert page.get_attribute("#preview-skipped", "data-count") == "1"
    rows = page.inner_text("#preview-rows")
    assert "王强" in rows and "李娜" in rows and "赵六" not in rows
    shot(page, f"care-rule-preview-{tag}", full_page=True)

    # The list: switch the rule off and on without leaving the page.
    page.goto(f"{site.url}/engagement/care-rules/")
    page.click(f"[data-toggle='{rule.pk}']")
    page.wait_for_selector(f"#care-rule-{rule.pk}.is-off")
    assert not CareRule.objects.get(pk=rule.pk).enabled
    page.click(f"[data-toggle='{rule.pk}']")
    page.wait_for_selector(f"#care-rule-{rule.pk}:not(.is-off)")
    assert CareRule.objects.get(pk=rule.pk).enabled
    shot(page, f"care-rules-{tag}")

    phone = open_as("admin", lang=lang, width=390, height=844)
    phone.goto(f"{site.url}/engagement/care-rules/{rule.pk}/")
    shot(phone, f"care-rule-preview-phone-{tag}", full_page=True)
    phone.goto(f"{site.url}/engagement/care-rules/{rule.pk}/edit/")
    shot(phone, f"care-rule-form-phone-{tag}", full_page=True)


@pytest.mark.parametrize(("lang", "tag"), LANGS)
def test_marketer_edits_a_template_with_a_live_preview(
    open_as: Any, site: Any, world: Any, make_customer: Any, lang: str, tag: str
) -> None:
    seed = _seed(world, make_customer)
    page = open_as("marketing", lang=lang, width=1440)
    page.click("#nav-email-templates")
    page.wait_for_url(f"{site.url}/engagement/templates/")
    shot(page, f"email-templates-{tag}")
    page.goto(f"{site.url}/engagement/templates/{seed['birthday'].pk}/?customer={seed['li'].pk}")
    page.wait_for_selector("#preview-subject strong:has-text('李女士')")
    # Typing changes the preview: the salutation follows the chosen customer.
    page.fill("#id_subject", "{{ salutation }}，{{ customer.name }}，生日快乐")
    page.wait_for_selector("#preview-subject strong:has-text('李女士，李娜，生日快乐')")
    assert page.is_visible("#preview-blocked")  # 李娜 never consented to marketing email
    page.select_option("#preview-customer", str(seed["wang"].pk))
    page.wait_for_selector("#preview-subject strong:has-text('王总，王强，生日快乐')")
    assert not page.is_visible("#preview-blocked")
    shot(page, f"email-template-edit-{tag}", full_page=True)
    phone = open_as("marketing", lang=lang, width=390, height=844)
    phone.goto(f"{site.url}/engagement/templates/{seed['birthday'].pk}/")
    phone.wait_for_selector("#preview-subject strong")
    shot(phone, f"email-template-edit-phone-{tag}", full_page=True)


@pytest.mark.parametrize(("lang", "tag"), LANGS)
def test_rep_sends_an_email_from_the_customer_page(
    open_as: Any,
    site: Any,
    world: Any,
    make_customer: Any,
    smtp: Any,  # noqa: F811
    huey_inline: Any,  # noqa: F811
    lang: str,
    tag: str,
) -> None:
    seed = _seed(world, make_customer)
    wang, li = seed["wang"], seed["li"]
    page = open_as("owner", lang=lang, width=1440)

    # Marketing email to a customer without consent: the page says why and nothing goes out.
    page.goto(f"{site.url}/customers/{li.pk}/")
    page.click("#send-email-link")
    page.wait_for_url(f"{site.url}/engagement/customers/{li.pk}/email/")
    page.select_option("#id_template", str(seed["birthday"].pk))
    page.wait_for_selector("#preview-blocked")
    page.click("#send-email")
    page.wait_for_selector("#send-blocked")
    assert "李娜" in page.inner_text("#send-blocked")
    shot(page, f"email-blocked-{tag}", full_page=True)
    assert not EmailMessage.objects.exists() and smtp.messages == []

    # A transactional quote to 王总: preview, send, it arrives and is on the timeline.
    page.goto(f"{site.url}/customers/{wang.pk}/")
    page.click("#send-email-link")
    page.select_option("#id_template", str(seed["quote"].pk))
    page.wait_for_selector("#preview-subject strong:has-text('王总，您要的报价单')")
    assert "艾克米销售部 <sales@acme.test>" in page.inner_text("#compose-from")
    shot(page, f"email-compose-{tag}", full_page=True)
    page.click("#send-email")
    page.wait_for_url(f"{site.url}/customers/{wang.pk}/")
    page.wait_for_selector("#tab-panel .tl-activity:has-text('王总，您要的报价单')")
    shot(page, f"email-on-timeline-{tag}")
    [msg] = smtp.messages
    assert msg["Subject"] == "王总，您要的报价单" and msg["To"] == "wang@example.com"
    assert "附件是星河科技所需产品的报价单" in msg.get_body(("plain",)).get_content()
    assert EmailMessage.objects.get().status == "sent"
    assert Customer.objects.get(pk=wang.pk).last_contacted_at is not None

    phone = open_as("owner", lang=lang, width=390, height=844)
    phone.goto(f"{site.url}/engagement/customers/{wang.pk}/email/")
    shot(phone, f"email-compose-phone-{tag}", full_page=True)

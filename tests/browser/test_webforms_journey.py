"""Web forms in a real browser: an admin builds a form, a visitor submits it on a phone in Chinese,
the customer appears for its owner. Screenshots of every page in zh and en."""

from __future__ import annotations

import time
from typing import Any

from guanxi.customers.models import Customer
from guanxi.engagement.models import Consent
from tests.browser.conftest import shot
from tests.browser.test_export_journey import _catalogue_overlay  # noqa: F401  (GUANXI_I18N_OVERLAY)


def test_admin_builds_a_form_and_a_visitor_submits_it(
    open_as: Any, chromium: Any, site: Any, world: Any, settings: Any
) -> None:
    settings.GUANXI_WEBFORM_MIN_FILL_SECONDS = 1
    admin = open_as("admin", width=1440)
    admin.click("#nav-web-forms")
    admin.wait_for_url(f"{site.url}/settings/web-forms/")
    shot(admin, "webforms-list-empty-zh")
    admin.click("#new-webform")
    admin.fill("#wf-name", "官网咨询")
    admin.fill("#wf-title", "预约产品演示")
    admin.fill("#wf-intro", "留下联系方式，我们的顾问会在一个工作日内联系您。")
    # The editor: add a field, make it a choice field filling "industry", move it up one row.
    admin.click("#add-field")
    admin.fill("#f5-key", "industry")
    admin.fill("#f5-label-zh", "所属行业")
    admin.fill("#f5-label-en", "Industry")
    admin.select_option("#f5-type", "select")
    admin.fill("#f5-choices", "制造业, 零售, 教育, 其他")
    admin.select_option("#f5-maps", "industry")
    admin.click("#row-5 button[value='up:5']")
    assert admin.input_value("#f4-key") == "industry"
    admin.fill("#wf-source", "官网")
    admin.select_option("#wf-assignment", "user")
    admin.select_option("#wf-user", "owner")
    admin.fill("#wf-tags", "官网线索")
    admin.fill("#wf-consent", "我同意通过短信和邮件接收产品资讯，可随时退订。")
    admin.check("input[name=consent_channels][value=sms]")
    admin.fill("#wf-thanks", "提交成功！顾问会尽快与您联系。")
    admin.click("#save-webform")
    admin.wait_for_selector("#public-url")
    shot(admin, "webforms-edit-zh", full_page=True)
    public = admin.inner_text("#public-url").strip()
    assert "/f/" in public

    # A visitor on a phone, in Chinese.
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    try:
        page = phone.new_page()
        page.set_default_timeout(10_000)
        page.goto(public)
        assert page.inner_text("h1") == "预约产品演示"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        shot(page, "webform-public-390-zh", full_page=True)
        page.fill("#wf-name", "王芳")
        page.fill("#wf-phone", "139 1234")  # too short first: the error names the field
        time.sleep(1.1)
        page.click(".wf-submit")
        page.wait_for_selector("#wf-phone-error")
        shot(page, "webform-public-error-390-zh", full_page=True)
        assert page.input_value("#wf-name") == "王芳"  # kept
        page.fill("#wf-phone", "139 1234 5678")
        page.select_option("#wf-industry", "零售")
        page.fill("#wf-message", "想预约下周的演示")
        page.check("#wf-consent")
        time.sleep(1.1)
        page.click(".wf-submit")
        page.wait_for_selector("#wf-thanks")
        assert "提交成功" in page.inner_text("#wf-thanks")
        shot(page, "webform-public-thanks-390-zh")
        page.goto(public + "?lang=en")
        assert page.inner_text("label[for=wf-industry]").startswith("Industry")
        shot(page, "webform-public-390-en", full_page=True)
    finally:
        phone.close()

    customer = Customer.objects.get(organization=world.org, phone_e164="+8613912345678")
    assert (customer.owner.username, customer.industry, customer.source) == ("owner", "零售", "官网")
    assert Consent.objects.filter(customer=customer, channel="sms", granted=True).exists()

    # The admin sees the submission and opens the customer.
    admin.click("#to-submissions")
    admin.wait_for_selector("#submissions-table")
    shot(admin, "webforms-submissions-zh")
    admin.click(f"#submissions-table a[href='/customers/{customer.pk}/']")
    admin.wait_for_url(f"{site.url}/customers/{customer.pk}/")
    assert "王芳" in admin.inner_text("h1")

    # The owner gets a notification and finds the lead.
    owner = open_as("owner", width=1440)
    owner.click("#notifications summary")
    assert "王芳" in owner.inner_text("#notifications .menu-panel")
    shot(owner, "webforms-owner-notified-zh")


def test_web_form_pages_in_english(open_as: Any, site: Any, world: Any) -> None:
    from tests.marketing.conftest import Visitor, make_form

    form = make_form(world, language="en", title="Book a demo", thank_you_text="Thanks! We'll call you soon.")
    Visitor().post(form, {"name": "Li Lei", "phone": "13800138000", "email": "li.lei@example.com"})
    Visitor("192.0.2.8").post(form, {"name": "", "phone": "nope"})
    admin = open_as("admin", lang="en", width=1440)
    admin.goto(f"{site.url}/settings/web-forms/")
    assert "Web forms" in admin.inner_text("h1")
    shot(admin, "webforms-list-en")
    admin.goto(f"{site.url}/settings/web-forms/{form.pk}/")
    shot(admin, "webforms-edit-en", full_page=True)
    admin.goto(f"{site.url}/settings/web-forms/{form.pk}/submissions/")
    shot(admin, "webforms-submissions-en")
    mobile = open_as("admin", lang="en", width=390, height=844)
    mobile.goto(f"{site.url}/settings/web-forms/{form.pk}/")
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
    shot(mobile, "webforms-edit-390-en", full_page=True)

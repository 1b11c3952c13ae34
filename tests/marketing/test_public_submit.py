"""A visitor submits the public form: a customer is created or updated — never duplicated."""

from __future__ import annotations

import json
from typing import Any

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer, CustomerAssignment
from guanxi.engagement.models import Consent, Notification
from guanxi.marketing.models import WebFormSubmission
from tests.marketing.conftest import Visitor, make_form

LEAD = {"name": "王芳", "phone": "138 0013 8000", "email": "Wang.Fang@Example.cn", "message": "想了解报价"}


def _customers(world: Any) -> Any:
    return Customer.objects.filter(organization=world.org, deleted_at__isnull=True)


def test_first_submission_creates_a_lead_with_source_tags_owner_notes(world, webform, visitor):
    response = visitor.post(webform, LEAD)
    assert response.status_code == 200
    assert "谢谢！我们会尽快联系您。" in response.content.decode()
    customer = _customers(world).get()
    assert customer.name == "王芳"
    assert customer.phone_e164 == "+8613800138000"
    assert customer.email == "wang.fang@example.cn"
    assert customer.source == "website"
    assert customer.owner.username == "owner"
    assert customer.team == world.east  # follows its owner's team
    assert customer.lifecycle_stage == "lead"
    assert list(customer.tags.values_list("name", flat=True)) == ["官网"]
    assert "留言: 想了解报价" in customer.notes
    sub = WebFormSubmission.objects.get()
    assert (sub.outcome, sub.customer_id) == ("created", customer.pk)
    assert sub.data["phone"] == "138 0013 8000"
    assert sub.ip_hash and "203.0.113.7" not in json.dumps(sub.data) + sub.ip_hash


def test_same_phone_in_another_format_updates_the_customer(world, webform, visitor, customer):
    # ``customer`` (owner's) has 138 1234 8000 and Zhang.Wei@Example.com
    customer.title = ""
    response = visitor.post(
        webform,
        {"name": "张伟 (web)", "phone": "+86 138-1234-8000", "company": "另一家公司", "message": "回访"},
    )
    assert response.status_code == 200
    assert _customers(world).count() == 1
    customer.refresh_from_db()
    assert customer.name == "张伟"  # filled fields are never overwritten
    assert customer.company == "北京星河科技有限公司"
    assert "回访" in customer.notes
    assert sorted(customer.tags.values_list("name", flat=True)) == ["官网"]
    assert WebFormSubmission.objects.get().outcome == "updated"


def test_same_email_in_upper_case_updates_and_adds_the_new_phone(world, webform, visitor, customer):
    visitor.post(webform, {"name": "Zhang Wei", "email": "ZHANG.WEI@EXAMPLE.COM", "phone": "13900009999"})
    assert _customers(world).count() == 1
    customer.refresh_from_db()
    assert [p["e164"] for p in customer.phones] == ["+8613812348000", "+8613900009999"]
    assert customer.phone_e164 == "+8613812348000"  # the primary stays


def test_update_never_changes_the_owner_and_fills_empty_fields(world, webform, visitor, make_customer):
    mine = make_customer("teammate", name="陈静", phone="13711112222")
    visitor.post(
        webform, {"name": "陈静", "phone": "13711112222", "company": "静好文化", "email": "cj@jh.cn"}
    )
    mine.refresh_from_db()
    assert mine.owner.username == "teammate"  # the form would give new leads to "owner"
    assert mine.company == "静好文化"
    assert mine.email == "cj@jh.cn"
    assert mine.source == "website"


def test_a_phone_of_another_customer_is_not_moved(world, webform, visitor, make_customer):
    a = make_customer("owner", name="甲", phone="13700000001")
    b = make_customer("owner", name="乙", email="yi@example.cn")
    visitor.post(webform, {"name": "甲", "phone": "13700000001", "email": "yi@example.cn"})
    assert _customers(world).count() == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert [e["value"] for e in b.emails] == ["yi@example.cn"]
    assert a.emails == [] or all(e["value"] != "yi@example.cn" for e in a.emails)


def test_two_submissions_of_one_person_make_one_customer(world, webform):
    Visitor("198.51.100.1").post(webform, LEAD)
    Visitor("198.51.100.2").post(
        webform, {**LEAD, "phone": "+8613800138000", "email": "WANG.FANG@example.cn"}
    )
    assert _customers(world).count() == 1
    assert list(WebFormSubmission.objects.order_by("id").values_list("outcome", flat=True)) == [
        "created",
        "updated",
    ]


def test_the_write_is_audited_as_the_web_form_system_actor(world, webform, visitor):
    visitor.post(webform, LEAD)
    customer = _customers(world).get()
    event = AuditEvent.objects.get(object_type="customer", object_id=str(customer.pk), action="create")
    assert event.actor_name == "system:web-forms"
    assert event.context["via"] == "system"
    assert event.context["web_form"] == str(webform.pk)
    assert customer.created_by.username == "system:web-forms"
    assert not customer.created_by.is_active and not customer.created_by.has_usable_password()


def test_consent_is_recorded_per_channel_with_the_submission_as_evidence(world, webform, visitor):
    visitor.post(webform, {**LEAD, "consent": "on"})
    customer = _customers(world).get()
    sub = WebFormSubmission.objects.get()
    rows = Consent.objects.filter(customer=customer).order_by("channel")
    assert [(c.purpose, c.channel, c.granted) for c in rows] == [
        ("marketing", "email", True),
        ("marketing", "sms", True),
    ]
    assert all(f"submission #{sub.pk}" in c.source for c in rows)
    assert sub.data["consent"] is True


def test_no_consent_recorded_when_the_box_is_not_ticked(world, webform, visitor):
    visitor.post(webform, LEAD)
    assert not Consent.objects.exists()
    assert WebFormSubmission.objects.get().data["consent"] is False


def test_consent_only_for_channels_the_visitor_gave(world, webform, visitor):
    visitor.post(webform, {"name": "只留邮箱", "email": "only@mail.cn", "consent": "on"})
    assert list(Consent.objects.values_list("channel", flat=True)) == ["email"]


def test_the_owner_is_notified_of_a_new_web_lead(world, webform, visitor):
    visitor.post(webform, LEAD)
    note = Notification.objects.get(user=world.owner.user)
    assert note.kind == "web_lead"
    assert "王芳" in note.title
    assert note.link == f"/customers/{_customers(world).get().pk}/"


# Spam, timing, rate limits -----------------------------------------------------------------


def test_honeypot_gets_a_fake_success_and_creates_nothing(world, webform, visitor):
    response = visitor.post(webform, {**LEAD, "website": "http://spam.example"})
    assert response.status_code == 200
    assert "谢谢" in response.content.decode()
    assert not _customers(world).exists()
    sub = WebFormSubmission.objects.get()
    assert (sub.outcome, sub.data) == ("spam", {"reason": "honeypot"})


def test_a_form_filled_faster_than_a_person_can_is_spam(world, webform, visitor):
    import time

    response = visitor.post(webform, LEAD, started=time.time() - 0.5)
    assert response.status_code == 200
    assert not _customers(world).exists()
    assert WebFormSubmission.objects.get().data == {"reason": "too_fast"}


def test_a_forged_start_time_is_spam(world, webform, visitor):
    response = visitor.client.post(f"/f/{webform.token}/", {**LEAD, "_ts": "1700000000"})
    assert response.status_code == 200
    assert not _customers(world).exists()
    assert WebFormSubmission.objects.get().data == {"reason": "bad_timestamp"}


def test_a_start_time_signed_for_another_form_is_spam(world, webform, visitor):
    from guanxi.marketing.intake import sign_start

    other = make_form(world, name="另一个")
    visitor.client.post(f"/f/{webform.token}/", {**LEAD, "_ts": sign_start(other, at=0)})
    assert WebFormSubmission.objects.get().outcome == "spam"


def test_rate_limit_per_ip_and_form_answers_429_with_retry_after(world, webform, visitor, settings):
    settings.GUANXI_WEBFORM_RATE_PER_IP = (2, 600)
    visitor.post(webform, {**LEAD, "website": "x"})
    visitor.post(webform, {**LEAD, "website": "x"})
    response = visitor.post(webform, LEAD)
    assert response.status_code == 429
    assert 590 <= int(response["Retry-After"]) <= 600
    assert not _customers(world).exists()
    assert WebFormSubmission.objects.count() == 2  # a refused request writes nothing
    # Another address is not limited.
    assert Visitor("192.0.2.55").post(webform, LEAD).status_code == 200


def test_rate_limit_per_form_covers_every_address(world, webform, settings):
    settings.GUANXI_WEBFORM_RATE_PER_FORM = (3, 3600)
    for i in range(3):
        Visitor(f"192.0.2.{i}").post(webform, {"name": f"n{i}", "phone": f"1370000000{i}"})
    response = Visitor("192.0.2.99").post_json(webform, LEAD)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 429
    assert int(response["Retry-After"]) > 3000


def test_rate_limit_is_per_form(world, webform, visitor, settings):
    settings.GUANXI_WEBFORM_RATE_PER_IP = (1, 600)
    other = make_form(world, name="另一个表单")
    visitor.post(webform, LEAD)
    assert visitor.post(webform, LEAD).status_code == 429
    assert visitor.post(other, {**LEAD, "name": "x"}).status_code == 200


# Tokens ----------------------------------------------------------------------------------------


def test_unknown_and_inactive_tokens_answer_404(world, webform, visitor):
    assert visitor.client.get("/f/not-a-token/").status_code == 404
    assert visitor.client.post("/f/not-a-token/", LEAD).status_code == 404
    webform.is_active = False
    webform.save()
    assert visitor.get(webform).status_code == 404
    assert visitor.post(webform, LEAD).status_code == 404
    assert visitor.post_json(webform, LEAD).json()["status"] == 404
    assert not WebFormSubmission.objects.exists()


def test_a_regenerated_token_retires_the_old_address(world, webform, visitor):
    from guanxi.marketing.webforms import webform_regenerate_token

    old = webform.token
    new = webform_regenerate_token(actor=world.actor("admin"), form_id=webform.pk).token
    assert new != old and len(new) >= 32
    assert visitor.client.get(f"/f/{old}/").status_code == 404
    assert visitor.client.get(f"/f/{new}/").status_code == 200


# Validation ------------------------------------------------------------------------------------


def test_field_errors_rerender_the_page_with_the_values(world, webform, visitor):
    response = visitor.post(
        webform, {"name": "", "phone": "12345", "email": "not-an-email", "company": "留着"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert ('id="wf-name-error"' in html and "is required" in html) or "必填" in html
    assert 'id="wf-phone-error"' in html
    assert 'id="wf-email-error"' in html
    assert 'value="留着"' in html  # what the visitor typed stays
    assert not _customers(world).exists()
    sub = WebFormSubmission.objects.get()
    assert sub.outcome == "rejected"
    assert {e["field"] for e in sub.errors} == {"name", "phone", "email"}


def test_json_errors_are_problem_json_naming_each_field(world, webform, visitor):
    response = visitor.post_json(webform, {"name": "李雷", "phone": "abc"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["phone"]
    assert not _customers(world).exists()


def test_a_phone_or_an_email_is_needed(world, webform, visitor):
    response = visitor.post_json(webform, {"name": "无名"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "phone"


def test_json_submission_succeeds_without_revealing_the_customer(world, webform, visitor):
    response = visitor.post_json(webform, LEAD)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "谢谢！我们会尽快联系您。", "redirect_url": None}
    assert _customers(world).count() == 1


def test_bad_json_is_a_400_problem(world, webform, visitor):
    response = visitor.client.post(f"/f/{webform.token}/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    response = visitor.client.post(f"/f/{webform.token}/", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_select_and_date_fields_are_checked(world, visitor):
    form = make_form(
        world,
        name="活动报名",
        fields=[
            {"key": "name", "label": "姓名", "type": "text", "required": True, "maps_to": "name"},
            {"key": "phone", "label": "手机", "type": "phone", "required": True, "maps_to": "phone"},
            {
                "key": "city",
                "label": "城市",
                "type": "select",
                "choices": ["北京", "上海"],
                "maps_to": "city",
            },
            {"key": "birthday", "label": "生日", "type": "date", "maps_to": "birthday"},
        ],
    )
    bad = visitor.post_json(
        form, {"name": "a", "phone": "13600000000", "city": "广州", "birthday": "1990/5/3"}
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"city", "birthday"}
    future = visitor.post_json(form, {"name": "a", "phone": "13600000000", "birthday": "2999-01-01"})
    assert [e["field"] for e in future.json()["errors"]] == ["birthday"]  # the customer cleaning's rule
    ok = visitor.post_json(
        form, {"name": "a", "phone": "13600000000", "city": "上海", "birthday": "1990-05-03"}
    )
    assert ok.status_code == 200
    customer = _customers(world).get()
    assert (customer.city, customer.birthday.isoformat()) == ("上海", "1990-05-03")


# Organisations and owners ----------------------------------------------------------------------


def test_a_match_in_another_organisation_is_not_a_match(world, webform, visitor, other_customer):
    visitor.post(webform, {"name": "李娜", "phone": "13900001111", "email": "li.na@other.cn"})
    mine = _customers(world).get()
    assert mine.pk != other_customer.pk
    other_customer.refresh_from_db()
    assert other_customer.notes == "" and other_customer.source == ""


def test_round_robin_takes_turns_within_the_team(world, visitor):
    form = make_form(world, name="轮流", assignment="round_robin", assign_team="East")
    owners = []
    for i in range(4):
        Visitor(f"192.0.2.{i}").post(form, {"name": f"客户{i}", "phone": f"1350000000{i}"})
        owners.append(Customer.objects.get(phone_e164=f"+861350000000{i}").owner.username)
    # East: manager, owner, teammate (by user id) — each in turn, then round again.
    east = ["manager", "owner", "teammate"]
    assert owners == [*east, east[0]]


def test_pool_assignment_puts_new_leads_in_the_public_pool(world, visitor):
    form = make_form(world, name="公海表单", assignment="pool")
    visitor.post(form, LEAD)
    customer = _customers(world).get()
    assert customer.owner is None and customer.in_public_pool
    move = CustomerAssignment.objects.get(customer=customer)
    assert move.reason == "release" and "公海表单" in move.note
    assert not Notification.objects.exists()


def test_a_fixed_user_who_left_sends_leads_to_the_pool(world, webform, visitor):
    world.owner.is_active = False
    world.owner.save()
    visitor.post(webform, LEAD)
    customer = _customers(world).get()
    assert customer.owner is None and customer.in_public_pool


# Rendering -------------------------------------------------------------------------------------


def test_page_is_embeddable_only_by_allowed_origins_and_runs_no_script(world, webform, visitor):
    response = visitor.get(webform)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.acme.cn" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert "X-Frame-Options" not in response
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert 'name="website"' in html and 'name="_ts"' in html
    assert "<script" not in html
    # Every other page keeps X-Frame-Options: DENY.
    assert visitor.client.get("/login/")["X-Frame-Options"] == "DENY"


def test_page_speaks_the_form_language_and_can_switch(world, webform, visitor):
    zh = visitor.get(webform).content.decode()
    assert 'lang="zh-CN"' in zh and "姓名" in zh and ">Name" not in zh
    en = visitor.get(webform, "?lang=en").content.decode()
    assert 'lang="en"' in en and ">Name" in en and "姓名" not in en
    assert "公司 Company" in en  # a single-text label is used for both languages


def test_labels_and_thank_you_text_are_escaped(world, visitor):
    evil = "<img src=x onerror=alert(1)>"
    form = make_form(
        world,
        name="xss",
        title=f"T{evil}",
        intro=evil,
        thank_you_text=f"Thanks{evil}",
        consent_text=evil,
        fields=[
            {"key": "name", "label": f"N{evil}", "type": "text", "required": True, "maps_to": "name"},
            {"key": "phone", "label": "P", "type": "phone", "maps_to": "phone"},
            {"key": "pick", "label": "C", "type": "select", "choices": [evil], "maps_to": "notes"},
        ],
    )
    page = visitor.get(form).content.decode()
    done = visitor.post(form, {"name": "a", "phone": "13600000000"}).content.decode()
    for html in (page, done):
        assert evil not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Thanks&lt;img" in done


def test_redirect_after_success_when_configured(world, visitor):
    form = make_form(world, name="跳转", redirect_url="https://www.acme.cn/thanks")
    response = visitor.post(form, LEAD)
    assert response.status_code == 302
    assert response["Location"] == "https://www.acme.cn/thanks"
    assert "form-action 'self' https://www.acme.cn" in response["Content-Security-Policy"]


def test_scripts_on_allowed_origins_may_post_json(world, visitor):
    form = make_form(world, name="cors", allowed_origins=["https://www.acme.cn", "https://*.shop.acme.cn"])
    preflight = visitor.client.options(f"/f/{form.token}/", headers={"Origin": "https://m.shop.acme.cn"})
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://m.shop.acme.cn"
    ok = visitor.client.post(
        f"/f/{form.token}/", LEAD, content_type="application/json", headers={"Origin": "https://www.acme.cn"}
    )
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == "https://www.acme.cn"
    evil = visitor.client.options(f"/f/{form.token}/", headers={"Origin": "https://evil.cn"})
    assert "Access-Control-Allow-Origin" not in evil
    lookalike = visitor.client.options(f"/f/{form.token}/", headers={"Origin": "https://evilshop.acme.cn"})
    assert "Access-Control-Allow-Origin" not in lookalike

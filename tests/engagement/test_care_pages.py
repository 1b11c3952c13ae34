"""Care rule pages (admin): list with on/off switch, create/edit with field errors, the preview of
the next run (consent, nobody twice, audience) and the history of what each rule sent."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.core.models import AuditEvent, CustomFieldDefinition
from guanxi.customers.models import Customer
from guanxi.engagement import care
from guanxi.engagement.email import template_create
from guanxi.engagement.models import CareRule, CareSend, MessageTemplate
from guanxi.engagement.selectors import org_zone
from guanxi.engagement.services import consent_record

pytestmark = pytest.mark.django_db
NOT_ADMINS = ("manager", "owner", "teammate", "outsider", "marketing", "service", "readonly")


def login(world: Any, who: str) -> Client:
    # English, so the assertions do not depend on the catalogue being merged and compiled yet.
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.members[who].user)
    return client


def _template(world: Any, purpose: str = "marketing", name: str = "生日祝福") -> MessageTemplate:
    return template_create(
        actor=world.actor("admin"),
        data={
            "name": name,
            "purpose": purpose,
            "subject": "生日快乐，{{ salutation }}",
            "body_text": "{{ salutation }}，祝您生日快乐！",
        },
    )


def _rule(world: Any, **data: Any) -> CareRule:
    template = data.pop("template", None) or _template(world)
    return care.rule_create(
        actor=world.actor("admin"),
        data={"name": "生日问候", "kind": "birthday", "template_id": template.pk, **data},
    )


def _today() -> dt.date:
    return timezone.now().astimezone(org_zone("Asia/Shanghai")).date()


def _birthday_today(years: int = 40) -> str:
    today = _today()
    return today.replace(year=today.year - years, day=min(today.day, 28)).isoformat()


def _form(tpl: MessageTemplate | None, **change: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "A级客户生日祝福",
        "kind": "birthday",
        "enabled": "on",
        "channel": "email",
        "template": str(tpl.pk) if tpl else "",
        "send_time": "09:00",
        "country": "CN",
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


# Access ---------------------------------------------------------------------------------------


def test_only_admins_reach_the_care_pages(world: Any) -> None:
    rule = _rule(world)
    urls = [
        "/engagement/care-rules/",
        "/engagement/care-rules/new/",
        f"/engagement/care-rules/{rule.pk}/",
        f"/engagement/care-rules/{rule.pk}/edit/",
    ]
    admin = login(world, "admin")
    for url in urls:
        assert admin.get(url).status_code == 200, url
    for who in NOT_ADMINS:
        client = login(world, who)
        for url in urls:
            assert client.get(url).status_code == 403, (who, url)
        assert client.post(f"/engagement/care-rules/{rule.pk}/toggle/", {"enabled": "0"}).status_code == 403
        assert client.post(f"/engagement/care-rules/{rule.pk}/delete/").status_code == 403
    # Another organisation's admin: the rule does not exist for them.
    other = login(world, "other_admin")
    for url in urls[2:]:
        assert other.get(url).status_code == 404, url
    assert other.post(f"/engagement/care-rules/{rule.pk}/toggle/", {"enabled": "0"}).status_code == 404
    assert other.post(f"/engagement/care-rules/{rule.pk}/delete/").status_code == 404
    assert rule.name not in other.get("/engagement/care-rules/").content.decode()
    assert CareRule.objects.get(pk=rule.pk).enabled
    r = Client().get("/engagement/care-rules/")
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_navigation_links_care_rules_for_admins_only(world: Any) -> None:
    assert 'id="nav-care-rules"' in login(world, "admin").get("/engagement/my-day/").content.decode()
    for who in ("manager", "owner", "marketing"):
        assert 'id="nav-care-rules"' not in login(world, who).get("/engagement/my-day/").content.decode()


# List and switch ------------------------------------------------------------------------------


def test_list_shows_rules_and_the_switch_turns_them_off_and_on(world: Any) -> None:
    rule = _rule(world)
    admin = login(world, "admin")
    html = admin.get("/engagement/care-rules/").content.decode()
    assert "生日问候" in html and f'data-toggle="{rule.pk}"' in html and 'aria-checked="true"' in html

    r = admin.post(
        f"/engagement/care-rules/{rule.pk}/toggle/", {"enabled": "0"}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200
    row = r.content.decode()
    assert row.strip().startswith(f'<tr id="care-rule-{rule.pk}"') and 'aria-checked="false"' in row
    assert not CareRule.objects.get(pk=rule.pk).enabled
    event = AuditEvent.objects.filter(object_type="care_rule", action="update").latest("id")
    assert event.changes == {"enabled": [True, False]}

    r = admin.post(f"/engagement/care-rules/{rule.pk}/toggle/", {"enabled": "1"})
    assert r.status_code == 302 and r["Location"] == "/engagement/care-rules/"
    assert CareRule.objects.get(pk=rule.pk).enabled


# Create and edit ------------------------------------------------------------------------------


def test_admin_creates_a_birthday_rule_with_an_audience_and_sees_the_preview(
    world: Any, make_customer: Any
) -> None:
    CustomFieldDefinition.objects.create(
        organization=world.org, key="level", label="会员等级", field_type="choice", choices=["VIP", "普通"]
    )
    template = _template(world)
    birthday = _birthday_today()
    wang = make_customer(
        "owner", name="王强", title="总经理", gender="male", email="wang@example.com", birthday=birthday,
        grade="A", province="广东", custom={"level": "VIP"},
    )  # fmt: skip
    li = make_customer(
        "owner", name="李娜", gender="female", email="li@example.com", birthday=birthday, grade="A",
        province="浙江", custom={"level": "VIP"},
    )  # fmt: skip
    make_customer(
        "owner", name="赵六", email="zhao@example.com", birthday=birthday, grade="B", province="广东"
    )
    make_customer(
        "owner", name="钱七", email="qian@example.com", birthday=birthday, grade="A", province="广东",
        custom={"level": "普通"},
    )  # fmt: skip
    consent_record(
        actor=world.actor("admin"), customer_id=wang.pk, purpose="marketing", channel="email", granted=True
    )

    admin = login(world, "admin")
    form = _form(
        template,
        audience_grade=["A"],
        audience_province="广东，浙江",
        audience_cf_level=["VIP"],
        audience_value_tier=[],
    )
    r = admin.post("/engagement/care-rules/new/", form)
    assert r.status_code == 302, r.content.decode()[:3000]
    rule = CareRule.objects.get()
    assert r["Location"] == f"/engagement/care-rules/{rule.pk}/"
    assert rule.audience == {"grade": ["A"], "province": ["广东", "浙江"], "custom": {"level": ["VIP"]}}
    assert (rule.kind, rule.channel, rule.template_id, rule.send_time) == (
        "birthday",
        "email",
        template.pk,
        dt.time(9),
    )
    assert AuditEvent.objects.filter(
        object_type="care_rule", action="create", object_id=str(rule.pk)
    ).exists()

    html = admin.get(r["Location"]).content.decode()
    # 王强 (A, 广东, VIP, consent) will get it; 李娜 matches but has no marketing consent; 赵六 is grade B,
    # 钱七 is not VIP: both outside the audience.
    assert "1 will be contacted" in html and "1 skipped" in html
    assert "王强" in html and "李娜" in html and "no marketing consent for email" in html
    assert "赵六" not in html and "钱七" not in html
    assert "会员等级: VIP" in html

    # Once 王强 got this year's greeting, the preview no longer lists him: nobody gets it twice.
    CareSend.objects.create(
        organization=world.org, rule=rule, customer=wang, occasion_key=f"birthday:{_today().year}"
    )
    html = admin.get(r["Location"]).content.decode()
    assert "0 will be contacted" in html and "王强</a>" not in html.split('id="care-history"')[0]
    assert li.name in html


def test_edit_form_is_filled_in_and_saves_revisit_days(world: Any) -> None:
    rule = _rule(world, audience={"grade": ["A"], "tags": []})
    admin = login(world, "admin")
    html = admin.get(f"/engagement/care-rules/{rule.pk}/edit/").content.decode()
    assert 'value="生日问候"' in html
    assert re.search(r'name="audience_grade" value="A"[^>]*checked', html)
    assert not re.search(r'name="audience_grade" value="B"[^>]*checked', html)
    r = admin.post(
        f"/engagement/care-rules/{rule.pk}/edit/",
        _form(None, name="A级回访", kind="revisit", channel="task", revisit_A="14", revisit_B="30",
              default_revisit_days="60", audience_grade=["A", "B"]),
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    rule.refresh_from_db()
    assert (rule.name, rule.kind, rule.channel) == ("A级回访", "revisit", "task")
    assert rule.revisit_days == {"A": 14, "B": 30} and rule.default_revisit_days == 60
    assert rule.audience == {"grade": ["A", "B"]}
    html = admin.get(f"/engagement/care-rules/{rule.pk}/").content.decode()
    assert "A: 14" in html and "B: 30" in html


def test_holiday_rule_for_another_country(world: Any) -> None:
    template = _template(world, purpose="transactional", name="Holiday")
    r = login(world, "admin").post(
        "/engagement/care-rules/new/",
        _form(template, name="US holidays", kind="holiday", country="us",
              other_holidays="Independence Day, Christmas Day"),
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    rule = CareRule.objects.get()
    assert rule.country == "US" and rule.holidays == ["Independence Day", "Christmas Day"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"template": ""}, "template", "an email rule needs a template"),
        ({"template": "999999"}, "template", "Select a valid choice."),
        ({"send_time": "25:61"}, "send_time", "Enter a valid time."),
        ({"kind": "wedding"}, "kind", "Select a valid choice."),
        ({"kind": "holiday", "country": "XX"}, "country", "the holidays package does not know this country"),
        ({"kind": "revisit", "channel": "task"}, "default_revisit_days", "a revisit rule needs days"),
        ({"kind": "revisit", "revisit_A": "-3"}, "revisit_A", "greater than or equal to 1"),
        ({"audience_grade": ["Z"]}, "audience_grade", "Select a valid choice."),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: Any, change: dict[str, Any], field: str, message: str
) -> None:
    template = _template(world)
    r = login(world, "admin").post("/engagement/care-rules/new/", _form(template, **change))
    assert r.status_code == 400
    form = r.context["form"]
    assert field in form.errors, form.errors
    assert any(message in e for e in form.errors[field]), form.errors[field]
    assert not CareRule.objects.exists()


def test_bad_edit_keeps_the_rule_as_it_was(world: Any) -> None:
    rule = _rule(world)
    r = login(world, "admin").post(
        f"/engagement/care-rules/{rule.pk}/edit/", _form(None, name="改名", template="")
    )
    assert r.status_code == 400 and "template" in r.context["form"].errors
    rule.refresh_from_db()
    assert rule.name == "生日问候" and rule.template_id is not None


# History and delete ---------------------------------------------------------------------------


def test_history_lists_what_the_rule_sent(world: Any, make_customer: Any, smtp: Any) -> None:
    template = _template(world, purpose="transactional")
    wang = make_customer(
        "owner", name="王强", title="总经理", email="wang@example.com", birthday="1980-02-06"
    )
    nomail = make_customer("owner", name="孙七", birthday="1990-02-06")
    rule = _rule(world, template=template)
    counts = care.care_run_due(now=dt.datetime(2027, 2, 6, 9, 30, tzinfo=org_zone("Asia/Shanghai")))
    assert counts == {"sent": 1, "skipped": 1}
    assert [m["Subject"] for m in smtp.to("wang@example.com")] == ["生日快乐，王总"]

    html = login(world, "admin").get(f"/engagement/care-rules/{rule.pk}/").content.decode()
    history = html.split('id="care-history"')[1]
    assert "王强" in history and "birthday:2027" in history and "status-sent" in history
    assert nomail.name not in history  # skipped customers are not recorded as sent
    list_html = login(world, "admin").get("/engagement/care-rules/").content.decode()
    assert '<td class="hide-sm">1</td>' in list_html.split(f'id="care-rule-{rule.pk}"')[1]
    assert Customer.objects.get(pk=wang.pk).last_contacted_at is None  # a greeting is not a follow-up


def test_task_rule_history_shows_the_owners_task(world: Any, make_customer: Any) -> None:
    make_customer("owner", name="王强", grade="A", birthday="1980-02-06")
    rule = _rule(world, channel="task", template=_template(world))
    care.care_run_due(now=dt.datetime(2027, 2, 6, 9, 30, tzinfo=org_zone("Asia/Shanghai")))
    history = login(world, "admin").get(f"/engagement/care-rules/{rule.pk}/").content.decode()
    assert "task open" in history.split('id="care-history"')[1] and "owner" in history


def test_delete_rule(world: Any) -> None:
    rule = _rule(world)
    r = login(world, "admin").post(f"/engagement/care-rules/{rule.pk}/delete/")
    assert r.status_code == 302 and not CareRule.objects.exists()
    assert AuditEvent.objects.filter(object_type="care_rule", action="delete").exists()
    assert login(world, "admin").get(f"/engagement/care-rules/{rule.pk}/").status_code == 404

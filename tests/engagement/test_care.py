"""Care automation (关怀): dates for any year, rules API, preview, and greetings that really arrive."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from guanxi.customers.models import Customer
from guanxi.engagement import calendar
from guanxi.engagement.care import care_run_due
from guanxi.engagement.models import CareRule, CareSend, EmailMessage, Task

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


# Dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "spring", "mid_autumn", "qingming"),
    [
        (2027, dt.date(2027, 2, 6), dt.date(2027, 9, 15), dt.date(2027, 4, 5)),
        (2028, dt.date(2028, 1, 26), dt.date(2028, 10, 3), dt.date(2028, 4, 4)),
        (2035, dt.date(2035, 2, 8), dt.date(2035, 9, 16), dt.date(2035, 4, 5)),
        (2060, dt.date(2060, 2, 2), dt.date(2060, 9, 9), dt.date(2060, 4, 4)),
    ],
)
def test_chinese_holidays_for_any_year(
    year: int, spring: dt.date, mid_autumn: dt.date, qingming: dt.date
) -> None:
    assert calendar.CHINESE_HOLIDAYS["spring_festival"](year) == spring
    assert calendar.CHINESE_HOLIDAYS["mid_autumn"](year) == mid_autumn
    assert calendar.CHINESE_HOLIDAYS["qingming"](year) == qingming
    assert calendar.CHINESE_HOLIDAYS["national_day"](year) == dt.date(year, 10, 1)
    assert calendar.CHINESE_HOLIDAYS["lantern"](year) == spring + dt.timedelta(days=14)


def test_qingming_formula_agrees_with_the_holidays_package() -> None:
    import holidays

    for year in range(2008, 2100):  # Qingming is a public holiday since 2008
        known = [d for d, n in holidays.CN(years=year).items() if n == "Tomb-Sweeping Day"]
        assert calendar.qingming(year) == known[0], year


def test_birthdays_solar_lunar_leap_day_and_thirtieth() -> None:
    assert calendar.birthday_in(2027, dt.date(1990, 3, 15), lunar=False) == [dt.date(2027, 3, 15)]
    assert calendar.birthday_in(2027, dt.date(1992, 2, 29), lunar=False) == [dt.date(2027, 2, 28)]
    assert calendar.birthday_in(2028, dt.date(1992, 2, 29), lunar=False) == [dt.date(2028, 2, 29)]
    assert calendar.birthday_in(2027, dt.date(1985, 8, 15), lunar=True) == [dt.date(2027, 9, 15)]
    # lunar 12/30 in a year whose 12th month has 29 days: celebrated on the 29th (the eve)
    assert calendar.birthday_in(2027, dt.date(1990, 12, 30), lunar=True) == [dt.date(2027, 2, 5)]


def test_other_countries_through_the_holidays_package() -> None:
    assert calendar.holidays_on(dt.date(2027, 7, 4), country="US", names=[]) == [
        ("Independence Day", "Independence Day")
    ]
    assert calendar.holidays_on(dt.date(2027, 7, 5), country="US", names=["Christmas Day"]) == []


# Rules API ------------------------------------------------------------------------------------


def _template(world: Any, purpose: str = "marketing", name: str = "节日问候") -> int:
    r = world.api("admin").post(
        "/email-templates",
        {
            "name": name,
            "purpose": purpose,
            "subject": "{{ occasion }}快乐，{{ salutation }}",
            "body_text": "{{ salutation }}：祝您{{ occasion }}快乐！——艾克米",
        },
    )
    assert r.status_code == 201, r.content
    return int(r.json()["id"])


def test_rules_admin_writes_others_read(world: Any) -> None:
    template_id = _template(world)
    rule = {
        "name": "春节问候",
        "kind": "holiday",
        "holidays": ["spring_festival"],
        "template_id": template_id,
    }
    for who in ("owner", "manager", "marketing", "readonly"):
        assert world.api(who).post("/care-rules", rule).status_code == 403, who
    r = world.api("admin").post("/care-rules", rule)
    assert r.status_code == 201, r.content
    rule_id = r.json()["id"]
    assert r.json()["send_time"] == "09:00:00"
    assert world.api("owner").get(f"/care-rules/{rule_id}").status_code == 200
    assert world.api("owner").patch(f"/care-rules/{rule_id}", {"enabled": False}).status_code == 403
    assert world.api("other_admin").get(f"/care-rules/{rule_id}").status_code == 404
    assert world.api("other_admin").patch(f"/care-rules/{rule_id}", {"enabled": False}).status_code == 404
    assert world.api("other_admin").get(f"/care-rules/{rule_id}/preview").status_code == 404
    assert world.api("other_admin").get("/care-rules").json() == []
    r = world.api("admin").patch(f"/care-rules/{rule_id}", {"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert world.api("admin").delete(f"/care-rules/{rule_id}").status_code == 204


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "wedding"}, "kind"),
        ({"template_id": None}, "template_id"),
        ({"template_id": 999999}, "template_id"),
        ({"holidays": ["christmas"]}, "holidays"),
        ({"country": "XX"}, "country"),
        ({"audience": {"shoe_size": ["42"]}}, "audience.shoe_size"),
        ({"audience": {"grade": "A"}}, "audience.grade"),
        ({"send_time": "25:00"}, "send_time"),
        ({"kind": "revisit", "channel": "task"}, "revisit_days"),
        ({"revisit_days": {"A": -3}}, "revisit_days.A"),
        ({"channel": "pigeon"}, "channel"),
    ],
)
def test_rule_bad_input_names_the_field(world: Any, change: dict[str, Any], field: str) -> None:
    template_id = _template(world)
    rule = {"name": "r", "kind": "holiday", "template_id": template_id, **change}
    r = world.api("admin").post("/care-rules", rule)
    assert r.status_code == 422, r.content
    fields = [e["field"] for e in r.json()["errors"]]
    assert field in fields or field.split(".")[0] in fields, fields
    assert not CareRule.objects.exists()


# Greetings that arrive ------------------------------------------------------------------------


def _customers(make_customer: Any) -> dict[str, Customer]:
    made = {
        "boss": make_customer(
            "owner",
            name="王强",
            title="总经理",
            gender="male",
            email="wang@example.com",
            birthday="1980-02-06",
        ),
        "lady": make_customer(
            "owner",
            name="李娜",
            gender="female",
            email="li@example.com",
            birthday="1985-08-15",
            birthday_is_lunar=True,
        ),
        "noconsent": make_customer("outsider", name="赵六", gender="male", email="zhao@example.com"),
        "nomail": make_customer("outsider", name="孙七", gender="male", birthday="1990-02-06"),
    }
    return made


def _consent(world: Any, *customers: Customer) -> None:
    from guanxi.engagement.services import consent_record

    for c in customers:
        consent_record(
            actor=world.actor("admin"),
            customer_id=c.pk,
            purpose="marketing",
            channel="email",
            granted=True,
            source="signup",
        )


def _run(now: str, *extra: str) -> str:
    out = StringIO()
    call_command("jobs", "run-due", "--now", now, *extra, stdout=out)
    return out.getvalue()


def test_birthday_and_spring_festival_greetings_arrive_once(
    world: Any, make_customer: Any, smtp: Any
) -> None:
    people = _customers(make_customer)
    _consent(world, people["boss"], people["lady"])
    admin = world.api("admin")
    admin.put("/engagement/settings", {"from_name": "艾克米", "from_email": "care@acme.test"})
    holiday_tpl = _template(world, "marketing", "节日问候")
    birthday_tpl = (
        world.api("admin")
        .post(
            "/email-templates",
            {
                "name": "生日祝福",
                "purpose": "transactional",
                "subject": "生日快乐，{{ salutation }}",
                "body_text": "{{ salutation }}，祝您生日快乐！",
            },
        )
        .json()["id"]
    )
    assert (
        admin.post(
            "/care-rules",
            {"name": "春节", "kind": "holiday", "holidays": ["spring_festival"], "template_id": holiday_tpl},
        ).status_code
        == 201
    )
    birthday_rule = admin.post(
        "/care-rules", {"name": "生日", "kind": "birthday", "template_id": birthday_tpl}
    )
    assert birthday_rule.status_code == 201

    # Preview the evening before: who will be contacted on 2027-02-06 09:00 (Spring Festival).
    preview = admin.get(
        f"/care-rules/{birthday_rule.json()['id']}/preview", {"now": "2027-02-05T20:00:00+08:00"}
    ).json()
    assert preview["run_at"] == "2027-02-06T09:00:00+08:00"
    assert {(i["name"], i["will_send"]) for i in preview["items"]} == {("王强", True), ("孙七", False)}
    assert smtp.messages == []

    _run("2027-02-06T08:00:00+08:00")  # the hourly tick before the send time
    assert smtp.messages == []

    report = _run("2027-02-06T09:00:00+08:00")
    assert "care_rules: ok" in report
    to_wang = smtp.to("wang@example.com")
    subjects = sorted(m["Subject"] for m in to_wang)
    assert subjects == ["春节快乐，王总", "生日快乐，王总"]
    assert "care@acme.test" in to_wang[0]["From"]
    assert [m["Subject"] for m in smtp.to("li@example.com")] == ["春节快乐，李女士"]
    assert smtp.to("zhao@example.com") == []  # no marketing consent
    assert len(smtp.messages) == 3
    assert EmailMessage.objects.filter(status="sent").count() == 3
    assert CareSend.objects.filter(occasion_key="holiday:spring_festival:2027").count() == 2
    assert CareSend.objects.filter(occasion_key="birthday:2027").count() == 1
    assert (
        Customer.objects.get(pk=people["boss"].pk).last_contacted_at is None
    )  # greetings are not follow-ups

    # Again: not due; forced: the CareSend rows stop a second greeting; later the same day: nothing.
    assert "nothing was due" in _run("2027-02-06T09:00:00+08:00", "--only", "care_rules")
    _run("2027-02-06T09:00:00+08:00", "--only", "care_rules", "--force")
    _run("2027-02-06T15:00:00+08:00")
    assert set(care_run_due(now=dt.datetime(2027, 2, 6, 23, 0, tzinfo=SH))) == {
        "skipped"
    }  # no consent, no email
    assert len(smtp.messages) == 3

    # Lunar birthday: 八月十五 falls on 2027-09-15.
    _run("2027-09-15T09:00:00+08:00")
    assert [m["Subject"] for m in smtp.to("li@example.com")][-1] == "生日快乐，李女士"
    _run("2027-09-15T09:00:00+08:00", "--only", "care_rules", "--force")
    assert len(smtp.to("li@example.com")) == 2

    # Next year's Spring Festival is a new occasion.
    _run("2028-01-26T09:30:00+08:00")
    assert sorted(m["Subject"] for m in smtp.to("wang@example.com"))[0] == "春节快乐，王总"
    assert len(smtp.to("wang@example.com")) == 3


def test_disabled_rule_and_audience_filter(world: Any, make_customer: Any, smtp: Any) -> None:
    a = make_customer("owner", name="甲客户", email="a@example.com", province="广东")
    b = make_customer("owner", name="乙客户", email="b@example.com", province="北京")
    Customer.objects.filter(pk=a.pk).update(grade="A", custom={"industry_code": "IT"})
    Customer.objects.filter(pk=b.pk).update(grade="B", custom={"industry_code": "FIN"})
    template_id = _template(world, "transactional")
    rule = {"name": "国庆", "kind": "holiday", "holidays": ["national_day"], "template_id": template_id}
    admin = world.api("admin")
    for audience, expected in [
        ({"grade": ["A"]}, {"a@example.com"}),
        ({"province": ["北京"]}, {"b@example.com"}),
        ({"custom": {"industry_code": ["IT", "FIN"]}, "grade": ["B"]}, {"b@example.com"}),
        ({"custom": {"industry_code": "IT"}}, {"a@example.com"}),
        ({}, {"a@example.com", "b@example.com"}),
    ]:
        CareRule.objects.all().delete()
        rule_id = admin.post("/care-rules", {**rule, "audience": audience}).json()["id"]
        items = admin.get(f"/care-rules/{rule_id}/preview", {"now": "2027-09-30T12:00:00+08:00"}).json()[
            "items"
        ]
        names = {Customer.objects.get(pk=i["customer_id"]).email for i in items}
        assert names == expected, audience
    admin.patch(f"/care-rules/{rule_id}", {"enabled": False})
    care_run_due(now=dt.datetime(2027, 10, 1, 10, 0, tzinfo=SH))
    assert smtp.messages == []


def test_preview_only_shows_visible_customers(world: Any, make_customer: Any) -> None:
    make_customer("owner", name="东区", email="e@example.com", birthday="1990-05-01")
    make_customer("outsider", name="西区", email="w@example.com", birthday="1990-05-01")
    template_id = _template(world, "transactional")
    rule_id = (
        world.api("admin")
        .post("/care-rules", {"name": "b", "kind": "birthday", "template_id": template_id})
        .json()["id"]
    )
    params = {"now": "2027-05-01T07:00:00+08:00"}
    assert len(world.api("admin").get(f"/care-rules/{rule_id}/preview", params).json()["items"]) == 2
    assert [
        i["name"] for i in world.api("owner").get(f"/care-rules/{rule_id}/preview", params).json()["items"]
    ] == ["东区"]


def test_revisit_tasks_per_grade_once_per_gap(world: Any, make_customer: Any) -> None:
    a = make_customer("owner", name="A级客户")
    b = make_customer("owner", name="B级客户")
    pool = make_customer("admin", name="无主客户")
    last = dt.datetime(2027, 3, 1, 10, 0, tzinfo=SH)
    Customer.objects.filter(pk=a.pk).update(grade="A", last_contacted_at=last)
    Customer.objects.filter(pk=b.pk).update(grade="B", last_contacted_at=last)
    Customer.objects.filter(pk=pool.pk).update(grade="A", last_contacted_at=last, owner=None)
    r = world.api("admin").post(
        "/care-rules",
        {"name": "回访", "kind": "revisit", "channel": "task", "revisit_days": {"A": 14, "B": 30}},
    )
    assert r.status_code == 201, r.content
    care_run_due(now=dt.datetime(2027, 3, 14, 10, 0, tzinfo=SH))
    assert not Task.objects.exists()
    counts = care_run_due(now=dt.datetime(2027, 3, 15, 10, 0, tzinfo=SH))
    assert counts == {"task": 1, "skipped": 1}
    task = Task.objects.get()
    assert task.customer_id == a.pk and task.assignee_id == world.owner.user_id and "A级客户" in task.title
    care_run_due(now=dt.datetime(2027, 3, 16, 10, 0, tzinfo=SH))
    assert Task.objects.count() == 1  # same gap: no second task
    world.api("owner").post(
        "/activities", {"customer_id": a.pk, "kind": "call", "occurred_at": "2027-03-20T10:00:00+08:00"}
    )
    care_run_due(now=dt.datetime(2027, 4, 3, 10, 0, tzinfo=SH))
    assert Task.objects.filter(customer_id=a.pk).count() == 2  # a new gap after the call
    care_run_due(now=dt.datetime(2027, 3, 31, 10, 0, tzinfo=SH))
    assert Task.objects.filter(customer_id=b.pk).count() == 1


def test_anniversary_of_becoming_a_customer(world: Any, make_customer: Any, smtp: Any) -> None:
    c = make_customer("owner", name="老客户", email="old@example.com")
    Customer.objects.filter(pk=c.pk).update(created_at=dt.datetime(2025, 6, 1, 10, 0, tzinfo=SH))
    template_id = _template(world, "transactional")
    world.api("admin").post(
        "/care-rules", {"name": "周年", "kind": "anniversary", "template_id": template_id}
    )
    care_run_due(now=dt.datetime(2027, 6, 1, 9, 5, tzinfo=SH))
    assert len(smtp.messages) == 1 and smtp.messages[0]["Subject"].endswith("快乐，老客户")
    assert CareSend.objects.get().occasion_key == "anniversary:2027"
    care_run_due(now=dt.datetime(2027, 6, 1, 15, 0, tzinfo=SH))
    care_run_due(now=dt.datetime(2027, 6, 2, 9, 5, tzinfo=SH))
    assert len(smtp.messages) == 1


def test_care_cli_list_preview_run(world: Any, make_customer: Any, smtp: Any) -> None:
    import json

    from django.core.management.base import CommandError

    make_customer("owner", name="周八", email="zhou@example.com", birthday="1990-05-01")
    template_id = _template(world, "transactional")
    rule_id = (
        world.api("admin")
        .post("/care-rules", {"name": "生日", "kind": "birthday", "template_id": template_id})
        .json()["id"]
    )
    out = StringIO()
    call_command("care", "list", "--org", "acme", "--json", stdout=out)
    assert json.loads(out.getvalue())["rules"][0]["id"] == rule_id
    out = StringIO()
    call_command(
        "care",
        "preview",
        str(rule_id),
        "--org",
        "acme",
        "--now",
        "2027-05-01T07:00:00+08:00",
        "--json",
        stdout=out,
    )
    assert [i["name"] for i in json.loads(out.getvalue())["items"]] == ["周八"]
    out = StringIO()
    call_command("care", "run", "--org", "acme", "--now", "2027-05-01T09:30:00+08:00", "--json", stdout=out)
    assert json.loads(out.getvalue())["counts"] == {"sent": 1}
    assert len(smtp.messages) == 1
    with pytest.raises(CommandError):
        call_command("care", "preview", "999999", "--org", "acme", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("care", "run", "--org", "acme", "--now", "soon", stdout=StringIO())

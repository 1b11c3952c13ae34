"""The demo looks used: follow-ups over months, tasks for every rep (overdue and today), consent,
templates, care rules, pool rules and pool customers — made once, through the same rules."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from guanxi.bench.demo import DEMO_PASSWORD
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer, CustomerAssignment, PoolRule, PoolSettings
from guanxi.engagement import care
from guanxi.engagement.models import Activity, CareRule, Consent, MessageTemplate, Task


def _demo() -> dict[str, Any]:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--customers", "200", "--json", stdout=out)
    return json.loads(out.getvalue())


def _counts() -> dict[str, int]:
    models = [Activity, Task, Consent, MessageTemplate, CareRule, PoolRule, PoolSettings, CustomerAssignment,
              AuditEvent]  # fmt: skip
    return {m.__name__: m.objects.count() for m in models}


def test_demo_engagement_data_is_lived_in_and_made_once(db: Any) -> None:
    result = _demo()
    now = timezone.now()
    counts = _counts()
    assert result["totals"]["activities"] == counts["Activity"] > 100
    assert {k for k, _ in Activity.Kind.choices} <= set(Activity.objects.values_list("kind", flat=True))
    oldest = Activity.objects.order_by("occurred_at").first()
    assert oldest is not None and oldest.occurred_at < now - dt.timedelta(days=60)
    assert not Activity.objects.filter(occurred_at__gt=now).exists()
    # Each activity was logged by the customer's owner, and last contact follows the newest one.
    activity = Activity.objects.select_related("customer").order_by("-occurred_at").first()
    assert activity is not None and activity.created_by_id == activity.customer.owner_id
    assert activity.customer.last_contacted_at == activity.occurred_at
    assert AuditEvent.objects.filter(object_type="activity", object_id=str(activity.pk)).exists()

    for rep in ("sales1", "sales2", "manager"):
        open_tasks = Task.objects.filter(assignee__username=rep, done=False)
        assert open_tasks.filter(due_at__lt=now).exists(), rep  # overdue
        assert open_tasks.filter(due_at__gte=now, due_at__lt=now + dt.timedelta(days=1)).exists(), (
            rep
        )  # today
    assert Task.objects.filter(activity__isnull=False).count() > 0

    assert set(MessageTemplate.objects.values_list("name", flat=True)) == {
        "生日祝福",
        "春节问候",
        "报价跟进",
        "新品推荐",
    }
    rules = {r.name: r for r in CareRule.objects.all()}
    assert rules["A级客户14天回访"].revisit_days == {"A": 14} and rules["A级客户14天回访"].channel == "task"
    assert rules["春节问候"].holidays == ["spring_festival"] and rules["客户生日祝福"].kind == "birthday"
    assert PoolRule.objects.filter(grade="A").exists() and PoolSettings.objects.get().daily_claim_limit == 10
    pooled = Customer.objects.filter(in_public_pool=True, owner__isnull=True)
    assert result["totals"]["pool"] == pooled.count() == 12
    assert CustomerAssignment.objects.filter(reason="release").exclude(note="").count() == 12
    assert Consent.objects.filter(granted=True).count() > 0

    # The birthday rule's preview has both kinds of rows: consented customers get it, others are skipped.
    from guanxi.core.context import Actor
    from guanxi.core.models import Membership

    admin = Actor(membership=Membership.objects.get(user__username="admin"), via="cli")
    run = dt.datetime.combine(dt.date(2027, 3, 15), dt.time(8, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    with_email = Customer.objects.exclude(email="").order_by("pk").values("pk")[:40]
    Customer.objects.filter(pk__in=with_email).update(birthday=dt.date(1985, 3, 15), birthday_is_lunar=False)
    preview = care.care_preview(actor=admin, rule_id=rules["客户生日祝福"].pk, now=run)
    assert len(preview["items"]) == 40
    assert {i["will_send"] for i in preview["items"]} == {True, False}

    # The pages a new user opens first are not empty.
    client = Client(headers={"Accept-Language": "en"})
    assert client.login(username="sales1", password=DEMO_PASSWORD)
    my_day = client.get("/engagement/my-day/").content.decode()
    assert "Nothing overdue." not in my_day
    assert client.get("/pool/").status_code == 200

    second = _demo()
    assert _counts() == counts
    assert second["totals"] == result["totals"]

"""Workspace pages: my day, the follow-up records table, logging a follow-up from a customer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.engagement.models import Activity, Task
from guanxi.engagement.services import activity_create, task_create

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.engagement.urls_with_engagement")]


def login(world: Any, who: str) -> Client:
    client = Client()
    client.force_login(world.members[who].user)
    return client


def test_pages_need_a_sign_in(world: Any) -> None:
    for url in ("/engagement/my-day/", "/engagement/activities/"):
        r = Client().get(url)
        assert r.status_code == 302 and "/login/" in r["Location"]


def test_my_day_shows_my_tasks_and_marks_done(world: Any, customer: Any) -> None:
    now = timezone.now()
    overdue = task_create(
        actor=world.actor("owner"),
        data={"title": "逾期回访", "due_at": now - dt.timedelta(hours=3), "customer_id": customer.pk},
    )
    task_create(actor=world.actor("owner"), data={"title": "下周拜访", "due_at": now + dt.timedelta(days=3)})
    task_create(actor=world.actor("teammate"), data={"title": "别人的任务", "due_at": now})
    client = login(world, "owner")
    html = client.get("/engagement/my-day/").content.decode()
    assert "逾期回访" in html and "下周拜访" in html and "别人的任务" not in html
    assert customer.name in html
    r = client.post(f"/engagement/tasks/{overdue.pk}/done/", {"done": "1"})
    assert r.status_code == 302
    assert Task.objects.get(pk=overdue.pk).done
    assert login(world, "outsider").post(f"/engagement/tasks/{overdue.pk}/done/").status_code == 404


def test_follow_up_table_filters_and_export_link(world: Any, make_customer: Any) -> None:
    mine = make_customer("owner", name="东区客户")
    west = make_customer("outsider", name="西区客户")
    activity_create(
        actor=world.actor("owner"), customer_id=mine.pk, data={"kind": "visit", "subject": "上门拜访"}
    )
    activity_create(
        actor=world.actor("outsider"), customer_id=west.pk, data={"kind": "call", "subject": "西区电话跟进"}
    )
    html = login(world, "owner").get("/engagement/activities/").content.decode()
    assert "上门拜访" in html and "西区电话跟进" not in html and "export-csv" not in html
    html = login(world, "admin").get("/engagement/activities/", {"kind": "call"}).content.decode()
    assert "西区电话跟进" in html and "上门拜访" not in html
    assert "/api/v1/activities/export.csv?kind=call" in html


def test_log_a_follow_up_from_the_customer(world: Any, customer: Any) -> None:
    client = login(world, "owner")
    url = f"/engagement/customers/{customer.pk}/activities/new/"
    assert client.get(url).status_code == 200
    r = client.post(url, {"kind": "call", "subject": "电话沟通", "next_follow_up_at": "2030-01-01T10:00"})
    assert r.status_code == 302 and r["Location"] == f"/customers/{customer.pk}/"
    activity = Activity.objects.get()
    assert activity.subject == "电话沟通" and Task.objects.filter(activity=activity).exists()
    r = client.post(url, {"kind": "fax"})
    assert r.status_code == 200 and Activity.objects.count() == 1
    assert login(world, "outsider").get(url).status_code == 404
    assert login(world, "readonly").get(url).status_code == 403

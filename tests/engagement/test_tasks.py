"""Tasks, my day, reminders (exactly one notification each), the morning digest, notifications API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guanxi.core.schedule import run_due
from guanxi.engagement.models import Notification, Task
from guanxi.engagement.notifications import overdue_digests, task_reminders_due
from guanxi.engagement.selectors import my_day
from guanxi.engagement.services import task_create

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 2, day, hour, minute, tzinfo=SH)


def test_create_task_defaults_to_self_and_validates(world: Any, customer: Any) -> None:
    api = world.api("owner")
    r = api.post(
        "/tasks", {"title": "回访", "due_at": "2027-02-10T15:00:00+08:00", "customer_id": customer.pk}
    )
    assert r.status_code == 201, r.content
    assert r.json()["assignee"] == "owner"
    for payload, field in [
        ({"title": "", "due_at": "2027-02-10T15:00:00+08:00"}, "title"),
        ({"title": "x"}, "due_at"),
        ({"title": "x", "due_at": "2027-02-10T15:00:00+08:00", "priority": "urgent"}, "priority"),
        ({"title": "x", "due_at": "2027-02-10T15:00:00+08:00", "assignee": "nobody"}, "assignee"),
        ({"title": "x", "due_at": "2027-02-10T15:00:00+08:00", "assignee": "other_admin"}, "assignee"),
        ({"title": "x", "due_at": "2027-02-10T15:00:00+08:00", "reminder_minutes": -5}, "reminder_minutes"),
    ]:
        r = api.post("/tasks", payload)
        assert r.status_code == 422, (payload, r.content)
        assert field in [e["field"] for e in r.json()["errors"]]
    assert Task.objects.count() == 1


def test_task_on_an_invisible_customer_is_404(world: Any, customer: Any) -> None:
    r = world.api("outsider").post(
        "/tasks", {"title": "x", "due_at": "2027-02-10T15:00:00+08:00", "customer_id": customer.pk}
    )
    assert r.status_code == 404
    assert (
        world.api("readonly")
        .post("/tasks", {"title": "x", "due_at": "2027-02-10T15:00:00+08:00"})
        .status_code
        == 403
    )
    assert not Task.objects.exists()


def test_task_visibility_and_updates(world: Any, customer: Any) -> None:
    task_id = (
        world.api("owner")
        .post("/tasks", {"title": "回访", "due_at": "2027-02-10T15:00:00+08:00", "customer_id": customer.pk})
        .json()["id"]
    )
    for who in ("teammate", "outsider", "other_admin"):
        api = world.api(who)
        assert api.get(f"/tasks/{task_id}").status_code == 404, who
        assert api.patch(f"/tasks/{task_id}", {"done": True}).status_code == 404, who
        assert api.delete(f"/tasks/{task_id}").status_code == 404, who
        assert api.get("/tasks").json()["items"] == []
    assert world.api("manager").get(f"/tasks/{task_id}").status_code == 200
    r = world.api("owner").patch(f"/tasks/{task_id}", {"done": True})
    assert r.status_code == 200 and r.json()["done"] and r.json()["done_at"]
    r = world.api("owner").patch(f"/tasks/{task_id}", {"assignee": "teammate"})
    assert r.json()["assignee"] == "teammate"
    assert world.api("teammate").get(f"/tasks/{task_id}").status_code == 200  # now theirs
    assert world.api("owner").patch(f"/tasks/{task_id}", {"title": None}).status_code == 422
    assert world.api("owner").delete(f"/tasks/{task_id}").status_code == 204


def test_my_day_groups_in_the_org_time_zone(world: Any) -> None:
    actor = world.actor("owner")
    for title, due in [
        ("逾期", at(9, 17)),
        ("今早", at(10, 8)),
        ("今晚", at(10, 23, 30)),
        ("明天", at(11, 9)),
        ("下月", at(28, 9)),
    ]:
        task_create(actor=actor, data={"title": title, "due_at": due})
    day = my_day(actor=actor, now=at(10, 12))
    assert [t.title for t in day.overdue] == ["逾期", "今早"]
    assert [t.title for t in day.today] == ["今晚"]
    assert [t.title for t in day.upcoming] == ["明天"]
    r = world.api("owner").get("/tasks/my-day")
    assert r.status_code == 200 and set(r.json()) == {"overdue", "today", "upcoming"}


def test_reminder_fires_exactly_once(world: Any, customer: Any) -> None:
    task = task_create(
        actor=world.actor("owner"),
        data={
            "title": "给王总回电",
            "due_at": at(10, 15),
            "reminder_minutes": 30,
            "customer_id": customer.pk,
        },
    )
    assert task_reminders_due(now=at(10, 14, 29)) == 0
    assert task_reminders_due(now=at(10, 14, 30)) == 1
    assert task_reminders_due(now=at(10, 14, 31)) == 0
    Task.objects.filter(pk=task.pk).update(reminded_at=None)  # even if the record is lost, the key holds
    assert task_reminders_due(now=at(10, 14, 32)) == 0
    notes = Notification.objects.filter(kind="task_reminder")
    assert notes.count() == 1 and notes[0].user_id == world.owner.user_id
    assert "给王总回电" in notes[0].title


def test_reminder_through_run_due_and_moved_due_date_reminds_again(world: Any) -> None:
    actor = world.actor("owner")
    task = task_create(actor=actor, data={"title": "t", "due_at": at(10, 15), "reminder_minutes": 10})
    run_due(at(10, 14, 50), only="task_reminders")
    run_due(at(10, 14, 51), only="task_reminders")
    assert Notification.objects.count() == 1
    world.api("owner").patch(f"/tasks/{task.pk}", {"due_at": "2027-02-10T16:00:00+08:00"})
    run_due(at(10, 15, 50), only="task_reminders")
    assert Notification.objects.count() == 2
    world.api("owner").patch(f"/tasks/{task.pk}", {"done": True, "due_at": "2027-02-10T17:00:00+08:00"})
    run_due(at(10, 16, 50), only="task_reminders")
    assert Notification.objects.count() == 2


def test_overdue_digest_at_eight_with_email_when_wanted(world: Any, smtp: Any) -> None:
    owner, teammate = world.actor("owner"), world.actor("teammate")
    task_create(actor=owner, data={"title": "逾期任务一", "due_at": at(8, 9)})
    task_create(actor=owner, data={"title": "逾期任务二", "due_at": at(9, 9)})
    task_create(actor=teammate, data={"title": "队友逾期", "due_at": at(9, 9)})
    world.owner.user.email = "owner@acme.test"
    world.owner.user.save()
    world.teammate.user.email = "mate@acme.test"
    world.teammate.user.save()
    r = world.api("owner").put("/notifications/preferences", {"email_digest": True})
    assert r.status_code == 200 and r.json() == {"email_digest": True}
    assert overdue_digests(now=at(10, 7, 59)) == 0
    assert overdue_digests(now=at(10, 8, 0)) == 2
    assert overdue_digests(now=at(10, 9, 0)) == 0  # one per user per day
    note = Notification.objects.get(user=world.owner.user, kind="overdue_digest")
    assert "2" in note.title and "逾期任务一" in note.body
    assert len(smtp.messages) == 1 and "owner@acme.test" in smtp.messages[0]["To"]
    assert "逾期任务二" in smtp.messages[0].get_content()
    assert overdue_digests(now=at(11, 8, 0)) == 2  # next morning again


def test_notifications_api_lists_only_mine_and_marks_read(world: Any) -> None:
    from guanxi.engagement.services import notify

    for i in range(3):
        notify(org_id=world.org.pk, user_id=world.owner.user_id, kind="test", title=f"n{i}")
    notify(org_id=world.org.pk, user_id=world.teammate.user_id, kind="test", title="theirs")
    api = world.api("owner")
    body = api.get("/notifications").json()
    assert [n["title"] for n in body["items"]] == ["n2", "n1", "n0"] and body["unread"] == 3
    first = body["items"][0]["id"]
    assert api.post("/notifications/read", {"ids": [first]}).json() == {"marked": 1}
    assert api.get("/notifications", {"unread": True}).json()["unread"] == 2
    theirs = Notification.objects.get(title="theirs").pk
    assert api.post("/notifications/read", {"ids": [theirs]}).json() == {"marked": 0}
    assert api.post("/notifications/read", {}).json() == {"marked": 2}
    assert world.api("other_admin").get("/notifications").json()["items"] == []
    page = api.get("/notifications", {"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert api.post("/notifications/read", {"ids": "all"}).status_code == 422
    assert api.put("/notifications/preferences", {"email_digest": "maybe"}).status_code == 422


def test_pool_reclaim_warning_becomes_a_notification(world: Any, customer: Any) -> None:
    from guanxi.engagement.notifications import on_pool_reclaim_warning

    payload = {
        "org_id": world.org.pk,
        "user_id": world.owner.user_id,
        "customer_id": customer.pk,
        "due_at": "2027-02-12T00:00:00+00:00",
        "days_left": 2,
    }
    on_pool_reclaim_warning("pool.reclaim_warning", payload)
    on_pool_reclaim_warning("pool.reclaim_warning", payload)
    assert Notification.objects.filter(kind="pool_reclaim_warning").count() == 1

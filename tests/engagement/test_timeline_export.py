"""The customer timeline (activities + audit, newest first, cursor pages) and the CSV export."""

from __future__ import annotations

import csv
import io
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from guanxi.core.models import AuditEvent
from guanxi.customers.timeline import customer_timeline, timeline_sources
from guanxi.engagement.export import safe_cell

pytestmark = pytest.mark.django_db


def _log(world: Any, who: str, customer_id: int, when: str, **extra: Any) -> Any:
    r = world.api(who).post(
        "/activities", {"customer_id": customer_id, "kind": "call", "occurred_at": when, **extra}
    )
    assert r.status_code == 201, r.content
    return r.json()


def test_sources_registered() -> None:
    assert {"activity", "audit"} <= set(timeline_sources())


def test_timeline_merges_activities_and_changes_newest_first(world: Any, customer: Any) -> None:
    _log(world, "owner", customer.pk, "2020-01-01T10:00:00+08:00", subject="很久以前")
    _log(world, "owner", customer.pk, "2099-01-01T10:00:00+08:00", subject="未来的拜访")
    world.api("owner").patch(f"/customers/{customer.pk}", {"city": "北京"}, headers={"If-Match": '"1"'})
    r = world.api("owner").get(f"/customers/{customer.pk}/timeline")
    assert r.status_code == 200, r.content
    items = r.json()["items"]
    assert [i["source"] for i in items] == ["activity", "audit", "audit", "activity"]
    assert items[0]["title"] == "未来的拜访"
    assert items[1]["kind"] == "update" and "city" in items[1]["data"]["changes"]
    assert items[2]["kind"] == "create"


def test_timeline_pages_with_a_cursor_without_gaps_or_repeats(world: Any, customer: Any) -> None:
    for day in range(1, 8):
        _log(world, "owner", customer.pk, f"2027-03-0{day}T10:00:00+08:00", subject=f"d{day}")
    actor = world.actor("owner")
    seen: list[str] = []
    before = None
    while True:
        page = customer_timeline(actor=actor, customer_id=customer.pk, before=before, limit=3)
        seen.extend(f"{i.source}:{i.pk}" for i in page.items)
        if page.next_cursor is None:
            break
        before = page.next_cursor
    everything = customer_timeline(actor=actor, customer_id=customer.pk, limit=200)
    assert seen == [f"{i.source}:{i.pk}" for i in everything.items]
    assert len(seen) == len(set(seen)) == 8  # 7 calls + the create audit


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_admin"])
def test_timeline_of_an_invisible_customer_is_404(world: Any, customer: Any, who: str) -> None:
    assert world.api(who).get(f"/customers/{customer.pk}/timeline").status_code == 404


def test_timeline_bad_cursor_is_422(world: Any, customer: Any) -> None:
    r = world.api("owner").get(f"/customers/{customer.pk}/timeline", {"before": "nonsense"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "before"


def test_timeline_masks_contact_details_for_roles_without_them(world: Any, customer: Any) -> None:
    world.api("owner").patch(
        f"/customers/{customer.pk}", {"phone": "13900001234"}, headers={"If-Match": '"1"'}
    )
    items = world.api("marketing").get(f"/customers/{customer.pk}/timeline").json()["items"]
    assert "13900001234" not in str(items)


def test_safe_cell_neutralises_formulas() -> None:
    for bad in ("=1+1", "+86", "-2", "@SUM(A1)", "\tx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("张伟") == "张伟" and safe_cell(None) == ""


def _csv(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_export_csv_bom_injection_audit_and_visibility(world: Any, make_customer: Any) -> None:
    mine = make_customer("owner", name='=HYPERLINK("http://evil")')
    west = make_customer("outsider", name="西区客户")
    _log(world, "owner", mine.pk, "2027-03-01T10:00:00+08:00", subject="-10%折扣", content="@all 你好")
    _log(world, "outsider", west.pk, "2027-03-02T10:00:00+08:00", subject="拜访")
    r = world.api("manager").get("/activities/export.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = _csv(b"".join(r.streaming_content))
    assert len(rows) == 2  # header + the East team's record only
    row = rows[1]
    assert row[2] == '\'=HYPERLINK("http://evil")' and row[4] == "'-10%折扣" and row[5] == "'@all 你好"
    assert row[0] == "2027-03-01 10:00"
    event = AuditEvent.objects.get(action="export", object_type="activity")
    assert event.actor_name == "manager" and event.context["rows"] == 1
    rows = _csv(
        b"".join(world.api("admin").get("/activities/export.csv", {"team": "West"}).streaming_content)
    )
    assert [r[2] for r in rows[1:]] == ["西区客户"]


@pytest.mark.parametrize("who", ["owner", "readonly", "service"])
def test_roles_without_export_permission_get_403(world: Any, who: str) -> None:
    r = world.api(who).get("/activities/export.csv")
    assert r.status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


def test_cli_export_with_period(world: Any, make_customer: Any) -> None:
    c = make_customer("owner", name="李四")
    _log(world, "owner", c.pk, "2027-03-01T10:00:00+08:00", subject="三月")
    _log(world, "owner", c.pk, "2027-04-01T10:00:00+08:00", subject="四月")
    out = StringIO()
    call_command(
        "activities", "export", "--org", "acme", "--from", "2027-03-01", "--to", "2027-03-31", stdout=out
    )
    rows = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"))))
    assert [r[4] for r in rows[1:]] == ["三月"]
    assert out.getvalue().startswith("\ufeff")
    assert AuditEvent.objects.filter(action="export", context__via="cli").exists()


def test_cli_export_errors(world: Any) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("activities", "export", "--org", "nope", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("activities", "export", "--org", "acme", "--from", "March", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("activities", "export", "--org", "acme", "--user", "owner", stdout=StringIO())

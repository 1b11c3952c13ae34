"""`guanxi export customers …`: filters, formats, --json, masking by --as, clean errors."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.core.models import AuditEvent
from tests.exports.conftest import read_csv, read_xlsx


def run(*args: str) -> str:
    out = StringIO()
    call_command("export", "customers", *args, stdout=out)
    return out.getvalue()


def test_json_summary_and_filters(world: Any, crowd: Any, tmp_path: Any) -> None:
    out = tmp_path / "广东.csv"
    text = run(
        "--org", "acme", "--as", "admin", "--out", str(out), "--grade", "A", "--province", "广东", "--json"
    )
    data = json.loads(text)
    assert data["rows"] == 3 and data["format"] == "csv" and data["file"] == str(out)
    assert {r["name"] for r in read_csv(out.read_bytes())} == {"张伟", "李娜", "刘洋"}
    event = AuditEvent.objects.get(action="customers.exported")
    assert event.context["via"] == "cli" and event.context["filters"] == {"grade": "A", "province": "广东"}


def test_xlsx_with_tag_custom_field_and_labels(world: Any, crowd: Any, tmp_path: Any) -> None:
    out = tmp_path / "vip.xlsx"
    run(
        "--org", "acme", "--as", "manager", "--out", str(out), "--tag", "VIP", "--cf", "channel=微信",
        "--columns", "name,phone,custom.channel", "--header", "labels", "--language", "zh-hans",
    )  # fmt: skip
    rows = read_xlsx(out.read_bytes())
    assert rows == [{"名称": "张伟", "电话": "13812348000", "渠道": "微信"}]


def test_as_a_marketer_phones_are_masked(world: Any, crowd: Any, tmp_path: Any) -> None:
    out = tmp_path / "m.csv"
    run("--org", "acme", "--as", "marketing", "--out", str(out), "--q", "张伟", "--columns", "name,phone")
    assert read_csv(out.read_bytes()) == [{"name": "张伟", "phone": "138****8000"}]


def test_saved_view_by_name(world: Any, crowd: Any, tmp_path: Any) -> None:
    from guanxi.web.models import SavedView

    SavedView.objects.create(
        organization=world.org, user=world.admin.user, name="浙江", query="province=浙江"
    )
    out = tmp_path / "v.csv"
    run("--org", "acme", "--as", "admin", "--out", str(out), "--view", "浙江")
    assert {r["name"] for r in read_csv(out.read_bytes())} == {"王芳"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope", "--as", "admin", "--out", "x.csv"], "no organisation named 'nope'"),
        (["--org", "acme", "--as", "ghost", "--out", "x.csv"], "no active member 'ghost'"),
        (["--org", "acme", "--as", "owner", "--out", "x.csv"], "permission"),
        (["--org", "acme", "--as", "admin", "--out", "x.pdf"], "--format must be csv or xlsx"),
        (["--org", "acme", "--as", "admin", "--out", "x.csv", "--columns", "name,salary"], "salary"),
        (["--org", "acme", "--as", "admin", "--out", "x.csv", "--view", "missing"], "missing"),
        (["--org", "acme", "--as", "admin", "--out", "x.csv", "--cf", "channel"], "KEY=VALUE"),
    ],
)
def test_errors_are_clear_and_write_nothing(
    world: Any, crowd: Any, tmp_path: Any, monkeypatch: Any, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert list(tmp_path.iterdir()) == []
    assert not AuditEvent.objects.filter(action="customers.exported").exists()

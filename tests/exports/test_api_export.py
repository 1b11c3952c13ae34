"""GET /api/v1/customers/export: formats, Chinese, filters, visibility, masking, columns, errors."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from guanxi.core.models import AuditEvent
from tests.exports.conftest import body, read_csv, read_xlsx


def test_csv_opens_with_bom_and_keeps_chinese(world: Any, crowd: Any) -> None:
    response = world.api("admin").get("/customers/export", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(body(response))
    assert {r["name"] for r in rows} == {"张伟", "王芳", "李娜", "刘洋"}
    zhang = next(r for r in rows if r["name"] == "张伟")
    assert zhang["company"] == "北京星河科技有限公司"
    assert zhang["phone"] == "13812348000"
    assert zhang["tags"] == "VIP, 重点客户"
    assert zhang["custom.channel"] == "微信"
    assert response["X-Export-Rows"] == "4"


def test_xlsx_opens_in_openpyxl_and_calamine_with_chinese(world: Any, crowd: Any) -> None:
    response = world.api("admin").get(
        "/customers/export",
        {"format": "xlsx", "header": "labels", "columns": "id,name,company,tags,created_at"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = body(response)
    rows = read_xlsx(content)
    zhang = next(r for r in rows if r["Name"] == "张伟")
    assert zhang["Company"] == "北京星河科技有限公司"
    assert zhang["ID"] == crowd["zhang"].pk  # a number, not text
    assert zhang["Created"].year >= 2024  # a real date-time cell
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert sheet[0] == ["ID", "Name", "Company", "Tags", "Created"]
    assert {row[1] for row in sheet[1:]} == {"张伟", "王芳", "李娜", "刘洋"}


def test_labels_translate_headers_and_values(world: Any, crowd: Any) -> None:
    client = world.api("admin")
    response = client.get(
        "/customers/export",
        {"header": "labels", "columns": "name,lifecycle_stage,custom.channel"},
        headers={"Accept-Language": "zh-hans"},
    )
    rows = read_csv(body(response))
    assert set(rows[0]) == {"名称", "生命周期阶段", "渠道"}
    zhang = next(r for r in rows if r["名称"] == "张伟")
    assert zhang == {"名称": "张伟", "生命周期阶段": "潜在客户", "渠道": "微信"}
    keys = read_csv(body(client.get("/customers/export", {"columns": "name,lifecycle_stage"})))
    assert set(keys[0]) == {"name", "lifecycle_stage"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"张伟", "王芳", "李娜", "刘洋"}),
        ("manager", {"张伟", "王芳", "李娜"}),  # team East only
        ("marketing", {"张伟", "王芳", "李娜", "刘洋"}),
        ("other_admin", set()),  # another organisation sees none of acme's customers
    ],
)
def test_export_contains_only_visible_customers(world: Any, crowd: Any, who: str, expected: set[str]) -> None:
    response = world.api(who).get("/customers/export")
    assert response.status_code == 200
    assert {r["name"] for r in read_csv(body(response))} == expected


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "readonly", "service", "other_sales"])
def test_roles_without_export_permission_get_403(world: Any, crowd: Any, who: str) -> None:
    response = world.api(who).get("/customers/export")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not AuditEvent.objects.filter(action="customers.exported").exists()


def test_masking_follows_the_role(world: Any, crowd: Any) -> None:
    params = {"columns": "name,phone,phones,email,emails,wechat"}
    masked = {r["name"]: r for r in read_csv(body(world.api("marketing").get("/customers/export", params)))}
    assert masked["张伟"]["phone"] == "138****8000"
    assert masked["张伟"]["phones"] == "138****8000"
    assert masked["张伟"]["email"] == "z***@example.com"
    assert "13812348000" not in str(masked)
    full = {r["name"]: r for r in read_csv(body(world.api("manager").get("/customers/export", params)))}
    assert full["张伟"]["phone"] == "13812348000"
    assert full["张伟"]["email"] == "zhang.wei@example.com"


def test_filters_are_the_lists_filters(world: Any, crowd: Any) -> None:
    client = world.api("admin")

    def names(**params: str) -> set[str]:
        response = client.get("/customers/export", params)
        assert response.status_code == 200, response.content
        return {r["name"] for r in read_csv(body(response))}

    assert names(grade="A", province="广东") == {"张伟", "李娜", "刘洋"}
    assert names(tag="重点客户") == {"张伟"}
    assert names(owner="owner") == {"张伟", "王芳"}
    assert names(team="West") == {"刘洋"}
    assert names(q="张伟") == {"张伟"}
    assert names(**{"cf.channel": "微信"}) == {"张伟"}
    assert names(ids=f"{crowd['wang'].pk},{crowd['liu'].pk}") == {"王芳", "刘洋"}
    assert names(created_after="2999-01-01T00:00:00") == set()
    # the list's sort carries over: name ascending
    ordered = read_csv(body(client.get("/customers/export", {"sort": "name", "columns": "name"})))
    assert [r["name"] for r in ordered] == sorted(r["name"] for r in ordered)


def test_saved_view_supplies_the_filters(world: Any, crowd: Any) -> None:
    from guanxi.web.models import SavedView

    view = SavedView.objects.create(
        organization=world.org,
        user=world.admin.user,
        name="广东A",
        query="grade=A&province=%E5%B9%BF%E4%B8%9C",
    )
    client = world.api("admin")
    for ref in (view.name, str(view.pk)):
        rows = read_csv(body(client.get("/customers/export", {"view": ref})))
        assert {r["name"] for r in rows} == {"张伟", "李娜", "刘洋"}
    # another user's private view is not theirs to use
    assert world.api("marketing").get("/customers/export", {"view": "广东A"}).status_code == 404


def test_a_foreign_or_invisible_id_is_404(world: Any, crowd: Any, other_customer: Any) -> None:
    manager = world.api("manager")
    assert manager.get("/customers/export", {"ids": str(crowd["liu"].pk)}).status_code == 404  # team West
    assert manager.get("/customers/export", {"ids": str(other_customer.pk)}).status_code == 404


def test_formula_cells_are_neutralised_in_csv_and_xlsx(world: Any, make_customer: Any) -> None:
    # (a leading tab or CR is trimmed by input cleaning; safe_cell's own test covers them)
    for name in ('=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)"):
        make_customer("owner", name=name, company="=1+1", tags=["=cmd|' /C calc'!A0"])
    client = world.api("admin")
    rows = read_csv(body(client.get("/customers/export", {"columns": "name,company"})))
    assert all(r["name"].startswith("'") for r in rows), rows
    assert {r["company"] for r in rows} == {"'=1+1"}
    assert {r["tags"] for r in read_csv(body(client.get("/customers/export", {"columns": "tags"})))} == {
        "'=cmd|' /C calc'!A0"
    }
    wb = load_workbook(io.BytesIO(body(client.get("/customers/export", {"format": "xlsx"}))))
    cells = [c for row in wb.worksheets[0].iter_rows(min_row=2) for c in row]
    assert not [c for c in cells if c.data_type == "f"], "no cell may be a formula"
    assert {c.value for c in cells if isinstance(c.value, str) and "1+1" in c.value} == {"'=1+1"}


def test_export_is_audited_with_filter_columns_and_rows(world: Any, crowd: Any) -> None:
    world.api("manager").get("/customers/export", {"grade": "A", "columns": "name,phone", "format": "xlsx"})
    event = AuditEvent.objects.get(action="customers.exported")
    assert event.actor_name == "manager"
    assert event.organization_id == world.org.pk
    assert event.context["filters"] == {"grade": "A"}
    assert event.context["columns"] == ["name", "phone"]
    assert event.context["rows"] == 2  # 张伟, 李娜: the manager's team
    assert event.context["format"] == "xlsx"
    assert event.context["via"] == "api"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"columns": "name,salary"}, "columns"),
        ({"cf.nope": "x"}, "cf.nope"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"ids": "1,abc"}, "ids"),
        ({"sort": "phone"}, "sort"),
    ],
)
def test_bad_input_names_the_parameter_and_exports_nothing(
    world: Any, crowd: Any, params: dict[str, str], field: str
) -> None:
    response = world.api("admin").get("/customers/export", params)
    assert response.status_code == 422
    problem = response.json()
    assert field in {e["field"] for e in problem["errors"]} or field in problem["detail"]
    assert not AuditEvent.objects.filter(action="customers.exported").exists()


def test_columns_endpoint_lists_custom_fields(world: Any, crowd: Any) -> None:
    columns = world.api("marketing").get("/customers/export/columns").json()
    assert {"key": "custom.channel", "label": "渠道"} in columns
    assert "phone" in {c["key"] for c in columns}


def test_query_count_does_not_grow_with_rows(world: Any, crowd: Any, make_customer: Any) -> None:
    client = world.api("admin")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            body(client.get("/customers/export", {"format": "csv"}))
        return len(ctx.captured_queries)

    queries()  # the token's first use records last_used_at once; measure after it
    before = queries()
    for i in range(15):
        make_customer("owner", name=f"客户{i}", tags=[f"t{i}"])
    assert queries() == before

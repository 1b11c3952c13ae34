"""Export fixtures: customers of every team, a custom field, and files under a throwaway DATA_DIR."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from guanxi.core.services import custom_field_create


@pytest.fixture(autouse=True)
def _export_settings(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.GUANXI_EXPORTS_PER_HOUR = 20
    settings.GUANXI_EXPORT_SYNC_MAX_ROWS = 5000
    settings.GUANXI_BULK_SYNC_MAX = 500
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def crowd(world: Any, make_customer: Any) -> dict[str, Any]:
    """owner's two (East), teammate's one (East), outsider's one (West); a custom field 渠道."""
    custom_field_create(
        actor=world.actor("admin"),
        data={"key": "channel", "label": "渠道", "field_type": "choice", "choices": ["电话", "微信"]},
    )
    return {
        "zhang": make_customer(
            "owner",
            name="张伟",
            company="北京星河科技有限公司",
            phone="13812348000",
            email="zhang.wei@example.com",
            province="广东",
            grade="A",
            tags=["重点客户", "VIP"],
            custom={"channel": "微信"},
        ),
        "wang": make_customer("owner", name="王芳", province="浙江", grade="B", phone="13900002222"),
        "li": make_customer("teammate", name="李娜", province="广东", grade="A", phone="13700003333"),
        "liu": make_customer("outsider", name="刘洋", province="广东", grade="A", phone="13600004444"),
    }


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[dict[str, Any]]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    # read-only mode leaves out empty cells at the end of a row: pad them back
    return [dict(zip(header, (*row, *[None] * (len(header) - len(row))), strict=True)) for row in rows[1:]]


def body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)

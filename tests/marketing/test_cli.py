"""`guanxi webforms list --org NAME [--json]`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.marketing.conftest import Visitor, make_form


def test_lists_forms_with_address_and_counts(world, webform):
    make_form(world, name="停用的表单", is_active=False)
    Visitor().post(webform, {"name": "王芳", "phone": "13800138000"})
    out = StringIO()
    call_command(
        "webforms", "list", "--org", "acme", "--json", "--base-url", "https://crm.acme.cn/", stdout=out
    )
    items = json.loads(out.getvalue())["items"]
    assert sorted((i["name"], i["active"]) for i in items) == sorted(
        [("官网咨询", True), ("停用的表单", False)]
    )
    mine = next(i for i in items if i["id"] == webform.pk)
    assert mine["url"] == f"https://crm.acme.cn/f/{webform.token}/"
    assert mine["submissions"] == {"created": 1}
    text = StringIO()
    call_command("webforms", "list", "--org", "other", stdout=text)
    assert "no web forms" in text.getvalue()


def test_unknown_org_is_a_clear_error(world):
    with pytest.raises(CommandError, match="no organisation named"):
        call_command("webforms", "list", "--org", "nope")

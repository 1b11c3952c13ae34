"""Automatic column mapping (Chinese, English, Google, Outlook, vCard, custom fields) and its checks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from guanxi.customers.imports.mapping import TARGETS, auto_mapping, validate_mapping
from guanxi.customers.imports.readers import open_source

FILES = Path(__file__).parent / "files"
VIP = SimpleNamespace(key="vip_level", label="会员等级", field_type="choice", choices=["金卡", "银卡"])


def mapped(headers: list[str], custom=()) -> dict[str, str]:
    return {h: t for h, t in auto_mapping(headers, custom_fields=list(custom)).items() if t}


def headers_of(name: str) -> list[str]:
    with open_source(FILES / name) as table:
        return table.headers


def test_chinese_headers():
    headers = ["姓名", "手机", "电话", "邮箱", "公司", "职位", "省份", "城市", "地址", "生日", "行业",
               "来源", "标签", "备注", "微信号", "客户编号", "性别", "负责人", "无关列"]  # fmt: skip
    assert mapped(headers) == {
        "姓名": "name", "手机": "phones", "电话": "phones", "邮箱": "emails", "公司": "company",
        "职位": "title", "省份": "province", "城市": "city", "地址": "address", "生日": "birthday",
        "行业": "industry",
        "来源": "source", "标签": "tags", "备注": "notes", "微信号": "wechat", "客户编号": "external_id",
        "性别": "gender", "负责人": "owner",
    }  # fmt: skip


def test_headers_are_compared_loosely():
    assert mapped(["  手机号码* ", "E-Mail", "Job_Title", "（微信）", "Date of Birth"]) == {
        "  手机号码* ": "phones",
        "E-Mail": "emails",
        "Job_Title": "title",
        "（微信）": "wechat",
        "Date of Birth": "birthday",
    }


def test_a_single_valued_field_goes_to_the_first_column_only():
    mapping = auto_mapping(["Name", "姓名", "Phone", "手机"], custom_fields=[])
    assert mapping == {"Name": "name", "姓名": "", "Phone": "phones", "手机": "phones"}
    assert validate_mapping(mapping, headers=list(mapping), custom_fields=[]) == []


def test_custom_fields_by_key_or_label():
    assert mapped(["会员等级"], [VIP]) == {"会员等级": "custom.vip_level"}
    assert mapped(["vip_level"], [VIP]) == {"vip_level": "custom.vip_level"}
    assert mapped(["custom.vip_level"], [VIP]) == {"custom.vip_level": "custom.vip_level"}
    assert mapped(["custom.unknown"], [VIP]) == {}


def test_google_export_by_pattern_not_a_fixed_list():
    result = mapped(headers_of("google_contacts.csv"))
    assert result["First Name"] == "first_name" and result["Last Name"] == "last_name"
    assert result["Organization Name"] == "company" and result["Organization Title"] == "title"
    assert result["Labels"] == "tags" and result["Birthday"] == "birthday" and result["Notes"] == "notes"
    assert [h for h, t in result.items() if t == "phones"] == [
        "Phone 1 - Value",
        "Phone 2 - Value",
        "Phone 3 - Value",
    ]
    assert [h for h, t in result.items() if t == "emails"] == [
        "E-mail 1 - Value",
        "E-mail 2 - Value",
        "E-mail 3 - Value",
    ]
    assert "Phone 1 - Label" not in result and "Address 1 - Formatted" not in result
    assert result["Address 1 - City"] == "city" and result["Address 1 - Region"] == "province"
    # columns the real export grows for bigger address books are recognised the same way
    assert mapped(["Phone 17 - Value", "E-mail 9 - Value", "Address 2 - City"]) == {
        "Phone 17 - Value": "phones",
        "E-mail 9 - Value": "emails",
    }


def test_old_google_export_with_full_name():
    headers = ["Name", "Given Name", "Family Name", "Group Membership", "E-mail 1 - Type",
               "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value", "Organization 1 - Name",
               "Organization 1 - Title"]  # fmt: skip
    assert mapped(headers) == {
        "Name": "name",  # the full name wins over its parts
        "Group Membership": "tags",
        "E-mail 1 - Value": "emails",
        "Phone 1 - Value": "phones",
        "Organization 1 - Name": "company",
        "Organization 1 - Title": "title",
    }


def test_outlook_export():
    result = mapped(headers_of("outlook_contacts.csv"))
    assert "Title" not in result  # Outlook's "Title" is Mr./Ms.; the job title is "Job Title"
    assert result["Job Title"] == "title" and result["Company"] == "company"
    assert result["E-mail Address"] == "emails" and result["E-mail 3 Address"] == "emails"
    assert "E-mail Display Name" not in result and "E-mail Type" not in result
    assert {"Mobile Phone", "Business Phone", "Home Phone 2", "Primary Phone"} <= {
        h for h, t in result.items() if t == "phones"
    }
    assert "Business Fax" not in result and "Assistant's Phone" not in result
    assert result["Categories"] == "tags" and result["Business City"] == "city"
    assert "Home City" not in result


def test_vcard_columns():
    result = mapped(headers_of("contacts_v30.vcf"))
    assert result["Full name"] == "name" and result["Organization"] == "company"
    assert {h for h, t in result.items() if t == "phones"} == {
        "Mobile phone",
        "Work phone",
        "Home phone",
        "Other phone",
    }
    assert result["Categories"] == "tags" and result["Note"] == "notes"


def test_validate_mapping_names_every_problem():
    headers = ["姓名", "Name", "Phone", "手机", "Weird"]
    errors = validate_mapping(
        {
            "姓名": "name",
            "Name": "name",
            "Phone": "phones",
            "手机": "phones",
            "Weird": "salary",
            "Gone": "city",
        },
        headers=headers,
        custom_fields=[VIP],
    )
    by_column = {e.field: (e.code, e.message) for e in errors}
    assert by_column["Name"][0] == "duplicate_target" and "姓名" in by_column["Name"][1]
    assert by_column["Weird"][0] == "unknown_target"
    assert by_column["Gone"][0] == "unknown_column"
    assert "Phone" not in by_column and "手机" not in by_column  # several phone columns are fine


def test_a_name_is_required():
    errors = validate_mapping({"Phone": "phones"}, headers=["Phone"], custom_fields=[])
    assert [(e.field, e.code) for e in errors] == [("", "name_required")]
    ok = validate_mapping({"姓": "last_name", "名": "first_name"}, headers=["姓", "名"], custom_fields=[])
    assert ok == []
    both = validate_mapping({"A": "name", "B": "first_name"}, headers=["A", "B"], custom_fields=[])
    assert [e.code for e in both] == ["name_twice"]


def test_custom_targets_are_known_only_when_defined():
    assert (
        validate_mapping({"N": "name", "V": "custom.vip_level"}, headers=["N", "V"], custom_fields=[VIP])
        == []
    )
    errors = validate_mapping({"N": "name", "V": "custom.vip_level"}, headers=["N", "V"], custom_fields=[])
    assert [e.code for e in errors] == ["unknown_target"]


def test_targets_are_the_api_input_names():
    from guanxi.customers.schemas import CustomerIn

    api_names = set(CustomerIn.model_fields) - {"version", "phone", "email", "custom"}
    assert api_names <= set(TARGETS)

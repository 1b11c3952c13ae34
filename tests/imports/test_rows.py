"""Row normalisation: dates, words, multi-value cells, labels, name parts, and error columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.customers.imports.mapping import auto_mapping
from guanxi.customers.imports.readers import open_source
from guanxi.customers.imports.rows import RowError, RowMapper, parse_date

FILES = Path(__file__).parent / "files"


def mapper(headers: list[str], mapping: dict[str, str] | None = None, custom=()) -> RowMapper:
    mapping = mapping if mapping is not None else auto_mapping(headers, custom_fields=list(custom))
    return RowMapper(headers=headers, mapping=mapping, custom_fields=list(custom))


def imported(name: str) -> list[tuple[int, dict, list[RowError]]]:
    with open_source(FILES / name) as table:
        rows = mapper(table.headers)
        return [(n, *rows.to_input(n, values)) for n, values in table.rows]


# ------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    "text",
    ["1990年5月3日", "1990年05月03日", "1990/5/3", "1990-5-3", "1990.5.3", "19900503", "1990-05-03",
     "1990-05-03 00:00:00", "1990-05-03T08:15:00+08:00", "１９９０／５／３", "32996", "32996.0",
     " 1990 年 5 月 3 号 "],
)  # fmt: skip
def test_dates_in_the_forms_people_write_them(text):
    assert parse_date(text) == dt.date(1990, 5, 3)


def test_day_and_month_order():
    assert parse_date("13/5/1990") == dt.date(1990, 5, 13)  # only one reading is possible
    assert parse_date("5/13/1990") == dt.date(1990, 5, 13)
    assert parse_date("5/5/1990") == dt.date(1990, 5, 5)
    with pytest.raises(ValueError, match="ambiguous"):
        parse_date("3/5/1990")
    assert parse_date("3/5/1990", month_first=True) == dt.date(1990, 3, 5)  # Outlook, US style
    assert parse_date("3/5/1990", month_first=False) == dt.date(1990, 5, 3)


def test_dates_that_are_not_dates():
    assert parse_date("") is None and parse_date("0/0/00") is None  # Outlook's "no birthday"
    for text, reason in [("1985-02-30", "not a real date"), ("--07-14", "no year"), ("明天", "not a date"),
                         ("1990年5月", "not a date"), ("13/13/1990", "not a real date")]:  # fmt: skip
        with pytest.raises(ValueError, match=reason):
            parse_date(text)


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)), style=st.integers(0, 6))
def test_every_date_survives_every_written_form(day, style):
    text = [
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        day.strftime("%Y%m%d"),
        f"{day.month}/{day.day}/{day.year}",
        f"{day.isoformat()} 12:34:56",
    ][style]
    month_first = True if style == 5 else None
    assert parse_date(text, month_first=month_first) == day


@given(st.text(max_size=30))
def test_any_text_is_a_date_none_or_a_clear_value_error(text):
    try:
        result = parse_date(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert result is None or isinstance(result, dt.date)


@settings(max_examples=200)
@given(serial=st.integers(min_value=10_000, max_value=99_999))
def test_excel_serials_count_days_from_1899_12_30(serial):
    assert parse_date(str(serial)) == dt.date(1899, 12, 30) + dt.timedelta(days=serial)


# ----------------------------------------------------------------------------- real files


def test_gbk_file_rows_become_api_input():
    rows = {n: (data, errors) for n, data, errors in imported("customers_gbk.csv")}
    zhang, errors = rows[2]
    assert errors == []
    assert zhang["name"] == "张伟"
    assert zhang["phones"] == [
        {"label": "mobile", "value": "13800138000"},  # full-width digits folded
        {"label": "other", "value": "010-62345678"},  # a plain 电话 column with a landline
    ]
    assert zhang["emails"] == [{"label": "work", "value": "zhang.wei@example.com"}]
    assert zhang["birthday"] == "1990-05-03" and zhang["gender"] == "male"
    assert zhang["address"] == "海淀区中关村大街1号" and zhang["tags"] == ["VIP", "重点客户"]
    li, _ = rows[3]
    assert li["gender"] == "female" and li["birthday"] == "1988-11-23"
    assert li["tags"] == ["潜在", "新客"] and li["notes"] == "第一行\n第二行"
    wang, errors = rows[5]
    assert errors == [RowError(5, "生日", "“1985-02-30” is not a real date")]
    assert "birthday" not in wang
    # a bad email is passed on as written: the services' cleaning rejects it with the same rules as the API
    assert wang["emails"] == [{"label": "work", "value": "wang.fang@@example.com"}]
    zhao, _ = rows[6]
    assert [p["value"] for p in zhao["phones"]] == ["15800000001", "13600000002"]
    assert zhao["birthday"] == "1979-12-01"


def test_google_rows_use_the_label_columns_and_drop_system_groups():
    rows = {n: (data, errors) for n, data, errors in imported("google_contacts.csv")}
    zhang, _ = rows[2]
    assert zhang["name"] == "张伟"  # 姓 + 名, no space
    assert zhang["phones"] == [
        {"label": "mobile", "value": "+86 138 0013 8000"},  # "a ::: b" in one cell
        {"label": "mobile", "value": "+86 139 0013 9000"},
        {"label": "work", "value": "+86 10 6234 5678"},
    ]
    assert zhang["emails"] == [
        {"label": "work", "value": "zhangwei@example.com"},  # "* Work": the star marks the primary
        {"label": "home", "value": "zw@example.net"},
    ]
    assert zhang["tags"] == ["重点客户", "VIP"]  # "* myContacts" is Google's, not the user's
    mary, errors = rows[3]
    assert mary["name"] == "Mary Ann Smith"
    assert "tags" not in mary  # only system groups: nothing to add (and nothing cleared on update)
    assert mary["phones"][-1] == {"label": "fax", "value": "+1 415 555 0199"}
    assert errors == [RowError(3, "Birthday", "“--07-14” has no year")]
    nameless, _ = rows[4]
    assert "name" not in nameless


def test_outlook_rows():
    (_, wei, errors), (_, jane, _) = imported("outlook_contacts.csv")
    assert errors == []
    assert wei["name"] == "Wei Zhang" and wei["title"] == "销售总监"
    assert [p["label"] for p in wei["phones"]] == ["mobile", "work", "home"]  # mobile first: the primary
    assert wei["phones"][0]["value"] == "13800138000"
    assert wei["birthday"] == "1990-05-03"  # Outlook writes month/day/year
    assert wei["tags"] == ["VIP", "重点客户"] and wei["gender"] == "male"
    assert "birthday" not in {**jane, "birthday": None} or jane["birthday"] == "1979-12-31"
    assert jane["gender"] == "female"


def test_vcard_and_jsonl_rows():
    (_, zhang, _), (_, li, _) = imported("contacts_v21.vcf")
    assert zhang["name"] == "张伟" and zhang["company"] == "北京星辰科技"
    assert [p["label"] for p in zhang["phones"]] == ["mobile", "mobile", "work"]
    assert li["phones"][0] == {"label": "mobile", "value": "+86 139 1234 5678"}
    rows = imported("customers.jsonl")
    first = rows[0][1]
    assert first["phones"] == [
        {"label": "mobile", "value": "13800138000"},
        {"label": "work", "value": "010-62345678"},
    ]
    assert first["tags"] == ["VIP", "重点客户"]


# --------------------------------------------------------------------------------- mapping


def test_words_for_kind_gender_lifecycle_tier_and_booleans():
    headers = ["名称", "类型", "性别", "生命周期", "价值", "农历生日"]
    rows = mapper(headers, {"名称": "name", "类型": "kind", "性别": "gender", "生命周期": "lifecycle_stage",
                            "价值": "value_tier", "农历生日": "birthday_is_lunar"})  # fmt: skip
    data, errors = rows.to_input(2, ["星辰", "企业", "保密", "老客户", "高", "是"])
    assert errors == []
    assert data == {"name": "星辰", "kind": "company", "lifecycle_stage": "repeat", "value_tier": "high",
                    "birthday_is_lunar": True}  # fmt: skip
    data, errors = rows.to_input(3, ["A", "alien", "?", "maybe", "超高", "也许"])
    assert {e.column for e in errors} == {"类型", "性别", "生命周期", "价值", "农历生日"}
    assert all(e.row == 3 for e in errors)
    assert data == {"name": "A"}


def test_empty_cells_leave_fields_alone():
    rows = mapper(["Name", "Phone", "Tags", "Gender"])
    data, errors = rows.to_input(2, ["  Bob  ", "", " ", "Unspecified"])
    assert (data, errors) == ({"name": "Bob"}, [])


def test_multi_value_cells_and_labelled_values():
    rows = mapper(["姓名", "手机", "邮箱", "标签"])
    data, _ = rows.to_input(
        2, ["A", "13800138000；13900139000、13700137000", "A@X.CN, b@y.cn", "a/b|c\nd，a"]
    )
    assert [p["value"] for p in data["phones"]] == ["13800138000", "13900139000", "13700137000"]
    assert [e["value"] for e in data["emails"]] == ["a@x.cn", "b@y.cn"]
    assert data["tags"] == ["a", "b", "c", "d"]
    data, _ = rows.to_input(3, ["B", "work: 010-66667777\n手机：13800138000", "", ""])
    assert data["phones"] == [
        {"label": "mobile", "value": "13800138000"},
        {"label": "work", "value": "010-66667777"},
    ]


def test_spreadsheet_float_phones_become_digits():
    data, _ = mapper(["Name", "Mobile"]).to_input(2, ["A", "13800138000.0"])
    assert data["phones"] == [{"label": "mobile", "value": "13800138000"}]


def test_custom_fields_are_coerced_by_type():
    defs = [
        SimpleNamespace(key="since", label="合作日期", field_type="date", choices=[]),
        SimpleNamespace(key="vip", label="VIP", field_type="bool", choices=[]),
        SimpleNamespace(key="budget", label="预算", field_type="number", choices=[]),
        SimpleNamespace(key="level", label="会员等级", field_type="choice", choices=["Gold", "Silver"]),
        SimpleNamespace(key="hobbies", label="爱好", field_type="multi_choice", choices=["茶", "高尔夫"]),
    ]
    rows = mapper(["姓名", "合作日期", "VIP", "预算", "会员等级", "爱好"], custom=defs)
    data, errors = rows.to_input(2, ["A", "2020年1月2日", "是", "¥12,500", "gold", "茶、高尔夫"])
    assert errors == []
    assert data["custom"] == {"since": "2020-01-02", "vip": True, "budget": "12500", "level": "Gold",
                              "hobbies": ["茶", "高尔夫"]}  # fmt: skip
    _, errors = rows.to_input(3, ["B", "someday", "perhaps", "", "", ""])
    assert [e.column for e in errors] == ["合作日期", "VIP"]


def test_column_for_turns_service_fields_into_source_columns():
    rows = mapper(["姓", "名", "电话", "手机", "邮箱"])
    data, _ = rows.to_input(7, ["张", "伟", "010-62345678", "13800138000", "x@y.cn"])
    assert data["name"] == "张伟"
    # the mobile number moved first; errors about phones[1] point back to the 电话 column
    assert rows.column_for("phones[0]", row=7) == "手机"
    assert rows.column_for("phones[1]", row=7) == "电话"
    assert rows.column_for("phone") == "电话"  # without the row: the first phone column
    assert rows.column_for("email") == "邮箱"
    assert rows.column_for("name") == "姓"
    assert rows.column_for("owner") == ""

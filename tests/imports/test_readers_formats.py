"""XLSX, vCard, JSON lines, and Google/Outlook exports recognised by their headers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from guanxi.customers.imports.readers import ImportFileError, open_source

FILES = Path(__file__).parent / "files"


def read(path: Path, **kwargs: str):
    with open_source(path, **kwargs) as table:
        return table, list(table.rows)


# ------------------------------------------------------------------------------------ XLSX


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    """A workbook as a sales assistant keeps it: a notes sheet first? No — customers first, a
    second sheet, numbers typed into phone cells, real date cells, a blank row, a title offset."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户"
    sheet.append(["姓名", "手机", "生日", "成交金额", "是否VIP"])
    sheet.append(["张伟", 13800138000, dt.date(1990, 5, 3), 1234.5, True])
    sheet.append([])
    sheet.append(["李娜", "139 1234 5678", dt.datetime(1988, 11, 23, 0, 0), 0.1, False])
    sheet.append(["王芳", 13700000000.0, dt.datetime(1985, 2, 20, 9, 30), None, None])
    other = book.create_sheet("Leads 2024")
    other["B3"] = "Name"
    other["C3"] = "Email"
    other["B4"] = "Alice"
    other["C4"] = "alice@example.com"
    path = tmp_path / "customers.xlsx"
    book.save(path)
    return path


def test_xlsx_first_sheet_with_numbers_and_dates_as_people_typed_them(workbook):
    table, rows = read(workbook)
    assert (table.format, table.sheet, table.sheets) == ("xlsx", "客户", ["客户", "Leads 2024"])
    assert table.headers == ["姓名", "手机", "生日", "成交金额", "是否VIP"]
    assert rows[0] == (2, ["张伟", "13800138000", "1990-05-03", "1234.5", "true"])
    # the blank row 3 is skipped but still counted, like Excel's row numbers
    assert rows[1] == (4, ["李娜", "139 1234 5678", "1988-11-23", "0.1", "false"])
    assert rows[2] == (5, ["王芳", "13700000000", "1985-02-20 09:30:00", "", ""])


def test_xlsx_chosen_sheet_keeps_excel_row_numbers_when_data_starts_lower(workbook):
    table, rows = read(workbook, sheet="Leads 2024")
    assert table.headers == ["Name", "Email"]
    assert rows == [(4, ["Alice", "alice@example.com"])]


def test_xlsx_missing_sheet_lists_the_sheets(workbook):
    with pytest.raises(ImportFileError) as err:
        read(workbook, sheet="Sheet9")
    assert str(err.value) == "Sheet “Sheet9” not found; this file has: 客户, Leads 2024"


def test_xlsx_detected_by_content_even_with_a_wrong_name(workbook, tmp_path):
    renamed = tmp_path / "export.csv"
    renamed.write_bytes(workbook.read_bytes())
    table, _ = read(renamed)
    assert table.format == "xlsx"


def test_fake_xlsx_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(ImportFileError, match="cannot be opened"):
        read(path)


# ----------------------------------------------------------------------------------- vCard


def card(rows, column):
    from guanxi.customers.imports.vcard import HEADERS

    return [values[HEADERS.index(column)] for _, values in rows]


def test_vcard_21_quoted_printable_utf8_and_gbk_soft_breaks_and_photo():
    table, rows = read(FILES / "contacts_v21.vcf")
    assert (table.format, table.flavour) == ("vcard", "vcard")
    assert [n for n, _ in rows] == [1, 2]
    assert card(rows, "Full name") == ["张伟", "李娜"]  # UTF-8 QP and GBK QP
    assert card(rows, "Organization") == ["北京星辰科技", ""]
    assert card(rows, "Department") == ["销售部", ""]
    assert card(rows, "Mobile phone") == ["13800138000\n139-0013-9000", "+86 139 1234 5678"]
    assert card(rows, "Work phone")[0] == "010-62345678"
    assert card(rows, "Home phone")[1] == "021-55556666"
    # the note was split by quoted-printable soft line breaks, one in the middle of a character
    assert (
        card(rows, "Note")[0]
        == "这是一段很长的备注，用来测试软换行是否能正确拼接回原来的文字。第二句话也在这里。"
    )
    assert card(rows, "Birthday")[0] == "1990-05-03"  # read after the base64 photo and its blank line
    assert card(rows, "Street")[1] == "世纪大道100号"
    assert card(rows, "City")[1] == "上海"


def test_vcard_30_escapes_apple_item_groups_and_types():
    _, rows = read(FILES / "contacts_v30.vcf")
    assert card(rows, "Organization") == ["Acme, Inc."]
    assert card(rows, "Mobile phone") == ["+86 138 0013 8001"]  # item1 X-ABLabel _$!<Mobile>!$_
    assert card(rows, "Work phone") == ["010-66667777"]  # item2 labelled 公司
    assert card(rows, "Home phone") == ["021 5555 6666"]
    # an address with no kind gets the API's default label, work
    assert card(rows, "Work email") == ["chen.jing@acme.example\njing.other@example.org"]
    assert card(rows, "Home email") == ["jing@home.example"]
    assert card(rows, "Note") == ["Met at the Canton fair\nlikes tea, not coffee"]
    assert card(rows, "Categories") == ["VIP,Trade show"]
    assert card(rows, "Street") == ["88 Century Avenue Suite 5"]


def test_vcard_40_uri_phones_quoted_type_lists_and_folding():
    _, rows = read(FILES / "contacts_v40.vcf")
    assert card(rows, "Full name") == ["王芳"]
    assert card(rows, "Mobile phone") == ["+86-137-0000-0000"]  # TYPE="cell,voice", tel: URI
    assert card(rows, "Work phone") == ["+86-755-8888-9999"]
    assert card(rows, "Note") == ["这一行很长，被折叠成了两行，折叠后的第二部分以一个空格开头。"]
    assert card(rows, "Birthday") == ["19850220"]


def test_vcard_with_an_unknown_charset_names_the_card_and_line(tmp_path):
    path = tmp_path / "bad.vcf"
    path.write_text(
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:2.1\r\n"
        "FN;CHARSET=X-NOPE;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0\r\nEND:VCARD\r\n"
    )
    table = open_source(path)
    with pytest.raises(ImportFileError) as err:
        list(table.rows)
    table.close()
    assert "Card 2" in str(err.value) and "line 7" in str(err.value) and "X-NOPE" in str(err.value)


def test_vcf_without_cards(tmp_path):
    path = tmp_path / "none.vcf"
    path.write_text("hello\n")
    with pytest.raises(ImportFileError, match="no vCards"):
        read(path)


# ------------------------------------------------------------------------------ JSON lines


def test_jsonl_nested_lists_objects_and_late_keys():
    table, rows = read(FILES / "customers.jsonl")
    assert table.format == "jsonl"
    assert table.headers[:6] == ["name", "phones", "emails", "tags", "company", "birthday"]
    # keys first used on later lines are columns too; nested objects become "a.b"
    assert {"custom.budget", "email", "address.city", "external_id", "gender", "vip"} <= set(table.headers)
    first = dict(zip(table.headers, rows[0][1], strict=True))
    assert first["phones"] == "mobile: 13800138000\nwork: 010-62345678"
    assert first["tags"] == "VIP\n重点客户"
    assert first["custom.budget"] == "50000"
    assert [n for n, _ in rows] == [1, 2, 4]  # line numbers; line 3 is blank
    last = dict(zip(table.headers, rows[2][1], strict=True))
    assert last["vip"] == "true" and last["name"] == "No Phone"


def test_malformed_json_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"name": "A"}\n{"name": "B"}\n{"name": "C",}\n')
    with pytest.raises(ImportFileError) as err:
        read(path)
    assert str(err.value).startswith("Line 3 is not valid JSON")


def test_json_array_line_is_refused(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"name": "A"}\n["B"]\n')
    with pytest.raises(ImportFileError, match="Line 2 is not a JSON object"):
        read(path)


# ------------------------------------------------------------------------- Google / Outlook


def test_google_contacts_export_is_recognised():
    table, rows = read(FILES / "google_contacts.csv")
    assert (table.format, table.flavour, table.encoding) == ("csv", "google", "utf-8")
    assert "Phone 3 - Value" in table.headers and "E-mail 3 - Label" in table.headers
    assert len(rows) == 3


def test_outlook_export_is_recognised_even_in_the_windows_code_page():
    table, rows = read(FILES / "outlook_contacts.csv")
    assert (table.flavour, table.encoding) == ("outlook", "gb18030")
    values = dict(zip(table.headers, rows[0][1], strict=True))
    assert values["Company"] == "星辰科技"
    assert values["E-mail 2 Address"] == "zw@example.net"


def test_format_override_and_unknown_format(tmp_path):
    path = tmp_path / "contacts.txt"
    path.write_text('{"name": "A"}\n')
    _, rows = read(path, format="jsonl")
    assert rows == [(1, ["A"])]
    with pytest.raises(ImportFileError, match="Unknown format"):
        read(path, format="pdf")

"""CSV reading: encodings (UTF-8, BOM, GBK), delimiters, quoted newlines, Excel row numbers, errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.customers.imports.readers import ImportFileError, open_source

FILES = Path(__file__).parent / "files"


def rows_of(path: Path, **kwargs: str) -> tuple[list[str], list[tuple[int, list[str]]], str | None]:
    with open_source(path, **kwargs) as table:
        return table.headers, list(table.rows), table.encoding


def test_gbk_file_with_chinese_headers_is_detected_and_read():
    headers, rows, encoding = rows_of(FILES / "customers_gbk.csv")
    assert encoding == "gb18030"
    assert headers[:4] == ["姓名", "手机", "电话", "邮箱"]
    names = [values[0] for _, values in rows]
    assert names == ["张伟", "李娜", "王芳", "赵磊"]
    # full-width characters come out as written; normalising them is the row mapper's job
    assert rows[0][1][1] == "１３８００１３８０００"


def test_row_numbers_are_the_rows_excel_shows():
    """Row 1 is the header; a record with a quoted newline is one row; a blank line is a row."""
    _, rows, _ = rows_of(FILES / "customers_gbk.csv")
    assert [number for number, _ in rows] == [2, 3, 5, 6]
    li_na = dict(rows)[3]
    assert li_na[-1] == "第一行\n第二行"
    assert li_na[13] == "潜在,新客"  # a quoted delimiter stays in its cell


def test_utf8_bom_and_semicolons():
    headers, rows, encoding = rows_of(FILES / "customers_utf8_bom.csv")
    assert encoding == "utf-8-sig"
    assert headers[0] == "Name"  # no BOM glued to the first header
    assert headers == ["Name", "Mobile", "Email", "Company", "Job title", "Birthday", "Tags", "External ID"]
    assert rows[0][1][3] == "Acme; Inc."
    assert rows[2][1][0] == "陈静"


def test_encoding_override_wins_and_a_wrong_one_names_the_line(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("name,city\nAlice,Paris\nBob,Rome\n张伟,北京\n".encode("gbk"))
    with pytest.raises(ImportFileError) as err:
        rows_of(path, encoding="utf-8")
    assert "Line 4" in str(err.value) and "UTF-8" in str(err.value)
    _, rows, _ = rows_of(path)  # detected: not UTF-8 anywhere in the file → GB18030
    assert rows[-1] == (4, ["张伟", "北京"])
    _, rows, encoding = rows_of(path, encoding="gbk")
    assert encoding == "gbk" and rows[-1][1] == ["张伟", "北京"]


def test_gbk_late_in_a_big_ascii_file_is_still_detected(tmp_path):
    path = tmp_path / "late.csv"
    body = "name,phone\n" + "".join(f"user{i},1380013{i:04d}\n" for i in range(5000)) + "王芳,13700000000\n"
    path.write_bytes(body.encode("gbk"))
    _, rows, encoding = rows_of(path)
    assert encoding == "gb18030"
    assert rows[-1] == (5002, ["王芳", "13700000000"])


def test_unknown_encoding_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("name\nA\n")
    with pytest.raises(ImportFileError, match="Unknown encoding"):
        rows_of(path, encoding="klingon")


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("姓名\t手机\n张伟\t138\n", "\t"), ("a|b|c\n1|2|3\n", "|"), ("name;note\nA;x, y, z\n", ";")],
)
def test_delimiter_is_sniffed(tmp_path, text, delimiter):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    headers, rows, _ = rows_of(path)
    assert len(headers) == len(text.splitlines()[0].split(delimiter))
    assert rows[0][1] == text.splitlines()[1].split(delimiter)


def test_commas_inside_chinese_text_do_not_fool_the_sniffer(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("姓名;备注\n张伟;喜欢茶,不喝咖啡,周末有空\n李娜;无\n", encoding="utf-8")
    headers, rows, _ = rows_of(path)
    assert headers == ["姓名", "备注"]
    assert rows[0][1] == ["张伟", "喜欢茶,不喝咖啡,周末有空"]


def test_short_long_rows_blank_and_duplicate_headers(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("Name,Phone,Phone,,\nA,1\nB,2,3,,extra\n", encoding="utf-8")
    headers, rows, _ = rows_of(path)
    assert headers == ["Name", "Phone", "Phone (2)", "Column D", "Column E"]
    assert rows[0][1] == ["A", "1", "", "", ""]
    assert rows[1][1] == ["B", "2", "3", "", "extra"]


def test_trailing_empty_header_cells_are_not_columns(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("Name,Phone,,\nA,1,,\n", encoding="utf-8")
    headers, rows, _ = rows_of(path)
    assert headers == ["Name", "Phone"]
    assert rows == [(2, ["A", "1"])]


def test_empty_files_say_so(tmp_path):
    for content in (b"", b"\xef\xbb\xbf", b"\n\n  \n"):
        path = tmp_path / "empty.csv"
        path.write_bytes(content)
        with pytest.raises(ImportFileError, match="empty"):
            rows_of(path)


def test_binary_garbage_is_an_unknown_format(tmp_path):
    path = tmp_path / "photo.bin"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ImportFileError, match="Unknown file format"):
        rows_of(path)


def test_missing_file(tmp_path):
    with pytest.raises(ImportFileError, match="missing"):
        rows_of(tmp_path / "gone.csv")


def test_rows_stream_without_reading_the_file_up_front(tmp_path):
    """The first row arrives before the reader has looked at the rest (memory stays flat)."""
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("name,phone\n")
        for i in range(200_000):
            handle.write(f"客户{i},1380013{i % 10000:04d}\n")
    table = open_source(path)
    try:
        first = next(table.rows)
        assert first == (2, ["客户0", "13800130000"])
        handle = table.closers  # the open file is owned by the table and closed with it
        assert handle
    finally:
        table.close()
    assert not table.closers


def test_utf16_excel_unicode_text(tmp_path):
    """Excel's "Unicode Text" export: UTF-16 with BOM, tab-separated."""
    path = tmp_path / "unicode.txt"
    path.write_bytes("姓名\t手机\r\n张伟\t13800138000\r\n".encode("utf-16"))
    headers, rows, encoding = rows_of(path)
    assert encoding == "utf-16"
    assert headers == ["姓名", "手机"]
    assert rows == [(2, ["张伟", "13800138000"])]


cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(
        st.text(alphabet="abcdefgh名姓电话", min_size=1, max_size=6), min_size=2, max_size=5, unique=True
    ),
    body=st.lists(st.lists(cell, min_size=5, max_size=5), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_any_csv_the_csv_module_writes_round_trips(
    tmp_path_factory, header, body, delimiter, encoding, quoting
):
    width = len(header)
    records = [[value for value in row[:width]] for row in body]
    records = [r for r in records if any(v.strip() for v in r)]  # blank records are skipped by design
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(records)
    path = tmp_path_factory.mktemp("rt") / "data.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    with open_source(path, encoding=encoding) as table:
        assert table.headers == [h.strip() for h in header]
        got = [values for _, values in table.rows]
    assert got == records

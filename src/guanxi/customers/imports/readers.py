"""Open an import file of any supported format as one streaming table of text cells.

Every reader yields ``(row number, values)`` where the row number is what the user sees in the
file (the Excel row for CSV and spreadsheets, the card ordinal for vCards, the line for JSON lines)
and the values are strings aligned with ``headers``. Nothing here loads the whole file: rows are
decoded as they are read, so memory stays flat however big the file is. What the cells *mean* is
``mapping.py``/``rows.py``'s business; this module only gets the text out faithfully.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

FORMATS = ("csv", "xlsx", "vcard", "jsonl")
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
VCARD_SUFFIXES = {".vcf", ".vcard"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1 << 20
SNIFF_RECORDS = 50
# Outlook's export always carries these columns.
OUTLOOK_MARKERS = {"e-mail address", "mobile phone", "business phone", "job title", "company"}


class ImportFileError(Exception):
    """The file cannot be read as asked; ``str(exc)`` is a translated message for the user."""


Row = tuple[int, list[str]]


@dataclass
class SourceTable:
    """A file opened for import: what it is, its columns, and a one-pass iterator over its rows."""

    format: str
    flavour: str
    encoding: str | None
    sheet: str | None
    sheets: list[str]
    headers: list[str]
    rows: Iterator[Row]
    closers: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()

    def __enter__(self) -> SourceTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(
    path: Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> SourceTable:
    """Open ``path`` for import; the format is detected from content and name unless given."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise ImportFileError(_("The uploaded file is missing; upload it again.")) from None
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if format is not None and format not in FORMATS:
        raise ImportFileError(
            _("Unknown format “%(format)s”; choose one of: %(choices)s")
            % {"format": format, "choices": ", ".join(FORMATS)}
        )
    if encoding:
        encoding = _checked_encoding(encoding)
    fmt = format or detect_format(path, head)
    if fmt == "xlsx":
        from guanxi.customers.imports.spreadsheet import open_spreadsheet

        return open_spreadsheet(path, sheet=sheet)
    if fmt == "vcard":
        from guanxi.customers.imports.vcard import open_vcard

        return open_vcard(path, encoding=encoding or detect_encoding(path, head))
    if fmt == "jsonl":
        return _open_jsonl(path, encoding or detect_encoding(path, head))
    return _open_csv(path, encoding or detect_encoding(path, head))


def detect_format(path: Path, head: bytes) -> str:
    """Guess the format from the first bytes first (names lie), then from the file name."""
    suffix = path.suffix.lower()
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx/ods) or OLE2 (xls)
        return "xlsx"
    text = _strip_bom(head).lstrip()
    if text[:11].upper() == b"BEGIN:VCARD" or (suffix in VCARD_SUFFIXES and text):
        return "vcard"
    if text.startswith(b"{") or suffix in JSONL_SUFFIXES:
        return "jsonl"
    if not text.strip(b"\x00"):
        raise ImportFileError(_("The file is empty."))
    if suffix in SPREADSHEET_SUFFIXES:
        raise ImportFileError(
            _("The file is named like a spreadsheet but is not one; save it again from Excel.")
        )
    if suffix in CSV_SUFFIXES or _looks_like_text(head):
        return "csv"
    raise ImportFileError(
        _("Unknown file format: upload CSV, Excel (.xlsx), vCard (.vcf) or JSON lines (.jsonl).")
    )


def _strip_bom(data: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            return data[len(bom) :]
    return data


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls <= len(head) // 100


def _checked_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ImportFileError(_("Unknown encoding “%(encoding)s”.") % {"encoding": name}) from None


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030 (covers GBK).

    The whole file is checked, in chunks, because a file that is ASCII for its first megabyte and
    GBK afterwards (a Chinese name in row 20,000) is common; the check costs ~0.1 s per 100 MB.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}


def encoding_label(name: str | None) -> str:
    return ENCODING_LABELS.get(name or "", name or "")


def decoded_lines(handle: IO[bytes], encoding: str) -> Iterator[str]:
    """Decode a binary file into lines (ends kept, as ``open(newline="")`` gives them to ``csv``),
    naming the physical line that does not decode.

    Bytes are decoded a megabyte at a time, cut after a line feed: for ASCII-compatible encodings
    (UTF-8, GBK, GB18030, Latin-1 …) byte 0x0A only ever means a line feed, so no character is
    split, and an error's offset tells its line. UTF-16 goes through a text wrapper instead.
    """
    if codecs.lookup(encoding).name.startswith("utf-16"):
        wrapper = io.TextIOWrapper(handle, encoding=encoding, newline="")
        number = 0
        try:
            for number, line in enumerate(wrapper, start=1):  # noqa: B007 - used in the error
                yield line
        except UnicodeDecodeError:
            raise _undecodable(number + 1, encoding) from None
        return
    line_base = 1  # the physical line number at the start of ``chunk``
    carry = b""
    first = True
    while True:
        block = handle.read(CHUNK_BYTES)
        chunk = carry + block
        if not chunk:
            return
        cut = chunk.rfind(b"\n") + 1 if block else len(chunk)
        if cut == 0:  # one line longer than a chunk: keep reading
            carry = chunk
            continue
        chunk, carry = chunk[:cut], chunk[cut:]
        try:
            text = chunk.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _undecodable(line_base + chunk.count(b"\n", 0, exc.start), encoding) from None
        if first:
            text = text.removeprefix("\ufeff")
            first = False
        line_base += chunk.count(b"\n")
        yield from io.StringIO(text, newline="")


def _undecodable(line: int, encoding: str) -> ImportFileError:
    return ImportFileError(
        _("Line %(line)s cannot be read as %(encoding)s; choose the file's encoding and try again.")
        % {"line": line, "encoding": encoding_label(encoding)}
    )


# --------------------------------------------------------------------------------------- CSV


def _open_csv(path: Path, encoding: str) -> SourceTable:
    sample_lines: list[str] = []
    whole = True  # the sample is the whole file, so its last record is not cut short
    with path.open("rb") as handle:
        for line in decoded_lines(handle, encoding):
            sample_lines.append(line)
            if len(sample_lines) > SNIFF_RECORDS * 4 or sum(map(len, sample_lines)) > SAMPLE_BYTES:
                whole = False
                break
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(sample_lines, whole=whole)
    width = _sample_width(sample_lines, delimiter, whole=whole)
    handle = path.open("rb")
    try:
        reader = csv.reader(decoded_lines(handle, encoding), delimiter=delimiter, strict=False)
        records = _numbered_records(reader)
        _header_row, header_values = next(records, (0, []))
        if not any(v.strip() for v in header_values):
            raise ImportFileError(_("The file is empty."))
        headers = unique_headers(header_values, width)
    except BaseException:
        handle.close()
        raise
    rows = _aligned(records, len(headers))
    return SourceTable(
        format="csv",
        flavour=detect_flavour(headers),
        encoding=encoding,
        sheet=None,
        sheets=[],
        headers=headers,
        rows=rows,
        closers=[handle.close],
    )


def sniff_delimiter(lines: list[str], *, whole: bool = False) -> str:
    """The delimiter that splits the first records into the most columns, consistently.

    ``csv.Sniffer`` guesses wrong on short files and on commas inside Chinese text, so each
    candidate is scored by how many records agree with the header's column count.
    """
    text = "".join(lines)
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r][:SNIFF_RECORDS]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        complete = records[:-1] if len(records) > 1 and not whole else records  # the last may be cut
        agreeing = sum(1 for r in complete if len(r) == len(records[0]))
        score = (agreeing * 100 // len(complete), len(records[0]))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_width(lines: list[str], delimiter: str, *, whole: bool) -> int:
    try:
        records = list(csv.reader(io.StringIO("".join(lines)), delimiter=delimiter))[:SNIFF_RECORDS]
    except csv.Error:
        return 0
    # The widest record counted to its last non-empty cell: Excel pads rows with empty cells.
    return max((_filled_width(r) for r in (records if whole else records[:-1] or records)), default=0)


def _filled_width(values: list[str]) -> int:
    for index in range(len(values), 0, -1):
        if str(values[index - 1]).strip():
            return index
    return 0


def _numbered_records(reader: Iterable[list[str]]) -> Iterator[Row]:
    """Records numbered as Excel shows them: one row per record (however many lines it spans),
    blank lines counted, so "row 7" in an error is row 7 on the user's screen."""
    number = 0
    try:
        for record in reader:
            number += 1
            if record and (record[0].strip() or "".join(record).strip()):
                yield number, record
    except csv.Error as exc:
        raise ImportFileError(
            _("Row %(row)s cannot be read as CSV: %(reason)s") % {"row": number + 1, "reason": exc}
        ) from None


def _aligned(records: Iterator[Row], width: int) -> Iterator[Row]:
    for number, values in records:
        if len(values) != width:
            values = values[:width] if len(values) > width else values + [""] * (width - len(values))
        yield number, values


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how Excel names the column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def unique_headers(values: list[str], width: int = 0) -> list[str]:
    """Trimmed headers; blanks become "Column C", repeats get " (2)", so each names one column."""
    raw = [str(v).replace("\ufeff", "").strip() for v in values[: max(_filled_width(values), width)]]
    raw += [""] * (width - len(raw))  # data wider than the header row gets "Column F" headers
    headers: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(raw):
        name = value or _("Column %(letter)s") % {"letter": column_letter(index)}
        candidate, n = name, 1
        while candidate.casefold() in seen:
            n += 1
            candidate = f"{name} ({n})"
        seen.add(candidate.casefold())
        headers.append(candidate)
    return headers


def detect_flavour(headers: list[str]) -> str:
    """Which export the headers come from: "google", "outlook", or "generic"."""
    lowered = {h.casefold() for h in headers}
    if any(h.startswith(("e-mail 1 - ", "phone 1 - ")) for h in lowered) and (
        lowered & {"first name", "given name", "name"}
    ):
        return "google"
    if len(lowered & OUTLOOK_MARKERS) >= 3 and "e-mail address" in lowered:
        return "outlook"
    return "generic"


# --------------------------------------------------------------------------------- JSON lines


def _open_jsonl(path: Path, encoding: str) -> SourceTable:
    """Columns are every key seen in the file (nested objects flattened to "a.b"), found in a
    first pass that keeps only the key names, so a key first used on line 900,000 is not lost."""
    keys: dict[str, None] = {}
    with path.open("rb") as handle:
        for number, obj in _json_objects(handle, encoding):
            del number
            for key in flatten(obj):
                keys.setdefault(key, None)
    if not keys:
        raise ImportFileError(_("The file is empty."))
    headers = list(keys)
    handle = path.open("rb")

    def rows() -> Iterator[Row]:
        for number, obj in _json_objects(handle, encoding):
            flat = flatten(obj)
            yield number, [flat.get(key, "") for key in headers]

    return SourceTable(
        format="jsonl",
        flavour="jsonl",
        encoding=encoding,
        sheet=None,
        sheets=[],
        headers=headers,
        rows=rows(),
        closers=[handle.close],
    )


def _json_objects(handle: IO[bytes], encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(decoded_lines(handle, encoding), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise ImportFileError(
                _("Line %(line)s is not valid JSON: %(reason)s")
                % {"line": number, "reason": getattr(exc, "msg", str(exc))}
            ) from None
        if not isinstance(obj, dict):
            raise ImportFileError(
                _("Line %(line)s is not a JSON object; each line must be one {…} record.") % {"line": number}
            )
        yield number, obj


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """{"a": {"b": 1}, "tags": ["x", "y"]} → {"a.b": "1", "tags": "x\\ny"} (lists become lines)."""
    flat: dict[str, str] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not _is_labelled(value):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = cell_text(value)
    return flat


def _is_labelled(value: dict[str, Any]) -> bool:
    return "value" in value and set(value) <= {"value", "label", "type"}


def cell_text(value: Any) -> str:
    """The text of one JSON value or spreadsheet cell, as a person would have typed it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e17:
            return str(int(value))  # 13800138000.0 → 13800138000
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, list):
        return "\n".join(t for t in (_list_item(v) for v in value) if t)
    if isinstance(value, dict):
        if _is_labelled(value):
            return _list_item(value)
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _list_item(value: Any) -> str:
    """A list entry; {"label": "work", "value": "010…"} keeps its label as "work: 010…"."""
    if isinstance(value, dict) and _is_labelled(value):
        label = str(value.get("label") or value.get("type") or "").strip()
        text = cell_text(value.get("value"))
        return f"{label}: {text}" if label and text else text
    return cell_text(value)

"""vCard 2.1 / 3.0 / 4.0 (RFC 2425/2426/6350 and the 2.1 spec phones still write) as a table.

Phones export vCards in every dialect: 2.1 with ``ENCODING=QUOTED-PRINTABLE;CHARSET=GBK`` names and
soft line breaks, 3.0 with folded lines and ``TYPE=CELL``, 4.0 with ``VALUE=uri:tel:…``, Apple's
``item1.TEL`` + ``item1.X-ABLabel`` groups. Each card becomes one row of fixed columns; several
phones or emails of one kind share a cell, one per line, which the row mapper splits again.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _

from guanxi.customers.imports.readers import ImportFileError, Row, SourceTable, decoded_lines

PHONE_KINDS = ("mobile", "work", "home", "fax", "other")
EMAIL_KINDS = ("work", "home", "other")
# The column headers are English on purpose: they are the file's "headers", stable across the
# user's language, so a saved mapping keeps working; mapping.py knows them.
HEADERS = [
    "Full name",
    "Last name",
    "First name",
    "Middle name",
    "Nickname",
    "Organization",
    "Department",
    "Title",
    "Mobile phone",
    "Work phone",
    "Home phone",
    "Fax",
    "Other phone",
    "Work email",
    "Home email",
    "Other email",
    "Street",
    "City",
    "Region",
    "Postal code",
    "Country",
    "Birthday",
    "Note",
    "Categories",
    "URL",
    "UID",
]
_PHONE_COLUMN = dict(
    zip(PHONE_KINDS, ["Mobile phone", "Work phone", "Home phone", "Fax", "Other phone"], strict=True)
)
_EMAIL_COLUMN = dict(zip(EMAIL_KINDS, ["Work email", "Home email", "Other email"], strict=True))
_SIMPLE = {"FN": "Full name", "NICKNAME": "Nickname", "TITLE": "Title", "BDAY": "Birthday",
           "NOTE": "Note", "URL": "URL", "UID": "UID", "CATEGORIES": "Categories"}  # fmt: skip
_LINE = re.compile(
    r"^(?:(?P<group>[A-Za-z0-9-]+)\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):(?P<value>.*)$", re.S
)
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")
_PHONE_WORDS = {
    "cell": "mobile", "mobile": "mobile", "iphone": "mobile", "手机": "mobile", "移动电话": "mobile",
    "work": "work", "工作": "work", "单位": "work", "公司": "work", "办公": "work",
    "home": "home", "住宅": "home", "家庭": "home", "家": "home",
    "fax": "fax", "传真": "fax",
}  # fmt: skip


def open_vcard(path: Path, *, encoding: str) -> SourceTable:
    handle = path.open("rb")
    cards = _cards(handle, encoding)
    try:
        first = next(cards, None)
    except BaseException:
        handle.close()
        raise
    if first is None:
        handle.close()
        raise ImportFileError(_("The file has no vCards (BEGIN:VCARD … END:VCARD)."))

    def rows() -> Iterator[Row]:
        yield first
        yield from cards

    return SourceTable(
        format="vcard",
        flavour="vcard",
        encoding=encoding,
        sheet=None,
        sheets=[],
        headers=list(HEADERS),
        rows=rows(),
        closers=[handle.close],
    )


def _logical_lines(handle: IO[bytes], encoding: str) -> Iterator[tuple[int, str]]:
    """Unfold: a line starting with a space/tab continues the previous one (3.0/4.0 folding);
    a quoted-printable value ending in "=" continues on the next line (2.1 soft line break)."""
    pending: str | None = None
    start = 0
    for number, raw in enumerate(decoded_lines(handle, encoding), start=1):
        line = raw.rstrip("\r\n")
        if pending is not None and line[:1] in (" ", "\t"):
            pending += line[1:]
            continue
        if pending is not None and pending.endswith("=") and _is_quoted_printable(pending):
            pending = pending[:-1] + line
            continue
        if pending is not None:
            yield start, pending
        pending, start = line, number
    if pending is not None:
        yield start, pending


def _is_quoted_printable(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _cards(handle: IO[bytes], encoding: str) -> Iterator[Row]:
    ordinal = 0
    card: dict[str, list[str]] | None = None
    groups: dict[str, str] = {}
    pending_group: list[tuple[str, str, str]] = []  # (group, kind-name, value) awaiting X-ABLabel
    for number, line in _logical_lines(handle, encoding):
        if not line.strip():
            continue
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            ordinal += 1
            card, groups, pending_group = {h: [] for h in HEADERS}, {}, []
            continue
        if upper == "END:VCARD":
            if card is not None:
                _resolve_groups(card, groups, pending_group)
                yield ordinal, ["\n".join(dict.fromkeys(v for v in card[h] if v)) for h in HEADERS]
            card = None
            continue
        if card is None:
            continue  # text between cards (or a stray line) is not contact data
        match = _LINE.match(line)
        if not match:
            continue  # an unindented base64 continuation (2.1 photos) or garbage
        name = match["name"].upper()
        params = _params(match["params"])
        encoding_param = (params.get("ENCODING") or [""])[0].upper()
        if encoding_param in {"B", "BASE64"} or name in {"PHOTO", "LOGO", "SOUND", "KEY"}:
            continue  # photos and keys are not customer data
        try:
            value = _decode_value(match["value"], params, encoding_param)
        except (LookupError, UnicodeDecodeError):
            charset = (params.get("CHARSET") or ["UTF-8"])[0]
            raise ImportFileError(
                _("Card %(card)s (line %(line)s): the %(property)s value cannot be decoded as %(charset)s.")
                % {"card": ordinal, "line": number, "property": name, "charset": charset}
            ) from None
        group = (match["group"] or "").lower()
        if name == "X-ABLABEL" and group:
            groups[group] = _APPLE_LABEL.sub(r"\1", value).strip()
            continue
        _apply(card, name, params, value, group, pending_group)


def _params(text: str) -> dict[str, list[str]]:
    """';TYPE=CELL,VOICE;PREF;CHARSET=GBK' → {'TYPE': ['CELL','VOICE','PREF'], 'CHARSET': ['GBK']}.
    2.1 writes bare types (``TEL;CELL``); they count as TYPE, bare QUOTED-PRINTABLE as ENCODING."""
    out: dict[str, list[str]] = {}
    for part in _split_unquoted(text.lstrip(";"), ";"):
        if not part:
            continue
        key, sep, raw = part.partition("=")
        if not sep:
            key, raw = (
                ("ENCODING", part) if part.upper() in {"QUOTED-PRINTABLE", "BASE64", "B"} else ("TYPE", part)
            )
        values = [v.strip() for v in raw.replace('"', "").split(",")]  # TYPE="cell,voice" is a list
        out.setdefault(key.strip().upper(), []).extend(v for v in values if v)
    return out


def _split_unquoted(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _decode_value(value: str, params: dict[str, list[str]], encoding_param: str) -> str:
    if encoding_param in {"QUOTED-PRINTABLE", "QP"}:
        charset = (params.get("CHARSET") or ["UTF-8"])[0]
        raw = quopri.decodestring(value.encode("ascii", "replace"))
        return raw.decode(_charset(charset))
    return value


def _charset(name: str) -> str:
    lowered = name.lower()
    if lowered in {"gbk", "gb2312", "gb-2312", "gb18030", "cp936"}:
        return "gb18030"  # a superset: GB2312-labelled files routinely contain GBK characters
    return lowered


def _split_structured(value: str) -> list[str]:
    """Split on unescaped ";" (N, ADR, ORG) and undo the backslash escapes of 3.0/4.0."""
    parts = re.split(r"(?<!\\);", value)
    return [_unescape(p) for p in parts]


def _unescape(text: str) -> str:
    return re.sub(r"\\([nN,;\\:])", lambda m: "\n" if m[1] in "nN" else m[1], text).strip()


def _type_words(params: dict[str, list[str]]) -> list[str]:
    return [w.lower() for w in params.get("TYPE", [])]


def _phone_kind(words: list[str]) -> str:
    if "fax" in words:
        return "fax"
    for word in words:
        if word in _PHONE_WORDS:
            return _PHONE_WORDS[word]
    return "other" if words and not set(words) <= {"voice", "pref", "internet", "x400"} else "mobile"


def _email_kind(words: list[str]) -> str:
    for word in words:
        kind = _PHONE_WORDS.get(word)
        if kind in {"work", "home"}:
            return kind
    return "other" if set(words) - {"internet", "pref", "x400"} else "work"


def _apply(
    card: dict[str, list[str]],
    name: str,
    params: dict[str, list[str]],
    value: str,
    group: str,
    pending_group: list[tuple[str, str, str]],
) -> None:
    if name == "N":
        parts = _split_structured(value) + [""] * 5
        card["Last name"].append(parts[0])
        card["First name"].append(parts[1])
        card["Middle name"].append(parts[2])
    elif name == "ORG":
        parts = _split_structured(value)
        card["Organization"].append(parts[0])
        card["Department"].append(" ".join(p for p in parts[1:] if p))
    elif name == "TEL":
        number = _unescape(value)
        if number.lower().startswith("tel:"):
            number = number[4:]  # 4.0 VALUE=uri
        if group:
            pending_group.append((group, "TEL", number))
        card[_PHONE_COLUMN[_phone_kind(_type_words(params))]].append(number)
    elif name == "EMAIL":
        address = _unescape(value)
        if group:
            pending_group.append((group, "EMAIL", address))
        card[_EMAIL_COLUMN[_email_kind(_type_words(params))]].append(address)
    elif name == "ADR":
        parts = _split_structured(value) + [""] * 7
        street = " ".join(p for p in (parts[2], parts[1], parts[0]) if p)
        for column, text in zip(("Street", "City", "Region", "Postal code", "Country"),
                                (street, parts[3], parts[4], parts[5], parts[6]), strict=True):  # fmt: skip
            card[column].append(text)
    elif name in _SIMPLE:
        card[_SIMPLE[name]].append(_unescape(value))


def _resolve_groups(
    card: dict[str, list[str]], groups: dict[str, str], pending: list[tuple[str, str, str]]
) -> None:
    """Apple writes ``item1.TEL:…`` + ``item1.X-ABLabel:公司``: move the value to the labelled kind."""
    for group, kind, value in pending:
        label = groups.get(group, "").lower()
        if not label:
            continue
        if kind == "TEL":
            target = _PHONE_COLUMN[_PHONE_WORDS.get(label, "other")]
            columns = list(_PHONE_COLUMN.values())
        else:
            mapped = _PHONE_WORDS.get(label)
            target = _EMAIL_COLUMN[mapped if mapped in {"work", "home"} else "other"]
            columns = list(_EMAIL_COLUMN.values())
        for column in columns:
            if value in card[column]:
                card[column].remove(value)
        card[target].append(value)

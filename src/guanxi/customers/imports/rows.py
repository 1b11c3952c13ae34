"""One source row → the customer input dict the API accepts, reading the file's conventions.

This is where "1990年5月3日", "女士", "VIP；重点客户", Google's "Phone 1 - Label" and Outlook's
"0/0/00" become API values. It does not validate phones or emails and never touches the database:
``customers.cleaning.clean_customer_input`` does that for every channel alike, and the engine turns
its field errors back into source columns with ``RowMapper.column_for``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers.imports.mapping import MULTI_TARGETS, NAME_PARTS
from guanxi.customers.imports.readers import detect_flavour

# ------------------------------------------------------------------------------- value parsing

_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})$")
_SERIAL = re.compile(r"^(\d{5})(?:\.0+)?$")
_TIME_TAIL = re.compile(r"^(.+?)(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)$")
_EMPTY_DATES = {"0/0/00", "00/00/0000", "0000-00-00", "0000/00/00", "-", "--", "无", "n/a"}
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's phantom 1900-02-29 is skipped


def parse_date(text: str, *, month_first: bool | None = None) -> dt.date | None:
    """A date as people write it, or ``None`` for an empty cell; ``ValueError`` says why not.

    ``month_first``: True for US-style files (Outlook's 5/3/1990 is 3 May), False for day-first,
    None to accept D/M/Y or M/D/Y only when one reading is impossible (13/5/1990) or both agree.
    """
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:  # the common case, ISO already: C speed, no regular expressions
            return dt.date.fromisoformat(text)
        except ValueError:
            pass  # fall through for the message that says why
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not value or value.lower() in _EMPTY_DATES:
        return None
    tail = _TIME_TAIL.match(value)
    if tail:
        value = tail[1].strip()
    if value.startswith("--"):
        raise ValueError(_("“%(value)s” has no year") % {"value": text.strip()})
    for pattern in (_YMD, _COMPACT):
        match = pattern.match(value)
        if match:
            return _make(text, int(match[1]), int(match[2]), int(match[3]))
    match = _DMY.match(value)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if month_first is None:
            if first == second or second > 12:
                month_first = True
            elif first > 12:
                month_first = False
            else:
                raise ValueError(
                    _("“%(value)s” is ambiguous (day/month or month/day?); write it as YYYY-MM-DD")
                    % {"value": text.strip()}
                )
        month, day = (first, second) if month_first else (second, first)
        return _make(text, year, month, day)
    match = _SERIAL.match(value)
    if match:
        return EXCEL_EPOCH + dt.timedelta(days=int(match[1]))
    raise ValueError(_("“%(value)s” is not a date (write it as YYYY-MM-DD)") % {"value": text.strip()})


def _make(text: str, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(_("“%(value)s” is not a real date") % {"value": text.strip()}) from None


def _words(*pairs: tuple[str, Iterable[str]]) -> dict[str, str]:
    return {word.casefold(): value for value, words in pairs for word in words}


GENDERS = _words(
    ("male", ("男", "男性", "先生", "m", "male", "man", "mr", "mr.", "男士")),
    ("female", ("女", "女性", "女士", "小姐", "f", "female", "woman", "ms", "ms.", "mrs", "mrs.", "miss")),
    ("", ("未知", "保密", "不详", "unknown", "unspecified", "other", "其他", "-", "n/a")),
)
KINDS = _words(
    ("person", ("个人", "个人客户", "自然人", "person", "individual", "personal", "p")),
    ("company", ("公司", "企业", "单位", "机构", "法人", "企业客户", "公司客户", "company", "organization",
                 "organisation", "business", "corporate", "c")),
)  # fmt: skip
LIFECYCLES = _words(
    ("lead", ("lead", "线索")),
    ("potential", ("potential", "prospect", "潜在", "潜在客户", "意向客户")),
    ("new", ("new", "新客户", "新客", "新")),
    ("active", ("active", "活跃", "活跃客户", "成交客户")),
    ("repeat", ("repeat", "复购", "复购客户", "回头客", "老客户")),
    ("at_risk", ("at_risk", "at risk", "at-risk", "流失风险", "有流失风险", "沉睡", "沉睡客户")),
    ("churned", ("churned", "lost", "流失", "已流失", "流失客户")),
)
TIERS = _words(
    ("high", ("high", "高", "高价值", "重要")),
    ("medium", ("medium", "mid", "中", "中等", "一般")),
    ("low", ("low", "低", "低价值")),
    ("", ("unrated", "未评级", "无", "-")),
)
BOOLEANS = _words(
    ("true", ("是", "true", "1", "yes", "y", "对", "√", "✓", "农历", "阴历", "lunar")),
    ("false", ("否", "false", "0", "no", "n", "错", "×", "公历", "阳历", "solar", "gregorian")),
)
# Several values in one cell: ; ； , ， 、 / | newline, and Google's " ::: "; emails also split on spaces.
_SEPARATORS = str.maketrans(dict.fromkeys(";；,，、/|\r", "\n"))
_SEPARATORS_EMAILS = str.maketrans(dict.fromkeys(";；,，、/|\r \t\u3000", "\n"))
_ANY_SEPARATOR = re.compile("[;；,，、/|\r\n]")
_ANY_SEPARATOR_EMAILS = re.compile("[;；,，、/|\r \t\u3000\n]")
_LABELLED = re.compile(r"^(?P<label>[^\d:：@+()]{1,20}?)\s*[:：]\s*(?P<value>.+)$")
_PHONE_FLOAT = re.compile(r"^\+?\d{5,}\.0+$")  # 13800138000.0 from a spreadsheet saved as CSV
_CHANNEL_WORDS = (
    ("fax", ("fax", "传真")),
    ("mobile", ("mobile", "cell", "iphone", "手机", "移动")),
    ("work", ("work", "business", "company", "office", "办公", "工作", "单位", "公司", "商务")),
    ("home", ("home", "住宅", "家庭", "家", "private", "personal", "私人")),
    ("other", ("other", "其他", "其它")),
)
_CN_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_PHONE_PRIORITY = {"mobile": 0, "work": 1, "home": 2, "other": 3, "fax": 4}
_GOOGLE_VALUE = re.compile(r"^(?P<what>phone|e-mail|email) (?P<n>\d+) - value$", re.I)
_GOOGLE_SYSTEM_LABELS = {"mycontacts", "starred", "friends", "family", "coworkers"}


def channel_label(text: str, default: str) -> str:
    """The channel label a header or label names: "Mobile Phone", "* Work", "手机号码" → mobile …"""
    lowered = unicodedata.normalize("NFKC", text).casefold()
    for label, words in _CHANNEL_WORDS:
        if any(w in lowered for w in words):
            return label
    return default


def split_multi(text: str, *, emails: bool = False) -> list[str]:
    """Several values in one cell; ``str.translate`` turns every separator into a newline first
    (several times faster than a regular-expression split on this hot path). Most cells hold one
    value: one C-level search for any separator (or newline) lets those skip the translation,
    which costs a dict lookup per character of a non-ASCII text."""
    if ":::" in text:
        text = text.replace(":::", "\n")
    elif (_ANY_SEPARATOR_EMAILS if emails else _ANY_SEPARATOR).search(text) is None:
        text = text.strip()
        return [text] if text else []
    text = text.translate(_SEPARATORS_EMAILS if emails else _SEPARATORS)
    if "\n" not in text:
        text = text.strip()
        return [text] if text else []
    return [part for part in (p.strip() for p in text.split("\n")) if part]


def nfkc(text: str) -> str:
    """Full-width → half-width, trimmed, inner whitespace folded (the same rule as the services).

    Memoised: provinces, cities, industries, sources, titles and tags repeat on most rows of a
    file. The cache is a plain dict emptied when full, so memory stays bounded on any file."""
    folded = _nfkc_cache.get(text)
    if folded is None:
        folded = text
        if not unicodedata.is_normalized("NFKC", folded):  # a C-level check, cheaper than normalising
            folded = unicodedata.normalize("NFKC", folded)
        folded = " ".join(folded.split())  # str.split() folds every kind of whitespace run, as \s+ does
        if len(_nfkc_cache) >= _NFKC_CACHE_SIZE:
            _nfkc_cache.clear()
        _nfkc_cache[text] = folded
    return folded


_nfkc_cache: dict[str, str] = {}
_NFKC_CACHE_SIZE = 50_000


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def join_name(last: str, first: str, middle: str = "") -> str:
    """张 + 伟 → 张伟; Smith + Mary + Ann → Mary Ann Smith."""
    if _has_cjk(last + first) and not middle:
        return f"{last}{first}"
    return " ".join(p for p in (first, middle, last) if p)


# -------------------------------------------------------------------------------- the mapper


@dataclass(frozen=True)
class RowError:
    row: int
    column: str  # the source header the user sees; "" when the row as a whole is wrong
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": str(self.message)}


_TEXT_TARGETS = frozenset(("name", "company", "title", "wechat", "province", "city", "district", "address",
                           "industry", "size", "source", "external_id", "owner", "team", "grade"))  # fmt:skip
_PROVENANCE_ROWS = 10_000  # remember which column fed phones[i] for this many recent rows


class RowMapper:
    """Built once per import from the headers and mapping; ``to_input`` is called per row."""

    def __init__(
        self,
        *,
        headers: list[str],
        mapping: dict[str, str],
        custom_fields: list[Any],
        default_region: str = "CN",
    ) -> None:
        self.headers = list(headers)
        self.mapping = {h: t for h, t in mapping.items() if t and h in set(headers)}
        self.default_region = default_region
        self.flavour = detect_flavour(self.headers)
        self.month_first: bool | None = True if self.flavour in {"outlook", "google"} else None
        self.custom = {d.key: d for d in custom_fields}
        index = {h: i for i, h in enumerate(self.headers)}
        # (target, header, column index), in file order
        self.columns: list[tuple[str, str, int]] = [(t, h, index[h]) for h, t in self.mapping.items()]
        self.columns.sort(key=lambda c: c[2])
        self._first_column: dict[str, str] = {}
        for target, header, _i in self.columns:
            self._first_column.setdefault(target, header)
        self._label_column = self._google_label_columns(index)
        # the label a phone/email column gives its values ("手机" → mobile), worked out once
        self._header_labels = {
            header: channel_label(header, "" if target == "phones" else "work")
            for target, header, _i in self.columns
            if target in ("phones", "emails")
        }
        self._provenance: OrderedDict[int, dict[str, list[str]]] = OrderedDict()

    def _google_label_columns(self, index: dict[str, int]) -> dict[str, int]:
        """Where labels live: "Phone 2 - Value" → "Phone 2 - Label" (new export) or "- Type" (old)."""
        labels: dict[str, int] = {}
        lowered = {h.casefold(): i for h, i in index.items()}
        for header in self.mapping:
            match = _GOOGLE_VALUE.match(header.strip())
            if match:
                stem = header.strip()[: -len("value")]
                for part in ("label", "type"):
                    position = lowered.get(f"{stem}{part}".casefold())
                    if position is not None:
                        labels[header] = position
                        break
        return labels

    # ---------------------------------------------------------------------------------------

    def to_input(self, row: int, values: list[str]) -> tuple[dict[str, Any], list[RowError]]:
        data: dict[str, Any] = {}
        errors: list[RowError] = []
        parts: dict[str, str] = {}
        notes: list[str] = []
        sources: dict[str, list[str]] = {"phones": [], "emails": []}
        for target, header, position in self.columns:
            raw = values[position] if position < len(values) else ""
            raw = (raw or "").strip()
            if not raw:
                continue
            try:
                if target in _TEXT_TARGETS:
                    data[target] = nfkc(raw)
                elif target in NAME_PARTS:
                    parts[target] = nfkc(raw)
                elif target == "notes":
                    notes.append(raw)
                elif target in ("phones", "emails"):
                    self._channel(target, header, raw, values, data, sources)
                elif target == "tags":
                    for tag in self._tags(raw):
                        if tag not in data.setdefault("tags", []):
                            data["tags"].append(tag)
                elif target == "birthday":
                    birthday = parse_date(raw, month_first=self.month_first)
                    if birthday is not None:
                        data["birthday"] = birthday.isoformat()
                elif target == "birthday_is_lunar":
                    data["birthday_is_lunar"] = _choice(raw, BOOLEANS, EXPECT_YES_NO) == "true"
                elif target == "gender":
                    # "未知"/"Unspecified" leave the field alone, like an empty cell
                    if gender := _choice(raw, GENDERS, gettext_lazy("男/女 or male/female")):
                        data["gender"] = gender
                elif target == "kind":
                    data["kind"] = _choice(raw, KINDS, gettext_lazy("个人/公司 or person/company"))
                elif target == "lifecycle_stage":
                    data["lifecycle_stage"] = _choice(
                        raw, LIFECYCLES, ", ".join(sorted(set(LIFECYCLES.values())))
                    )
                elif target == "value_tier":
                    if tier := _choice(raw, TIERS, gettext_lazy("high/medium/low or 高/中/低")):
                        data["value_tier"] = tier
                elif target.startswith("custom."):
                    self._custom(target[7:], raw, data)
            except ValueError as exc:
                errors.append(RowError(row, header, str(exc)))
        if parts and "name" not in data:
            name = join_name(
                parts.get("last_name", ""), parts.get("first_name", ""), parts.get("middle_name", "")
            )
            if name:
                data["name"] = name
        if notes:
            data["notes"] = "\n".join(notes)
        if len(data.get("phones", ())) > 1:  # the mobile number becomes the primary one, as people expect
            order = sorted(
                range(len(data["phones"])), key=lambda i: _PHONE_PRIORITY.get(data["phones"][i]["label"], 3)
            )
            data["phones"] = [data["phones"][i] for i in order]
            sources["phones"] = [sources["phones"][i] for i in order]
        self._remember(row, sources)
        return data, errors

    def _channel(
        self,
        target: str,
        header: str,
        raw: str,
        values: list[str],
        data: dict[str, Any],
        sources: dict[str, list[str]],
    ) -> None:
        label = self._header_labels.get(header) or ""
        position = self._label_column.get(header)
        if position is not None and position < len(values) and values[position].strip():
            label = channel_label(values[position], "other")
        items = data.setdefault(target, [])
        for part in split_multi(raw, emails=target == "emails"):
            entry_label, text = label, part
            labelled = _LABELLED.match(part) if (":" in part or "：" in part) else None
            if labelled:  # "work: 010-6234…" from a JSON list or a hand-written cell
                entry_label, text = (
                    channel_label(labelled["label"], labelled["label"].strip()[:20]),
                    labelled["value"],
                )
            text = nfkc(text)
            if target == "phones" and "." in text and _PHONE_FLOAT.match(text):
                text = text.split(".", 1)[0]
            if not entry_label:  # a plain "电话"/"Phone" column: a Chinese mobile number says what it is
                entry_label = (
                    "mobile" if _CN_MOBILE.match(text.replace(" ", "").replace("-", "")) else "other"
                )
            if target == "emails":
                text = text.lower()
            if text and (not items or text not in [item["value"] for item in items]):
                items.append({"label": entry_label, "value": text})
                sources[target].append(header)

    def _tags(self, raw: str) -> list[str]:
        tags = []
        for part in split_multi(raw):
            tag = nfkc(part)
            if self.flavour == "google" and tag.startswith("*"):
                continue  # "* myContacts", "* starred": Google's system groups, not the user's labels
            if self.flavour == "google" and tag.replace(" ", "").casefold() in _GOOGLE_SYSTEM_LABELS:
                continue
            if tag:
                tags.append(tag)
        return tags

    def _custom(self, key: str, raw: str, data: dict[str, Any]) -> None:
        defn = self.custom.get(key)
        value: Any = raw
        if defn is not None:
            kind = defn.field_type
            if kind == "date":
                parsed = parse_date(raw, month_first=self.month_first)
                value = parsed.isoformat() if parsed else None
            elif kind == "bool":
                value = _choice(raw, BOOLEANS, EXPECT_YES_NO) == "true"
            elif kind == "number":
                value = nfkc(raw).replace(",", "").replace("¥", "").replace("$", "").strip()
            elif kind == "multi_choice":
                value = [self._choice_value(defn, p) for p in split_multi(raw)]
            elif kind == "choice":
                value = self._choice_value(defn, raw)
            else:
                value = nfkc(raw)
        if value is not None:
            data.setdefault("custom", {})[key] = value

    @staticmethod
    def _choice_value(defn: Any, raw: str) -> str:
        text = nfkc(raw)
        for choice in defn.choices or []:
            if str(choice).casefold() == text.casefold():
                return str(choice)
        return text  # not a choice: the custom-field validation names the allowed values

    def _remember(self, row: int, sources: dict[str, list[str]]) -> None:
        self._provenance[row] = sources
        if len(self._provenance) > _PROVENANCE_ROWS:
            self._provenance.popitem(last=False)

    # ---------------------------------------------------------------------------------------

    def column_for(self, target_field: str, row: int | None = None) -> str:
        """The source header behind a service error's field ("phones[1]", "email", "custom.vip")."""
        match = re.match(r"^(phones|emails|phone|email)(?:\[(\d+)\])?$", target_field)
        if match:
            plural = match[1] if match[1].endswith("s") else f"{match[1]}s"
            position = int(match[2]) if match[2] else 0
            sources = self._provenance.get(row, {}).get(plural, []) if row is not None else []
            if position < len(sources):
                return sources[position]
            return self._first_column.get(plural, "")
        if target_field == "name" and "name" not in self._first_column:
            for part in NAME_PARTS:
                if part in self._first_column:
                    return self._first_column[part]
        return self._first_column.get(target_field.split("[", 1)[0], "")


EXPECT_YES_NO = gettext_lazy("yes or no (是/否)")


def _choice(raw: str, table: dict[str, str], expected: str | Promise) -> str:
    # ``expected`` is lazy: translating it for every cell of a million-row file cost a gettext per cell.
    key = nfkc(raw).casefold()
    if key in table:
        return table[key]
    raise ValueError(
        _("“%(value)s” is not understood; expected %(expected)s") % {"value": raw, "expected": expected}
    )


__all__ = ["MULTI_TARGETS", "RowError", "RowMapper", "parse_date"]

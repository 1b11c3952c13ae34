"""Per-customer values the scan compares, as aligned columns (one index per customer).

Built once from plain row dicts (``.values()`` rows, never model instances) so blocking and scoring
work on lists and numpy arrays. Everything is normalised here: NFKC, lowercase, names to pinyin,
company suffixes dropped, phones to E.164 (national digits when a number would not parse).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from guanxi.customers.dedupe.names import NameKey, name_key

COLUMNS = (
    "id",
    "kind",
    "name",
    "company",
    "phone_e164",
    "phones",
    "email",
    "emails",
    "wechat",
    "province",
    "city",
    "district",
    "address",
    "birthday",
    "custom",
)

_PUNCT = re.compile(r"[^\w\u3400-\u9fff]+")
_COMPANY_SUFFIX = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|集团|公司|"
    r"\b(co|corp|corporation|inc|incorporated|ltd|limited|llc|gmbh|plc|company)\b\.?)",
)
_DIGITS = re.compile(r"\D+")


def clean_text(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").lower()
    return " ".join(_PUNCT.sub(" ", text).split())


def clean_company(value: str) -> str:
    text = clean_text(value)
    return " ".join(_COMPANY_SUFFIX.sub(" ", text).split())


def _phones(row: dict[str, Any]) -> frozenset[str]:
    found = set()
    for item in [{"e164": row.get("phone_e164") or ""}, *(row.get("phones") or [])]:
        if not isinstance(item, dict):
            continue
        value = item.get("e164") or _DIGITS.sub("", str(item.get("value") or ""))
        if len(value.lstrip("+")) >= 6:
            found.add(value)
    return frozenset(found)


def _emails(row: dict[str, Any]) -> frozenset[str]:
    found = {str(row.get("email") or "").strip().lower()}
    for item in row.get("emails") or []:
        if isinstance(item, dict):
            found.add(str(item.get("value") or "").strip().lower())
    return frozenset(e for e in found if "@" in e)


@dataclass
class Features:
    ids: np.ndarray
    kind: list[str]
    names: list[NameKey]
    name_text: list[str]
    name_latin: list[str]
    name_compact: list[str]
    name_sorted: list[str]
    name_cjk: np.ndarray
    name_freq: np.ndarray  # how many customers share this name's sorted pinyin/latin words
    display_name: list[str]
    phones: list[frozenset[str]]
    emails: list[frozenset[str]]
    wechat: list[str]
    birthday: np.ndarray  # proleptic ordinal, 0 when unknown
    birth_ymd: np.ndarray  # (n, 3) year, month, day
    address: list[str]
    city: list[str]
    city_display: list[str]  # as typed, for the reason text
    province: list[str]
    company: list[str]
    custom: dict[str, list[str]] = field(default_factory=dict)
    custom_freq: dict[str, Counter[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def build_features(rows: Iterable[dict[str, Any]], *, ignore_custom: Iterable[str] = ()) -> Features:
    ignored = set(ignore_custom)
    ids: list[int] = []
    kind: list[str] = []
    names: list[NameKey] = []
    display: list[str] = []
    phones: list[frozenset[str]] = []
    emails: list[frozenset[str]] = []
    wechat: list[str] = []
    birthdays: list[int] = []
    ymd: list[tuple[int, int, int]] = []
    address: list[str] = []
    city: list[str] = []
    city_display: list[str] = []
    province: list[str] = []
    company: list[str] = []
    custom_raw: list[dict[str, Any]] = []
    for row in rows:
        ids.append(row["id"])
        kind.append(row.get("kind") or "person")
        names.append(name_key(row.get("name") or ""))
        display.append(row.get("name") or "")
        phones.append(_phones(row))
        emails.append(_emails(row))
        wechat.append(str(row.get("wechat") or "").strip().lower())
        born = row.get("birthday")
        if isinstance(born, str) and born:
            born = dt.date.fromisoformat(born[:10])
        if isinstance(born, dt.date):
            birthdays.append(born.toordinal())
            ymd.append((born.year, born.month, born.day))
        else:
            birthdays.append(0)
            ymd.append((0, 0, 0))
        address.append(clean_text(" ".join(filter(None, [row.get("address"), row.get("district")]))))
        city.append(clean_text(row.get("city") or ""))
        city_display.append((row.get("city") or "").strip())
        province.append(clean_text(row.get("province") or ""))
        company.append(clean_company(row.get("company") or ""))
        custom_raw.append(row.get("custom") or {})

    custom: dict[str, list[str]] = {}
    keys = {
        k for c in custom_raw if isinstance(c, dict) for k, v in c.items() if isinstance(v, str)
    } - ignored
    for key in sorted(keys):
        custom[key] = [clean_text(c.get(key, "")) if isinstance(c.get(key), str) else "" for c in custom_raw]
    name_sorted = [n.sorted_tokens for n in names]
    freq = Counter(name_sorted)
    return Features(
        ids=np.asarray(ids, dtype=np.int64),
        kind=kind,
        names=names,
        name_text=[n.text for n in names],
        name_latin=[n.latin for n in names],
        name_compact=[n.compact for n in names],
        name_sorted=name_sorted,
        name_cjk=np.asarray([n.cjk for n in names], dtype=bool),
        name_freq=np.asarray([freq[s] for s in name_sorted], dtype=np.int64),
        display_name=display,
        phones=phones,
        emails=emails,
        wechat=wechat,
        birthday=np.asarray(birthdays, dtype=np.int64),
        birth_ymd=np.asarray(ymd, dtype=np.int64).reshape(-1, 3),
        address=address,
        city=city,
        city_display=city_display,
        province=province,
        company=company,
        custom=custom,
        custom_freq={k: Counter(v for v in vals if v) for k, vals in custom.items()},
    )

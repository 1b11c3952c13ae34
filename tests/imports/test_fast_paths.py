"""The import's fast paths give exactly what the plain code gives (hypothesis compares them)."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.customers.bulkwrite import CUSTOMER_COLUMNS
from guanxi.customers.imports import rows
from guanxi.customers.imports.cleaner import _DEFAULTS, BOOL_COLUMNS, JSON_COLUMNS, TuplePlan
from guanxi.customers.imports.rows import _SEPARATORS, _SEPARATORS_EMAILS, nfkc, split_multi

# Separators, spaces of several kinds, full-width forms and CJK: what the fast paths branch on.
CELL = st.text(alphabet=st.sampled_from(list(";；,，、/|\r\n \t\u3000:ＡＢ１２ａb1@.张伟-")), max_size=30)


def split_multi_plain(text: str, *, emails: bool = False) -> list[str]:
    """split_multi before its no-separator shortcut: always translate, then split."""
    if ":::" in text:
        text = text.replace(":::", "\n")
    text = text.translate(_SEPARATORS_EMAILS if emails else _SEPARATORS)
    if "\n" not in text:
        text = text.strip()
        return [text] if text else []
    return [part for part in (p.strip() for p in text.split("\n")) if part]


def nfkc_plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


@settings(max_examples=500, deadline=None)
@given(CELL, st.booleans())
def test_split_multi_shortcut_is_the_same_split(text: str, emails: bool) -> None:
    assert split_multi(text, emails=emails) == split_multi_plain(text, emails=emails)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(CELL, st.text(max_size=12)), max_size=8))
def test_memoised_nfkc_is_nfkc(texts: list[str]) -> None:
    for text in texts + texts:  # the second round is answered from the cache
        assert nfkc(text) == nfkc_plain(text)


def test_nfkc_cache_stays_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(rows, "_NFKC_CACHE_SIZE", 10)
    monkeypatch.setattr(rows, "_nfkc_cache", {})
    for i in range(100):
        assert nfkc(f" Ｘ{i} ") == f"X{i}"
    assert len(rows._nfkc_cache) <= 10


def customer_tuple_plain(values: dict[str, Any], ctx: Any, stamp: str, search_text: str) -> tuple[Any, ...]:
    """The row as the column-by-column code built it before the template."""
    fixed = {
        "organization_id": ctx.actor.org_id,
        "created_by_id": ctx.actor.user.pk,
        "created_at": stamp,
        "updated_at": stamp,
        "search_text": search_text,
        "version": 1,
    }
    out = []
    for column in CUSTOMER_COLUMNS[1:]:
        value = fixed[column] if column in fixed else values.get(column, _DEFAULTS.get(column))
        if column in JSON_COLUMNS:
            value = json.dumps(value if value is not None else ({} if column == "custom" else []))
        elif column == "birthday":
            value = value.isoformat() if value else None
        elif column in BOOL_COLUMNS and not ctx.pg:
            value = int(bool(value))
        out.append(value)
    return tuple(out)


TEXT = st.text(alphabet=st.sampled_from(list("ab张伟 \"'\\é")), max_size=6)
VALUES = st.fixed_dictionaries(
    {},
    optional={
        "name": TEXT,
        "company": TEXT,
        "phone": TEXT,
        "phones": st.one_of(st.none(), st.lists(st.fixed_dictionaries({"label": TEXT, "value": TEXT}))),
        "emails": st.lists(st.fixed_dictionaries({"label": TEXT, "value": TEXT}), max_size=2),
        "custom": st.one_of(st.none(), st.dictionaries(TEXT, st.one_of(TEXT, st.integers()), max_size=2)),
        "birthday": st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2030, 1, 1))),
        "birthday_is_lunar": st.booleans(),
        "in_public_pool": st.booleans(),
        "owner_id": st.one_of(st.none(), st.integers(1, 99)),
        "team_id": st.one_of(st.none(), st.integers(1, 99)),
        "gender": st.sampled_from(["", "male", "female"]),
        # keys the row must not take from the values: fixed columns and the search text
        "version": st.integers(2, 9),
        "organization_id": st.integers(100, 200),
        "search_text": TEXT,
        "not_a_column": TEXT,
    },
)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.booleans(), TEXT)
def test_tuple_plan_builds_the_same_row(values: dict[str, Any], pg: bool, search_text: str) -> None:
    ctx: Any = SimpleNamespace(actor=SimpleNamespace(org_id=7, user=SimpleNamespace(pk=3)), pg=pg)
    stamp = "2026-11-23 15:00:00.000000" + ("+00" if pg else "")
    expected = customer_tuple_plain(values, ctx, stamp, search_text)
    row = TuplePlan(ctx, stamp).row(values, search_text)
    assert [(type(v), v) for v in row] == [(type(v), v) for v in expected]  # 1 is not True here

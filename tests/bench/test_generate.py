"""The generator: deterministic, valid phones, realistic Chinese names, API-shaped records."""

from __future__ import annotations

import re
from collections import Counter

import phonenumbers
import pytest

from guanxi.bench import data as D
from guanxi.bench.generate import BLOCK, CustomerGenerator, generate
from guanxi.customers.schemas import CustomerIn
from guanxi.customers.search import search_text_for

CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
EN_NAME = re.compile(r"^[A-Z][a-z]+ [A-Z][a-z]+$")


@pytest.fixture(scope="module")
def rows() -> list:
    return list(CustomerGenerator(3, english_share=0.1).rows(4000))


def test_same_seed_same_records_and_other_seed_differs() -> None:
    a = list(generate(300, seed=9))
    assert a == list(generate(300, seed=9))
    assert a != list(generate(300, seed=10))


def test_a_row_is_the_same_whatever_slice_asks_for_it() -> None:
    gen = CustomerGenerator(5)
    whole = [r.record() for r in gen.rows(BLOCK + 30)]
    assert [r.record() for r in gen.rows(60, start=BLOCK - 30)] == whole[-60:]
    assert [r.record() for r in gen.rows(200)] == whole[:200]


def test_every_phone_is_a_valid_number_and_unique(rows: list) -> None:
    seen = set()
    for row in rows:
        for phone in row.phones:
            parsed = phonenumbers.parse(phone.value, "CN")
            assert phonenumbers.is_valid_number(parsed), phone
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone.e164
            assert phonenumbers.national_significant_number(parsed) == phone.national
            assert phone.e164 not in seen
            seen.add(phone.e164)
    assert len(seen) > 3500


def test_names_are_chinese_or_english_with_realistic_surnames(rows: list) -> None:
    people = [r for r in rows if r.kind == "person"]
    chinese = [r for r in people if not r.is_english]
    english = [r for r in people if r.is_english]
    assert all(CJK_NAME.match(r.name) for r in chinese)
    assert all(EN_NAME.match(r.name) for r in english)
    assert 0.05 < len(english) / len(people) < 0.15
    surnames = Counter(r.name[:2] if r.name[:2] in {"欧阳", "司马"} else r.name[0] for r in chinese)
    top = [s for s, _ in surnames.most_common(3)]
    assert set(top) <= {"王", "李", "张", "刘"}
    assert any(len(r.name) == 2 for r in chinese) and any(len(r.name) == 3 for r in chinese)
    two_char = [
        r for r in CustomerGenerator(8, english_share=0).rows(20000) if r.name[:2] in ("欧阳", "司马")
    ]
    assert two_char


def test_companies_places_and_classifications_look_real(rows: list) -> None:
    companies = [r for r in rows if r.kind == "company" and not r.is_english]
    assert companies and all(r.name.endswith("公司") for r in companies)
    assert all(r.name.startswith(r.city) for r in companies)
    assert len(D.PLACES) >= 20
    assert {r.province for r in rows if not r.is_english} <= set(D.PLACES)
    assert Counter(r.province for r in rows if not r.is_english).most_common(1)[0][0] == "广东"
    assert {r.industry for r in rows} - {""} <= set(D.INDUSTRIES)
    assert {r.source for r in rows} == {s for s, _ in D.SOURCES}
    assert {r.lifecycle_stage for r in rows} == {s for s, _ in D.LIFECYCLE}
    assert {r.grade for r in rows} == {g for g, _ in D.GRADES}
    assert all(set(r.tags) <= set(D.TAGS) for r in rows)
    assert all(r.birthday is None or 1960 <= r.birthday.year <= 2003 for r in rows)
    assert any(r.birthday_is_lunar for r in rows)
    titled = [r for r in rows if r.title and not r.is_english]
    assert {r.gender for r in titled} == {"male", "female", ""}


def test_records_fit_the_api_input_schema(rows: list) -> None:
    for row in rows[:500]:
        CustomerIn(**row.record())


def test_search_text_matches_the_services_function(rows: list) -> None:
    for row in rows[:1000]:
        expected = search_text_for(
            name=row.name,
            company=row.company,
            phones_e164=[p["e164"] for p in row.phones_json()],
            phones_raw=[p["value"] for p in row.phones_json()],
            emails=row.emails,
            wechat=row.wechat,
        )
        assert row.search_text() == expected

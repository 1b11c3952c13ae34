"""What the matcher finds and what it leaves alone, on small hand-made Chinese and English data.

Pure computation over plain rows (what the scan reads with ``.values()``), no database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from guanxi.customers.dedupe.names import name_key
from guanxi.customers.dedupe.reasons import describe_all
from guanxi.customers.dedupe.rules import DEFAULT_THRESHOLD, Rules, effective_rules
from guanxi.customers.dedupe.scan import find_duplicates

RULES = Rules(DEFAULT_THRESHOLD, effective_rules({}))

# Unrelated people around the pairs under test, so name frequencies look like a real book.
FILLER = [
    {"name": n, "phone_e164": f"+86139000{i:05d}", "city": c}
    for i, (n, c) in enumerate(
        [
            ("李娜", "上海"),
            ("刘洋", "广州"),
            ("陈静", "深圳"),
            ("杨帆", "成都"),
            ("赵磊", "杭州"),
            ("黄敏", "南京"),
            ("周杰", "武汉"),
            ("吴昊", "西安"),
            ("Emma Brown", "London"),
            ("Liam Wilson", "Leeds"),
        ]
    )
]


def rows(*people: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, person in enumerate([*people, *FILLER], start=1):
        out.append(
            {
                "id": i,
                "kind": "person",
                "company": "",
                "phones": [],
                "emails": [],
                "email": "",
                "phone_e164": "",
                "wechat": "",
                "province": "",
                "city": "",
                "district": "",
                "address": "",
                "birthday": None,
                "custom": {},
                **person,
            }
        )
    return out


def pairs_of(*people: dict[str, Any]) -> dict[tuple[int, int], list[str]]:
    result = find_duplicates(rows(*people), RULES)
    return {(p.a, p.b): describe_all(p.reasons) for p in result.pairs}


def test_surname_is_read_as_a_surname() -> None:
    assert name_key("单雄信").latin == "shan xiongxin"  # pypinyin alone says "dan"
    assert name_key("曾志伟").latin == "zeng zhiwei"
    assert name_key("欧阳娜娜").latin == "ouyang nana"
    assert name_key("張偉").latin == name_key("张伟").latin == name_key("Zhang Wei").latin == "zhang wei"


def test_simplified_and_traditional_name_with_same_phone_match() -> None:
    found = pairs_of(
        {"name": "张伟", "phone_e164": "+8613812348000", "city": "北京"},
        {"name": "張偉", "phone_e164": "+8613812348000", "city": "北京"},
    )
    assert (1, 2) in found
    assert "same name in pinyin (zhangwei)" in found[(1, 2)]
    assert "same phone +86 138 1234 8000" in found[(1, 2)]


def test_traditional_name_same_birthday_and_city_match_without_phone() -> None:
    found = pairs_of(
        {"name": "张伟", "city": "北京", "birthday": dt.date(1988, 5, 3), "address": "朝阳区建国路88号"},
        {"name": "張偉", "city": "北京", "birthday": dt.date(1988, 5, 3), "address": "朝阳区建国路88号"},
    )
    assert (1, 2) in found


def test_pinyin_spelling_matches_chinese_characters() -> None:
    found = pairs_of(
        {"name": "王小明", "email": "xm.wang@example.com", "emails": [{"value": "xm.wang@example.com"}]},
        {"name": "Wang Xiaoming", "email": "xm.wang@example.com"},
        {"name": "Xiaoming Wang", "birthday": dt.date(1990, 1, 2), "email": "xm.wang@example.com"},
    )
    assert {(1, 2), (1, 3), (2, 3)} <= set(found)


def test_same_phone_in_different_formats() -> None:
    # What the services store: E.164 in phone_e164 / phones[].e164, the typed value beside it.
    found = pairs_of(
        {
            "name": "李雷",
            "phone_e164": "+8613912345678",
            "phones": [{"value": "139 1234 5678", "e164": "+8613912345678"}],
        },
        {
            "name": "李雷",
            "phone_e164": "",
            "phones": [{"value": "+86-139-1234-5678", "e164": "+8613912345678"}],
        },
    )
    assert (1, 2) in found
    assert any(r.startswith("same phone") for r in found[(1, 2)])


def test_typo_in_an_english_name_with_the_same_email() -> None:
    found = pairs_of(
        {"name": "Jonathan Smith", "email": "jsmith@example.com", "city": "Leeds"},
        {"name": "Jonathon Smyth", "email": "jsmith@example.com", "city": "Leeds"},
    )
    assert (1, 2) in found
    assert any(r.startswith("name ") and "similar" in r for r in found[(1, 2)])


def test_typo_in_an_english_name_with_the_same_birthday_and_address() -> None:
    found = pairs_of(
        {
            "name": "Katherine Johnson",
            "birthday": dt.date(1975, 3, 9),
            "address": "12 Baker Street",
            "city": "London",
        },
        {
            "name": "Kathrine Jonson",
            "birthday": dt.date(1975, 3, 9),
            "address": "12 Baker St.",
            "city": "London",
        },
    )
    assert (1, 2) in found


def test_two_different_wang_fang_are_not_matched() -> None:
    found = pairs_of(
        {"name": "王芳", "phone_e164": "+8613800001111", "city": "北京"},
        {"name": "王芳", "phone_e164": "+8613900002222", "city": "广州"},
    )
    assert (1, 2) not in found


def test_homophone_names_alone_are_not_matched() -> None:
    # 张伟 / 章伟 sound the same; with nothing else in common that is not a duplicate.
    found = pairs_of({"name": "张伟", "city": "北京"}, {"name": "章伟", "city": "北京"})
    assert (1, 2) not in found


def test_family_sharing_an_address_is_not_matched() -> None:
    found = pairs_of(
        {"name": "John Carter", "address": "5 Elm Road", "city": "Leeds", "birthday": dt.date(1970, 1, 1)},
        {"name": "Mary Carter", "address": "5 Elm Road", "city": "Leeds", "birthday": dt.date(1972, 6, 30)},
    )
    assert (1, 2) not in found


def test_shared_rare_custom_value_counts_but_a_common_one_does_not() -> None:
    people = [{"name": f"客户{i}", "custom": {"segment": "retail"}} for i in range(30)]
    found = pairs_of(
        {"name": "Li Ming", "custom": {"member_no": "VIP-000123", "segment": "retail"}, "city": "上海"},
        {"name": "李明", "custom": {"member_no": "VIP-000123", "segment": "retail"}, "city": "上海"},
        *people,
    )
    assert (1, 2) in found
    assert any("member_no" in r for r in found[(1, 2)])
    assert not any(a > 2 for a, _ in found)  # "retail" shared by 32 customers links nobody


def test_a_cluster_joins_three_records_of_one_person() -> None:
    result = find_duplicates(
        rows(
            {"name": "陈晨", "phone_e164": "+8613700000001"},
            {"name": "陳晨", "phone_e164": "+8613700000001", "email": "cc@example.com"},
            {"name": "陈晨", "email": "cc@example.com"},
        ),
        RULES,
    )
    clusters = {p.cluster for p in result.pairs if p.a <= 3 and p.b <= 3}
    assert clusters == {1}


@pytest.mark.parametrize("threshold", [0.4, 0.95])
def test_threshold_decides_what_is_listed(threshold: float) -> None:
    people = rows(
        {"name": "Jonathan Smith", "city": "Leeds", "birthday": dt.date(1980, 2, 2)},
        {"name": "Jonathan Smith", "city": "Leeds"},
    )
    listed = find_duplicates(people, Rules(threshold, effective_rules({}))).pairs
    assert all(p.score >= threshold for p in listed)
    assert bool([p for p in listed if (p.a, p.b) == (1, 2)]) == (threshold == 0.4)


def test_a_disabled_signal_no_longer_counts() -> None:
    people = rows(
        {"name": "赵六", "phone_e164": "+8613600000009"},
        {"name": "赵六", "phone_e164": "+8613600000009"},
    )
    assert find_duplicates(people, RULES).pairs
    rules = Rules(DEFAULT_THRESHOLD, effective_rules({"phone": {"enabled": False}}))
    assert not [p for p in find_duplicates(people, rules).pairs if (p.a, p.b) == (1, 2)]

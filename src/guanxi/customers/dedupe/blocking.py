"""Blocking: which pairs of customers are worth scoring at all.

Comparing every pair of 100,000 customers is 5·10⁹ comparisons; instead each customer gets a few
*keys* and only customers sharing a key are compared. Each key covers a way records of one person
drift apart: a retyped name keeps the phone, a new phone keeps the name and birthday, a typo in one
name word keeps the other word and the city, a transliterated name keeps its pinyin.

A key shared by too many customers (张伟 in a big organisation, a company with 500 employees on
file) is split by city; what is still too big is dropped — such a key says nothing about identity
and would cost quadratic time. The count of dropped blocks is reported.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from guanxi.customers.dedupe.features import Features

MAX_BLOCK = 120
MAX_CUSTOM_BLOCK = 20
_NUMBER = re.compile(r"\d+")


@dataclass
class Candidates:
    a: np.ndarray  # row indices, a < b
    b: np.ndarray
    blocks: int
    oversized: int  # blocks dropped because too many customers shared the key


def _keys(f: Features, i: int, birthdays: list[int], years: list[int]) -> Iterator[str]:
    for phone in f.phones[i]:
        yield "p:" + phone[-8:]
    for email in f.emails[i]:
        yield "e:" + email
    if f.wechat[i]:
        yield "w:" + f.wechat[i]
    name = f.names[i]
    if name.sorted_tokens:
        yield "n:" + name.sorted_tokens
        if name.compact != name.sorted_tokens.replace(" ", ""):
            yield "m:" + name.compact
        tokens = name.sorted_tokens.split()
        if not name.cjk:  # latin typos; CJK "typos" are homophones, which the pinyin key already meets
            yield "q:" + " ".join(sorted(t[:3] for t in tokens))
        if birthdays[i]:
            yield f"b:{birthdays[i]}:{''.join(sorted(t[0] for t in tokens))}"
        if not name.cjk:
            # a typo in one word: the other word with the city, or with the year of birth
            year = years[i]
            for token in tokens:
                if len(token) >= 2:
                    if f.city[i]:
                        yield f"t:{token}|{f.city[i]}"
                    if year:
                        yield f"y:{token}|{year}"
    if f.address[i]:
        numbers = _NUMBER.findall(f.address[i])
        words = [w for w in f.address[i].split() if not w.isdigit()]
        if numbers and words:
            yield f"a:{numbers[0]}|{words[0][:6]}"
    if f.company[i] and name.sorted_tokens:
        yield f"c:{f.company[i]}|{name.sorted_tokens[0]}"
    for key, values in f.custom.items():
        value = values[i]
        if value and f.custom_freq[key][value] <= MAX_CUSTOM_BLOCK:
            yield f"x:{key}:{value}"


def candidate_pairs(f: Features, *, max_block: int = MAX_BLOCK) -> Candidates:
    buckets: dict[str, list[int]] = defaultdict(list)
    birthdays, years = f.birthday.tolist(), f.birth_ymd[:, 0].tolist()  # numpy scalars are slow one by one
    for i in range(len(f)):
        for key in set(_keys(f, i, birthdays, years)):
            buckets[key].append(i)
    n = len(f)
    codes: list[int] = []
    blocks = oversized = 0
    for members in buckets.values():
        if len(members) < 2:
            continue
        groups = [members]
        if len(members) > max_block:
            by_city: dict[str, list[int]] = defaultdict(list)
            for i in members:
                by_city[f.city[i]].append(i)
            groups = [g for city, g in by_city.items() if city and len(g) > 1]
            if any(len(g) > max_block for g in groups):
                oversized += 1
                groups = [g for g in groups if len(g) <= max_block]
        for group in groups:
            blocks += 1
            if len(group) == 2:
                x, y = group
                codes.append(x * n + y if x < y else y * n + x)
            else:
                codes.extend(x * n + y if x < y else y * n + x for x, y in combinations(group, 2))
    unique = np.unique(np.asarray(codes, dtype=np.int64))
    return Candidates(a=unique // max(n, 1), b=unique % max(n, 1), blocks=blocks, oversized=oversized)

"""Scoring candidate pairs: per-signal evidence, summed into a 0..1 score, with the reasons kept.

Vectorised over all candidate pairs at once: ``rapidfuzz.process.cpdist`` compares the i-th name
of one list with the i-th of the other in C on all cores, numpy does dates and sums. Only the
pairs that pass the threshold are turned into reason lists in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from guanxi.customers.dedupe.features import Features
from guanxi.customers.dedupe.rules import OFFSET, Rules

# Level codes per signal; 0 always means "nothing to compare" (a value missing on one side).
NAME_LEVELS = ("", "exact", "pinyin", "high", "medium", "low", "partial", "mismatch", "one_word")
PAIR_LEVELS = ("", "agree", "near", "disagree")
SIM_LEVELS = ("", "high", "medium", "none", "mismatch")


@dataclass
class Scored:
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    name_sim: np.ndarray
    address_sim: np.ndarray
    levels: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    custom_key: np.ndarray  # index into sorted custom keys of the strongest shared value, -1: none

    def keep(self, mask: np.ndarray) -> Scored:
        return Scored(
            a=self.a[mask],
            b=self.b[mask],
            score=self.score[mask],
            name_sim=self.name_sim[mask],
            address_sim=self.address_sim[mask],
            levels={k: v[mask] for k, v in self.levels.items()},
            weights={k: v[mask] for k, v in self.weights.items()},
            custom_key=self.custom_key[mask],
        )


def _col(values: list[str], idx: np.ndarray) -> list[str]:
    # Fancy indexing of an object array runs in C; a comprehension over numpy ints does not.
    return list(np.asarray(values, dtype=object)[idx])


def _sim(scorer: Any, left: list[str], right: list[str]) -> np.ndarray:
    if not left:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(cpdist(left, right, scorer=scorer, workers=-1), dtype=np.float32) / 100.0


def _weights(rules: Rules, signal: str, levels: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    table: np.ndarray = np.zeros(len(names), dtype=np.float32)
    if rules.on(signal):
        for code, level in enumerate(names):
            if level and level in rules.weights[signal] and level not in ("none",):
                table[code] = rules.w(signal, level)
    return np.asarray(table[levels])


def _name(f: Features, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    la, lb = _col(f.name_latin, a), _col(f.name_latin, b)
    sort_ratio = _sim(fuzz.token_sort_ratio, la, lb)
    compact = _sim(fuzz.ratio, _col(f.name_compact, a), _col(f.name_compact, b))
    sa, sb = _col(f.name_sorted, a), _col(f.name_sorted, b)
    jaro = _sim(JaroWinkler.normalized_similarity, sa, sb) * 100
    token_set = _sim(fuzz.token_set_ratio, la, lb)
    sim = np.maximum(np.maximum(sort_ratio, compact), np.minimum(jaro, sort_ratio + 0.05))
    text_a, text_b = (
        np.asarray(_col(f.name_text, a), dtype=object),
        np.asarray(_col(f.name_text, b), dtype=object),
    )
    sorted_a, sorted_b = np.asarray(sa, dtype=object), np.asarray(sb, dtype=object)
    either_cjk = f.name_cjk[a] | f.name_cjk[b]
    empty = (text_a == "") | (text_b == "")
    exact = (text_a == text_b) | ((sorted_a == sorted_b) & ~either_cjk)
    pinyin = (sorted_a == sorted_b) & ~exact
    ntok_a = np.asarray([s.count(" ") for s in sa]) if sa else np.zeros(0)
    ntok_b = np.asarray([s.count(" ") for s in sb]) if sb else np.zeros(0)
    partial = (token_set >= 0.999) & (ntok_a != ntok_b) & (sim < 0.92)
    # One word the same, another different: a sibling or spouse as often as a changed surname.
    # Only asked of the pairs that would otherwise be a mismatch.
    one_word = np.zeros(len(sa), dtype=bool)
    for k in np.flatnonzero(sim < 0.75).tolist():
        one_word[k] = bool(set(sa[k].split()) & set(sb[k].split()))
    levels = np.select(
        [empty, exact, pinyin, sim >= 0.92, sim >= 0.85, partial, sim >= 0.75, one_word],
        [0, 1, 2, 3, 4, 6, 5, 8],
        default=7,
    ).astype(np.int8)
    sim = np.where(exact | pinyin, 1.0, sim).astype(np.float32)
    return levels, sim


def _sets(values: list[frozenset[str]], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    has = np.fromiter((bool(v) for v in values), dtype=bool, count=len(values))
    both = np.flatnonzero(has[a] & has[b])
    levels = np.zeros(len(a), dtype=np.int8)
    ai, bi = a[both].tolist(), b[both].tolist()
    levels[both] = [1 if values[i] & values[j] else 3 for i, j in zip(ai, bi, strict=True)]
    return levels


def _equal_text(
    values: list[str], a: np.ndarray, b: np.ndarray, *, fuzzy: bool, contained: bool = False
) -> np.ndarray:
    va, vb = _col(values, a), _col(values, b)
    present = np.asarray([bool(x) and bool(y) for x, y in zip(va, vb, strict=True)], dtype=bool)
    if contained:
        # 北京星河科技 / 星河科技: a company written with and without its city prefix.
        whole = _sim(fuzz.partial_ratio, va, vb) >= 0.95
        long_enough = np.asarray([min(len(x), len(y)) >= 4 for x, y in zip(va, vb, strict=True)], dtype=bool)
        same = (_sim(fuzz.ratio, va, vb) >= 0.9) | (whole & long_enough)
    elif fuzzy:
        # Jaro-Winkler forgives a swapped or dropped letter in short words (casula/casual, cori/corio).
        same = (
            np.maximum(_sim(fuzz.ratio, va, vb), _sim(JaroWinkler.normalized_similarity, va, vb) * 100) >= 0.9
        )
    else:
        same = np.asarray([x == y for x, y in zip(va, vb, strict=True)], dtype=bool)
    return np.where(present, np.where(same, 1, 3), 0).astype(np.int8)


def _birthday(f: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ya, yb = f.birth_ymd[a], f.birth_ymd[b]
    known = (f.birthday[a] > 0) & (f.birthday[b] > 0)
    same = (ya == yb).sum(axis=1)
    swapped = (ya[:, 0] == yb[:, 0]) & (ya[:, 1] == yb[:, 2]) & (ya[:, 2] == yb[:, 1])
    levels = np.select([~known, same == 3, (same == 2) | swapped], [0, 1, 2], default=3)
    return levels.astype(np.int8)


def _address(f: Features, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    va, vb = _col(f.address, a), _col(f.address, b)
    present = np.asarray([bool(x) and bool(y) for x, y in zip(va, vb, strict=True)], dtype=bool)
    sim = (_sim(fuzz.token_sort_ratio, va, vb) + _sim(fuzz.token_set_ratio, va, vb)) / 2
    levels = np.select([~present, sim >= 0.9, sim >= 0.75, sim >= 0.5], [0, 1, 2, 3], default=4)
    return levels.astype(np.int8), np.where(present, sim, 0).astype(np.float32)


def _custom(f: Features, a: np.ndarray, b: np.ndarray, rules: Rules) -> tuple[np.ndarray, np.ndarray]:
    total = np.zeros(len(a), dtype=np.float32)
    best = np.full(len(a), -1, dtype=np.int16)
    best_w = np.zeros(len(a), dtype=np.float32)
    if not rules.on("custom") or not len(a):
        return total, best
    cap, near = rules.w("custom", "cap"), rules.w("custom", "near")
    disagree, n = rules.w("custom", "disagree"), max(len(f), 2)
    for k, key in enumerate(sorted(f.custom)):
        values, freq = f.custom[key], f.custom_freq[key]
        va, vb = _col(values, a), _col(values, b)
        # One typo (or two digits swapped) in a long code is still some evidence.
        typo = _sim(OSA.normalized_similarity, va, vb) * 100
        w = np.asarray(
            [
                (
                    min(cap, math.log(n / freq[x]))
                    if x == y
                    else (near if len(x) >= 5 and t >= 1 - 1.01 / len(x) else disagree)
                )
                if x and y
                else 0.0
                for x, y, t in zip(va, vb, typo.tolist(), strict=True)
            ],
            dtype=np.float32,
        )
        total += w
        stronger = w > np.maximum(best_w, 0)
        best = np.where(stronger, k, best).astype(np.int16)
        best_w = np.where(stronger, w, best_w)
    return total, best


def score_pairs(f: Features, a: np.ndarray, b: np.ndarray, rules: Rules) -> Scored:
    name_levels, name_sim = _name(f, a, b)
    name_w = _weights(rules, "name", name_levels, NAME_LEVELS)
    # A name shared by many customers (张伟) is weaker evidence than a rare one: ln(frequency) less.
    common = np.log(np.maximum(np.minimum(f.name_freq[a], f.name_freq[b]), 1)).astype(np.float32)
    name_w = np.where(name_levels == 1, np.maximum(name_w - common, np.minimum(name_w, 2.0)), name_w)
    levels = {
        "name": name_levels,
        "phone": _sets(f.phones, a, b),
        "email": _sets(f.emails, a, b),
        "wechat": _equal_text(f.wechat, a, b, fuzzy=False),
        "birthday": _birthday(f, a, b),
        "city": _equal_text(f.city, a, b, fuzzy=True),
        "company": _equal_text(f.company, a, b, fuzzy=True, contained=True),
    }
    address_levels, address_sim = _address(f, a, b)
    levels["address"] = address_levels
    weights = {"name": name_w.astype(np.float32)}
    for signal in ("phone", "email", "wechat", "birthday", "city", "company"):
        weights[signal] = _weights(rules, signal, levels[signal], PAIR_LEVELS)
    weights["address"] = _weights(rules, "address", address_levels, SIM_LEVELS)
    weights["custom"], custom_key = _custom(f, a, b, rules)
    total = sum(weights.values(), np.zeros(len(a), dtype=np.float32))
    score = 1.0 / (1.0 + np.exp(-(total - OFFSET)))
    return Scored(
        a=a,
        b=b,
        score=score.astype(np.float32),
        name_sim=name_sim,
        address_sim=address_sim,
        levels=levels,
        weights=weights,
        custom_key=custom_key,
    )


def reasons_for(f: Features, s: Scored, k: int) -> list[dict[str, Any]]:
    """The evidence of pair ``k`` as data (rendered into words by ``reasons.describe``), strongest first."""
    i, j = int(s.a[k]), int(s.b[k])
    out: list[dict[str, Any]] = []
    for signal, weights in s.weights.items():
        w = float(weights[k])
        if abs(w) < 0.05:
            continue
        item: dict[str, Any] = {"signal": signal, "weight": round(w, 2)}
        if signal == "name":
            item["level"] = NAME_LEVELS[s.levels["name"][k]]
            item["similarity"] = round(float(s.name_sim[k]), 2)
            if f.name_cjk[i] or f.name_cjk[j]:
                item["pinyin"] = f.name_compact[i] if f.name_cjk[i] else f.name_compact[j]
        elif signal == "address":
            item["level"] = SIM_LEVELS[s.levels["address"][k]]
            item["similarity"] = round(float(s.address_sim[k]), 2)
        elif signal == "custom":
            item["level"] = "agree" if w > 0 else "disagree"
            key_index = int(s.custom_key[k])
            if key_index >= 0:
                key = sorted(f.custom)[key_index]
                item["field"] = key
                item["value"] = f.custom[key][i]
        else:
            item["level"] = PAIR_LEVELS[s.levels[signal][k]]
            if item["level"] == "agree":
                if signal == "phone":
                    item["value"] = sorted(f.phones[i] & f.phones[j])[0]
                elif signal == "email":
                    item["value"] = sorted(f.emails[i] & f.emails[j])[0]
                elif signal == "wechat":
                    item["value"] = f.wechat[i]
                elif signal == "city":
                    item["value"] = f.city_display[i]
        out.append(item)
    out.sort(key=lambda r: -r["weight"])
    return out

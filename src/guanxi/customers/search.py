"""Substring search that stays fast for 2-character Chinese names and 4-digit phone fragments.

SQLite's FTS5 trigram tokenizer finds nothing for a 2-character query and pg_trgm scans for one,
so Guanxi keeps its own n-gram posting table (``SearchGram``), the same on both databases:

* runs of CJK characters → bigrams (张伟 is one gram; 北京星河科技 gives 北京, 京星, …);
* runs of digits (phones) → 4-grams (a "尾号" like 8000 is one gram; phones are stored as national
  digits so 138 1234 8000 and +86 138… look the same);
* other letters (English names, emails, WeChat ids) → trigrams.

A query is cut the same way; candidates hold all its grams, and each is then verified against the
customer's ``search_text`` (so a gram coincidence never returns a wrong row). Queries too short to
make a gram (one CJK character, 2–3 digits or 1–2 letters) fall back to a prefix match on the name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from guanxi.core.normalize import clean_text, national_digits

_RUNS = re.compile(r"(?P<cjk>[\u3400-\u9fff\uf900-\ufaff]+)|(?P<digits>\d+)|(?P<word>[a-z]+)")
CJK_N, DIGIT_N, WORD_N = 2, 4, 3
MAX_QUERY_GRAMS = 6


def normalize_query(text: str) -> str:
    return clean_text(text).lower()


def grams_of(text: str) -> set[str]:
    grams: set[str] = set()
    for match in _RUNS.finditer(text):
        run = match.group(0)
        n = CJK_N if match.lastgroup == "cjk" else DIGIT_N if match.lastgroup == "digits" else WORD_N
        grams.update(run[i : i + n] for i in range(len(run) - n + 1))
    return grams


def search_text_for(
    *,
    name: str,
    company: str = "",
    phones_e164: Iterable[str] = (),
    phones_raw: Iterable[str] = (),
    emails: Iterable[str] = (),
    wechat: str = "",
) -> str:
    digits = [national_digits(p) for p in phones_e164 if p]
    digits += [
        re.sub(r"\D", "", p) for p in phones_raw if p and not any(d in re.sub(r"\D", "", p) for d in digits)
    ]
    parts = [name, company, *digits, *emails, wechat]
    return " | ".join(normalize_query(p) for p in parts if p)


def query_terms(q: str) -> list[str]:
    """Whitespace separates terms that must all match; a phone typed as 138-1234-8000 is one term."""
    text = normalize_query(q)
    if re.fullmatch(r"[\d\-+() ]+", text) and " " in text:
        # Only digits and phone punctuation: one number typed with spaces (+86 138 1234 8000).
        text = text.replace(" ", "")
    terms = []
    for term in text.split(" "):
        if re.fullmatch(r"[\d\-+()]+", term):
            term = re.sub(r"\D", "", term)
            if term.startswith("86") and len(term) == 13:
                term = term[2:]
        if term:
            terms.append(term)
    return terms


def query_grams(terms: Iterable[str]) -> list[str]:
    """The most selective grams of the query: longer runs first, at most ``MAX_QUERY_GRAMS``."""
    grams: list[str] = []
    for term in terms:
        for gram in sorted(grams_of(term)):
            if gram not in grams:
                grams.append(gram)
    # Spread picks over the query so its start and end are both pinned down.
    if len(grams) > MAX_QUERY_GRAMS:
        step = len(grams) / MAX_QUERY_GRAMS
        grams = [grams[int(i * step)] for i in range(MAX_QUERY_GRAMS)]
    return grams

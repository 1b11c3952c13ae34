"""Deterministic, fast generator of realistic customers (Chinese mostly, some English).

Rows are made in blocks of ``BLOCK`` rows; block *k* of seed *s* always draws from the random
generator ``default_rng([s, k])``, so row *i* is the same whatever chunk size or ``start`` asks for
it, and the first 200 rows of a 2,000-row run are the 200 rows of a 200-row run.

Two views of the same row:

* :func:`records` — plain dicts shaped like the API's customer input (``name``, ``kind``, ``phone``,
  ``email``, ``province`` …), for the demo, tests and anything that goes through the services;
* :class:`Block` columns with the already-normalised values (E.164, national digits, lowercased
  emails) the raw-SQL loaders in :mod:`guanxi.bench.load` write without a per-row service call.

Phone numbers are unique by construction (the last 8 digits are a bijection of the row index), and
every one passes ``phonenumbers.is_valid_number``. Nothing here builds a list of all rows: callers
stream blocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from guanxi.bench import data as D

BLOCK = 10_000
_SUFFIX_MUL = 61_803_399  # odd, not a multiple of 5: i -> (a*i + c) mod 10**8 is a bijection
_SECOND_PHONE_OFFSET = 50_000_000
_BIRTH_FIRST = dt.date(1960, 1, 1)
_BIRTH_DAYS = (dt.date(2003, 12, 31) - _BIRTH_FIRST).days
_B36 = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))


def _p(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.asarray(w / w.sum())


def _zipf(n: int, s: float = 1.0, shift: float = 2.0) -> np.ndarray:
    return _p([1.0 / (rank + shift) ** s for rank in range(n)])


@dataclass
class Phone:
    label: str
    value: str  # as typed
    e164: str
    national: str  # digits a person dials inside the country; what search indexes


@dataclass
class Row:
    """One generated customer with normalised values (the loaders' view)."""

    index: int
    kind: str
    name: str
    company: str
    title: str
    gender: str
    phones: list[Phone]
    emails: list[str]
    wechat: str
    province: str
    city: str
    district: str
    address: str
    industry: str
    size: str
    source: str
    birthday: dt.date | None
    birthday_is_lunar: bool
    lifecycle_stage: str
    value_tier: str
    grade: str
    tags: list[str]
    external_id: str
    is_english: bool
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def search_text(self) -> str:
        """Same as ``customers.search.search_text_for`` on the cleaned row (checked by the tests)."""
        parts = [self.name, self.company, *(p.national for p in self.phones), *self.emails, self.wechat]
        return " | ".join(p.lower() for p in parts if p)

    def record(self) -> dict[str, Any]:
        """The API's customer input for this row."""
        rec: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "company": self.company,
            "title": self.title,
            "gender": self.gender,
        }
        if self.phones:
            rec["phone"] = self.phones[0].value
            if len(self.phones) > 1:
                rec["phones"] = [{"label": p.label, "value": p.value} for p in self.phones]
        if self.emails:
            rec["email"] = self.emails[0]
        rec.update(
            wechat=self.wechat,
            province=self.province,
            city=self.city,
            district=self.district,
            address=self.address,
            industry=self.industry,
            size=self.size,
            source=self.source,
            birthday=self.birthday.isoformat() if self.birthday else None,
            birthday_is_lunar=self.birthday_is_lunar,
            lifecycle_stage=self.lifecycle_stage,
            value_tier=self.value_tier,
            grade=self.grade,
            tags=list(self.tags),
            external_id=self.external_id,
        )
        if self.notes:
            rec["notes"] = self.notes
        return rec

    def phones_json(self) -> list[dict[str, str]]:
        """``Customer.phones`` as the services store it (the primary is labelled "mobile")."""
        return [
            {"label": "mobile" if i == 0 else p.label, "value": p.value, "e164": p.e164}
            for i, p in enumerate(self.phones)
        ]

    def emails_json(self) -> list[dict[str, str]]:
        return [{"label": "work", "value": e} for e in self.emails]


class CustomerGenerator:
    """``CustomerGenerator(seed).rows(n)`` streams ``n`` rows; ``records(n)`` streams API dicts."""

    def __init__(
        self,
        seed: int = 42,
        *,
        english_share: float = 0.08,
        company_share: float = 0.22,
        external_prefix: str | None = None,
    ) -> None:
        self.seed = int(seed)
        self.english_share = english_share
        self.company_share = company_share
        self.external_prefix = external_prefix if external_prefix is not None else f"GX{self.seed}-"
        self._c = _SUFFIX_MUL
        self._offset = (self.seed * 7_777_777 + 12_345) % 10**8

    # Tables prepared once ---------------------------------------------------------------------

    @cached_property
    def _tables(self) -> dict[str, Any]:
        char_py = D.CHAR_PINYIN
        places = []  # (province, province weight, [(city, city_pinyin, [districts])])
        for province, (weight, cities) in D.PLACES.items():
            places.append(
                (
                    province,
                    weight,
                    [(city, D.CITY_PINYIN[city], dists) for city, dists in cities.items()],
                )
            )
        return {
            "char_py": char_py,
            "surname_p": _p([w for _, _, w in D.SURNAMES]),
            "male_p": _zipf(len(D.MALE_CHARS), 1.1),
            "female_p": _zipf(len(D.FEMALE_CHARS), 1.1),
            "places": places,
            "province_p": _p([w for _, w, _ in places]),
            "industries": list(D.INDUSTRIES.items()),
            "industry_p": _p([w for w, _ in D.INDUSTRIES.values()]),
            "suffix_p": _p([w for _, w in D.COMPANY_SUFFIXES]),
            "size_p": _p([w for _, w in D.SIZES]),
            "source_p": _p([w for _, w in D.SOURCES]),
            "title_p": _p([w for _, w, _ in D.TITLES]),
            "life_p": _p([w for _, w in D.LIFECYCLE]),
            "tier_p": _p([w for _, w in D.VALUE_TIERS]),
            "grade_p": _p([w for _, w in D.GRADES]),
            "mobile_p": _p(D.CN_MOBILE_WEIGHTS),
            "domain_p": _p([w for _, w in D.PERSONAL_EMAIL_DOMAINS]),
        }

    # Public API -------------------------------------------------------------------------------

    def rows(self, n: int, start: int = 0) -> Iterator[Row]:
        for block in self.blocks(n, start):
            yield from block

    def records(self, n: int, start: int = 0) -> Iterator[dict[str, Any]]:
        for row in self.rows(n, start):
            yield row.record()

    def blocks(self, n: int, start: int = 0) -> Iterator[list[Row]]:
        """Rows ``start … start+n-1`` in lists of at most ``BLOCK`` rows."""
        end = start + n
        pos = start
        while pos < end:
            k = pos // BLOCK
            first = k * BLOCK
            yield self._block(k, pos - first, min(end - first, BLOCK))
            pos = first + BLOCK

    # One block --------------------------------------------------------------------------------

    def _block(self, k: int, lo: int = 0, hi: int = BLOCK) -> list[Row]:
        """Rows ``lo … hi-1`` of block ``k``: every draw is made for the whole block (cheap, and what
        keeps row *i* the same for any slice), the Python work only for the rows asked for."""
        t = self._tables
        rng = np.random.default_rng([self.seed, k])
        B = BLOCK
        base = k * BLOCK
        u = rng.random((24, B))  # uniform draws for the per-row decisions below
        english = u[0] < self.english_share
        company_kind = u[1] < self.company_share
        surname = rng.choice(len(D.SURNAMES), B, p=t["surname_p"])
        male1 = rng.choice(len(D.MALE_CHARS), B, p=t["male_p"])
        male2 = rng.choice(len(D.MALE_CHARS), B, p=t["male_p"])
        female1 = rng.choice(len(D.FEMALE_CHARS), B, p=t["female_p"])
        female2 = rng.choice(len(D.FEMALE_CHARS), B, p=t["female_p"])
        province = rng.choice(len(t["places"]), B, p=t["province_p"])
        industry = rng.choice(len(t["industries"]), B, p=t["industry_p"])
        brand = rng.integers(0, len(D.BRANDS), B)
        csuffix = rng.choice(len(D.COMPANY_SUFFIXES), B, p=t["suffix_p"])
        size = rng.choice(len(D.SIZES), B, p=t["size_p"])
        source = rng.choice(len(D.SOURCES), B, p=t["source_p"])
        title = rng.choice(len(D.TITLES), B, p=t["title_p"])
        life = rng.choice(len(D.LIFECYCLE), B, p=t["life_p"])
        tier = rng.choice(len(D.VALUE_TIERS), B, p=t["tier_p"])
        grade = rng.choice(len(D.GRADES), B, p=t["grade_p"])
        mobile = rng.choice(len(D.CN_MOBILE_PREFIXES), B, p=t["mobile_p"])
        domain = rng.choice(len(D.PERSONAL_EMAIL_DOMAINS), B, p=t["domain_p"])
        ntags = rng.choice(4, B, p=[0.45, 0.35, 0.15, 0.05])
        tag_pick = rng.integers(0, len(D.TAGS), (B, 3))
        ints = rng.integers(0, 10**9, (6, B))
        wx = _B36[rng.integers(0, 36, (B, 10))]
        birthday_off = rng.integers(0, _BIRTH_DAYS, B)
        idx = np.arange(base, base + B, dtype=np.int64)
        suffix1 = ((idx * self._c + self._offset) % 10**8).tolist()
        suffix2 = (((idx + _SECOND_PHONE_OFFSET) * self._c + self._offset) % 10**8).tolist()
        # Python lists: indexing numpy scalars row by row costs more than all the drawing above.
        uT = u.T.tolist()
        intsT = ints.T.tolist()
        wx_ids = ["".join(chars) for chars in wx.tolist()]
        tag_pick_l = tag_pick.tolist()
        ntags_l = ntags.tolist()
        birthday_l = birthday_off.tolist()
        (
            english,
            company_kind,
            surname,
            male1,
            male2,
            female1,
            female2,
            province,
            industry,
            brand,
            csuffix,
            size,
            source,
            title,
            life,
            tier,
            grade,
            mobile,
            domain,
        ) = (
            a.tolist()
            for a in (
                english,
                company_kind,
                surname,
                male1,
                male2,
                female1,
                female2,
                province,
                industry,
                brand,
                csuffix,
                size,
                source,
                title,
                life,
                tier,
                grade,
                mobile,
                domain,
            )
        )

        rows: list[Row] = []
        char_py = t["char_py"]
        for i in range(lo, hi):
            uu = uT[i]
            is_en = english[i]
            is_company = company_kind[i]
            prov_name, _w, cities = t["places"][province[i]]
            city, city_py, districts = cities[int(uu[2] * len(cities))]
            district = districts[int(uu[3] * len(districts))]
            ind_name, (_iw, ind_words) = t["industries"][industry[i]]
            brand_name, brand_py = D.BRANDS[brand[i]]
            r = intsT[i]

            # Person or company name ------------------------------------------------------------
            title_name, _tw, male_share = D.TITLES[title[i]]
            has_title = not is_company and uu[4] < 0.7
            male = uu[5] < (male_share if has_title else 0.52)
            if is_en:
                names = D.EN_MALE if male else D.EN_FEMALE
                first = names[r[0] % len(names)]
                last = D.EN_SURNAMES[r[1] % len(D.EN_SURNAMES)]
                person = f"{first} {last}"
                local_full, local_dot = f"{first}{last}".lower(), f"{first}.{last}".lower()
                en_word = D.EN_COMPANY_WORDS[r[2] % len(D.EN_COMPANY_WORDS)]
                en_kind = D.EN_COMPANY_KINDS[r[3] % len(D.EN_COMPANY_KINDS)]
                company_name = (
                    f"{en_word} {en_kind} {D.EN_COMPANY_SUFFIXES[r[4] % len(D.EN_COMPANY_SUFFIXES)]}"
                )
                company_domain = f"{en_word}{en_kind}.com".lower()
                initials = (first[0] + last[0]).lower()
            else:
                sname, spy, _sw = D.SURNAMES[surname[i]]
                if male:
                    g1, g2 = D.MALE_CHARS[male1[i]], D.MALE_CHARS[male2[i]]
                else:
                    g1, g2 = D.FEMALE_CHARS[female1[i]], D.FEMALE_CHARS[female2[i]]
                given = g1 if uu[6] < 0.32 or g1 == g2 else g1 + g2
                person = sname + given
                given_py = "".join(char_py[c] for c in given)
                local_full, local_dot = spy + given_py, f"{given_py}.{spy}"
                word = ind_words[int(uu[7] * len(ind_words))]
                company_name = f"{city}{brand_name}{word}{D.COMPANY_SUFFIXES[csuffix[i]][0]}"
                tld = D.COMPANY_TLDS[r[2] % len(D.COMPANY_TLDS)]
                company_domain = f"{brand_py}.{tld}" if uu[8] < 0.6 else f"{city_py}{brand_py}.{tld}"
                initials = spy[0] + "".join(char_py[c][0] for c in given)

            has_company = is_company or uu[9] < 0.7
            if is_company:
                name, company, title_out, gender = company_name, "", "", ""
            else:
                name = person
                company = company_name if has_company else ""
                title_out = (
                    (D.EN_TITLES[r[5] % len(D.EN_TITLES)] if is_en else title_name) if has_title else ""
                )
                gender = "male" if male else "female"
                if uu[10] < 0.1:
                    gender = ""  # not recorded

            # Phones ----------------------------------------------------------------------------
            phones: list[Phone] = []
            if uu[11] < 0.95:
                phones.append(self._phone(is_en, suffix1[i], mobile[i], uu[12], "mobile"))
                if uu[13] < 0.08:
                    second_prefix = r[0] % len(D.CN_MOBILE_PREFIXES)
                    phones.append(self._phone(is_en, suffix2[i], second_prefix, uu[14], "work"))

            # Email and WeChat ------------------------------------------------------------------
            emails: list[str] = []
            if uu[15] < (0.85 if is_en else 0.7):
                use_company = has_company and uu[16] < 0.35
                style = r[3] % 4
                if is_en:
                    local = (
                        local_dot if style < 2 else local_full if style == 2 else f"{initials}{r[4] % 100}"
                    )
                    dom = (
                        company_domain if use_company else ("gmail.com", "outlook.com", "yahoo.com")[r[4] % 3]
                    )
                elif use_company:
                    local = local_full if style < 2 else local_dot
                    dom = company_domain
                elif style == 3 or (D.PERSONAL_EMAIL_DOMAINS[domain[i]][0] == "qq.com" and style == 2):
                    local, dom = str(10000 + r[4] % 2_999_990_000), "qq.com"
                else:
                    num = (str(1960 + r[4] % 45) if style == 1 else str(r[4] % 1000)) if uu[17] < 0.8 else ""
                    local = (local_full if style != 2 else initials) + num
                    dom = D.PERSONAL_EMAIL_DOMAINS[domain[i]][0]
                emails.append(f"{local}@{dom}")
            wechat = ""
            if not is_en and uu[18] < 0.35:
                wechat = "wxid_" + wx_ids[i] if r[5] % 2 else f"{local_full}{r[5] % 10000}"

            # Place, classification, tags -------------------------------------------------------
            if is_en:
                uk = phones and phones[0].e164.startswith("+44")
                prov_out, district = "", ""
                city = (D.EN_CITIES_UK if uk else D.EN_CITIES_US)[r[1] % 5]
                address = f"{1 + r[2] % 400} {D.EN_STREETS[r[3] % len(D.EN_STREETS)]}"
            else:
                prov_out = prov_name
                road = D.ROADS[r[1] % len(D.ROADS)]
                kind_of_road = "路" if r[1] % 3 else "大道" if r[1] % 2 else "街"
                address = f"{road}{kind_of_road}{1 + r[2] % 999}号"
                if uu[19] < 0.5:
                    address += f"{1 + r[3] % 30}栋{100 + r[4] % 2800}室"
            birthday = None
            lunar = False
            if not is_company and uu[20] < 0.45:
                birthday = _BIRTH_FIRST + dt.timedelta(days=birthday_l[i])
                lunar = not is_en and uu[21] < 0.15
            tags = sorted({D.TAGS[j] for j in tag_pick_l[i][: ntags_l[i]]})
            rows.append(
                Row(
                    index=base + i,
                    kind="company" if is_company else "person",
                    name=name,
                    company=company,
                    title=title_out,
                    gender=gender,
                    phones=phones,
                    emails=emails,
                    wechat=wechat,
                    province=prov_out,
                    city=city,
                    district=district,
                    address=address,
                    industry=ind_name if has_company else "",
                    size=D.SIZES[size[i]][0] if has_company else "",
                    source=D.SOURCES[source[i]][0],
                    birthday=birthday,
                    birthday_is_lunar=lunar,
                    lifecycle_stage=D.LIFECYCLE[life[i]][0],
                    value_tier=D.VALUE_TIERS[tier[i]][0],
                    grade=D.GRADES[grade[i]][0],
                    tags=tags,
                    external_id=f"{self.external_prefix}{base + i:08d}",
                    is_english=is_en,
                    extra={"u": uu[22], "v": uu[23]},
                )
            )
        return rows

    @staticmethod
    def _phone(is_en: bool, suffix: int, prefix_index: int, style: float, label: str) -> Phone:
        """A valid mobile number; ``suffix`` (8 digits) makes it unique per row."""
        if not is_en:
            prefix = D.CN_MOBILE_PREFIXES[prefix_index]
            digits = f"{prefix}{suffix:08d}"
            if style < 0.78:
                value = digits
            elif style < 0.9:
                value = f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
            else:
                value = f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
            return Phone(label, value, "+86" + digits, digits)
        if prefix_index % 3:  # United States
            npa = D.US_AREA_CODES[prefix_index % len(D.US_AREA_CODES)]
            nxx = 200 + (suffix // 10_000) % 800
            if nxx % 100 == 11:
                nxx += 1
            national = f"{npa}{nxx}{suffix % 10_000:04d}"
            return Phone(label, f"+1 {npa} {nxx} {national[6:]}", "+1" + national, national)
        national = f"74{suffix % 10**8:08d}"  # UK mobile 074xx xxxxxx
        return Phone(label, f"+44 {national[:4]} {national[4:]}", "+44" + national, national)


def generate(n: int, seed: int = 42, start: int = 0, **options: Any) -> Iterator[dict[str, Any]]:
    """Stream ``n`` API-shaped customer dicts (see :meth:`CustomerGenerator.records`)."""
    return CustomerGenerator(seed, **options).records(n, start)

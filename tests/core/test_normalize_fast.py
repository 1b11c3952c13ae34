"""The fast paths in core.normalize give exactly what the slow paths (phonenumbers, Django) give."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from guanxi.core.normalize import (
    _fast_cn_mobile,
    clean_text,
    national_digits,
    normalize_email,
    normalize_phone,
)


def slow_phone(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


separators = st.sampled_from(["", " ", "-"])
mainland_like = st.builds(
    lambda plus, d, s1, s2: f"{plus}{d[:3]}{s1}{d[3:7]}{s2}{d[7:]}",
    st.sampled_from(["", "+86", "+86 ", "+86-"]),
    st.from_regex(r"1[0-9]{10}", fullmatch=True),
    separators,
    separators,
)


@settings(max_examples=600, deadline=None)
@given(mainland_like)
@example("17951234567")  # a carrier-selection prefix: must not be taken for a mobile number
@example("14012345678")
@example("17400012345")
@example("16100012345")
def test_fast_cn_mobile_agrees_with_phonenumbers(text: str) -> None:
    fast = _fast_cn_mobile(text)
    if fast is not None:
        assert fast == slow_phone(text)
    assert (normalize_phone(text, "CN") if slow_phone(text) else None) == slow_phone(text)
    if slow_phone(text):
        e164 = slow_phone(text) or ""
        assert national_digits(e164) == phonenumbers.national_significant_number(phonenumbers.parse(e164))


def test_every_three_digit_mobile_prefix_agrees() -> None:
    """Exhaustive over prefixes 100–199 and 1000-1999 with a few endings each."""
    for prefix in range(1000, 2000):
        for tail in ("0000000", "1234567", "9999999", "5000001"):
            text = f"{prefix}{tail}"
            fast = _fast_cn_mobile(text)
            if fast is not None:
                assert fast == slow_phone(text), text


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_clean_text_is_nfkc_with_folded_space(value: str) -> None:
    expected = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()
    assert clean_text(value) == expected


def slow_email(text: str) -> str | None:
    value = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        return None
    return value


emailish = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.from_regex(r"[A-Za-z0-9._+%'-]{0,12}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9.-]{0,70}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9-]{0,5}", fullmatch=True),
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(emailish, st.text(max_size=40)))
@example("a..b@example.com")
@example("a@-example.com")
@example("a@example-.com")
@example("zhang.wei@163.com")
def test_fast_email_agrees_with_django(text: str) -> None:
    expected = slow_email(text)
    if expected is None or not expected:
        with pytest.raises(ValueError):
            normalize_email(text)
    else:
        assert normalize_email(text) == expected

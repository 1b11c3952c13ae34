"""Cleaning of text, phones and emails, and the masks shown to roles without contact details."""

import pytest

from guanxi.core.normalize import (
    clean_text,
    mask_email,
    mask_phone,
    national_digits,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812348000", "+8613812348000"),
        ("138-1234-8000", "+8613812348000"),
        ("+86 138 1234 8000", "+8613812348000"),
        ("0086 13812348000", "+8613812348000"),
        ("１３８１２３４８０００", "+8613812348000"),
        ("010-8888 6666", "+861088886666"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_phones_become_e164_with_cn_default(raw, e164):
    assert normalize_phone(raw) == e164


def test_other_default_region():
    assert normalize_phone("020 7946 0018", "GB") == "+442079460018"


@pytest.mark.parametrize("raw", ["", "   ", "12345", "abc", "138123480001234", "+86 000"])
def test_invalid_phones_raise_value_error(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_emails_lowercased_and_validated():
    assert normalize_email("  Zhang.Wei@Example.COM ") == "zhang.wei@example.com"
    for bad in ("", "a@", "@b.cn", "a b@c.cn", "a@@b.cn", "plain"):
        with pytest.raises(ValueError):
            normalize_email(bad)


def test_clean_text_folds_full_width_and_spaces():
    assert clean_text("  ＡＢＣ　１２３  公司 ") == "ABC 123 公司"
    assert clean_text(None) == ""
    assert clean_text("北京") == "北京"


def test_masks():
    assert mask_phone("13812348000") == "138****8000"
    assert mask_phone("138 1234 8000") == "138****8000"
    assert mask_phone("+8613812348000") == "+86138****8000"
    assert mask_phone("") == ""
    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask_email("") == ""


def test_short_numbers_still_masked():
    for raw in ("1", "12", "123", "1234", "12345", "1234567"):
        masked = mask_phone(raw)
        digits_shown = sum(ch.isdigit() for ch in masked)
        assert "*" in masked and digits_shown < len(raw), (raw, masked)


def test_national_digits():
    assert national_digits("+8613812348000") == "13812348000"

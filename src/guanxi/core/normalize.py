"""Cleaning of text, phones and emails, and masking for roles that may not see contact details."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _


def clean_text(value: str | None) -> str:
    """NFKC (full-width letters and digits become half-width), trimmed, inner runs of space folded.

    NFKC keeps CJK ideographs as they are; it only folds compatibility forms such as ＡＢＣ１２３.
    ``str.split()`` splits on exactly the characters ``\\s`` matches (``str.isspace``), so joining
    its parts is the same fold as a regex substitution and strip, at a third of the cost — imports
    call this a dozen times per row.
    """
    if not value:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


# Mainland mobile numbers, straight from phonenumbers' own CN metadata. A number that matches is
# valid for phonenumbers too (its type is "mobile"), and no CN carrier-selection prefix (11xx, 12xx,
# 179xx) starts a mobile number, so parse() would not strip anything from it. tests/core/
# test_normalize_fast.py compares this fast path with phonenumbers under hypothesis.
_CN_MOBILE = re.compile(
    str(phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern)  # type: ignore[union-attr]
)
_CN_MOBILE_TEXT = re.compile(r"(?:\+86[ -]?)?(1\d{2})[ -]?(\d{4})[ -]?(\d{4})")


def _fast_cn_mobile(text: str) -> str | None:
    """E.164 of a plainly written mainland mobile number (13812348000, 138-1234-8000, +86 138 …)."""
    match = _CN_MOBILE_TEXT.fullmatch(text)
    if match is None:
        return None
    digits = "".join(match.groups())
    return "+86" + digits if _CN_MOBILE.fullmatch(digits) else None


def normalize_phone(raw: str, region: str = "CN") -> str:
    """Return the E.164 form of ``raw`` or raise ``ValueError`` with a readable reason."""
    text = clean_text(raw)
    if not text:
        raise ValueError(_("Phone number is empty."))
    if (region or "CN") == "CN":
        fast = _fast_cn_mobile(text)
        if fast is not None:
            return fast
    try:
        number = phonenumbers.parse(text, region or "CN")
    except phonenumbers.NumberParseException:
        raise ValueError(_("“%(value)s” is not a phone number.") % {"value": text}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("“%(value)s” is not a valid phone number.") % {"value": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The digits a person dials inside the country: +8613812348000 → 13812348000."""
    if len(e164) == 14 and e164.startswith("+86") and _CN_MOBILE.fullmatch(e164[3:]):
        return e164[3:]  # the common case without a phonenumbers parse
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    return phonenumbers.national_significant_number(number)


# A strict subset of what Django's EmailValidator accepts (plain ASCII dot-atoms at a dotted
# hostname): a match skips the validator's several regexes and IDNA fallback; anything else goes
# the slow way. tests/core/test_normalize_fast.py checks the subset under hypothesis.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def normalize_email(raw: str) -> str:
    text = clean_text(raw).lower()
    if not text:
        raise ValueError(_("Email address is empty."))
    if len(text) <= 254 and _PLAIN_EMAIL.fullmatch(text):
        return text
    try:
        validate_email(text)
    except DjangoValidationError:
        raise ValueError(_("“%(value)s” is not a valid email address.") % {"value": text}) from None
    return text


def mask_phone(value: str) -> str:
    """138****8000: keep the first three and last four digits, hide the rest."""
    if not value:
        return value
    digits = re.sub(r"\D", "", value)
    prefix = "+" if value.strip().startswith("+") else ""
    if len(digits) <= 4:
        return prefix + "*" * max(len(digits), 1)
    if len(digits) <= 7:
        return prefix + digits[:1] + "*" * (len(digits) - 3) + digits[-2:]
    if prefix and value.startswith("+86") and len(digits) == 13:
        return "+86" + digits[2:5] + "****" + digits[-4:]
    return prefix + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(value: str) -> str:
    """z***@example.com"""
    if not value or "@" not in value:
        return value
    local, domain = value.split("@", 1)
    return (local[:1] or "*") + "***@" + domain


def mask_text(value: str) -> str:
    if not value:
        return value
    return value[:1] + "***"

"""Cleaning of text, phones and emails, and masking for roles that may not see contact details."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

_SPACES = re.compile(r"\s+")


def clean_text(value: str | None) -> str:
    """NFKC (full-width letters and digits become half-width), trimmed, inner runs of space folded.

    NFKC keeps CJK ideographs as they are; it only folds compatibility forms such as ＡＢＣ１２３.
    """
    if not value:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()


def normalize_phone(raw: str, region: str = "CN") -> str:
    """Return the E.164 form of ``raw`` or raise ``ValueError`` with a readable reason."""
    text = clean_text(raw)
    if not text:
        raise ValueError(_("Phone number is empty."))
    try:
        number = phonenumbers.parse(text, region or "CN")
    except phonenumbers.NumberParseException:
        raise ValueError(_("“%(value)s” is not a phone number.") % {"value": text}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("“%(value)s” is not a valid phone number.") % {"value": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The digits a person dials inside the country: +8613812348000 → 13812348000."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    return phonenumbers.national_significant_number(number)


def normalize_email(raw: str) -> str:
    text = clean_text(raw).lower()
    if not text:
        raise ValueError(_("Email address is empty."))
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

"""Every page in zh-hans and en: the catalogue is complete and pages carry no untranslated strings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

import guanxi

PO = Path(guanxi.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_catalogue_is_complete_and_compiled() -> None:
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]
    untranslated = [
        e for e in entries if re.search(r'^msgstr(\[0\])? ""\Z', e.strip(), re.M) and "msgid" in e
    ]
    assert not untranslated, untranslated[:3]
    assert "#, fuzzy" not in text
    mo = PO.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_size > 1000


ENGLISH_LEFTOVERS = ["Customers", "New customer", "Load more", "Filter", "Save view", "Sign out", "Details"]


@pytest.mark.parametrize("who", ["admin", "owner", "readonly"])
def test_pages_render_in_chinese(login: Any, world: Any, customer: Any, who: str) -> None:
    client = login(who)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    pages = ["/customers/", "/contacts/", f"/customers/{customer.pk}/"]
    if who == "admin":
        pages += [
            "/trash/",
            "/settings/users/",
            "/settings/fields/",
            "/settings/tags/",
            "/settings/organisation/",
        ]
    for path in pages:
        html = client.get(path).content.decode()
        assert '<html lang="zh-hans">' in html, path
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))
        for word in ENGLISH_LEFTOVERS:
            assert not re.search(rf"\b{re.escape(word)}\b", visible), (path, word)
    assert "客户" in client.get("/customers/").content.decode()


def test_pages_render_in_english(login: Any, customer: Any) -> None:
    client = login("admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert '<html lang="en">' in html and "Contact details" in html

"""What a visitor's browser gets: field widgets, the standalone page's security headers, embed snippets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

from guanxi.marketing.models import WebForm
from guanxi.marketing.webform_config import form_fields

AUTOCOMPLETE = {
    "name": "name",
    "email": "email",
    "phone": "tel",
    "company": "organization",
    "title": "organization-title",
    "address": "street-address",
    "city": "address-level2",
    "province": "address-level1",
    "birthday": "bday",
}
INPUT_TYPES = {"text": "text", "email": "email", "phone": "tel", "date": "date"}


@dataclass
class Widget:
    key: str
    label: str
    type: str  # the form field type: text, email, phone, textarea, select, checkbox, date
    input_type: str
    required: bool
    choices: list[str]
    autocomplete: str
    value: Any
    error: str


def widgets(form: WebForm, language: str, values: dict[str, Any], errors: dict[str, str]) -> list[Widget]:
    return [
        Widget(
            key=f.key,
            label=f.label_in(language),
            type=f.type,
            input_type=INPUT_TYPES.get(f.type, "text"),
            required=f.required,
            choices=f.choices,
            autocomplete=AUTOCOMPLETE.get(f.maps_to, "off" if f.type == "checkbox" else ""),
            value=values.get(f.key, "" if f.type != "checkbox" else False),
            error=errors.get(f.key, ""),
        )
        for f in form_fields(form)
    ]


def public_path(form: WebForm) -> str:
    return reverse("webform_public", kwargs={"token": form.token})


def public_url(request: HttpRequest, form: WebForm) -> str:
    return request.build_absolute_uri(public_path(form))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def secure_public_response(response: HttpResponse, form: WebForm) -> HttpResponse:
    """No scripts at all; styles from us only; framable by this site and the form's allowed origins.

    ``X-Frame-Options`` is left off this view only (``xframe_options_exempt``): it cannot name
    several origins, and browsers let ``frame-ancestors`` win anyway.
    """
    ancestors = " ".join(["'self'", *form.allowed_origins])
    targets = " ".join(["'self'", _origin(form.redirect_url)]).strip()
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
        f"form-action {targets}; frame-ancestors {ancestors}"
    )
    response["Cache-Control"] = "no-store"  # every page carries its own signed start time
    return response


def origin_allowed(form: WebForm, origin: str) -> bool:
    """Is a browser's ``Origin`` one of the form's allowed origins (``*.`` allows any subdomain)?"""
    origin = origin.strip().lower()
    for allowed in form.allowed_origins:
        if origin == allowed:
            return True
        scheme, _sep, host = allowed.partition("://*.")
        if _sep and origin.startswith(f"{scheme}://") and origin.endswith(f".{host}"):
            return True
    return False


def allow_cross_origin(response: HttpResponse, request: HttpRequest, form: WebForm) -> HttpResponse:
    """Let scripts on the form's allowed origins post JSON (CORS); other origins get no CORS headers."""
    origin = request.headers.get("Origin", "")
    if origin and origin_allowed(form, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "3600"
        response["Access-Control-Expose-Headers"] = "Retry-After"
    response["Vary"] = "Origin"
    return response


def iframe_snippet(url: str, title: str) -> str:
    return (
        f'<iframe src="{escape(url)}" title="{escape(title)}" loading="lazy"\n'
        '        style="width:100%;max-width:560px;height:720px;border:0"></iframe>'
    )


def html_snippet(form: WebForm, url: str, language: str) -> str:
    """A plain HTML form posting straight to Guanxi, for sites that prefer their own markup and CSS."""
    lines = [f'<form method="post" action="{escape(url)}" accept-charset="utf-8">']
    for w in widgets(form, language, {}, {}):
        req = " required" if w.required else ""
        star = " *" if w.required else ""
        if w.type == "checkbox":
            lines.append(
                f'  <label><input type="checkbox" name="{w.key}" value="on"{req}> '
                f"{escape(w.label)}{star}</label>"
            )
            continue
        lines.append(f'  <label for="gx-{w.key}">{escape(w.label)}{star}</label>')
        if w.type == "textarea":
            lines.append(f'  <textarea id="gx-{w.key}" name="{w.key}" rows="4"{req}></textarea>')
        elif w.type == "select":
            lines.append(f'  <select id="gx-{w.key}" name="{w.key}"{req}>')
            lines.append('    <option value=""></option>')
            lines.extend(f'    <option value="{escape(c)}">{escape(c)}</option>' for c in w.choices)
            lines.append("  </select>")
        else:
            lines.append(f'  <input id="gx-{w.key}" type="{w.input_type}" name="{w.key}"{req}>')
    if form.consent_text:
        lines.append(
            f'  <label><input type="checkbox" name="consent" value="on"> {escape(form.consent_text)}</label>'
        )
    lines.append(
        "  <!-- "
        + _("Leave this hidden field empty: it catches spam bots.")
        + ' -->\n  <div style="position:absolute;left:-10000px" aria-hidden="true">'
        '<input name="website" tabindex="-1" autocomplete="off"></div>'
    )
    lines.append(f'  <button type="submit">{escape(_("Submit"))}</button>')
    lines.append("</form>")
    return "\n".join(lines)

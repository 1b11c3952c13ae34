"""The public side of web forms: ``/f/<token>/`` — no login, no CSRF token (the form token identifies
the form), embeddable in an iframe on the organisation's own site.

GET renders the standalone page in the form's language (``?lang=en`` / ``?lang=zh-hans`` overrides).
POST takes form-encoded or JSON bodies: HTML callers get the page back (errors inline, or the
thank-you text / a redirect), JSON callers get JSON (problem+json for errors). Spam gets the same
success answer as a person, so a bot learns nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from guanxi.api.problems import problem
from guanxi.marketing import intake
from guanxi.marketing.embed import allow_cross_origin, public_path, secure_public_response, widgets
from guanxi.marketing.models import WebForm
from guanxi.marketing.webform_config import LANGUAGES

Outcome = intake.Outcome


def _wants_json(request: HttpRequest) -> bool:
    if request.method == "POST" and request.content_type == "application/json":
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


class BadBody(Exception):
    pass


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise BadBody(_("The body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise BadBody(_("Send a JSON object of field keys and values."))
        return data
    return {key: request.POST.get(key) for key in request.POST}


def render_form_page(
    request: HttpRequest,
    form: WebForm,
    language: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    preview: bool = False,
) -> HttpResponse:
    errors = errors or {}
    context = {
        "form": form,
        "language": language,
        "widgets": widgets(form, language, values or {}, errors),
        "form_error": errors.get("form", ""),
        "has_errors": bool(errors),
        "consent_value": bool((values or {}).get("consent")),
        "ts": intake.sign_start(form),
        "action": public_path(form) + (f"?lang={language}" if language != form.language else ""),
        "preview": preview,
    }
    return render(request, "marketing/public/form.html", context, status=status)


def _done_page(request: HttpRequest, form: WebForm, language: str) -> HttpResponse:
    return render(request, "marketing/public/thanks.html", {"form": form, "language": language})


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST", "OPTIONS"])
def public_form(request: HttpRequest, token: str) -> HttpResponse:
    form = WebForm.objects.select_related("organization").filter(token=token, is_active=True).first()
    if form is None:
        if _wants_json(request):
            return problem(404, "No such form.")
        raise Http404("No such form.")
    asked = request.GET.get("lang", "")
    language = asked if asked in LANGUAGES else form.language
    if request.method == "OPTIONS":  # a CORS preflight of a JSON post from the organisation's site
        return allow_cross_origin(HttpResponse(status=204), request, form)
    with translation.override(language):
        response = _handle(request, form, language)
    return allow_cross_origin(secure_public_response(response, form), request, form)


def _handle(request: HttpRequest, form: WebForm, language: str) -> HttpResponse:
    as_json = _wants_json(request)
    if request.method == "GET":
        return render_form_page(request, form, language)
    try:
        data = _payload(request)
    except BadBody as exc:
        return problem(400, str(exc))
    try:
        result = intake.submit(
            form=form,
            data=data,
            ip=str(request.META.get("REMOTE_ADDR", "")),
            user_agent=request.headers.get("User-Agent", ""),
        )
    except intake.RateLimited as exc:
        minutes = max(1, round(exc.retry_after / 60))
        message = _("Too many submissions. Please try again in %(n)s minutes.") % {"n": minutes}
        response = (
            problem(429, message, retry_after=exc.retry_after)
            if as_json
            else render(
                request,
                "marketing/public/thanks.html",
                {"form": form, "language": language, "message": message},
                status=429,
            )
        )  # fmt: skip
        response["Retry-After"] = str(exc.retry_after)
        return response
    if result.outcome == Outcome.REJECTED:
        if as_json:
            return problem(
                422,
                _("Please correct the highlighted fields."),
                errors=[e.as_dict() for e in result.errors],
            )
        errors: dict[str, str] = {}
        for e in result.errors:
            errors[e.field] = f"{errors[e.field]}; {e.message}" if e.field in errors else str(e.message)
        values = {k: v for k, v in data.items() if isinstance(k, str)}
        return render_form_page(request, form, language, values=values, errors=errors, status=422)
    thanks = form.thank_you_text or _("Thank you! We will be in touch soon.")
    if as_json:
        return JsonResponse({"ok": True, "message": thanks, "redirect_url": form.redirect_url or None})
    if form.redirect_url:
        return redirect(form.redirect_url)
    return _done_page(request, form, language)

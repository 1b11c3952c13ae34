"""Sign-in, sign-out, the app shell's endpoints (search, language, organisation) and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from guanxi.core.middleware import SESSION_ORG_KEY, current_membership
from guanxi.core.selectors import membership_for
from guanxi.core.services import login_audit
from guanxi.web import queries
from guanxi.web.decorators import client_ip, workspace
from guanxi.web.services import preference_update

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def _remember_language(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        user = authenticate(request, username=username, password=request.POST.get("password", ""))
        ip = client_ip(request)
        if user is None:
            error = _("Wrong username or password.")
            known = get_user_model().objects.filter(username=username).first()
            if known is not None:
                login_audit(user=known, org_id=None, ip=ip, success=False)
        else:
            login(request, user)
            membership = current_membership(request)
            if membership is None:
                logout(request)
                error = _("Your account does not belong to any organisation yet.")
            else:
                request.session[SESSION_ORG_KEY] = membership.organization_id
                login_audit(user=user, org_id=membership.organization_id, ip=ip, success=True)
                response = redirect(next_url)
                pref = queries.preference_of(user.pk)
                if pref is not None and pref.language in LANGUAGE_CODES:
                    _remember_language(response, pref.language)
                return response
    context = {"error": error, "next": next_url, "username": request.POST.get("username", "")[:150]}
    return render(request, "web/login.html", context, status=401 if error else 200)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` plus the signed-in user's saved preference."""
    language = request.POST.get("language", "")
    if language in LANGUAGE_CODES and request.user.is_authenticated:
        preference_update(user_id=request.user.pk, language=language)
    return set_language(request)


@require_POST
@workspace()
def switch_org(request: HttpRequest) -> HttpResponse:
    try:
        org_id = int(request.POST.get("organization", ""))
    except ValueError:
        return HttpResponseBadRequest()
    membership = membership_for(request.actor.user.pk, org_id)  # type: ignore[attr-defined]
    if membership is None or membership.organization_id != org_id:
        return HttpResponseBadRequest()
    request.session[SESSION_ORG_KEY] = org_id
    return redirect("customers")


@require_POST
@workspace()
def notifications_read(request: HttpRequest) -> HttpResponse:
    from guanxi.engagement.services import notifications_mark_read

    notifications_mark_read(actor=request.actor)  # type: ignore[attr-defined]
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("customers")


@require_GET
@workspace()
def home(request: HttpRequest) -> HttpResponse:
    return redirect("customers")


@require_GET
@workspace()
def search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    results = queries.search_customers(request.actor, q) if q.strip() else []  # type: ignore[attr-defined]
    return render(request, "web/search_results.html", {"q": q, "results": results})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

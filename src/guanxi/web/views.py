"""Sign-in, sign-out and the start page. The customer workspace grows here (see the web UI issue)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.middleware import SESSION_ORG_KEY, current_membership
from guanxi.core.services import login_audit
from guanxi.customers.models import Customer


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        user = authenticate(request, username=username, password=request.POST.get("password", ""))
        ip = str(request.META.get("REMOTE_ADDR", ""))
        if user is None:
            error = _("Wrong username or password.")
            from django.contrib.auth import get_user_model

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
                return redirect(next_url)
    return render(request, "web/login.html", {"error": error, "next": next_url}, status=401 if error else 200)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        logout(request)
        return redirect("login")
    from guanxi.core.context import Actor

    actor = Actor(membership=membership, via="ui")
    visible = Customer.objects.visible_to(actor)
    return render(request, "web/home.html", {"membership": membership, "customer_count": visible.count()})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})

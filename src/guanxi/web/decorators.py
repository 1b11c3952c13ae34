"""The one wrapper every workspace view goes through: who is acting, in which organisation and time zone.

It turns domain errors into HTTP answers the same way for every page: ``NotFound`` → 404 (a foreign id
is indistinguishable from a missing one), ``PermissionDenied`` → 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from guanxi.core import errors
from guanxi.core.context import Actor
from guanxi.core.middleware import SESSION_ORG_KEY
from guanxi.core.roles import Perm
from guanxi.core.selectors import memberships_of_user

View = Callable[..., HttpResponse]


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    return render(request, "web/errors/403.html", {"message": message}, status=403)


def _login_redirect(request: HttpRequest) -> HttpResponse:
    if getattr(request, "htmx", False):
        # An htmx fragment must not swap the login page into the middle of a page: reload to it.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"/login/?next={request.htmx.current_url_abs_path or '/'}"  # type: ignore[attr-defined]
        return response
    return redirect_to_login(request.get_full_path())


def workspace(perm: Perm | None = None) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return _login_redirect(request)
            # All of the user's memberships in one query: the current one, and the organisation
            # switcher's list (``user_orgs``) without a second query on every page.
            memberships = list(
                memberships_of_user(request.user.pk)
                .select_related("user", "team")
                .order_by("organization_id")
            )
            chosen = request.session.get(SESSION_ORG_KEY)
            membership = next((m for m in memberships if m.organization_id == chosen), None) or (
                memberships[0] if memberships else None
            )
            request.user_memberships = memberships  # type: ignore[attr-defined]
            if membership is None:
                logout(request)
                return _login_redirect(request)
            actor = Actor(membership=membership, via="ui", ip=client_ip(request))
            request.actor = actor  # type: ignore[attr-defined]
            try:
                timezone.activate(ZoneInfo(membership.organization.time_zone))
            except (ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
            if perm is not None and not actor.has(perm):
                return forbidden(request)
            try:
                return view(request, *args, **kwargs)
            except errors.NotFound as exc:
                raise Http404(str(exc)) from exc
            except errors.PermissionDenied as exc:
                return forbidden(request, str(exc))

        return wrapper

    return decorator

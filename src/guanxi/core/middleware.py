"""Attaches the signed-in user's current membership (organisation, role, team) to the request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.functional import SimpleLazyObject

from guanxi.core.models import Membership
from guanxi.core.selectors import membership_for

SESSION_ORG_KEY = "guanxi_org_id"


def current_membership(request: HttpRequest) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    org_id = request.session.get(SESSION_ORG_KEY)
    membership = membership_for(user.pk, org_id) if org_id else None
    return membership or membership_for(user.pk)


class OrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = SimpleLazyObject(lambda: current_membership(request))  # type: ignore[attr-defined]
        return self.get_response(request)


class NulByteGuardMiddleware:
    """Refuses query parameters that carry a NUL byte, before any view sees them.

    PostgreSQL text cannot hold U+0000, so a filter such as ``?q=%00`` would otherwise reach the
    database and fail there as a 500; SQLite would accept it. One refusal at the door keeps both
    back ends answering the same, and names the parameter so a client can fix its request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad = next(
            (key for key, values in request.GET.lists() if "\x00" in key or any("\x00" in v for v in values)),
            None,
        )
        if bad is None:
            return self.get_response(request)
        name = bad.replace("\x00", "\\x00")
        if request.path.startswith("/api/"):
            # the API's own error shape; imported late to avoid an import cycle
            from guanxi.api.problems import problem

            return problem(
                422,  # like every other invalid query parameter of the API
                f"Query parameter {name!r} contains a NUL byte.",
                errors=[{"field": name, "message": "NUL bytes (\\x00) are not allowed.", "code": "nul_byte"}],
            )
        return HttpResponseBadRequest(
            f"Query parameter {name!r} contains a NUL byte.", content_type="text/plain"
        )

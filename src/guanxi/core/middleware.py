"""Attaches the signed-in user's current membership (organisation, role, team) to the request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
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

"""Bearer tokens for integrations, the session cookie (with CSRF) for the browser."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer

from guanxi.core.context import Actor
from guanxi.core.middleware import current_membership
from guanxi.core.services import api_token_authenticate


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = api_token_authenticate(token)
        if found is None:
            return None
        api_token, membership = found
        scopes = frozenset(api_token.scopes)
        if request.method in ("GET", "HEAD", "OPTIONS") and not scopes & {"read", "admin"}:
            raise HttpError(403, "This token lacks the 'read' scope.")
        request.actor = Actor(  # type: ignore[attr-defined]
            membership=membership,
            via="api",
            token_scopes=scopes,
            ip=client_ip(request),
            extra={"token": api_token.prefix},
        )
        return membership.user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; unsafe methods need the CSRF token like any Django form."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if not request.user.is_authenticated:
            return None
        membership = current_membership(request)
        if membership is None:
            return None
        request.actor = Actor(membership=membership, via="ui", ip=client_ip(request))  # type: ignore[attr-defined]
        return request.user


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]

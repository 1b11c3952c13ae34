"""Shared fixtures: organisation "acme" (teams East and West) with one user per role, organisation
"other" with its own admin and customer, and API clients (bearer token or signed-in session).

Healthchecks style: ``owner`` (sales, East) owns the customer; ``teammate`` (sales, East) is a peer
who must not see it; ``outsider`` (sales, West); ``other_admin`` lives in another organisation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from guanxi.core.context import Actor
from guanxi.core.models import Membership, Organization, Team
from guanxi.core.services import api_token_create, membership_upsert, organization_create

API = "/api/v1"
PASSWORD = "correct-horse-battery-9"
CSRF = "c" * 32  # an unmasked CSRF secret: Django accepts it in the cookie and in the header

ROLES = {
    "admin": ("admin", None),
    "manager": ("manager", "East"),
    "owner": ("sales", "East"),
    "teammate": ("sales", "East"),
    "outsider": ("sales", "West"),
    "marketing": ("marketing", None),
    "service": ("service", None),
    "readonly": ("readonly", None),
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def actor_for(membership: Membership, **kwargs: Any) -> Actor:
    return Actor(membership=membership, via=kwargs.pop("via", "cli"), **kwargs)


class ApiClient:
    """A Django test client speaking JSON to ``/api/v1`` with a bearer token or a session."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def _h(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(headers or {})}

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Any:
        return self.client.get(API + path, params or {}, headers=self._h(headers))

    def _send(
        self, method: str, path: str, data: Any, headers: dict[str, str] | None, raw: str | None
    ) -> Any:
        body = raw if raw is not None else (json.dumps(data) if data is not None else "")
        return getattr(self.client, method)(
            API + path, body, content_type="application/json", headers=self._h(headers)
        )

    def post(
        self, path: str, data: Any = None, headers: dict[str, str] | None = None, raw: str | None = None
    ) -> Any:
        return self._send("post", path, data, headers, raw)

    def patch(
        self, path: str, data: Any = None, headers: dict[str, str] | None = None, raw: str | None = None
    ) -> Any:
        return self._send("patch", path, data, headers, raw)

    def put(self, path: str, data: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._send("put", path, data, headers, None)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(API + path, headers=self._h(headers))


@dataclass
class World:
    org: Organization
    other_org: Organization
    east: Team
    west: Team
    members: dict[str, Membership] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Membership:
        members = self.__dict__.get("members", {})
        if name in members:
            return members[name]
        raise AttributeError(name)

    def actor(self, who: str, **kwargs: Any) -> Actor:
        return actor_for(self.members[who], **kwargs)

    def api(self, who: str, scopes: list[str] | None = None) -> ApiClient:
        _token, raw = api_token_create(
            membership=self.members[who], scopes=scopes or ["read", "write", "admin"]
        )
        return ApiClient(Client(), {"Authorization": f"Bearer {raw}"})

    def session(self, who: str, csrf: bool = True) -> ApiClient:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.members[who].user)
        client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF
        return ApiClient(client, {"X-CSRFToken": CSRF} if csrf else {})


@pytest.fixture
def world(db: Any) -> World:
    org, _ = organization_create(name="acme")
    other, _ = organization_create(name="other")
    members = {}
    for who, (role, team) in ROLES.items():
        members[who], _ = membership_upsert(org=org, username=who, role=role, team=team)
    members["other_admin"], _ = membership_upsert(org=other, username="other_admin", role="admin")
    members["other_sales"], _ = membership_upsert(org=other, username="other_sales", role="sales")
    return World(
        org=org,
        other_org=other,
        east=Team.objects.get(organization=org, name="East"),
        west=Team.objects.get(organization=org, name="West"),
        members=members,
    )


def _make_customer(world: World, who: str = "owner", **data: Any) -> Any:
    from guanxi.customers.services import customer_create

    data.setdefault("name", "张伟")
    return customer_create(actor=world.actor(who), data=data, allow_duplicate=True)


@pytest.fixture
def make_customer(world: World) -> Any:
    """``make_customer("owner", name=..., phone=...)`` creates through the service as that user."""

    def make(who: str = "owner", **data: Any) -> Any:
        return _make_customer(world, who, **data)

    return make


@pytest.fixture
def customer(world: World) -> Any:
    """Owned by ``owner`` (sales, East), with a phone and an email."""
    return _make_customer(
        world,
        "owner",
        name="张伟",
        company="北京星河科技有限公司",
        phone="138 1234 8000",
        email="Zhang.Wei@Example.com",
    )


@pytest.fixture
def other_customer(world: World) -> Any:
    """Belongs to organisation "other"."""
    return _make_customer(world, "other_admin", name="李娜", phone="13900001111", email="li.na@other.cn")


@pytest.fixture
def password_user(world: World) -> Membership:
    m, _ = membership_upsert(org=world.org, username="pw_owner", role="sales", team="East", password=PASSWORD)
    return m


def pytest_configure(config: Any) -> None:
    # whitenoise warns when the (unused in tests) STATIC_ROOT does not exist
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")

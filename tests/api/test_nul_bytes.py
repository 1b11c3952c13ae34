"""A NUL byte in a query parameter is refused (API 422, web 400): PostgreSQL text cannot hold one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guanxi.core.models import AuditEvent


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/customers", {"q": "张\x00"}),
        ("/customers/export", {"view": "\x00"}),
        ("/customers", {"tag\x00": "vip"}),
    ],
)
def test_api_answers_422_naming_the_parameter(
    world: Any, make_customer: Any, path: str, params: dict[str, str]
) -> None:
    api = world.api("admin")
    before = AuditEvent.objects.count()
    response = api.get(path, params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["errors"][0]["code"] == "nul_byte"
    assert body["errors"][0]["field"] == next(iter(params)).replace("\x00", "\\x00")
    assert AuditEvent.objects.count() == before


def test_web_list_answers_400(world: Any, make_customer: Any) -> None:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(world.members["owner"].user)
    response = client.get("/customers/", {"q": "\x00"})
    assert response.status_code == 400
    assert b"NUL byte" in response.content


def test_ordinary_parameters_pass(world: Any, make_customer: Any) -> None:
    response = world.api("admin").get("/customers", {"q": "张"})
    assert response.status_code == 200

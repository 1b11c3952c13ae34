"""OpenAPI lists the contract; the docs page uses only local assets."""

import re

from django.test import Client

CONTRACT = [
    "id", "kind", "name", "company", "title", "phone", "phone_e164", "email", "phones", "emails",
    "wechat", "province", "city", "district", "address", "industry", "size", "source", "birthday",
    "birthday_is_lunar", "owner", "team", "tags", "custom", "lifecycle_stage", "value_tier", "grade",
    "external_id", "version", "created_at", "updated_at",
]  # fmt: skip


def _schema(db):
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.json()


def test_openapi_lists_customer_contract_fields(db):
    schema = _schema(db)
    components = schema["components"]["schemas"]
    assert set(CONTRACT) <= set(components["CustomerOut"]["properties"])
    writable = set(components["CustomerIn"]["properties"])
    assert set(CONTRACT) - {"id", "version", "created_at", "updated_at", "phone_e164"} <= writable
    assert components["CustomerIn"].get("additionalProperties") is False


def test_openapi_has_every_endpoint(db):
    paths = set(_schema(db)["paths"])
    for path in [
        "/api/v1/customers",
        "/api/v1/customers/bulk",
        "/api/v1/customers/deleted",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/history",
        "/api/v1/customers/{customer_id}/restore",
        "/api/v1/contacts",
        "/api/v1/tags",
        "/api/v1/custom-fields",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/audit-events",
        "/api/v1/me",
    ]:
        assert path in paths, path


def test_openapi_declares_bearer_auth(db):
    schemes = _schema(db)["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_docs_page_uses_only_local_assets(db):
    r = Client().get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger" in html.lower()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, html
    assert not [u for u in urls if re.match(r"(?:https?:)?//", u)], urls
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    for url in urls:
        if url.startswith("/static/"):
            assert Client().get(url).status_code == 200, url

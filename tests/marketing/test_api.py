"""/api/v1/web-forms: administrators only; another organisation's form answers 404."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.marketing.models import WebForm
from tests.marketing.conftest import FIELDS, Visitor

NEW = {
    "name": "API 表单",
    "fields": FIELDS,
    "source": "api-site",
    "assignment": "user",
    "assign_user": "teammate",
    "allowed_origins": ["https://shop.acme.cn/"],
}


def test_admin_crud_round_trip(world):
    api = world.api("admin")
    created = api.post("/web-forms", NEW)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["assign_user"] == "teammate"
    assert body["allowed_origins"] == ["https://shop.acme.cn"]
    assert body["public_url"].endswith(f"/f/{body['token']}/")
    form_id = body["id"]
    assert [f["id"] for f in api.get("/web-forms").json()] == [form_id]
    patched = api.patch(f"/web-forms/{form_id}", {"assignment": "pool", "is_active": False})
    assert patched.status_code == 200
    assert (patched.json()["assignment"], patched.json()["assign_user"]) == ("pool", None)
    assert api.get(f"/web-forms/{form_id}").json()["is_active"] is False
    token = api.post(f"/web-forms/{form_id}/regenerate-token").json()["token"]
    assert token != body["token"]
    assert api.delete(f"/web-forms/{form_id}").status_code == 204
    assert api.get(f"/web-forms/{form_id}").status_code == 404


def test_bad_input_names_each_field_and_changes_nothing(world):
    api = world.api("admin")
    bad = {
        **NEW,
        "fields": [{**FIELDS[0], "maps_to": "nonsense"}, {**FIELDS[1], "key": "website"}],
        "redirect_url": "ftp://x",
        "allowed_origins": ["https://ok.cn", "not an origin"],
    }
    response = api.post("/web-forms", bad)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"fields[0].maps_to", "fields[1].key", "redirect_url", "allowed_origins[1]"} <= fields
    for url in ("https://a.cn;script-src *", "https://user@a.cn/x", "javascript:alert(1)"):
        response = api.post("/web-forms", {**NEW, "redirect_url": url})
        assert [e["field"] for e in response.json()["errors"]] == ["redirect_url"], url
    unknown = api.post("/web-forms", {**NEW, "token": "mine"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "token"
    assert not WebForm.objects.exists()


def test_a_form_must_capture_a_name_and_a_phone_or_email(world):
    response = world.api("admin").post(
        "/web-forms",
        {**NEW, "fields": [{"key": "note", "label": "Note", "type": "textarea", "maps_to": "notes"}]},
        headers={"Accept-Language": "en"},
    )
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert response.status_code == 422
    assert "name" in messages and "phone or the email" in messages


def test_submissions_are_listed_newest_first_with_a_cursor(world):
    api = world.api("admin")
    form = WebForm.objects.get(pk=api.post("/web-forms", NEW).json()["id"])
    Visitor("192.0.2.1").post(form, {"name": "一", "phone": "13800000001"})
    Visitor("192.0.2.2").post(form, {"name": "二", "phone": "13800000002"})
    Visitor("192.0.2.3").post(form, {"name": "", "phone": "x"})
    first = api.get(f"/web-forms/{form.pk}/submissions", {"limit": 2}).json()
    assert [i["outcome"] for i in first["items"]] == ["rejected", "created"]
    second = api.get(f"/web-forms/{form.pk}/submissions", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["data"]["name"] for i in second["items"]] == ["一"] and second["next_cursor"] is None
    only = api.get(f"/web-forms/{form.pk}/submissions", {"outcome": "rejected"}).json()["items"]
    assert len(only) == 1 and only[0]["errors"]
    assert api.get(f"/web-forms/{form.pk}/submissions", {"cursor": "abc"}).status_code == 422


@pytest.mark.parametrize("who", ["manager", "owner", "marketing", "readonly"])
def test_other_roles_get_403(world, who):
    form = world.api("admin").post("/web-forms", NEW).json()
    api = world.api(who)
    assert api.get("/web-forms").status_code == 403
    assert api.post("/web-forms", NEW).status_code == 403
    assert api.get(f"/web-forms/{form['id']}").status_code == 403
    assert api.patch(f"/web-forms/{form['id']}", {"name": "hijack"}).status_code == 403
    assert api.get(f"/web-forms/{form['id']}/submissions").status_code == 403
    assert WebForm.objects.get().name == "API 表单"


def test_another_organisation_gets_404(world):
    form = world.api("admin").post("/web-forms", NEW).json()
    api = world.api("other_admin")
    assert api.get("/web-forms").json() == []
    for call in (
        lambda: api.get(f"/web-forms/{form['id']}"),
        lambda: api.patch(f"/web-forms/{form['id']}", {"name": "x"}),
        lambda: api.delete(f"/web-forms/{form['id']}"),
        lambda: api.get(f"/web-forms/{form['id']}/submissions"),
        lambda: api.post(f"/web-forms/{form['id']}/regenerate-token"),
    ):
        assert call().status_code == 404
    assert WebForm.objects.get().name == "API 表单"


def test_read_only_token_cannot_write(world):
    api: Any = world.api("admin", scopes=["read"])
    assert api.post("/web-forms", NEW).status_code == 403

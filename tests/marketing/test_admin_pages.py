"""Settings pages of web forms: administrators only; other roles 403; other organisations 404."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import AuditEvent
from guanxi.marketing.models import WebForm, WebFormSubmission
from tests.marketing.conftest import Visitor, make_form


def _page(world: Any, who: str) -> Any:
    return world.session(who).client


def _editor_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "op": "save",
        "name": "展会报名",
        "title": "2026 展会报名",
        "language": "zh-hans",
        "source": "expo",
        "assignment": "round_robin",
        "assign_team": "East",
        "tags": "展会, 2026",
        "consent_text": "同意接收邮件",
        "consent_purpose": "marketing",
        "consent_channels": ["email"],
        "thank_you_text": "报名成功",
        "redirect_url": "",
        "allowed_origins": "https://expo.acme.cn\nhttps://www.acme.cn",
        "field_count": "3",
        "f0_key": "name", "f0_label_zh": "姓名", "f0_label_en": "Name", "f0_type": "text",
        "f0_required": "on", "f0_maps_to": "name",
        "f1_key": "mobile", "f1_label_zh": "手机", "f1_label_en": "Mobile", "f1_type": "phone",
        "f1_maps_to": "phone",
        "f2_key": "size", "f2_label_zh": "团队规模", "f2_label_en": "Team size", "f2_type": "select",
        "f2_choices": "1-10, 11-50，51+", "f2_maps_to": "size",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_admin_creates_a_form_with_the_field_editor(world):
    client = _page(world, "admin")
    page = client.get("/settings/web-forms/new/")
    assert page.status_code == 200
    assert 'name="f0_key" value="name"' in page.content.decode()  # sensible starting fields
    response = client.post("/settings/web-forms/new/", _editor_post(), HTTP_X_CSRFTOKEN="c" * 32)
    form = WebForm.objects.get(organization=world.org)
    assert response.status_code == 302 and response["Location"] == f"/settings/web-forms/{form.pk}/"
    assert [f["key"] for f in form.fields] == ["name", "mobile", "size"]
    assert form.fields[2]["choices"] == ["1-10", "11-50", "51+"]
    assert form.fields[1]["label"] == {"zh-hans": "手机", "en": "Mobile"}
    assert (form.assignment, form.assign_team.name) == ("round_robin", "East")
    assert form.tags == ["2026", "展会"]
    assert form.allowed_origins == ["https://expo.acme.cn", "https://www.acme.cn"]
    assert AuditEvent.objects.filter(object_type="web_form", action="create", actor_name="admin").exists()
    edit = client.get(f"/settings/web-forms/{form.pk}/").content.decode()
    assert f"/f/{form.token}/" in edit and "&lt;iframe" in edit and "name=&quot;website&quot;" in edit


def test_editor_moves_adds_and_removes_rows_without_saving(world):
    client = _page(world, "admin")
    csrf = {"HTTP_X_CSRFTOKEN": "c" * 32}
    moved = client.post("/settings/web-forms/new/", _editor_post(op="down:0"), **csrf).content.decode()
    assert moved.index('value="mobile"') < moved.index('value="name"')
    added = client.post("/settings/web-forms/new/", _editor_post(op="add_field"), **csrf).content.decode()
    assert 'name="f3_key"' in added
    removed = client.post("/settings/web-forms/new/", _editor_post(op="remove:2"), **csrf).content.decode()
    assert '_key" value="size"' not in removed and 'name="f2_key"' not in removed
    assert not WebForm.objects.exists()


def test_editor_shows_each_error_next_to_its_field_and_saves_nothing(world):
    client = _page(world, "admin")
    response = client.post(
        "/settings/web-forms/new/",
        _editor_post(
            f1_maps_to="email", f2_choices="", redirect_url="javascript:alert(1)", allowed_origins="*"
        ),
        HTTP_X_CSRFTOKEN="c" * 32,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "cannot fill" in html or "不能" in html  # phone field mapped to email
    assert "a choice field needs at least one choice" in html or "选项" in html
    assert "http:// or https://" in html or "http://" in html
    assert not WebForm.objects.exists()


def test_list_preview_submissions_and_actions(world, webform):
    client = _page(world, "admin")
    csrf = {"HTTP_X_CSRFTOKEN": "c" * 32}
    Visitor().post(webform, {"name": "王芳", "phone": "13800138000"})
    Visitor("192.0.2.9").post(webform, {"name": "x", "phone": "1", "website": "bot"})
    listing = client.get("/settings/web-forms/").content.decode()
    assert "官网咨询" in listing
    preview = client.get(f"/settings/web-forms/{webform.pk}/preview/?lang=en")
    assert preview.status_code == 200 and 'id="wf-preview"' in preview.content.decode()
    subs = client.get(f"/settings/web-forms/{webform.pk}/submissions/").content.decode()
    customer_id = WebFormSubmission.objects.get(outcome="created").customer_id
    assert f"/customers/{customer_id}/" in subs and "王芳" in subs
    Visitor("192.0.2.10").post(webform, {"name": "李雷", "phone": "12"})
    rejected = client.get(f"/settings/web-forms/{webform.pk}/submissions/?outcome=rejected").content.decode()
    assert "手机:" in rejected and "12" in rejected  # errors under the field's label, not its key
    only_spam = client.get(f"/settings/web-forms/{webform.pk}/submissions/?outcome=spam").content.decode()
    assert "王芳" not in only_spam
    old = webform.token
    client.post(f"/settings/web-forms/{webform.pk}/token/", **csrf)
    webform.refresh_from_db()
    assert webform.token != old
    client.post(f"/settings/web-forms/{webform.pk}/active/", {"active": "0"}, **csrf)
    webform.refresh_from_db()
    assert not webform.is_active
    assert Visitor().get(webform).status_code == 404
    client.post(f"/settings/web-forms/{webform.pk}/active/", {"active": "1"}, **csrf)
    webform.refresh_from_db()
    assert webform.is_active
    client.post(f"/settings/web-forms/{webform.pk}/delete/", **csrf)
    assert not WebForm.objects.exists()
    assert world.org and customer_id  # the customer stays
    from guanxi.customers.models import Customer

    assert Customer.objects.filter(pk=customer_id).exists()


@pytest.mark.parametrize("who", ["manager", "owner", "marketing", "readonly"])
def test_other_roles_are_refused(world, webform, who):
    client = _page(world, who)
    csrf = {"HTTP_X_CSRFTOKEN": "c" * 32}
    base = f"/settings/web-forms/{webform.pk}"
    for url in (
        "/settings/web-forms/",
        "/settings/web-forms/new/",
        f"{base}/",
        f"{base}/submissions/",
        f"{base}/preview/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/settings/web-forms/{webform.pk}/delete/", **csrf).status_code == 403
    assert client.post(f"/settings/web-forms/{webform.pk}/token/", **csrf).status_code == 403
    assert WebForm.objects.filter(pk=webform.pk, token=webform.token).exists()
    assert 'id="nav-web-forms"' not in client.get("/customers/").content.decode()


def test_another_organisations_admin_gets_404(world, webform):
    client = _page(world, "other_admin")
    csrf = {"HTTP_X_CSRFTOKEN": "c" * 32}
    assert client.get("/settings/web-forms/").status_code == 200
    assert "官网咨询" not in client.get("/settings/web-forms/").content.decode()
    assert client.get(f"/settings/web-forms/{webform.pk}/").status_code == 404
    assert client.get(f"/settings/web-forms/{webform.pk}/submissions/").status_code == 404
    assert client.post(f"/settings/web-forms/{webform.pk}/delete/", **csrf).status_code == 404
    assert WebForm.objects.filter(pk=webform.pk).exists()


def test_the_admin_sees_the_nav_entry(world):
    html = _page(world, "admin").get("/customers/").content.decode()
    assert 'id="nav-web-forms"' in html


def test_anonymous_is_sent_to_login(world, webform):
    from django.test import Client

    response = Client().get(f"/settings/web-forms/{webform.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_second_form_keeps_its_own_submissions(world, webform):
    other = make_form(world, name="第二个")
    Visitor().post(other, {"name": "只在第二个", "phone": "13800138000"})
    html = _page(world, "admin").get(f"/settings/web-forms/{webform.pk}/submissions/").content.decode()
    assert "只在第二个" not in html

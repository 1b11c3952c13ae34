"""Sign-in, sign-out, language preference, organisation switcher, global search."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client

from guanxi.core.middleware import SESSION_ORG_KEY
from guanxi.core.models import AuditEvent
from guanxi.core.services import membership_upsert
from guanxi.web.models import UserPreference
from tests.conftest import PASSWORD
from tests.web.conftest import htmx


def test_login_page_renders(db: Any) -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_login_writes_audit_row_and_redirects(world: Any, password_user: Any) -> None:
    response = Client().post("/login/", {"username": "pw_owner", "password": PASSWORD, "next": "/customers/"})
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    event = AuditEvent.objects.filter(action="login", object_repr="pw_owner").get()
    assert event.organization_id == world.org.pk
    assert event.context["via"] == "ui"


def test_wrong_password_is_401_and_audited(world: Any, password_user: Any) -> None:
    response = Client().post("/login/", {"username": "pw_owner", "password": "nope"})
    assert response.status_code == 401
    assert AuditEvent.objects.filter(action="login_failed", object_repr="pw_owner").exists()


def test_login_refuses_foreign_next(world: Any, password_user: Any) -> None:
    response = Client().post(
        "/login/", {"username": "pw_owner", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_pages_need_login(db: Any) -> None:
    for path in [
        "/",
        "/customers/",
        "/customers/1/",
        "/contacts/",
        "/trash/",
        "/settings/users/",
        "/search/",
    ]:
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/"), path


def test_htmx_request_without_session_redirects_whole_page(db: Any) -> None:
    response = Client().get("/customers/", headers=htmx("results"))
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/")


def test_logout(login: Any) -> None:
    client = login("owner")
    assert client.post("/logout/").status_code == 302
    assert client.get("/customers/").status_code == 302


def test_home_redirects_to_customers(login: Any) -> None:
    response = login("owner").get("/")
    assert response.status_code == 302
    assert response["Location"] == "/customers/"


def test_shell_shows_nav_search_and_user_menu(login: Any) -> None:
    html = login("owner").get("/customers/").content.decode()
    assert 'id="global-search"' in html
    assert 'id="user-menu"' in html
    assert 'id="notifications"' in html
    assert "/contacts/" in html
    # A sales rep has no settings or recycle bin in the navigation (no dead links).
    assert "/settings/users/" not in html
    assert "/trash/" not in html


def test_admin_sees_settings_links(login: Any) -> None:
    html = login("admin").get("/customers/").content.decode()
    for path in [
        "/settings/users/",
        "/settings/fields/",
        "/settings/tags/",
        "/settings/organisation/",
        "/trash/",
    ]:
        assert path in html


def test_language_switch_saves_preference_and_login_restores_it(world: Any, password_user: Any) -> None:
    client = Client()
    client.force_login(password_user.user)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/customers/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert UserPreference.objects.get(user=password_user.user).language == "zh-hans"
    fresh = Client()
    response = fresh.post("/login/", {"username": "pw_owner", "password": PASSWORD})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = fresh.get("/customers/")
    assert 'lang="zh-hans"' in page.content.decode()


def test_language_switch_ignores_unknown_language(login: Any, world: Any) -> None:
    client = login("owner")
    client.post("/i18n/setlang/", {"language": "xx", "next": "/customers/"})
    assert not UserPreference.objects.filter(user=world.owner.user).exists()


def test_org_switcher(world: Any, login: Any) -> None:
    membership_upsert(org=world.other_org, username="owner", role="admin")
    client = login("owner")
    html = client.get("/customers/").content.decode()
    assert "other" in html and 'name="organization"' in html
    response = client.post("/org/switch/", {"organization": world.other_org.pk})
    assert response.status_code == 302
    assert client.session[SESSION_ORG_KEY] == world.other_org.pk
    # Now an admin in "other": the settings are there.
    assert "/settings/users/" in client.get("/customers/").content.decode()


def test_org_switcher_refuses_foreign_org(world: Any, login: Any) -> None:
    client = login("owner")
    assert client.post("/org/switch/", {"organization": world.other_org.pk}).status_code == 400
    assert client.post("/org/switch/", {"organization": "x"}).status_code == 400


def test_search_as_you_type_is_scoped(
    world: Any, login: Any, make_customer: Any, other_customer: Any
) -> None:
    make_customer("owner", name="张伟", company="星河科技", phone="13812348000")
    make_customer("outsider", name="张强")
    response = login("owner").get("/search/", {"q": "张"}, headers=htmx("search-results"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "张伟" in html and "张强" not in html
    assert "138****8000" in html  # lists never show a full number
    foreign = login("owner").get("/search/", {"q": "李娜"}).content.decode()
    assert "search-hit" not in foreign
    by_phone = login("owner").get("/search/", {"q": "8000"}).content.decode()
    assert "张伟" in by_phone


def test_search_empty_query(login: Any) -> None:
    response = login("owner").get("/search/", {"q": ""})
    assert response.status_code == 200
    assert response.content.strip() == b""


def test_healthz(db: Any) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_notification_area(world: Any, login: Any) -> None:
    from guanxi.engagement.models import Notification

    Notification.objects.create(
        organization=world.org, user=world.owner.user, kind="task", title="提醒：回访张伟", link="/customers/"
    )
    Notification.objects.create(
        organization=world.org, user=world.teammate.user, kind="task", title="别人的提醒"
    )
    client = login("owner")
    html = client.get("/customers/").content.decode()
    assert "提醒：回访张伟" in html and "别人的提醒" not in html
    assert 'class="dot-count">1<' in html
    assert client.post("/notifications/read/", {"next": "/contacts/"})["Location"] == "/contacts/"
    assert "提醒：回访张伟" not in client.get("/customers/").content.decode()


def test_public_pool_link_for_pool_roles(login: Any) -> None:
    for who, shown in [
        ("owner", True),
        ("manager", True),
        ("admin", True),
        ("marketing", False),
        ("readonly", False),
    ]:
        html = login(who).get("/customers/").content.decode()
        assert ('id="nav-pool"' in html) is shown, who


def test_nav_reaches_my_day_and_follow_ups_and_360_links_to_logging(world, customer) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(world.owner.user)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    for href in (
        "/engagement/my-day/",
        "/engagement/activities/",
        f"/engagement/customers/{customer.pk}/activities/new/",
    ):
        assert f'href="{href}"' in page, href
        assert client.get(href).status_code == 200, href

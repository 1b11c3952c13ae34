"""Roles without view_contact_details see 138****8000 everywhere; the others see the full values."""

import pytest


def _phones_and_emails(item):
    return (
        item["phone"],
        item["phone_e164"],
        item["email"],
        [(p["value"], p["e164"]) for p in item["phones"]],
        [e["value"] for e in item["emails"]],
    )


@pytest.fixture
def rich(make_customer):
    return make_customer(
        "owner",
        name="张伟",
        phones=[{"label": "mobile", "value": "13812348000"}, {"label": "office", "value": "010-8888 6666"}],
        emails=[
            {"label": "work", "value": "Zhang.Wei@Example.com"},
            {"label": "home", "value": "zw@home.cn"},
        ],
        wechat="zhangwei_88",
    )


@pytest.mark.parametrize("who", ["readonly", "marketing"])
def test_masked_in_detail_and_list(world, rich, who):
    api = world.api(who)
    detail = api.get(f"/customers/{rich.pk}").json()
    listed = next(c for c in api.get("/customers").json()["items"] if c["id"] == rich.pk)
    for item in (detail, listed):
        phone, e164, email, phones, emails = _phones_and_emails(item)
        assert phone == "138****8000"
        assert e164 == "+86138****8000"
        assert email == "z***@example.com"
        assert phones[0] == ("138****8000", "+86138****8000")
        assert "8888" not in phones[1][0] or "****" in phones[1][0]
        assert all("*" in v for pair in phones for v in pair)
        assert emails == ["z***@example.com", "z***@home.cn"]
        assert item["wechat"] != "zhangwei_88"
        body = str(item)
        assert "13812348000" not in body and "zhang.wei@" not in body


@pytest.mark.parametrize("who", ["readonly", "marketing"])
def test_masked_in_search_results(world, rich, who):
    items = world.api(who).get("/customers", {"q": "张伟"}).json()["items"]
    assert [c["phone"] for c in items] == ["138****8000"]


@pytest.mark.parametrize("who", ["admin", "owner", "manager", "service"])
def test_full_details_for_roles_with_permission(world, rich, who):
    item = world.api(who).get(f"/customers/{rich.pk}").json()
    assert item["phone"] == "13812348000"
    assert item["phone_e164"] == "+8613812348000"
    assert item["email"] == "zhang.wei@example.com"
    assert item["phones"][1]["e164"] == "+861088886666"
    assert item["wechat"] == "zhangwei_88"


def test_read_only_token_of_sales_rep_still_sees_full_details(world, rich):
    item = world.api("owner", scopes=["read"]).get(f"/customers/{rich.pk}").json()
    assert item["phone"] == "13812348000"


def test_contacts_masked_for_readonly(world, rich):
    world.api("owner").post(
        "/contacts", {"customer_id": rich.pk, "name": "王经理", "phone": "13900001234", "email": "wang@x.cn"}
    )
    item = world.api("readonly").get("/contacts").json()["items"][0]
    assert item["phone"] == "139****1234"
    assert item["email"] == "w***@x.cn"
    assert world.api("admin").get("/contacts").json()["items"][0]["phone"] == "13900001234"


@pytest.mark.parametrize("who", ["readonly", "marketing"])
def test_masked_roles_cannot_search_by_phone_or_email_fragments(world, customer, who) -> None:  # type: ignore[no-untyped-def]
    # Otherwise ten thousand searches would reveal the four hidden digits of 138****8000.
    api = world.api(who)
    for q in ("8000", "13812348000", "zhang.wei@"):
        assert api.get("/customers", {"q": q}).json()["items"] == [], q
    assert [c["id"] for c in api.get("/customers", {"q": "张伟"}).json()["items"]] == [customer.pk]
    assert [c["id"] for c in world.api("admin").get("/customers", {"q": "8000"}).json()["items"]] == [
        customer.pk
    ]

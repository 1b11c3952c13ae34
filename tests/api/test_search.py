"""The ``q`` search: Chinese names of two characters, surname prefixes, phone fragments, emails."""

import pytest


@pytest.fixture
def people(world, make_customer):
    return {
        "zhangwei": make_customer(
            "owner",
            name="张伟",
            company="北京星河科技有限公司",
            phone="138 1234 8000",
            email="zhang.wei@example.com",
        ).pk,
        "zhangsan": make_customer("owner", name="张三丰", phone="13900001111").pk,
        "wangfang": make_customer("owner", name="王芳", company="上海云帆贸易", email="wf@yunfan.cn").pk,
        "alice": make_customer("owner", name="Alice Smith", company="Acme Ltd", phone="+1 650 253 0000").pk,
    }


def _q(world, q, who="owner"):
    r = world.api(who).get("/customers", {"q": q})
    assert r.status_code == 200, r.json()
    return {c["id"] for c in r.json()["items"]}


def test_two_character_chinese_name(world, people):
    assert _q(world, "张伟") == {people["zhangwei"]}


def test_one_character_surname_prefix(world, people):
    assert _q(world, "张") == {people["zhangwei"], people["zhangsan"]}
    assert _q(world, "王") == {people["wangfang"]}


def test_phone_fragments(world, people):
    assert _q(world, "8000") == {people["zhangwei"]}
    assert _q(world, "138-1234-8000") == {people["zhangwei"]}
    assert _q(world, "+86 138 1234 8000") == {people["zhangwei"]}
    assert _q(world, "12348") == {people["zhangwei"]}
    assert _q(world, "6502530000") == {people["alice"]}


def test_email_and_company_fragments(world, people):
    assert _q(world, "yunfan") == {people["wangfang"]}
    assert _q(world, "zhang.wei@") == {people["zhangwei"]}
    assert _q(world, "星河") == {people["zhangwei"]}
    assert _q(world, "云帆贸易") == {people["wangfang"]}
    assert _q(world, "acme") == {people["alice"]}
    assert _q(world, "ALICE") == {people["alice"]}


def test_several_terms_must_all_match(world, people):
    assert _q(world, "张伟 星河") == {people["zhangwei"]}
    assert _q(world, "张伟 云帆") == set()


def test_terms_that_must_not_match(world, people):
    assert _q(world, "伟张") == set()
    assert _q(world, "9999") == set()
    assert _q(world, "nobody") == set()
    assert _q(world, "赵") == set()


def test_search_follows_edits(world, people):
    api = world.api("owner")
    api.patch(f"/customers/{people['wangfang']}", {"name": "王小芳"}, headers={"If-Match": '"1"'})
    assert _q(world, "王芳") == set()
    assert _q(world, "小芳") == {people["wangfang"]}


def test_search_never_returns_invisible_or_foreign_customers(world, people, make_customer):
    make_customer("other_admin", name="张伟", phone="13812348000")
    make_customer("outsider", name="张伟", phone="13812348000")
    assert _q(world, "张伟", "teammate") == set()
    assert _q(world, "8000", "teammate") == set()
    assert _q(world, "张伟", "other_sales") == set()
    assert len(_q(world, "张伟", "other_admin")) == 1
    assert len(_q(world, "张伟", "admin")) == 2


def test_deleted_customers_are_not_found(world, people):
    world.api("admin").delete(f"/customers/{people['zhangwei']}")
    assert _q(world, "张伟", "admin") == set()
    assert _q(world, "8000", "admin") == set()
    world.api("admin").post(f"/customers/{people['zhangwei']}/restore")
    assert _q(world, "张伟", "admin") == {people["zhangwei"]}


def test_odd_queries_do_not_fail(world, people):
    for q in ["%", "_", "'", '"', "\\", "--", "()", "😀", "　", "a" * 100, "1", "+"]:
        assert world.api("owner").get("/customers", {"q": q}).status_code == 200, q
    assert world.api("owner").get("/customers", {"q": "a" * 101}).status_code == 422

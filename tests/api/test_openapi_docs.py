def test_list_answers_match_the_documented_schema(world, customer) -> None:  # type: ignore[no-untyped-def]
    from guanxi.customers.schemas import CustomerPage

    for who in ("admin", "readonly"):
        body = world.api(who).get("/customers", {"limit": 5}).json()
        page = CustomerPage.model_validate(body)
        assert [c.id for c in page.items] == [customer.pk]
    deleted = world.api("admin").get("/customers/deleted").json()
    assert CustomerPage.model_validate(deleted).items == []

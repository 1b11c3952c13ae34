"""GET/PUT /pool/settings: admin only, per organisation, validated, audited."""

import pytest

from guanxi.core.models import AuditEvent
from guanxi.customers.models import PoolRule, PoolSettings

GOOD = {
    "reclaim_enabled": True,
    "max_owned": 200,
    "daily_claim_limit": 20,
    "reclaim_block_days": 15,
    "rules": [
        {"grade": "A", "follow_up_days": 7, "close_days": 60, "warn_days": 2},
        {"grade": "", "follow_up_days": 30, "close_days": None, "warn_days": 5},
    ],
}


def test_defaults_before_anything_is_set(world):
    body = world.api("admin").get("/pool/settings").json()
    assert body == {
        "reclaim_enabled": True,
        "max_owned": None,
        "daily_claim_limit": None,
        "reclaim_block_days": 30,
        "rules": [],
    }


def test_admin_replaces_settings_and_rules(world):
    api = world.api("admin")
    r = api.put("/pool/settings", GOOD)
    assert r.status_code == 200, r.content
    assert r.json()["rules"][0] == {"grade": "", "follow_up_days": 30, "close_days": None, "warn_days": 5}
    assert api.get("/pool/settings").json() == r.json()
    cfg = PoolSettings.objects.get(organization=world.org)
    assert (cfg.max_owned, cfg.daily_claim_limit, cfg.reclaim_block_days) == (200, 20, 15)
    assert PoolRule.objects.filter(organization=world.org).count() == 2
    event = AuditEvent.objects.filter(object_type="pool_settings").latest("id")
    assert event.actor_name == "admin" and event.changes["max_owned"] == [None, 200]
    # PUT replaces the rules.
    api.put("/pool/settings", {**GOOD, "rules": [{"grade": "B", "close_days": 90}]})
    assert list(PoolRule.objects.filter(organization=world.org).values_list("grade", flat=True)) == ["B"]


@pytest.mark.parametrize("who", ["manager", "owner", "teammate", "outsider", "marketing", "readonly"])
def test_only_admins_read_or_change_settings(world, who):
    api = world.api(who)
    assert api.get("/pool/settings").status_code == 403
    assert api.put("/pool/settings", GOOD).status_code == 403
    assert not PoolSettings.objects.exists()


def test_admin_token_without_admin_scope_cannot_change_settings(world):
    assert world.api("admin", scopes=["read", "write"]).put("/pool/settings", GOOD).status_code == 403


def test_settings_are_per_organisation(world):
    world.api("admin").put("/pool/settings", GOOD)
    assert world.api("other_admin").get("/pool/settings").json()["rules"] == []
    world.api("other_admin").put("/pool/settings", {"max_owned": 5})
    assert PoolSettings.objects.get(organization=world.org).max_owned == 200


@pytest.mark.parametrize(
    "change, field",
    [
        ({"rules": [{"grade": "A", "follow_up_days": 7, "warn_days": 7}]}, "rules[0].warn_days"),
        ({"rules": [{"grade": "A"}]}, "rules[0].follow_up_days"),
        ({"rules": [{"grade": "A", "close_days": 5}, {"grade": "A", "close_days": 6}]}, "rules[1].grade"),
        ({"rules": [{"grade": "A", "close_days": 0}]}, "rules[0].close_days"),
        ({"max_owned": -1}, "max_owned"),
        ({"reclaim_block_days": 99999}, "reclaim_block_days"),
        ({"rules": [{"grade": "A", "close_days": 5, "extra": 1}]}, "rules[0].extra"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_settings_are_rejected_and_change_nothing(world, change, field):
    r = world.api("admin").put("/pool/settings", {**GOOD, **change})
    assert r.status_code == 422, r.content
    assert field in [e["field"] for e in r.json()["errors"]]
    assert not PoolSettings.objects.exists() and not PoolRule.objects.exists()

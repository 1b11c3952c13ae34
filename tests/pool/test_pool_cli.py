"""`guanxi pool list|claim|release|assign|reclaim` with --json and clean errors."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.customers.models import Customer


def _run(*args):
    out = StringIO()
    call_command("pool", *args, stdout=out)
    return out.getvalue()


def test_list_as_operator_and_as_a_rep(world, pooled):
    body = json.loads(_run("list", "--org", "acme", "--json"))
    assert [i["id"] for i in body["items"]] == [pooled.pk]
    assert body["items"][0]["phone"] == "139 0000 1234"  # the operator's view
    rep = json.loads(_run("list", "--org", "acme", "--user", "teammate", "--json"))
    assert rep["items"][0]["phone"] == "139****1234" and rep["items"][0]["details_masked"] is True
    assert "王芳" in _run("list", "--org", "acme")
    assert json.loads(_run("list", "--org", "other", "--json"))["items"] == []


def test_claim_release_assign(world, pooled):
    body = json.loads(_run("claim", str(pooled.pk), "--org", "acme", "--user", "owner", "--json"))
    assert body == {"id": pooled.pk, "name": "王芳", "owner": "owner"}
    assert Customer.objects.get(pk=pooled.pk).owner_id == world.owner.user_id
    with pytest.raises(CommandError, match="already_claimed"):
        _run("claim", str(pooled.pk), "--org", "acme", "--user", "teammate")
    _run("release", str(pooled.pk), "--org", "acme", "--user", "owner", "--reason", "暂不需要")
    assert Customer.objects.get(pk=pooled.pk).in_public_pool is True
    _run("assign", str(pooled.pk), "--org", "acme", "--user", "manager", "--to", "teammate")
    assert Customer.objects.get(pk=pooled.pk).owner_id == world.teammate.user_id


def test_cli_errors_are_clean(world, pooled):
    with pytest.raises(CommandError, match="not an active member"):
        _run("claim", str(pooled.pk), "--org", "acme", "--user", "ghost")
    with pytest.raises(CommandError, match="no organisation"):
        _run("list", "--org", "nope")
    with pytest.raises(CommandError):
        _run("claim", str(pooled.pk), "--org", "acme", "--user", "marketing")
    with pytest.raises(CommandError):
        _run("claim", str(pooled.pk), "--org", "other", "--user", "other_admin")
    with pytest.raises(CommandError, match="ISO 8601"):
        _run("reclaim", "--org", "acme", "--now", "yesterday")
    assert Customer.objects.get(pk=pooled.pk).in_public_pool is True

"""`guanxi merge A B --org --as [--json]`, `--dry-run`, `--choose`, `merge list` and `merge undo`."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from guanxi.customers.models import Contact, Customer, CustomerMerge
from tests.conftest import World
from tests.merge.conftest import Pair


def run(*args: Any) -> str:
    out = StringIO()
    with translation.override("en"):  # messages are translated; compare the English ones
        call_command("merge", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_merge_json_then_undo(world: World, pair: Pair) -> None:
    data = json.loads(run(pair.older.pk, pair.newer.pk, "--org", "acme", "--as", "admin", "--json"))
    assert data["survivor_id"] == pair.older.pk and data["moved"]["customers.contact.customer"] == 1
    assert Customer.objects.get(pk=pair.newer.pk).merged_into_id == pair.older.pk
    record = CustomerMerge.objects.get(pk=data["merge_id"])
    assert record.merged_by == world.admin.user

    listed = json.loads(run("list", "--org", "acme", "--as", "admin", "--json"))
    assert [m["id"] for m in listed["items"]] == [record.pk]

    undone = json.loads(run("undo", record.pk, "--org", "acme", "--as", "admin", "--json"))
    assert undone["kept"] == [] and undone["merged_id"] == pair.newer.pk
    assert Contact.objects.filter(customer=pair.newer).count() == 1
    assert "undone" in run("list", "--org", "acme", "--as", "admin")


def test_choose_overrides_a_default(world: World, pair: Pair) -> None:
    text = run(pair.older.pk, pair.newer.pk, "--org", "acme", "--as", "manager", "--choose", "name=survivor")
    assert text.startswith(f"merged {pair.newer.pk} into {pair.older.pk}")
    assert Customer.objects.get(pk=pair.older.pk).name == "张伟"


def test_dry_run_changes_nothing(world: World, pair: Pair) -> None:
    data = json.loads(
        run(pair.older.pk, pair.newer.pk, "--org", "acme", "--as", "admin", "--dry-run", "--json")
    )
    wins = {f["field"]: f["wins"] for f in data["fields"]}
    assert wins["name"] == "merged" and wins["phones"] == "union"
    assert data["moves"]["engagement.activity.customer"] == 1
    assert Customer.objects.get(pk=pair.newer.pk).merged_into_id is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1"], "expected A B"),
        (["undo"], "expected undo MERGE_ID"),
        (["x", "y"], "expected A B"),
    ],
)
def test_usage_errors(world: World, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args, "--org", "acme", "--as", "admin")


def test_errors_are_clear(world: World, pair: Pair, other_customer: Any) -> None:
    with pytest.raises(CommandError, match="may not merge"):
        run(pair.older.pk, pair.newer.pk, "--org", "acme", "--as", "owner")
    with pytest.raises(CommandError, match="not found"):
        run(pair.older.pk, other_customer.pk, "--org", "acme", "--as", "admin")
    with pytest.raises(CommandError, match=r"choices\.name"):
        run(pair.older.pk, pair.newer.pk, "--org", "acme", "--as", "admin", "--choose", "name=both")
    with pytest.raises(CommandError, match="FIELD=CHOICE"):
        run(pair.older.pk, pair.newer.pk, "--org", "acme", "--as", "admin", "--choose", "name")
    with pytest.raises(CommandError, match="not an active member"):
        run(pair.older.pk, pair.newer.pk, "--org", "acme", "--as", "nobody")
    with pytest.raises(CommandError, match="no organisation"):
        run(pair.older.pk, pair.newer.pk, "--org", "nope", "--as", "admin")
    assert Customer.objects.get(pk=pair.newer.pk).merged_into_id is None

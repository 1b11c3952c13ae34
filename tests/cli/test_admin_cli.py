"""guanxi org / user / token: scriptable, idempotent, --json, clear errors."""

import json
import os
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from guanxi.core.models import ApiToken, Membership, Organization, hash_token

GUANXI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "guanxi"


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args):
    return json.loads(run(*args, "--json"))


def test_org_create_json_and_idempotent(db):
    first = run_json("org", "create", "acme")
    assert first["name"] == "acme" and first["created"] is True
    again = run_json("org", "create", "acme")
    assert again == {**first, "created": False}
    assert Organization.objects.filter(name="acme").count() == 1
    assert run_json("org", "list")["organizations"] == [{"id": first["id"], "name": "acme"}]


def test_org_create_plain_text(db):
    assert "acme" in run("org", "create", "acme")


def test_user_create_json_and_idempotent(db):
    run("org", "create", "acme")
    data = run_json("user", "create", "wang", "--org", "acme", "--role", "sales", "--team", "East")
    assert data == {
        "username": "wang",
        "organization": "acme",
        "role": "sales",
        "team": "East",
        "created": True,
    } | {k: v for k, v in data.items() if k not in {"username", "organization", "role", "team", "created"}}
    again = run_json("user", "create", "wang", "--org", "acme", "--role", "sales", "--team", "East")
    assert again["created"] is False
    assert Membership.objects.filter(user__username="wang").count() == 1
    changed = run_json("user", "create", "wang", "--org", "acme", "--role", "manager")
    assert (changed["role"], changed["team"]) == ("manager", "East")


def test_user_create_with_password_can_sign_in(db):
    run("org", "create", "acme")
    run("user", "create", "wang", "--org", "acme", "--role", "sales", "--password", "correct-horse-battery-9")
    assert Client().login(username="wang", password="correct-horse-battery-9")


def test_unknown_org_is_a_clear_error(db):
    with pytest.raises(CommandError, match="'nope'"):
        run("user", "create", "wang", "--org", "nope", "--role", "sales")
    with pytest.raises(CommandError, match="nope"):
        run("token", "create", "wang", "--org", "nope")


def test_bad_values_are_command_errors(db):
    run("org", "create", "acme")
    with pytest.raises(CommandError, match="password"):
        run("user", "create", "wang", "--org", "acme", "--role", "sales", "--password", "123")
    with pytest.raises(CommandError):
        run("user", "create", "bad name", "--org", "acme", "--role", "sales")
    with pytest.raises(CommandError):
        run("org", "create", "x" * 101)
    assert not Membership.objects.exists()


def test_token_create_works_against_the_api_and_is_stored_hashed(db):
    run("org", "create", "acme")
    run("user", "create", "wang", "--org", "acme", "--role", "sales")
    data = run_json("token", "create", "wang", "--org", "acme", "--scopes", "read")
    raw = data["token"]
    assert raw.startswith("gx_") and data["scopes"] == ["read"]
    stored = ApiToken.objects.get(pk=data["id"])
    assert stored.token_hash == hash_token(raw)
    assert not ApiToken.objects.filter(token_hash=raw).exists()
    client = Client()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["username"] == "wang"
    r = client.post(
        "/api/v1/customers",
        {"name": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 403
    # a second run makes a second token: both work
    other = run_json("token", "create", "wang", "--org", "acme")["token"]
    assert other != raw
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200


def test_token_for_non_member_or_bad_scope(db):
    run("org", "create", "acme")
    with pytest.raises(CommandError, match="ghost"):
        run("token", "create", "ghost", "--org", "acme")
    run("user", "create", "wang", "--org", "acme", "--role", "sales")
    with pytest.raises(CommandError, match="scopes"):
        run("token", "create", "wang", "--org", "acme", "--scopes", "root")


def test_token_with_expiry(db):
    run("org", "create", "acme")
    run("user", "create", "wang", "--org", "acme", "--role", "sales")
    data = run_json("token", "create", "wang", "--org", "acme", "--days", "30")
    assert data["expires_at"]


@pytest.fixture
def cli_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env["GUANXI_DATA_DIR"] = str(tmp_path / "data")
    return env


def _cli(env, *args):
    return subprocess.run([str(GUANXI), *args], env=env, capture_output=True, text=True, timeout=180)


def test_console_script_end_to_end(cli_env, tmp_path):
    """The real ``guanxi`` script on a fresh SQLite file in a temporary data directory."""
    assert _cli(cli_env, "migrate", "-v", "0").returncode == 0
    org = _cli(cli_env, "org", "create", "acme", "--json")
    assert org.returncode == 0, org.stderr
    assert json.loads(org.stdout)["created"] is True
    assert json.loads(_cli(cli_env, "org", "create", "acme", "--json").stdout)["created"] is False
    user = _cli(cli_env, "user", "create", "wang", "--org", "acme", "--role", "admin", "--json")
    assert json.loads(user.stdout)["role"] == "admin"
    token = _cli(cli_env, "token", "create", "wang", "--org", "acme", "--json")
    assert json.loads(token.stdout)["token"].startswith("gx_")
    bad = _cli(cli_env, "user", "create", "li", "--org", "nope", "--role", "sales")
    assert bad.returncode != 0
    assert "'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert (tmp_path / "data" / "guanxi.sqlite3").exists()
    purge = _cli(cli_env, "purge-deleted", "--json")
    assert purge.returncode == 0, purge.stderr
    assert json.loads(purge.stdout) == {"purged": 0}

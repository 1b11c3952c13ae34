"""settings.py: typed helpers fail loudly naming the variable; production mode is strict and deploy-clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from guanxi.settings import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]
GUANXI = ROOT / ".venv" / "bin" / "guanxi"
PROD_KEY = "k" * 20 + "-production-secret-for-tests-0123456789"


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", True), ("TRUE", True), ("yes", True), ("on", True), ("0", False), ("False", False), ("no", False)],
)
def test_env_bool_values(monkeypatch, raw, value):
    monkeypatch.setenv("GX_FLAG", raw)
    assert env_bool("GX_FLAG") is value


def test_env_bool_default_and_bad_value(monkeypatch):
    monkeypatch.delenv("GX_FLAG", raising=False)
    assert env_bool("GX_FLAG", default=True) is True
    monkeypatch.setenv("GX_FLAG", "  ")
    assert env_bool("GX_FLAG") is False
    monkeypatch.setenv("GX_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="GX_FLAG"):
        env_bool("GX_FLAG")


def test_env_int(monkeypatch):
    monkeypatch.setenv("GX_NUM", " 42 ")
    assert env_int("GX_NUM", 1) == 42
    monkeypatch.delenv("GX_NUM")
    assert env_int("GX_NUM", 7) == 7
    for bad in ("4.2", "lots", "0x10"):
        monkeypatch.setenv("GX_NUM", bad)
        with pytest.raises(ImproperlyConfigured, match="GX_NUM"):
            env_int("GX_NUM", 1)


def test_env_list_and_str(monkeypatch):
    monkeypatch.setenv("GX_LIST", " a.example , ,b.example ")
    assert env_list("GX_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("GX_STR", "  x ")
    assert env_str("GX_STR") == "x"


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_", "DATABASE_URL"))}
    for name in (
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DEBUG",
        "TIME_ZONE",
        "LANGUAGE_CODE",
        "EMAIL_URL",
        "REDIS_URL",
    ):
        env.pop(name, None)
    env["GUANXI_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def _import_settings(tmp_path, **extra):
    return subprocess.run(
        [sys.executable, "-c", "import guanxi.settings"],
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_fails_clearly(tmp_path):
    r = _import_settings(tmp_path, GUANXI_ENV="production", ALLOWED_HOSTS="crm.example.com")
    assert r.returncode != 0
    assert "SECRET_KEY is required" in r.stderr


def test_production_with_short_secret_key_fails(tmp_path):
    r = _import_settings(tmp_path, GUANXI_ENV="production", SECRET_KEY="short", ALLOWED_HOSTS="x.example")
    assert r.returncode != 0 and "SECRET_KEY" in r.stderr


def test_production_without_allowed_hosts_fails(tmp_path):
    r = _import_settings(tmp_path, GUANXI_ENV="production", SECRET_KEY=PROD_KEY)
    assert r.returncode != 0 and "ALLOWED_HOSTS" in r.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "perhaps"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("LANGUAGE_CODE", "klingon"),
        ("DATABASE_URL", "mysql://u@h/db"),
        ("DATABASE_URL", "not a url"),
        ("GUANXI_ENV", "staging"),
        ("EMAIL_URL", "pigeon://coop"),
        ("SESSION_COOKIE_AGE", "forever"),
        ("REDIS_URL", "http://x"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, value):
    r = _import_settings(tmp_path, **{name: value})
    assert r.returncode != 0
    assert name in r.stderr, r.stderr


def test_embedded_default_generates_and_keeps_secret_key(tmp_path):
    code = "from django.conf import settings; import django; print(settings.SECRET_KEY)"
    env = _env(tmp_path, DJANGO_SETTINGS_MODULE="guanxi.settings")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50
    key_file = tmp_path / "data" / "secret_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_cli_reports_configuration_errors_without_traceback(tmp_path):
    r = subprocess.run(
        [str(GUANXI), "check"],
        env=_env(tmp_path, DEBUG="perhaps"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "configuration error" in r.stderr and "DEBUG" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    env = _env(
        tmp_path,
        GUANXI_ENV="production",
        SECRET_KEY=PROD_KEY,
        ALLOWED_HOSTS="crm.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    r = subprocess.run(
        [str(GUANXI), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARNINGS" not in r.stdout + r.stderr
    assert "no issues" in r.stdout

"""``guanxi import customers``: summary, --json, --dry-run, --mode, --as, errors and exit codes."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.customers.models import Customer
from tests.imports.engine_helpers import write_csv


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def cli(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


def cli_json(*args: str) -> Any:
    return json.loads(cli(*args, "--json"))


def test_json_summary_with_errors_and_external_id(world: Any, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv",
        [["张伟", "13812348000", "", "", "ERP-9", ""], ["", "13812348001", "", "", "ERP-10", ""]],
    )
    data = cli_json("customers", str(path), "--org", "acme")
    assert {k: data[k] for k in ("created", "updated", "skipped", "rejected")} == {
        "created": 1,
        "updated": 0,
        "skipped": 0,
        "rejected": 1,
    }
    assert data["errors"] == [{"row": 3, "column": "姓名", "message": data["errors"][0]["message"]}]
    assert data["errors"][0]["message"]
    assert Path(data["error_file"]).read_text(encoding="utf-8-sig").count("\n") == 2
    customer = Customer.objects.get(organization=world.org)
    assert customer.external_id == "ERP-9"
    assert customer.owner_id == world.admin.user_id  # no --as: the organisation's first admin


def test_plain_text_summary_and_modes(world: Any, make_customer: Any, tmp_path: Path) -> None:
    make_customer("manager", name="旧", phone="13800000001")
    path = write_csv(tmp_path / "u.csv", [["新", "13800000001", "", "", "", ""]])
    text = cli("customers", str(path), "--org", "acme", "--mode", "update", "--as", "manager")
    assert "1 updated" in text and "0 created" in text
    assert Customer.objects.get(organization=world.org).name == "新"


def test_dry_run_writes_nothing(world: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["一", "13800000001", "", "", "", ""]])
    data = cli_json("customers", str(path), "--org", "acme", "--dry-run")
    assert (data["created"], data["dry_run"]) == (1, True)
    assert not Customer.objects.exists()


def test_unreadable_file_and_bad_arguments_exit_non_zero(world: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no such file"):
        cli("customers", str(tmp_path / "missing.csv"), "--org", "acme")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(CommandError):
        cli("customers", str(binary), "--org", "acme")
    path = write_csv(tmp_path / "c.csv", [["一", "13800000001", "", "", "", ""]])
    with pytest.raises(CommandError, match="nope"):
        cli("customers", str(path), "--org", "nope")
    with pytest.raises(CommandError, match="ghost"):
        cli("customers", str(path), "--org", "acme", "--as", "ghost")
    with pytest.raises(CommandError):  # a sales rep may not import
        cli("customers", str(path), "--org", "acme", "--as", "owner")
    with pytest.raises(CommandError, match="ERP"):
        cli("customers", str(path), "--org", "acme", "--mapping", "ERP")
    assert not Customer.objects.exists()


def test_resume_refuses_finished_and_unknown_jobs(world: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["一", "13800000001", "", "", "", ""]])
    job_id = cli_json("customers", str(path), "--org", "acme")["job"]
    with pytest.raises(CommandError, match="already finished"):
        cli("resume", str(job_id))
    with pytest.raises(CommandError, match="no import job"):
        cli("resume", "999999")


def test_console_dispatch_finds_the_keyword_named_command() -> None:
    """``import`` is a Python keyword; Django loads the command module by name all the same."""
    from django.core.management import load_command_class

    command = load_command_class("guanxi.customers", "import")
    assert "Import customers" in command.help

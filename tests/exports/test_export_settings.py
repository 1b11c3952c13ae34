"""The export limits come from environment variables with typed defaults, and fail loudly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PRINT = (
    "import guanxi.settings as s; print(s.GUANXI_EXPORTS_PER_HOUR, s.GUANXI_EXPORT_SYNC_MAX_ROWS, "
    "s.GUANXI_EXPORT_TTL_HOURS, s.GUANXI_BULK_SYNC_MAX)"
)


def _settings(tmp_path: object, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_") or k == "GUANXI_ENV"}
    clean["GUANXI_DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-c", PRINT], env={**clean, **env}, capture_output=True, text=True)


def test_defaults(tmp_path: object) -> None:
    assert _settings(tmp_path).stdout.split() == ["20", "5000", "24", "500"]


def test_values_from_the_environment(tmp_path: object) -> None:
    done = _settings(
        tmp_path,
        GUANXI_EXPORTS_PER_HOUR="3",
        GUANXI_EXPORT_SYNC_MAX_ROWS="100",
        GUANXI_EXPORT_TTL_HOURS="2",
        GUANXI_BULK_SYNC_MAX="50",
    )
    assert done.stdout.split() == ["3", "100", "2", "50"]


@pytest.mark.parametrize("name", ["GUANXI_EXPORTS_PER_HOUR", "GUANXI_EXPORT_SYNC_MAX_ROWS"])
def test_a_malformed_value_names_the_variable(tmp_path: object, name: str) -> None:
    done = _settings(tmp_path, **{name: "lots"})
    assert done.returncode != 0
    assert f"{name}='lots' is not an integer" in done.stderr

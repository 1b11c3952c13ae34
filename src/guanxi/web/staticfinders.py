"""Static files that come from installed packages rather than from the repository.

plotly's wheel carries ``plotly.min.js`` (≈4.8 MB). Committing a copy would pin a second version
next to the Python one and put third-party JS into the repository; a CDN would break offline
installs. This finder exposes the installed file as ``vendor/plotly/plotly.min.js``: in development
whitenoise serves it through the finders, in production ``collectstatic`` (run by ``guanxi serve``)
copies it beside the app's own assets, where whitenoise gives it a hashed name, gzip/brotli and a
far-future cache header.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly/plotly.min.js"


def plotly_package_data() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


class PackageAssetFinder(BaseFinder):
    """Finds the few package-provided assets listed in ``ASSETS`` (static path → file in a package)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        root = plotly_package_data()
        self.assets = {PLOTLY_JS: (root, "plotly.min.js")}
        self.storage = FileSystemStorage(location=str(root))
        self.storage.prefix = "vendor/plotly"  # type: ignore[attr-defined]  # read by collectstatic

    def check(self, **kwargs: Any) -> list[Any]:
        from django.core.checks import Error

        root, name = self.assets[PLOTLY_JS]
        if not (root / name).is_file():
            return [
                Error(
                    f"plotly.min.js is missing from the installed plotly package ({root}).", id="guanxi.W001"
                )
            ]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        found = self.assets.get(path.replace(os.sep, "/"))
        if found is None:
            return [] if find_all else None
        full = str(found[0] / found[1])
        return [full] if find_all else full

    def list(self, ignore_patterns: Any) -> Any:
        for _path, (_root, name) in self.assets.items():
            yield name, self.storage

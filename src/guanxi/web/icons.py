"""Memoised heroicons: the package parses, deep-copies and re-serialises the SVG on every
``{% heroicon_* %}`` tag, ~0.1 ms each, and the shell plus a list page render 30–80 of them. The
output depends only on the arguments, so it is computed once per (style, name, size, attributes)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import heroicons

_installed = False


def install() -> None:
    """Wrap ``heroicons._render_icon`` (which the template tags call through the module) in a cache."""
    global _installed
    if _installed:
        return
    original: Callable[[str, str, int | None, dict[str, object]], str] = heroicons._render_icon

    @lru_cache(maxsize=512)
    def cached(style: str, name: str, size: int | None, attrs: tuple[tuple[str, str], ...]) -> str:
        return original(style, name, size, dict(attrs))

    def render_icon(style: str, name: str, size: int | None, attrs: dict[str, object]) -> str:
        try:
            key = tuple(sorted((k, str(v)) for k, v in attrs.items()))
        except TypeError:  # pragma: no cover - attribute values are strings and numbers in templates
            return original(style, name, size, attrs)
        return cached(style, name, size, key)

    heroicons._render_icon = render_icon
    _installed = True

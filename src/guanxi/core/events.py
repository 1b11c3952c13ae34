"""In-process domain events, delivered after the surrounding transaction commits.

A lower app never imports a higher one: it emits ``customer.created`` and whoever cares subscribes.
Handlers run after commit so that they never see (or act on) a write that was rolled back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)
Handler = Callable[[str, dict[str, Any]], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    """Register ``handler`` for event ``name`` (``*`` for every event)."""
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers[name]:
        _handlers[name].remove(handler)


def _dispatch(name: str, payload: dict[str, Any]) -> None:
    for handler in [*_handlers.get(name, []), *_handlers.get("*", [])]:
        try:
            handler(name, payload)
        except Exception:  # one broken subscriber must not break the write that already committed
            log.exception("event handler %r failed for %s", handler, name)


def emit(name: str, **payload: Any) -> None:
    transaction.on_commit(lambda: _dispatch(name, payload))


def emit_many(name: str, payloads: list[dict[str, Any]]) -> None:
    """Many events of one kind with a single after-commit hook (a chunk of an import), and no work
    at all while nobody subscribes to ``name``."""
    if not payloads or not (_handlers.get(name) or _handlers.get("*")):
        return

    def dispatch_all() -> None:
        for payload in payloads:
            _dispatch(name, payload)

    transaction.on_commit(dispatch_all)

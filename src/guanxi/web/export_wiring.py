"""What the web app lends the customers app for exports, registered in ``WebConfig.ready``.

Saved views are a web model and notifications an engagement one; customers (a lower app) reaches
neither directly: it asks through a registered lookup, and announces a finished export as an event.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.web.models import SavedView


def saved_view_query(actor: Actor, ref: str) -> str | None:
    """The query string of a saved view the actor may use (their own or a shared one), by id or name."""
    views = SavedView.objects.filter(organization_id=actor.org_id).filter(
        Q(user_id=actor.user.pk) | Q(shared=True)
    )
    view = views.filter(pk=int(ref)).first() if ref.isdigit() else None
    if view is None:
        # Their own view first when a shared one has the same name.
        view = views.filter(name=ref).order_by("-user_id").filter(user_id=actor.user.pk).first() or (
            views.filter(name=ref).first()
        )
    return view.query if view is not None else None


def notify_export_ready(name: str, payload: dict[str, Any]) -> None:
    """Tell the user in the app that their large export can be downloaded."""
    from guanxi.engagement.services import notify

    with translation.override(payload.get("language") or None):
        notify(
            org_id=payload["org_id"],
            user_id=payload["user_id"],
            kind="export_ready",
            title=_("Your export of %(n)s customers is ready") % {"n": payload.get("rows", 0)},
            body=payload.get("filename", ""),
            link=f"/jobs/{payload['job_id']}/",
            key=f"export_ready:{payload['job_id']}",
        )

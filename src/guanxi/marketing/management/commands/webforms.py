from __future__ import annotations

from typing import Any

from django.conf import settings

from guanxi.core.management.base import GuanxiCommand
from guanxi.marketing.webforms import submission_counts_of_org, webforms_of_org


class Command(GuanxiCommand):
    help = "Web forms: list an organisation's forms with their public address and submission counts."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="the organisation's web forms")
        listing.add_argument("--org", required=True)
        listing.add_argument(
            "--base-url",
            default=getattr(settings, "GUANXI_BASE_URL", "") or "",
            help="e.g. https://crm.acme.cn",
        )
        self.add_json_flag(listing)

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        forms = webforms_of_org(org_id=org.pk)
        counts = submission_counts_of_org(org_id=org.pk)
        base = options["base_url"].rstrip("/")
        items: list[dict[str, Any]] = [
            {
                "id": f.pk,
                "name": f.name,
                "active": f.is_active,
                "assignment": f.assignment,
                "url": f"{base}/f/{f.token}/",
                "submissions": counts.get(f.pk, {}),
            }
            for f in forms
        ]
        lines = [
            f"{i['id']:>5}  {'active  ' if i['active'] else 'inactive'}  {i['name']}  {i['url']}  "
            + " ".join(f"{k}={v}" for k, v in sorted(i["submissions"].items()))
            for i in items
        ]
        self.emit(options, {"items": items}, "\n".join(lines) or f"{org.name} has no web forms")

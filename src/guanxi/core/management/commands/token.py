from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Membership
from guanxi.core.services import api_token_create


class Command(GuanxiCommand):
    help = "Manage API tokens: guanxi token create USERNAME --org NAME [--scopes read write admin]"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a bearer token and print it once")
        create.add_argument("username")
        create.add_argument("--org", required=True)
        create.add_argument("--scopes", nargs="+", default=["read", "write"], help="read, write, admin")
        create.add_argument("--name", default="")
        create.add_argument("--days", type=int, default=None, help="expire after this many days")
        self.add_json_flag(create)

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        membership = (
            Membership.objects.select_related("user")
            .filter(organization=org, user__username=options["username"], is_active=True)
            .first()
        )
        if membership is None:
            raise CommandError(f"{options['username']!r} is not an active member of {org.name!r}")
        try:
            token, raw = api_token_create(
                membership=membership, scopes=options["scopes"], name=options["name"], days=options["days"]
            )
        except DomainError as exc:
            raise self.fail(exc) from None
        data = {
            "token": raw,
            "id": token.pk,
            "username": membership.user.username,
            "organization": org.name,
            "scopes": token.scopes,
            "expires_at": token.expires_at,
        }
        self.emit(options, data, raw)

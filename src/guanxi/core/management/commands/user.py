from __future__ import annotations

from typing import Any

from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.roles import Role
from guanxi.core.services import membership_upsert


class Command(GuanxiCommand):
    help = "Manage users: guanxi user create USERNAME --org NAME --role ROLE [--team TEAM] [--password P]"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a user and their membership, or update role/team")
        create.add_argument("username")
        create.add_argument("--org", required=True)
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--team")
        create.add_argument("--password", help="at least 8 characters; without it the user cannot sign in")
        create.add_argument("--email", default="")
        create.add_argument("--name", default="", help="display name")
        self.add_json_flag(create)

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        try:
            membership, created = membership_upsert(
                org=org,
                username=options["username"],
                role=options["role"],
                team=options["team"],
                password=options["password"],
                email=options["email"],
                display_name=options["name"],
            )
        except DomainError as exc:
            raise self.fail(exc) from None
        team = membership.team.name if membership.team else None
        data = {
            "username": membership.user.username,
            "organization": org.name,
            "role": membership.role,
            "team": team,
            "created": created,
        }
        verb = "created" if created else "updated"
        self.emit(
            options,
            data,
            f"user {membership.user.username!r} {verb} in {org.name!r} as {membership.role}"
            + (f" (team {team})" if team else ""),
        )

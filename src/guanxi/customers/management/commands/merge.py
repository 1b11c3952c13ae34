"""``guanxi merge A B --org NAME --as USER`` merges customer B into A; ``guanxi merge undo ID`` undoes it.

Also ``guanxi merge A B --dry-run`` (what would win and move) and ``guanxi merge list``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from guanxi.core.context import Actor
from guanxi.core.errors import DomainError
from guanxi.core.management.base import GuanxiCommand
from guanxi.core.models import Membership, Organization
from guanxi.customers.merge import customer_merge, merge_undo
from guanxi.customers.merge_selectors import merge_list, merge_preview, merge_to_dict


class Command(GuanxiCommand):
    help = (
        "Merge duplicate customers: `merge A B` keeps A and merges B into it; `merge undo MERGE_ID`; "
        "`merge list`. Fields take the defaults (non-empty wins, then the newer record) unless "
        "--choose FIELD=survivor|merged|union|both."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("target", nargs="+", help="A B (survivor, merged) | undo MERGE_ID | list")
        parser.add_argument("--org", required=True)
        parser.add_argument(
            "--as", dest="as_user", required=True, help="username of the admin or manager acting"
        )
        parser.add_argument(
            "--choose",
            action="append",
            default=[],
            metavar="FIELD=CHOICE",
            help="override a default, e.g. --choose name=merged --choose phones=survivor (repeatable)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would win and move; change nothing"
        )
        parser.add_argument("--limit", type=int, default=50, help="merge list: how many")
        self.add_json_flag(parser)

    def _actor(self, org: Organization, username: str) -> Actor:
        membership = (
            Membership.objects.select_related("user", "organization", "team")
            .filter(organization=org, user__username=username, is_active=True)
            .first()
        )
        if membership is None:
            raise CommandError(f"{username!r} is not an active member of {org.name!r}")
        return Actor(membership=membership, via="cli")

    def handle(self, *args: Any, **options: Any) -> None:
        org = self.get_org(options["org"])
        actor = self._actor(org, options["as_user"])
        target = options["target"]
        try:
            if target[0] == "undo":
                self._undo(actor, self._ids(target[1:], 1, "undo MERGE_ID")[0], options)
            elif target[0] == "list":
                self._list(actor, options)
            else:
                survivor_id, merged_id = self._ids(target, 2, "A B")
                self._merge(actor, survivor_id, merged_id, options)
        except DomainError as exc:
            raise self.fail(exc) from None

    def _ids(self, values: list[str], count: int, usage: str) -> list[int]:
        if len(values) != count or not all(v.isdigit() for v in values):
            raise CommandError(f"expected {usage} (numbers), got: {' '.join(values) or 'nothing'}")
        return [int(v) for v in values]

    def _choices(self, options: dict[str, Any]) -> dict[str, str]:
        choices = {}
        for item in options["choose"]:
            key, sep, value = item.partition("=")
            if not sep or not key or not value:
                raise CommandError(f"--choose {item!r}: write FIELD=CHOICE, e.g. name=merged")
            choices[key.strip()] = value.strip()
        return choices

    def _merge(self, actor: Actor, survivor_id: int, merged_id: int, options: dict[str, Any]) -> None:
        preview = merge_preview(actor=actor, survivor_id=survivor_id, merged_id=merged_id)
        choices = {**preview.defaults, **self._choices(options)}
        moves = {r.label: n for r, n in preview.moves}
        if options["dry_run"]:
            rows = [
                {
                    "field": f.key,
                    "survivor": f.survivor,
                    "merged": f.merged,
                    "wins": choices.get(f.key, f.default),
                }
                for f in preview.fields
                if not f.identical
            ]
            lines = [f"{r['field']}: {r['survivor']!r} | {r['merged']!r} -> {r['wins']}" for r in rows]
            lines += [f"moves {n} {r.name(n)}" for r, n in preview.moves]
            self.emit(
                options,
                {"survivor_id": survivor_id, "merged_id": merged_id, "fields": rows, "moves": moves},
                "\n".join(lines) or "nothing differs and nothing moves",
            )
            return
        record = customer_merge(
            actor=actor,
            survivor_id=survivor_id,
            merged_id=merged_id,
            choices=self._choices(options),
            expected_versions={
                preview.survivor.pk: preview.survivor.version,
                preview.merged.pk: preview.merged.version,
            },
        )
        moved = {k: len(v) for k, v in record.moved.items() if not k.startswith("_")}
        data = {"merge_id": record.pk, "survivor_id": survivor_id, "merged_id": merged_id, "moved": moved}
        summary = ", ".join(f"{n} {label}" for label, n in moved.items()) or "no rows"
        self.emit(
            options,
            data,
            f"merged {merged_id} into {survivor_id} (merge {record.pk}; moved {summary}); undo with: "
            f"guanxi merge undo {record.pk} --org {actor.org.name!r} --as {actor.user.get_username()}",
        )

    def _undo(self, actor: Actor, merge_id: int, options: dict[str, Any]) -> None:
        result = merge_undo(actor=actor, merge_id=merge_id)
        data = {
            "merge_id": merge_id,
            "survivor_id": result.merge.survivor_id,
            "merged_id": result.merge.merged_id,
            "kept": result.kept,
            "moved_back": result.moved_back,
            "missing": result.missing,
            "not_restored": result.not_restored,
        }
        text = f"undid merge {merge_id}: customer {result.merge.merged_id} is back"
        if result.kept:
            text += f"; kept the survivor's later edits of: {', '.join(result.kept)}"
        self.emit(options, data, text)

    def _list(self, actor: Actor, options: dict[str, Any]) -> None:
        rows = [merge_to_dict(m) for m in merge_list(actor=actor, limit=max(1, min(options["limit"], 500)))]
        lines = [
            f"{m['id']}\t{m['merged_id']} {m['merged_name']} -> {m['survivor_id']} {m['survivor_name']}"
            f"\t{m['merged_at']}\t{'undone' if m['undone_at'] else ''}"
            for m in rows
        ]
        self.emit(options, {"items": rows}, "\n".join(lines) or "no merges")

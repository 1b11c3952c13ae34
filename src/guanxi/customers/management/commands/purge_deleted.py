from __future__ import annotations

from typing import Any

from django.conf import settings

from guanxi.core.management.base import GuanxiCommand
from guanxi.customers.services import customers_purge_expired


class Command(GuanxiCommand):
    help = "Delete for good the customers that have been in the recycle bin longer than the retention period."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=settings.GUANXI_RECYCLE_BIN_DAYS)
        self.add_json_flag(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        count = customers_purge_expired(days=options["days"])
        text = f"purged {count} customer(s) deleted more than {options['days']} days ago"
        self.emit(options, {"purged": count}, text)

"""Periodic jobs of the customers app."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from guanxi.core.schedule import periodic
from guanxi.customers.pool_reclaim import pool_reclaim_due
from guanxi.customers.services import customers_purge_expired


@periodic("purge_recycle_bin", minute="30", hour="3", description="Purge customers deleted over 30 days ago")
def purge_recycle_bin(now: dt.datetime) -> str:
    count = customers_purge_expired(days=settings.GUANXI_RECYCLE_BIN_DAYS, now=now)
    return f"purged {count}"


@periodic(
    "pool_reclaim",
    minute="15",
    hour="*",
    description="Return overdue customers to the public pool; warn their owners before",
)
def pool_reclaim(now: dt.datetime) -> str:
    report = pool_reclaim_due(now=now)
    return f"reclaimed {len(report['reclaimed'])}, warned {len(report['warned'])}"

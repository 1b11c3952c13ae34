"""Febrl record-linkage data mapped into customers the way an import would map the columns.

given_name + surname → name; street_number address_1, address_2 → address; suburb → city;
state → province; date_of_birth → birthday (when it is a real date); postcode and soc_sec_id →
custom text fields ``postcode`` and ``id_number`` (Customer has no postcode column, and a national
ID number is what a CRM keeps in a custom field; not ``external_id``, which must be unique per
organisation and would refuse the very duplicates we look for). The truth: ``rec-12-org`` and
``rec-12-dup-3`` are the same person.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

DATASETS = {
    "dataset1": ("dataset1.csv",),
    "dataset2": ("dataset2.csv",),
    "dataset3": ("dataset3.csv",),
    "dataset4": ("dataset4a.csv", "dataset4b.csv"),
}


def _birthday(value: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date() if len(value) == 8 else None
    except ValueError:
        return None


def febrl_records(directory: Path, dataset: str) -> Iterator[dict[str, Any]]:
    """Customer input dicts (plus ``rec_id``) for one dataset; dataset4 is 4a and 4b together."""
    for filename in DATASETS[dataset]:
        with (directory / filename).open(encoding="utf-8") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            header = [h.strip() for h in next(reader)]
            for raw in reader:
                row = dict(zip(header, (v.strip() for v in raw), strict=True))
                street = " ".join(filter(None, [row["street_number"], row["address_1"]]))
                custom = {
                    k: v for k, v in (("postcode", row["postcode"]), ("id_number", row["soc_sec_id"])) if v
                }
                yield {
                    "rec_id": row["rec_id"],
                    "name": " ".join(filter(None, [row["given_name"], row["surname"]])),
                    "address": ", ".join(filter(None, [street, row["address_2"]])),
                    "city": row["suburb"],
                    "province": row["state"],
                    "birthday": _birthday(row["date_of_birth"]),
                    "custom": custom,
                }


def true_pairs(rec_ids: list[str]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of records of the same person."""
    people: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(rec_ids):
        people[rec.split("-")[1]].append(i)
    return {(x, y) for members in people.values() for x, y in combinations(sorted(members), 2)}

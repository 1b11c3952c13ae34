"""Raw bulk writes of customer rows and their side tables, shared by imports and the bench loader.

Django's ``bulk_create`` costs ~100 µs a row; these writers take prepared tuples straight to the
driver: ``executemany`` on SQLite's own cursor, ``COPY … FROM STDIN`` on PostgreSQL (DESIGN.md's
measured pitfalls). Callers own the transaction, the validation and the audit: a writer only writes.

``CUSTOMER_COLUMNS`` is the column order of :meth:`BulkWriter.customers` tuples.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

TABLES = [
    "customers_customer",
    "customers_searchgram",
    "customers_customeridentifier",
    "customers_customertag",
]

CUSTOMER_COLUMNS = [
    "id", "organization_id", "kind", "name", "company", "title", "gender", "phone", "phone_e164",
    "email", "phones", "emails", "wechat", "province", "city", "district", "address", "birthday",
    "birthday_is_lunar", "industry", "size", "source", "notes", "custom", "external_id",
    "lifecycle_stage", "value_tier", "grade", "in_public_pool", "version", "created_at", "updated_at",
    "search_text", "created_by_id", "owner_id", "team_id",
]  # fmt: skip


class BulkWriter:
    """Vendor-specific writes of one block of rows."""

    vendor = ""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def reserve_ids(self, n: int) -> int:
        raise NotImplementedError

    def customers(self, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def grams(self, rows: list[tuple[int, str, int]]) -> None:
        raise NotImplementedError

    def identifiers(self, rows: list[tuple[int, int, str, str]]) -> None:
        raise NotImplementedError

    def tags(self, rows: list[tuple[int, int]]) -> None:
        raise NotImplementedError

    @contextmanager
    def without_indexes(self, enabled: bool) -> Iterator[None]:
        yield

    def analyze(self) -> None:
        pass


class SQLiteBulkWriter(BulkWriter):
    vendor = "sqlite"

    def __init__(self, raw: Any, *, big_cache: bool = True) -> None:
        super().__init__(raw)
        self.cur = raw.cursor()
        if big_cache:  # one-off bulk loads: a 1 GB page cache for this connection only
            self.cur.execute("PRAGMA cache_size=-1000000")
        marks = ",".join("?" * len(CUSTOMER_COLUMNS))
        self.sql_customer = f"INSERT INTO customers_customer ({','.join(CUSTOMER_COLUMNS)}) VALUES ({marks})"

    def reserve_ids(self, n: int) -> int:
        # The write lock is held (BEGIN IMMEDIATE), so nobody else can take these ids.
        max_id = self.cur.execute("SELECT COALESCE(MAX(id), 0) FROM customers_customer").fetchone()[0]
        seq = self.cur.execute("SELECT seq FROM sqlite_sequence WHERE name='customers_customer'").fetchone()
        return int(max(max_id, seq[0] if seq else 0)) + 1

    def customers(self, rows: list[tuple[Any, ...]]) -> None:
        self.cur.executemany(self.sql_customer, rows)

    def grams(self, rows: list[tuple[int, str, int]]) -> None:
        self.cur.executemany(
            "INSERT INTO customers_searchgram (organization_id, gram, customer_id) VALUES (?,?,?)", rows
        )

    def identifiers(self, rows: list[tuple[int, int, str, str]]) -> None:
        self.cur.executemany(
            "INSERT INTO customers_customeridentifier (organization_id, customer_id, kind, value) "
            "VALUES (?,?,?,?)",
            rows,
        )

    def tags(self, rows: list[tuple[int, int]]) -> None:
        self.cur.executemany("INSERT INTO customers_customertag (customer_id, tag_id) VALUES (?,?)", rows)

    @contextmanager
    def without_indexes(self, enabled: bool) -> Iterator[None]:
        if not enabled:
            yield
            return
        marks = ",".join("?" * len(TABLES))
        indexes = self.cur.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            TABLES,
        ).fetchall()
        for name, _sql in indexes:
            self.cur.execute(f'DROP INDEX "{name}"')
        yield
        for _name, sql in indexes:
            self.cur.execute(sql)

    def analyze(self) -> None:
        for table in TABLES:
            self.cur.execute(f"ANALYZE {table}")


class PostgresBulkWriter(BulkWriter):
    vendor = "postgresql"

    def __init__(self, raw: Any) -> None:
        super().__init__(raw)
        self.cur = raw.cursor()
        self.cur.execute("SET LOCAL synchronous_commit = off")
        self.cur.execute("SET LOCAL maintenance_work_mem = '1GB'")

    def reserve_ids(self, n: int) -> int:
        self.cur.execute("LOCK TABLE customers_customer IN SHARE ROW EXCLUSIVE MODE")
        self.cur.execute("SELECT pg_get_serial_sequence('customers_customer', 'id')")
        seq = self.cur.fetchone()[0]
        self.cur.execute(
            "SELECT GREATEST(COALESCE((SELECT MAX(id) FROM customers_customer), 0), "
            f"(SELECT last_value FROM {seq}))"
        )
        start = int(self.cur.fetchone()[0]) + 1
        self.cur.execute("SELECT setval(%s, %s)", [seq, start + n - 1])
        return start

    def _copy(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        with self.cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def customers(self, rows: list[tuple[Any, ...]]) -> None:
        self._copy("customers_customer", CUSTOMER_COLUMNS, rows)

    def grams(self, rows: list[tuple[int, str, int]]) -> None:
        self._copy("customers_searchgram", ["organization_id", "gram", "customer_id"], rows)

    def identifiers(self, rows: list[tuple[int, int, str, str]]) -> None:
        self._copy("customers_customeridentifier", ["organization_id", "customer_id", "kind", "value"], rows)

    def tags(self, rows: list[tuple[int, int]]) -> None:
        self._copy("customers_customertag", ["customer_id", "tag_id"], rows)

    @contextmanager
    def without_indexes(self, enabled: bool) -> Iterator[None]:
        if not enabled:
            yield
            return
        # Deferred checks queued earlier in this transaction (new tags) block ALTER TABLE: run them now.
        self.cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        tables = ",".join(f"'{t}'::regclass" for t in TABLES)
        # Foreign keys: each COPYed row would queue a deferred check; one validation at the end is cheaper.
        self.cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE contype = 'f' AND conrelid IN ({tables})"
        )
        fkeys = self.cur.fetchall()
        self.cur.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            f"WHERE indrelid IN ({tables}) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        )
        indexes = self.cur.fetchall()
        for table, name, _definition in fkeys:
            self.cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            self.cur.execute(f"DROP INDEX {name}")
        yield
        for _name, definition in indexes:
            self.cur.execute(definition)
        for table, name, definition in fkeys:
            self.cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self.cur.execute("SET CONSTRAINTS ALL DEFERRED")

    def analyze(self) -> None:
        for table in TABLES:
            self.cur.execute(f"ANALYZE {table}")


def bulk_writer(*, big_cache: bool = True) -> BulkWriter:
    """The writer for the default connection. ``big_cache=False`` keeps SQLite's page cache at the
    connection's setting: an import must not grow its memory with the size of the database."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return SQLiteBulkWriter(connection.connection, big_cache=big_cache)
    if connection.vendor == "postgresql":
        return PostgresBulkWriter(connection.connection)
    raise RuntimeError(f"bulk loading is not supported on {connection.vendor}")

"""Writes and look-ups of many rows at once, for imports of whole rolls (a million members).

The ORM builds one object per row and one placeholder per value; at that size this costs more than
checking and encrypting the rows. These helpers work on plain columns instead: primary keys are
allocated up front, rows go to PostgreSQL with ``COPY … FORMAT csv`` written by Arrow's C++ CSV
writer (batched ``executemany`` on SQLite), and look-ups by a long list of values pass the list as
one array parameter. All of them run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL

Columns = dict[str, Any]  # column name → a list with one value per row, or one value for every row
SQLITE_BATCH = 2000
_SQLITE_IN = 900  # under SQLite's limit on parameters in one statement
_SEPARATOR = ","  # joins the values of a long list into one text parameter (see ``where_in``)


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """``count`` primary keys for rows about to be inserted (the sequence on PostgreSQL; on SQLite the
    next ids after the largest, safe because the import's transaction holds SQLite's write lock)."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]  # looked up once: per row it costs more than nextval
            taken = "SELECT nextval(%s::regclass) AS id FROM generate_series(1, %s)"
            # Usually one unbroken run (only a concurrent insert interleaves): then two numbers say it.
            cursor.execute(
                "SELECT min(id), max(id), CASE WHEN max(id) - min(id) + 1 = count(*) THEN NULL"  # noqa: S608
                f" ELSE array_agg(id ORDER BY id) END FROM ({taken}) AS t",
                [sequence, count],
            )
            first, last, scattered = cursor.fetchone()
            return list(scattered) if scattered is not None else list(range(first, last + 1))
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - the model's own table
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def insert(model: type[Model], batches: Iterable[Columns]) -> int:
    """Insert the rows of each batch (the same columns in every batch; at least one column a list)
    into the model's table; returns how many. Batches are produced while earlier ones are written,
    so a generator that encrypts batch *n + 1* overlaps PostgreSQL storing batch *n*."""
    table = model._meta.db_table
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        return 0
    batches = itertools.chain([first], iterator)
    names = ", ".join(first)
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            import pyarrow.csv as pa_csv
            from psycopg.copy import QueuedLibpqWriter

            options = pa_csv.WriteOptions(include_header=False)
            sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)"
            # A writer thread sends each batch while this one prepares the next. Arrow quotes every
            # string ("" is an empty string) and leaves nulls bare, as COPY reads them.
            raw = cursor.cursor
            with raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
                for batch in batches:
                    buffer = io.BytesIO()
                    pa_csv.write_csv(_arrow_table(batch), buffer, options)
                    copy.write(buffer.getvalue())
                    total += _size(batch)
            return total
        marks = ", ".join(["%s"] * len(first))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - the model's own table
        for batch in batches:
            size = _size(batch)
            columns = [
                [_sqlite_value(item) for item in value]
                if isinstance(value, list)
                else itertools.repeat(_sqlite_value(value), size)
                for value in batch.values()
            ]
            rows = list(zip(*columns, strict=True))
            for start in range(0, size, SQLITE_BATCH):
                cursor.executemany(sql, rows[start : start + SQLITE_BATCH])
            total += size
    return total


def _size(batch: Columns) -> int:
    return next(len(value) for value in batch.values() if isinstance(value, list))


def _arrow_table(batch: Columns) -> Any:
    """The batch as an Arrow table; a timestamp given once goes as ISO text, which PostgreSQL parses
    (Arrow's CSV writer formats timestamps twenty times slower than it writes text)."""
    import pyarrow as pa

    size = _size(batch)
    columns = {}
    for name, value in batch.items():
        if isinstance(value, list):
            columns[name] = pa.array(value)
        elif value is None:
            columns[name] = pa.nulls(size)
        else:
            columns[name] = pa.repeat(value.isoformat() if isinstance(value, dt.datetime) else value, size)
    return pa.table(columns)


def _sqlite_value(value: Any) -> Any:
    """A value as Django's SQLite backend stores it: aware datetimes as UTC text, dates as ISO text
    (not through ``sqlite3``'s default adapters, deprecated since Python 3.12)."""
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def where_in(
    queryset: QuerySet[Any], field: str, values: Sequence[Any], *, sql_type: str = "text"
) -> Iterator[QuerySet[Any]]:
    """The queryset narrowed to rows whose ``field`` (of PostgreSQL type ``sql_type``) is one of
    ``values``: one query on PostgreSQL, the list passed as a single array parameter; several of at
    most 900 values each on SQLite."""
    if connection.vendor == "postgresql":
        if values:
            texts = [str(value) for value in values]
            if "" in texts or any(_SEPARATOR in text for text in texts):  # string_to_array('') is {}
                array = RawSQL(f"SELECT unnest(%s::{sql_type}[])", [texts])  # noqa: S611 - no user SQL
            else:  # one text parameter: psycopg adapts a long list slowly, value by value
                array = RawSQL(  # noqa: S611 - no user SQL
                    f"SELECT unnest(string_to_array(%s, '{_SEPARATOR}')::{sql_type}[])",
                    [_SEPARATOR.join(texts)],
                )
            yield queryset.filter(**{f"{field}__in": array})
        return
    for start in range(0, len(values), _SQLITE_IN):
        yield queryset.filter(**{f"{field}__in": values[start : start + _SQLITE_IN]})


def unused_values(model: type[Model], field: str, count: int, make: Callable[[int], list[str]]) -> list[str]:
    """``count`` distinct values that no row of the model holds in ``field`` yet; ``make(n)`` gives
    ``n`` candidates (random numbers). One query per round."""
    found: set[str] = set()
    while len(found) < count:
        batch = set(make(count - len(found))) - found
        taken: set[str] = set()
        for part in where_in(model._default_manager.order_by(), field, list(batch)):
            taken.update(part.values_list(field, flat=True))
        found |= batch - taken
    return list(found)

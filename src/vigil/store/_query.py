"""Query helpers shared by the store's methods: upserts, inserted ids, newest-first pages.

Used by :class:`vigil.store.SqlStore` and :mod:`vigil.store._audit`. The upsert is the one
statement that differs by dialect (``INSERT ... ON CONFLICT DO UPDATE`` exists in both SQLite
and PostgreSQL, but SQLAlchemy builds it per dialect); everything else is portable Core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, RowMapping

from vigil.errors import InputError, StoreError
from vigil.store._protocol import Page

T = TypeVar("T")

SQL_INT_MAX = 2**63 - 1
"""The largest integer SQLite (and PostgreSQL's BIGINT) can bind: a larger Python int is an
OverflowError in the driver, so offsets and ids are checked against it first."""


def an_id(value: int) -> sa.BindParameter[int]:
    """``value`` bound as a 64-bit integer, for comparing with an id column. A database not yet
    at revision 0004 has ``INTEGER`` ids (32-bit on PostgreSQL), and a bound value takes its
    column's type there: an id of 2**31 or more was "integer out of range" (a 500) instead of
    not found."""
    return sa.literal(int(value), sa.BigInteger)


def upsert(conn: Connection, table: sa.Table, values: dict[str, Any], key: str) -> None:
    """Insert ``values`` into ``table``, or update the row whose ``key`` column matches."""
    changes = {name: value for name, value in values.items() if name != key}
    dialect = conn.dialect.name
    if dialect == "sqlite":
        lite = sqlite.insert(table).values(**values)
        conn.execute(lite.on_conflict_do_update(index_elements=[key], set_=changes))
    elif dialect == "postgresql":
        pg = postgresql.insert(table).values(**values)
        conn.execute(pg.on_conflict_do_update(index_elements=[key], set_=changes))
    else:  # pragma: no cover - parse_url admits only the two dialects above
        raise StoreError(f"upsert is not implemented for {dialect}")


def insert(conn: Connection, table: sa.Table, values: dict[str, Any]) -> int:
    """Insert one row and return its integer primary key."""
    result: CursorResult[Any] = conn.execute(sa.insert(table).values(**values))
    key = result.inserted_primary_key
    if key is None or key[0] is None:  # pragma: no cover - every table has an integer key
        raise StoreError(f"the database returned no id for the new {table.name} row")
    return int(key[0])


def page(
    conn: Connection,
    table: sa.Table,
    where: Sequence[sa.ColumnElement[bool]],
    offset: int,
    limit: int,
    convert: Callable[[RowMapping], T],
) -> Page[T]:
    """One page of ``table``, newest (highest id) first, with the total count of matches."""
    if offset < 0 or limit < 0:
        raise InputError(f"offset and limit must be >= 0, got {offset} and {limit}")
    if offset > SQL_INT_MAX or limit > SQL_INT_MAX:
        raise InputError(
            f"offset and limit must be <= {SQL_INT_MAX} (a 64-bit integer), got {offset} and "
            f"{limit}"
        )
    items_stmt = (
        sa.select(table).where(*where).order_by(table.c.id.desc()).offset(offset).limit(limit)
    )
    count_stmt = sa.select(sa.func.count()).select_from(table).where(*where)
    total = int(conn.execute(count_stmt).scalar_one())
    items = [convert(row) for row in conn.execute(items_stmt).mappings().all()]
    return Page(items=items, total=total, offset=offset, limit=limit)

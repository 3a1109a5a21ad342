"""Alembic environment of the Vigil store, loaded by Alembic when :mod:`vigil.store._migrate` runs.

The caller passes an open connection in ``config.attributes["connection"]`` (inside its own
transaction); ``sqlalchemy.url`` is honoured as a fallback for running ``alembic`` by hand.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from vigil.errors import StoreError


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise StoreError("pass a connection in config.attributes or set sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()

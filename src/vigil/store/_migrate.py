"""Schema migrations: run the Alembic revisions shipped in ``vigil/store/migrations``.

Called by :class:`vigil.store.SqlStore` on open (``migrate=True``) and by the CLI through
:func:`migrate` and :func:`schema_revision`.
No ``alembic.ini`` is needed: the configuration is built in code and the open connection is
handed to ``migrations/env.py`` through ``config.attributes["connection"]``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Connection

from vigil.errors import StoreError
from vigil.store._engine import Connector, parse_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATE_LOCK = 0x7669_6769_6C6D_6967  # b"vigilmig": the advisory lock key of a migration


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def known_revisions() -> set[str]:
    """Every revision this version of Vigil ships."""
    script = ScriptDirectory.from_config(_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def check_known(conn: Connection) -> str | None:
    """Return the database's revision; refuse one written by a newer Vigil."""
    revision = current_revision(conn)
    if revision is not None and revision not in known_revisions():
        raise StoreError(f"database schema {revision} is newer than this Vigil; upgrade Vigil")
    return revision


def upgrade(connector: Connector) -> None:
    """Bring the database behind ``connector`` to the head revision (a no-op when it is there).

    Runs in one write transaction, so two processes opening a new database at once do not both
    create the tables: the second waits, then finds the schema at head. On SQLite the write
    transaction (``BEGIN IMMEDIATE``) serializes them; on PostgreSQL a transaction-level advisory
    lock does (a plain transaction did not: both created the tables, and the second failed on
    ``duplicate key value violates unique constraint "pg_type_typname_nsp_index"``).
    """
    with connector.write("migrating the database schema") as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATE_LOCK)))
        if check_known(conn) == head_revision():
            return
        config = _config()
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        except CommandError as err:
            raise StoreError(f"migrating {connector.url!r} failed: {err}") from err


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the schema this Vigil expects."""
    connector = Connector(parse_url(url))
    try:
        upgrade(connector)
    finally:
        connector.dispose()


def schema_revision(url: str) -> str | None:
    """The Alembic revision of the database at ``url``; ``None`` when it was never migrated."""
    connector = Connector(parse_url(url))
    try:
        with connector.read("reading the schema revision") as conn:
            return current_revision(conn)
    finally:
        connector.dispose()

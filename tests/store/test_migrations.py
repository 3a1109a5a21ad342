"""Schema migrations: run on open, idempotent, matching the metadata, refusing newer schemas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from vigil.errors import StoreError
from vigil.store import SqlStore, migrate, schema_revision
from vigil.store._migrate import head_revision
from vigil.store._schema import metadata


def db_path(file_url: str) -> Path:
    return Path(file_url.removeprefix("sqlite:///"))


def test_a_new_database_has_no_revision_until_migrated(file_url: str) -> None:
    assert schema_revision(file_url) is None
    migrate(file_url)
    assert schema_revision(file_url) == head_revision() == "0003"


def test_migrating_twice_is_a_no_op(file_url: str) -> None:
    migrate(file_url)
    store = SqlStore(file_url)
    store.set_meta("kept", "yes")
    store.close()
    migrate(file_url)
    SqlStore(file_url, migrate=True).close()
    assert schema_revision(file_url) == "0003"
    store = SqlStore(file_url)
    try:
        assert store.get_meta("kept") == "yes"
    finally:
        store.close()


def test_the_migrated_schema_matches_the_metadata(file_url: str) -> None:
    migrate(file_url)
    engine = sa.create_engine(file_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_opening_without_migrate_leaves_the_schema_alone(file_url: str) -> None:
    SqlStore(file_url, migrate=False).close()
    assert schema_revision(file_url) is None


@pytest.mark.parametrize("migrate_on_open", [True, False])
def test_a_schema_newer_than_this_vigil_is_refused(file_url: str, migrate_on_open: bool) -> None:
    migrate(file_url)
    with sqlite3.connect(db_path(file_url)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999_future'")
    with pytest.raises(
        StoreError, match="database schema 0999_future is newer than this Vigil; upgrade Vigil"
    ):
        SqlStore(file_url, migrate=migrate_on_open)
    with pytest.raises(StoreError, match="newer than this Vigil"):
        migrate(file_url)


def test_migrate_refuses_an_unsupported_url() -> None:
    with pytest.raises(StoreError, match="unsupported database URL"):
        migrate("oracle://db")


def test_a_database_at_the_first_revision_upgrades_and_keeps_its_replicas(file_url: str) -> None:
    from alembic import command

    from vigil.store._migrate import _config

    engine = sa.create_engine(file_url)
    try:
        with engine.begin() as conn:
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            conn.execute(
                sa.text(
                    "INSERT INTO replicas (id, service, idx, node, port, state, restarts, live, "
                    "ready) VALUES ('llm/0', 'llm', 0, 'local', 9100, 'failed', 3, 'unknown', "
                    "'unknown')"
                )
            )
    finally:
        engine.dispose()
    assert schema_revision(file_url) == "0001"
    store = SqlStore(file_url)
    try:
        [replica] = store.list_replicas()
        assert (replica.id, replica.restarts, replica.held) == ("llm/0", 3, False)
        assert schema_revision(file_url) == "0003"
    finally:
        store.close()

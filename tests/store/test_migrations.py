"""Schema migrations: run on open, idempotent, matching the metadata, refusing newer schemas.

Each runs on a SQLite file and on a PostgreSQL database (``durable_url``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from vigil.errors import StoreError
from vigil.store import SqlStore, migrate, schema_revision
from vigil.store._engine import create_engine, parse_url
from vigil.store._migrate import head_revision
from vigil.store._schema import metadata

from .conftest import run_sql


def engine_of(url: str) -> sa.Engine:
    """An engine on ``url`` with the driver Vigil picks (psycopg for postgresql://)."""
    return create_engine(parse_url(url))


def test_a_new_database_has_no_revision_until_migrated(durable_url: str) -> None:
    assert schema_revision(durable_url) is None
    migrate(durable_url)
    assert schema_revision(durable_url) == head_revision() == "0006"


def test_migrating_twice_is_a_no_op(durable_url: str) -> None:
    migrate(durable_url)
    store = SqlStore(durable_url)
    store.set_meta("kept", "yes")
    store.close()
    migrate(durable_url)
    SqlStore(durable_url, migrate=True).close()
    assert schema_revision(durable_url) == "0006"
    store = SqlStore(durable_url)
    try:
        assert store.get_meta("kept") == "yes"
    finally:
        store.close()


def test_the_migrated_schema_matches_the_metadata(durable_url: str) -> None:
    migrate(durable_url)
    engine = engine_of(durable_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_opening_without_migrate_leaves_the_schema_alone(durable_url: str) -> None:
    SqlStore(durable_url, migrate=False).close()
    assert schema_revision(durable_url) is None


@pytest.mark.parametrize("migrate_on_open", [True, False])
def test_a_schema_newer_than_this_vigil_is_refused(durable_url: str, migrate_on_open: bool) -> None:
    migrate(durable_url)
    run_sql(durable_url, "UPDATE alembic_version SET version_num = '0999_future'")
    with pytest.raises(
        StoreError, match="database schema 0999_future is newer than this Vigil; upgrade Vigil"
    ):
        SqlStore(durable_url, migrate=migrate_on_open)
    with pytest.raises(StoreError, match="newer than this Vigil"):
        migrate(durable_url)


def test_migrate_refuses_an_unsupported_url() -> None:
    with pytest.raises(StoreError, match="unsupported database URL"):
        migrate("oracle://db")


def test_a_database_at_the_first_revision_upgrades_and_keeps_its_replicas(durable_url: str) -> None:
    from alembic import command

    from vigil.store._migrate import _config

    engine = engine_of(durable_url)
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
    assert schema_revision(durable_url) == "0001"
    store = SqlStore(durable_url)
    try:
        [replica] = store.list_replicas()
        assert (replica.id, replica.restarts, replica.held) == ("llm/0", 3, False)
        assert schema_revision(durable_url) == "0006"
    finally:
        store.close()


def test_ids_past_32_bits_are_stored_after_the_upgrade(durable_url: str) -> None:
    """Revision 0004: a database made at 0003 (32-bit ``INTEGER`` ids on PostgreSQL) keeps its
    rows, and ids past 2**31 are then written and read back (before it, PostgreSQL refused the
    insert as "integer out of range" and 'nextval: reached maximum value of sequence')."""
    from alembic import command

    from vigil.store._migrate import _config

    engine = engine_of(durable_url)
    try:
        with engine.begin() as conn:
            config = _config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
    finally:
        engine.dispose()
    store = SqlStore(durable_url)
    try:
        first = store.append_event(1.0, "test.kind", "llm/0", {"n": 1})
    finally:
        store.close()
    assert schema_revision(durable_url) == "0006"
    far = 2**31 + 7
    if durable_url.startswith("postgresql"):
        run_sql(durable_url, "SELECT setval('events_id_seq', :n)", n=far - 1)
    else:
        run_sql(durable_url, "UPDATE sqlite_sequence SET seq = :n WHERE name = 'events'", n=far - 1)
    store = SqlStore(durable_url)
    try:
        assert store.append_event(2.0, "test.kind", "llm/0", {"n": 2}) == far
        kept = [event.id for event in store.list_events(limit=10).items]
        assert sorted(kept) == [first, far]
    finally:
        store.close()

"""What only PostgreSQL has: its refusals named with their fix, on a real server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import _postgres
from _postgres import PgServer
from vigil.errors import StoreError
from vigil.store import SqlStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_missing_database_is_named_with_the_fix(pg_server: PgServer) -> None:
    with pytest.raises(StoreError, match=r'"no_such_db" does not exist: create it \(createdb'):
        SqlStore(pg_server.url("no_such_db"))


def test_an_unknown_user_is_named_with_the_fix(pg_server: PgServer) -> None:
    url = pg_server.url("postgres").replace("vigil@", "mallory@")
    with pytest.raises(StoreError, match=r'role "mallory" does not exist: check the user'):
        SqlStore(url)


def test_a_server_that_is_not_there_is_named_with_the_fix() -> None:
    url = f"postgresql://vigil@127.0.0.1:{_free_port()}/vigil"
    with pytest.raises(StoreError, match="Connection refused: is PostgreSQL running there"):
        SqlStore(url)


def test_a_refused_write_names_the_fix(pg_server: PgServer, pg_url: str) -> None:
    SqlStore(pg_url).close()  # migrated while it could write
    name = pg_url.rsplit("/", 1)[1]
    pg_server.admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    store = SqlStore(pg_url)  # at head already: opening only reads
    try:
        assert store.get_meta("instance") is None
        with pytest.raises(StoreError, match="read-only transaction: the database refuses writes"):
            store.set_meta("instance", "x")
    finally:
        store.close()


def test_the_password_of_a_postgresql_url_is_never_shown() -> None:
    url = f"postgresql://vigil:hunter2@127.0.0.1:{_free_port()}/vigil"
    with pytest.raises(StoreError) as caught:
        SqlStore(url)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_without_postgresql_the_cases_fail_under_ci_and_skip_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(_postgres, "LIB_DIR", Path("/nonexistent"))
    with pytest.raises(outcome, match="apt-get install postgresql"):
        _postgres.start_server()

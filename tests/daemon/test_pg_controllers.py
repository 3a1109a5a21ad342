"""End to end: one controller per PostgreSQL database, and a standby that takes over.

Real ``vigil up`` processes, each with a data dir of its own, on one database of the session's
PostgreSQL server (``tests/_postgres.py``). The second controller refuses to start, naming the
leader; with ``store.standby: true`` it waits instead, and when the leader is ``kill -9``ed
(the server drops its advisory lock with its connection) it takes over and adopts the very
replicas the leader ran. A leader whose lock session was ended while it lived finds the lock
taken, or its next write refused by the fence, and steps down, leaving its replicas to the new
leader.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _postgres import PgServer
from vigil.store import SqlStore

from ._support import (
    VigilUp,
    model_servers,
    service,
    vigil_up_refused,
    wait_until,
    write_config,
)
from .conftest import API_TOKENS
from .test_controller_restart import all_ready, replicas

StartUp = Callable[..., VigilUp]


def configs(tmp_path: Path, tag: str, url: str, **store: Any) -> list[Path]:
    """Two configs, two data dirs, one PostgreSQL store; ``store`` goes to the second."""
    made = []
    for name, extra in (("a", {}), ("b", store)):
        (tmp_path / name).mkdir()
        made.append(
            write_config(
                tmp_path / name / "vigil.yaml",
                {
                    "data_dir": "data",
                    "store": {"url": url, **extra},
                    "api": {"host": "127.0.0.1", "port": 0, "tokens": API_TOKENS},
                    "services": [service(tag, replicas=2)],
                },
            )
        )
    return made


def start_leader(
    tmp_path: Path, tag: str, pg_url: str, vigil_up: StartUp, **store: Any
) -> tuple[VigilUp, dict[str, int], Path]:
    """A leader with its two replicas ready: it, their pids, and the second config (``store``
    goes to it)."""
    first_cfg, second_cfg = configs(tmp_path, tag, pg_url, **store)
    first = vigil_up(first_cfg)
    url = first.wait_up()
    pids = wait_until(lambda: all_ready(url, 2), 30, "the replicas ready", lambda: replicas(url))
    return first, pids, second_cfg


def leader_and_standby(
    tmp_path: Path, tag: str, pg_url: str, vigil_up: StartUp
) -> tuple[VigilUp, dict[str, int], VigilUp]:
    """A leader with its two replicas ready (their pids) and a standby waiting for its lock."""
    first, pids, second_cfg = start_leader(tmp_path, tag, pg_url, vigil_up, standby=True)
    standby = vigil_up(second_cfg)
    wait_until(
        lambda: "standby: the store" in standby.output(), 30, "the standby waiting", standby.output
    )
    return first, pids, standby


@pytest.mark.slow
def test_a_second_controller_on_the_same_postgresql_database_refuses_naming_the_leader(
    pg_url: str, tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    first, pids, second_cfg = start_leader(tmp_path, tag, pg_url, vigil_up)

    second = vigil_up_refused(second_cfg, tag, timeout=60)

    assert second.returncode == 1, second.stderr
    leader = f"vigil controller pid {first.pid} on {socket.gethostname()}"[:63]
    assert f"another controller ({leader}" in second.stderr
    assert f"uses the store {pg_url.replace('postgresql://', 'postgresql+psycopg://')}" in (
        second.stderr
    )
    assert "store.standby: true" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.proc.poll() is None, "the running controller is untouched"
    assert model_servers(tag) == sorted(pids.values()), "no replica of the second ever ran"


@pytest.mark.slow
def test_a_standby_takes_over_when_the_leader_is_killed_and_adopts_its_replicas(
    pg_url: str, tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    first, pids, standby = leader_and_standby(tmp_path, tag, pg_url, vigil_up)
    assert f"is led by vigil controller pid {first.pid}" in standby.output()
    assert "controller up" not in standby.output()
    assert model_servers(tag) == sorted(pids.values()), "the standby runs nothing"

    killed_at = time.monotonic()
    first.kill()
    standby_url = standby.wait_up(timeout=60)
    took = time.monotonic() - killed_at
    adopted = wait_until(
        lambda: all_ready(standby_url, 2), 30, "the replicas adopted", lambda: replicas(standby_url)
    )

    assert adopted == pids, "the leader's processes are supervised again, none restarted"
    assert model_servers(tag) == sorted(pids.values())
    log = standby.output()
    assert "standby: took over as leader of the store" in log
    assert "adopted" in log
    print(f"takeover: {took:.2f} s from the leader's kill -9 to the standby's API up")

    assert standby.terminate() == 0
    wait_until(lambda: model_servers(tag) == [], 20, "every replica stopped")


@pytest.mark.slow
def test_a_leader_whose_lock_was_taken_stops_and_leaves_the_replicas_to_the_new_one(
    pg_server: PgServer, pg_url: str, tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    first, pids, standby = leader_and_standby(tmp_path, tag, pg_url, vigil_up)

    # the leader's lock session ends while the leader lives (a network cut, a server restart):
    # the standby is granted the lock, and the leader must step down when it finds out
    pg_server.admin(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
        f"WHERE application_name = 'vigil controller pid {first.pid} on {socket.gethostname()}'"
    )
    standby_url = standby.wait_up(timeout=60)
    assert first.proc.wait(timeout=60) == 0, first.output()
    # its claim check found the lock taken, or (sooner) its first write after the standby
    # led was refused by the fence
    stepped_down = (
        "lost the store to another controller",
        "this controller is no longer the leader",
    )
    assert any(words in first.output() for words in stepped_down), first.output()

    adopted = wait_until(
        lambda: all_ready(standby_url, 2), 30, "the replicas adopted", lambda: replicas(standby_url)
    )
    assert adopted == pids, "the old leader left its replicas running for the new one"
    assert model_servers(tag) == sorted(pids.values())
    store = SqlStore(pg_url)
    try:
        assert store.verify_audit() is None, "the audit chain did not fork"
    finally:
        store.close()


@pytest.mark.slow
def test_up_standby_waits_for_the_leader_as_store_standby_does(
    pg_url: str, tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    # `vigil up --standby` is store.standby: true for one run: the second config says nothing
    _, pids, second_cfg = start_leader(tmp_path, tag, pg_url, vigil_up)

    standby = vigil_up(second_cfg, "--standby")

    wait_until(
        lambda: "standby: the store" in standby.output(), 30, "the standby waiting", standby.output
    )
    assert standby.proc.poll() is None, standby.output()
    assert "controller up" not in standby.output()
    assert model_servers(tag) == sorted(pids.values()), "the standby runs nothing"
    assert standby.terminate() == 0

"""Openers racing on a new SQLite file: every one gets its connection, none is told "locked".

SQLite refuses a ``journal_mode=WAL`` that races another connection's on a new file at once,
without its busy handler (about one opener in 70 when four open together); the store's connect
hook waits it out as ``busy_timeout`` would. Real processes, a real file per round: many rounds,
because one round rarely races.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from vigil.store._engine import WRITE, create_engine, parse_url

ROUNDS = 80
OPENERS = 4


def _open_and_write(
    url: str, start: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue
) -> None:
    start.wait()
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS opened (who INTEGER)")
                conn.exec_driver_sql("INSERT INTO opened VALUES (1)")
        out.put("ok")
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}".splitlines()[0])
    finally:
        engine.dispose()


def test_openers_racing_on_a_new_file_all_connect(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    refused: list[str] = []
    for round_ in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'round{round_}.db'}"
        start = ctx.Barrier(OPENERS)
        out: multiprocessing.Queue = ctx.Queue()
        procs = [
            ctx.Process(target=_open_and_write, args=(url, start, out)) for _ in range(OPENERS)
        ]
        for proc in procs:
            proc.start()
        answers = [out.get(timeout=60) for _ in procs]
        refused += [answer for answer in answers if answer != "ok"]
        for proc in procs:
            proc.join(timeout=30)
        engine = create_engine(parse_url(url))
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM opened").scalar()
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        engine.dispose()
        assert (rows, mode) == (answers.count("ok"), "wal"), round_
    assert refused == []

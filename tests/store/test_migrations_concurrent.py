"""Several processes opening one new database at once: each finds the schema at head, none fails.

The controller claims its database before it opens the store, but other openers do not (a
second ``SqlStore``, benches and tools calling :func:`vigil.store.migrate`),
and :func:`vigil.store._migrate.upgrade` promises that two of them "do not both create the
tables: the second waits, then finds the schema at head". Real processes, a SQLite file and a
real PostgreSQL server (``durable_url``).
"""

from __future__ import annotations

import multiprocessing

from vigil.store import SqlStore, migrate, schema_revision

OPENERS = 4


def _open(url: str, start: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue) -> None:
    start.wait()
    try:
        migrate(url)
        SqlStore(url).close()
        out.put("ok")
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_new_database_at_once_all_find_it_migrated(durable_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(OPENERS)
    out: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_open, args=(durable_url, start, out)) for _ in range(OPENERS)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert results == ["ok"] * OPENERS
    assert schema_revision(durable_url) == "0006"

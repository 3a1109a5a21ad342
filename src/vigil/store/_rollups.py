"""Persisted metric rollups: batched merge-upserts, range reads and age-based pruning.

Called by :class:`vigil.store.SqlStore` (``save_rollups``, ``load_rollups``, ``prune_rollups``),
which the controller's rollup flusher (:mod:`vigil.daemon._rollups`) and the series API use.
A series is a row of ``series`` (name + canonical labels); its buckets refer to its id, so the
labels are stored once. Saving a bucket that exists *merges* into it (min of the mins, sum of
the sums...): each sample is flushed exactly once, in the bucket that was open when it arrived,
so a bucket split by a controller restart adds up to the same figures as an unbroken one.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from vigil.errors import InputError
from vigil.store._protocol import RollupRow
from vigil.store._schema import rollups, series

WIDTHS = (60, 3600)
"""The rollup resolutions kept: one minute and one hour."""
LARGEST = sys.float_info.max
"""A bucket's sum saturates at this (either sign), in a row given and in the merge of two: SQLite
stored an overflowed sum as inf, PostgreSQL refused it (value out of range) with its batch."""
_CHUNK = 5000
"""Rows per executemany: bounds one statement's memory, keeps each batch well under a second."""

Labels = tuple[tuple[str, str], ...]


def labels_text(labels: Labels) -> str:
    """The canonical text of sorted labels, the ``series.labels`` column."""
    return json.dumps([list(pair) for pair in labels], separators=(",", ":"))


def _labels_of(text: str) -> Labels:
    return tuple((str(k), str(v)) for k, v in json.loads(text))


def _check(row: RollupRow) -> None:
    if row.width not in WIDTHS:
        raise InputError(f"rollup of {row.name}: width must be one of {WIDTHS}, not {row.width}")
    if row.count < 1:
        raise InputError(f"rollup of {row.name} at {row.start}: count must be >= 1")
    for field, value in (("min", row.min), ("max", row.max), ("last", row.last)):
        if not math.isfinite(value):
            raise InputError(
                f"rollup of {row.name} at {row.start}: {field} {value} is not a finite number"
            )
    if math.isnan(row.total):
        raise InputError(f"rollup of {row.name} at {row.start}: total is not a number")


def _saturated(total: float) -> float:
    return total if -LARGEST <= total <= LARGEST else math.copysign(LARGEST, total)


def _merged_total(old: Any, new: Any) -> Any:
    """``old + new`` held within +-LARGEST, in SQL. Nested CASEs: each difference is taken only
    on the side where it cannot overflow (PostgreSQL raises on an overflowing float8, and an
    AND may evaluate both sides)."""
    big = sa.literal(LARGEST, sa.Float)
    return sa.case(
        (old > 0, sa.case((new > big - old, big), else_=old + new)),
        (old < 0, sa.case((new < -big - old, -big), else_=old + new)),
        else_=new,
    )


def series_ids(
    conn: Connection, keys: Sequence[tuple[str, str]], cache: dict[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """The ids of ``(name, labels_text)`` series, created when missing; ``cache`` is consulted
    first and is *not* updated (the caller adds the ids once the transaction commits)."""
    found = {key: cache[key] for key in keys if key in cache}
    missing = sorted({key for key in keys if key not in found})
    for i in range(0, len(missing), _CHUNK):
        chunk = missing[i : i + _CHUNK]
        conn.execute(
            _insert_ignore(conn),
            [{"name": name, "labels": text} for name, text in chunk],
        )
        names = sorted({name for name, _ in chunk})
        stmt = sa.select(series.c.id, series.c.name, series.c.labels).where(
            series.c.name.in_(names)
        )
        wanted = set(chunk)
        for sid, name, text in conn.execute(stmt):
            if (name, text) in wanted:
                found[(name, text)] = int(sid)
    return found


def _insert_ignore(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(series).on_conflict_do_nothing()
    return sqlite.insert(series).on_conflict_do_nothing()


def _merge_upsert(conn: Connection) -> Any:
    pg = conn.dialect.name == "postgresql"
    stmt = (postgresql.insert if pg else sqlite.insert)(rollups)
    new = stmt.excluded
    lo = sa.func.least if pg else sa.func.min  # SQLite's two-argument min() is scalar
    hi = sa.func.greatest if pg else sa.func.max
    return stmt.on_conflict_do_update(
        index_elements=["series_id", "width", "start"],
        set_={
            "min": lo(rollups.c.min, new.min),
            "max": hi(rollups.c.max, new.max),
            "total": _merged_total(rollups.c.total, new.total),
            "count": rollups.c.count + new.count,
            "last": new.last,
        },
    )


def save(
    conn: Connection, rows: Sequence[RollupRow], cache: dict[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """Merge ``rows`` into the table; returns the series ids used (for the caller's cache)."""
    for row in rows:
        _check(row)
    texts = [(row.name, labels_text(row.labels)) for row in rows]
    ids = series_ids(conn, texts, cache)
    values = [
        {
            "series_id": ids[key],
            "width": row.width,
            "start": row.start,
            "min": row.min,
            "max": row.max,
            "total": _saturated(row.total),
            "count": row.count,
            "last": row.last,
        }
        for key, row in zip(texts, rows, strict=True)
    ]
    stmt = _merge_upsert(conn)
    for i in range(0, len(values), _CHUNK):
        conn.execute(stmt, values[i : i + _CHUNK])
    return ids


def load(
    conn: Connection,
    name: str,
    wanted: Mapping[str, str],
    width: int,
    start: float,
    end: float,
    limit: int | None = None,
) -> list[RollupRow]:
    """Buckets of the matching series with ``start <= bucket start <= end``, oldest first;
    with ``limit``, at most that many (which ones is then unspecified: the caller that gets
    ``limit`` rows refuses the query rather than answer from part of them)."""
    if width not in WIDTHS:
        raise InputError(f"rollup width must be one of {WIDTHS}, not {width}")
    chosen: dict[int, Labels] = {}
    for sid, text in conn.execute(
        sa.select(series.c.id, series.c.labels).where(series.c.name == name)
    ):
        labels = _labels_of(text)
        have = dict(labels)
        if all(have.get(k) == v for k, v in wanted.items()):
            chosen[int(sid)] = labels
    out: list[RollupRow] = []
    ids = sorted(chosen)
    for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        if limit is not None and len(out) >= limit:
            break
        stmt = (
            sa.select(rollups)
            .where(
                rollups.c.series_id.in_(ids[i : i + 500]),
                rollups.c.width == width,
                rollups.c.start >= start,
                rollups.c.start <= end,
            )
            .order_by(rollups.c.start)
        )
        if limit is not None:
            stmt = stmt.limit(limit - len(out))
        for r in conn.execute(stmt).mappings():
            out.append(
                RollupRow(
                    name=name,
                    labels=chosen[int(r["series_id"])],
                    width=int(r["width"]),
                    start=float(r["start"]),
                    min=float(r["min"]),
                    max=float(r["max"]),
                    total=float(r["total"]),
                    count=int(r["count"]),
                    last=float(r["last"]),
                )
            )
    out.sort(key=lambda row: row.start)
    return out


def prune(conn: Connection, width: int, before: float) -> int:
    """Delete the ``width`` buckets that started before ``before``; the number deleted."""
    result = conn.execute(
        sa.delete(rollups).where(rollups.c.width == width, rollups.c.start < before)
    )
    return int(result.rowcount or 0)


def earliest(conn: Connection, width: int) -> float | None:
    """The start of the oldest ``width`` bucket (an index lookup), or None when there is none."""
    return _bound(conn, width, sa.func.min)


def latest(conn: Connection, width: int) -> float | None:
    """The start of the newest ``width`` bucket (an index lookup), or None when there is none."""
    return _bound(conn, width, sa.func.max)


def _bound(conn: Connection, width: int, func: Any) -> float | None:
    value = conn.execute(sa.select(func(rollups.c.start)).where(rollups.c.width == width))
    found = value.scalar()
    return None if found is None else float(found)

"""Metrics endpoints: agents push samples, people and dashboards query series.

``POST /api/v1/samples`` (agent token for that node, or admin) stores a batch of samples, each
labelled with the node it came from; ``GET /api/v1/series`` (viewer) returns the points of the
matching series (raw, or one mean per ``step``); ``GET /api/v1/series/latest`` the newest value of
each matching series (``vigil top`` reads it). Served by the app from :func:`vigil.api.create_app`.

A ``step`` of a minute or more reads rollups (1-minute under an hour, else 1-hour): the part of
the range older than what the in-memory series hold is read from the store's persisted rollups
(in a worker thread), so history survives controller restarts and outlives the rings.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vigil.api._auth import Agent, Viewer
from vigil.api._context import Ctx
from vigil.api._schemas import BODY_RESPONSES, ERROR_RESPONSES, MAX_BATCH, ErrorOut, SampleIn
from vigil.collectors import Sample, SeriesKey, freeze_labels, width_for
from vigil.errors import InputError

router = APIRouter(prefix="/api/v1", tags=["metrics"], responses=ERROR_RESPONSES)

ERRORS_SHOWN = 5
STORE_END = 1e15
"""An end time past any real one (year 30,000): SQL bounds must be finite."""
MAX_STORED_BUCKETS = 100_000
"""Stored rollups a query reads at most. One metric of 100 nodes at ``step=60`` over the
default week of minutes is ~1M rows: seconds of loading, then ~2 s of merging on the event
loop (no heartbeat read meanwhile); 100,000 rows merge in ~0.2 s. A single series never comes
near it (69 days of minutes); beyond it the query is refused, saying how to ask for less."""


class SamplesIn(BaseModel):
    node: str = Field(min_length=1, max_length=63)
    samples: list[SampleIn] = Field(max_length=MAX_BATCH)


class SamplesOut(BaseModel):
    accepted: int
    rejected: int
    errors: list[str] = Field(description=f"The first {ERRORS_SHOWN} problems")


class SeriesOut(BaseModel):
    name: str
    labels: dict[str, str]


class PointsOut(BaseModel):
    name: str
    series: list[SeriesOut] = Field(description="The series that matched")
    points: list[tuple[float, float]] = Field(description="(at, value), oldest first")
    approximate: list[float] = Field(
        default_factory=list,
        description="The starts of the step buckets whose mean is approximate: a sum in them "
        "passed the largest double (values near 1e308) and was held there, so the mean is off "
        "by what overflowed, either way. Empty almost always.",
    )


class LatestOut(BaseModel):
    name: str
    labels: dict[str, str]
    at: float
    value: float


def node_samples(node: str, samples: Sequence[SampleIn]) -> list[Sample]:
    """The pushed samples as :class:`Sample`, each labelled ``node=<node>``.

    Called for every heartbeat (1,000 nodes x 50 samples a second at fleet scale), so the
    labels are frozen once per distinct label set of the batch (usually one: none) rather than
    once per sample.
    """
    frozen: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
    out = []
    for s in samples:
        raw = tuple(s.labels.items())
        labels = frozen.get(raw)
        if labels is None:
            labels = frozen[raw] = freeze_labels({**s.labels, "node": node})
        out.append(Sample(s.name, labels, s.value, s.at))
    return out


def parse_labels(text: str | None) -> dict[str, str]:
    """``"node=gpu-01,gpu=0"`` → ``{"node": "gpu-01", "gpu": "0"}``."""
    labels: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InputError(f"query.labels: {part!r} is not key=value (e.g. node=gpu-01,gpu=0)")
        labels[key.strip()] = value.strip()
    return labels


def time_range(start: float | None, end: float | None) -> tuple[float, float]:
    """``from``/``to`` as a closed range (open ends when absent); a reversed range or a time
    that is not a finite number is refused, naming the field, rather than answered with no
    points as if the series were empty."""
    for field, value in (("from", start), ("to", end)):
        if value is not None and not math.isfinite(value):
            raise InputError(f"query.{field}: {value} is not a time (Unix seconds)")
    if start is not None and end is not None and start > end:
        raise InputError(f"query.from ({start:g}) is after query.to ({end:g}): swap them")
    return (-math.inf if start is None else start), (math.inf if end is None else end)


@router.post(
    "/samples",
    status_code=202,
    summary="Store a batch of a node's samples (agent)",
    responses={**BODY_RESPONSES, 404: {"model": ErrorOut, "description": "Unknown node"}},
)
async def post_samples(body: SamplesIn, ctx: Ctx, agent: Agent) -> SamplesOut:
    agent.check(body.node, "samples")
    samples = node_samples(body.node, body.samples)
    errors = ctx.control.ingest_samples(body.node, samples)
    return SamplesOut(
        accepted=len(samples) - len(errors),
        rejected=len(errors),
        errors=errors[:ERRORS_SHOWN],
    )


@router.get("/series", summary="Points of the series matching a name and labels")
async def get_series(
    ctx: Ctx,
    _: Viewer,
    name: Annotated[str, Query(min_length=1)],
    labels: Annotated[str | None, Query(description="key=value,key=value")] = None,
    start: Annotated[float | None, Query(alias="from")] = None,
    end: Annotated[float | None, Query(alias="to")] = None,
    step: Annotated[float | None, Query(gt=0)] = None,
) -> PointsOut:
    wanted = parse_labels(labels)
    lo, hi = time_range(start, end)
    store = ctx.control.series_store()
    keys = store.match(name, wanted)
    history: list[tuple[SeriesKey, float, float, int]] = []
    width = width_for(step)
    if width is not None:
        # read the store only for a range older than memory that the store may cover, and for
        # the buckets a restart split (their part from before it is in the store only)
        upto = max(store.oldest(keys, width), store.split_end(keys, width))
        if lo <= upto and store.persisted_from[width] <= upto:
            rows = await asyncio.to_thread(
                ctx.store.load_rollups,
                name,
                wanted,
                int(width),
                max(lo, store.persisted_from[width], 0.0),
                min(hi, upto, STORE_END),
                MAX_STORED_BUCKETS + 1,
            )
            if len(rows) > MAX_STORED_BUCKETS:
                raise _too_many_stored(name, width)
            history = [(SeriesKey(r.name, r.labels), r.start, r.total, r.count) for r in rows]
    approximate: set[float] = set()
    points = store.query(name, wanted, lo, hi, step, history=history, approximate=approximate)
    shown = sorted(set(keys) | {key for key, *_ in history})
    return PointsOut(
        name=name,
        series=[SeriesOut(name=k.name, labels=dict(k.labels)) for k in shown],
        points=points,
        approximate=sorted(approximate),
    )


def _too_many_stored(name: str, width: float) -> InputError:
    coarser = ", or give a query.step of 3600 or more (hour rollups)" if width < 3600 else ""
    return InputError(
        f"query {name}: more than {MAX_STORED_BUCKETS:,} stored "
        f"{'minute' if width < 3600 else 'hour'} buckets match: narrow query.labels "
        f"(e.g. node=gpu-01), shorten query.from / query.to{coarser}"
    )


@router.get("/series/latest", summary="The newest value of every series matching a name")
async def get_latest(
    ctx: Ctx,
    _: Viewer,
    name: Annotated[str, Query(min_length=1)],
    labels: Annotated[str | None, Query(description="key=value,key=value")] = None,
) -> list[LatestOut]:
    store = ctx.control.series_store()
    out = []
    for key in store.match(name, parse_labels(labels)):
        point = store.last(key)
        if point is not None:
            at, value = point
            out.append(LatestOut(name=key.name, labels=dict(key.labels), at=at, value=value))
    return out

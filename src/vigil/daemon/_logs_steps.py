"""Running work that comes in steps (a generator that yields between chunks and returns its
result): at once, or with a turn of the event loop between two steps.

Used by :class:`vigil.daemon._logs.LogPipeline` for agent batches: ``ingest_batch`` (benches,
tests) takes one at once, ``receive_batch`` (the API) a chunk of templates per turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")


def at_once(steps: Generator[None, None, T]) -> T:
    """Run every step; the generator's return value."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result


async def turn_by_turn(steps: Generator[None, None, T]) -> T:
    """Run the steps with a turn of the loop between two. Cancelled between two steps, it runs
    the rest at once, then raises: work half done must not stay so (an agent batch's number is
    counted first, so the agent's next try would be ignored as a duplicate)."""
    cancelled = False
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            break
        if not cancelled:
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result

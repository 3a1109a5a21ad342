"""The never-live count of each replica, kept in the store so that it outlives the controller.

A replica that is restarted and never becomes live is escalated after ``escalate_after`` such
restarts (:mod:`vigil.remediation._policy`). Counted in memory only, a restart of the controller
before the escalation started the count again: a replica that can never be live got
``escalate_after`` more restarts per controller restart. :class:`NeverLiveLedger` keeps the count,
and whether the replica was escalated, as one small meta row per replica
(``never_live:<replica>`` = ``{"restarts": n, "escalated": bool}``); written only when it changes
(a restart that did not help, live again, escalated, an operator's command).

Given ``submit`` (the controller's: one :class:`vigil.daemon._writer.OrderedWriter` thread),
:meth:`NeverLiveLedger.put` queues its write there instead of writing in line: it is called by
the runners on the controller's event loop, and a store write there (a SQLite transaction, ms;
seconds on a busy or locked database) held heartbeats, probes and the API. One thread runs the
writes in the order they were put, so the row ends with the last value. :meth:`get` reads in
line; the gate reads a replica once, before its first put, and keeps the count in memory.

Who calls it: :class:`vigil.remediation.HealingGate` (which every runner's
:class:`~vigil.remediation._gate.Permits` goes through) reads and writes it;
:class:`vigil.daemon.Controller` resets it for a replica that gets a fresh start (its service
changed, or only its guards changed after it was escalated).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from vigil.errors import StoreError
from vigil.store import Store

log = logging.getLogger(__name__)

KEY = "never_live:"
"""Prefix of the meta key of a replica's count (``never_live:llm/0``)."""


@dataclass(frozen=True, slots=True)
class NeverLive:
    """Restarts since the replica was last live (none of which made it live), and whether the
    guards escalated it for that."""

    restarts: int = 0
    escalated: bool = False


Submit = Callable[[Callable[[], None]], object]
"""Queues a job on one writer thread (``OrderedWriter.submit``): jobs run in submission order."""


class NeverLiveLedger:
    """The counts in the store's meta table (see the module docstring)."""

    def __init__(self, store: Store, *, submit: Submit | None = None) -> None:
        self._store = store
        self._submit = submit  # None: written in line (tests, a runner built alone)

    def get(self, replica: str) -> NeverLive:
        """The stored count; none stored, or unreadable (logged), is a count of 0."""
        try:
            text = self._store.get_meta(KEY + replica)
        except StoreError as exc:
            log.error("%s: never-live count not read (counted from 0): %s", replica, exc)
            return NeverLive()
        if not text:
            return NeverLive()
        try:
            found = _parse(text)
        except (ValueError, TypeError, KeyError) as exc:
            log.error("%s: never-live count %r unreadable (counted from 0): %s", replica, text, exc)
            return NeverLive()
        return found

    def put(self, replica: str, value: NeverLive) -> None:
        """Store ``value`` (queued, given ``submit``); a store that refuses is logged (the count
        in memory goes on)."""
        if self._submit is None:
            self._write(replica, value)
        else:
            self._submit(lambda: self._write(replica, value))

    def forget(self, replica: str) -> None:
        """Delete the replica's row (it left the config: a later replica of its id starts at 0;
        kept, the rows of every replica ever configured stayed); queued as :meth:`put` is."""
        if self._submit is None:
            self._delete(replica)
        else:
            self._submit(lambda: self._delete(replica))

    def _delete(self, replica: str) -> None:
        try:
            self._store.delete_meta(KEY + replica)
        except StoreError as exc:
            log.error("%s: never-live count not deleted: %s", replica, exc)

    def _write(self, replica: str, value: NeverLive) -> None:
        text = json.dumps({"restarts": value.restarts, "escalated": value.escalated})
        try:
            self._store.set_meta(KEY + replica, text)
        except StoreError as exc:
            log.error("%s: never-live count %d not stored: %s", replica, value.restarts, exc)


def _parse(text: str) -> NeverLive:
    """The count in a meta row; ValueError, TypeError or KeyError when it is not one. Strict:
    ``int()`` of a ``1e999`` (inf to json) raised OverflowError, which no caller caught, and
    ``bool("false")`` read an edited row as escalated."""
    data = json.loads(text)
    restarts, escalated = data["restarts"], data["escalated"]
    if type(restarts) is not int or restarts < 0:
        raise ValueError(f"restarts must be a whole number >= 0, not {restarts!r}")
    if type(escalated) is not bool:
        raise ValueError(f"escalated must be true or false, not {escalated!r}")
    return NeverLive(restarts, escalated)

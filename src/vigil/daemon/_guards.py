"""The healing guards across restarts of the controller, and their state for the API.

Who calls it: :class:`vigil.daemon.Controller` when it builds its runners
(:func:`guards_changed`, :func:`released`, :func:`save_global_guards`) and for
``GET /api/v1/remediation/guards`` (:func:`guard_views`).

A replica the guards escalated as never live stays held until an operator acts *or the config
changes*. A change of what the service runs replaces its replicas anyway; a change of its guards
alone (``escalate_after`` raised, dry-run turned off: a reload) kept the replica adopted as it
was, held, so nothing released it. :func:`guards_changed` compares the guards in force now with
those of the last run (the service's own section from its stored spec, the global section from
the store's meta ``remediation``), and :func:`released` tells which stored replica that frees.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from vigil.api import GuardsView, NeverLiveView, SlotView, WindowView
from vigil.errors import StoreError
from vigil.model import Replica, ReplicaState
from vigil.remediation import (
    HealingGate,
    NeverLive,
    describe_window,
    unavailable_limit,
    window_end,
)
from vigil.settings import (
    RemediationSettings,
    Service,
    ServiceRemediation,
    Settings,
    effective_remediation,
)
from vigil.store import Store

log = logging.getLogger("vigil.daemon")

GLOBAL_KEY = "remediation"
"""Meta key of the global ``remediation:`` section of the last run (JSON)."""


def _global_then(store: Store, now: RemediationSettings) -> RemediationSettings | None:
    """The global guards of the last run: ``now`` when none were stored (a store from before
    they were), None when the stored ones cannot be read (then every service counts as changed)."""
    try:
        text = store.get_meta(GLOBAL_KEY)
    except StoreError as exc:
        log.error("the guards of the last run not read: %s", exc)
        return None
    if text is None:
        return now
    try:
        return RemediationSettings.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        return None


def guards_changed(
    store: Store, settings: Settings, svc: Service, applied: Mapping[str, Any]
) -> bool:
    """Whether the guards in force for ``svc`` differ from the last run's (``applied``: its
    stored spec)."""
    then_global = _global_then(store, settings.remediation)
    own = applied.get("remediation")
    if then_global is None:
        return True
    try:
        then_own = None if own is None else ServiceRemediation.model_validate(own)
    except ValidationError:
        return True
    then = effective_remediation(then_global, then_own)
    return then != effective_remediation(settings.remediation, svc.remediation)


def save_global_guards(store: Store, settings: Settings) -> None:
    """Keep the global guards of this run for the next one to compare with."""
    text = json.dumps(settings.remediation.model_dump(mode="json"), sort_keys=True)
    try:
        store.set_meta(GLOBAL_KEY, text)
    except StoreError as exc:
        log.error("the guards of this run not stored: %s", exc)


def released(stored: Replica | None, count: NeverLive) -> bool:
    """Whether ``stored`` is a replica the guards escalated as never live (held, failed): one
    that a change of its guards gives a fresh start."""
    return (
        stored is not None
        and stored.held
        and stored.state == ReplicaState.FAILED
        and count.escalated
    )


def guard_views(
    gate: HealingGate, replicas: Callable[[str], list[str]], now: float
) -> list[GuardsView]:
    """Each service's guards in force and what they hold now (``replicas``: a service's
    replica ids)."""
    views = []
    for service in gate.services():
        guards = gate.guards(service)
        ids = replicas(service)
        windows = []
        for window in guards.windows:
            windows.append(WindowView(describe_window(window), window_end(window, now)))
        counts = [(rid, gate.never_live(rid)) for rid in ids]
        views.append(
            GuardsView(
                service=service,
                dry_run=guards.dry_run,
                max_unavailable=str(guards.max_unavailable),
                unavailable_limit=unavailable_limit(guards.max_unavailable, len(ids)),
                slots=[SlotView(r, until) for r, until in sorted(gate.slots(service).items())],
                rate_actions=guards.rate_actions,
                rate_window=guards.rate_window,
                recent_actions=len(gate.recent(service)),
                escalate_after=guards.escalate_after,
                never_live=[
                    NeverLiveView(rid, c.restarts, c.escalated)
                    for rid, c in counts
                    if c.restarts or c.escalated
                ],
                windows=windows,
            )
        )
    return views

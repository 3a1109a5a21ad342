"""Replicas an old leader left running on another host: reported, not silently lost.

A standby adopts the replicas of the leader it replaces only when both run on one host: the
local backend adopts processes of its own host (pid, start time and markers). A standby on
another host cannot, so it starts a new copy of each here, while the old leader's processes,
if that host still runs, go on there unsupervised. :func:`build_runners
<vigil.daemon._replica_setup.build_runners>` collects the replicas whose stored process was not
adopted when the old leader's host (the ``leader`` row's holder, read by
:class:`vigil.daemon.Controller` before it leads) is not this one, and :func:`report_left`
opens one incident on ``host:<old host>`` (kind ``replicas_left``, in ``vigil status`` and
``GET /api/v1/incidents``) and writes one audit entry, naming each replica and its pid there.
The incident stays active until a controller leads from that host again (:func:`came_home`:
it adopts or sweeps what was left there); there is no API to resolve an incident by hand.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

from vigil.model import Finding, FindingKind, ReplicaId, Severity
from vigil.remediation import IncidentBook
from vigil.store import Store

log = logging.getLogger("vigil.daemon")

LEADER_ROW = "leader"
"""The store's ``meta`` row naming the leader (``vigil.store._fence.LEADER_KEY``)."""

HOLDER_HOST = " on "
"""What precedes the host in a holder's name (``vigil controller pid N on HOST``,
:func:`vigil.store._claim.holder_name`)."""


def away_host(leader_row: str | None, here: str) -> str | None:
    """The old leader's host when it is not ``here``; None when it is, or is not known (no
    leader row: the first leader; a row without a host)."""
    if not leader_row:
        return None
    try:
        holder = json.loads(leader_row).get("holder")
    except (ValueError, AttributeError):
        return None
    if not isinstance(holder, str) or HOLDER_HOST not in holder:
        return None
    host = holder.rsplit(HOLDER_HOST, 1)[1].strip()
    return host if host and host != here else None


def report_left(
    *,
    store: Store,
    incidents: IncidentBook,
    clock: Callable[[], float],
    host: str,
    left: Sequence[tuple[ReplicaId, int]],
) -> None:
    """Tell the operator which replicas' processes still run, unsupervised, on ``host``."""
    names = ", ".join(f"{rid} (pid {pid})" for rid, pid in left)
    summary = (
        f"the old leader ran on {host}: its replicas' processes there cannot be adopted from "
        f"this host and may still run unsupervised: {names}; a new copy of each configured one "
        f"is started here. Stop them on {host}; this incident is resolved when a controller "
        f"leads from {host} again (it adopts or sweeps them)"
    )
    log.warning("%s", summary)
    detail = {"host": host, "replicas": {str(rid): pid for rid, pid in left}}
    now = clock()
    incidents.raise_finding(
        Finding(
            kind=FindingKind.REPLICAS_LEFT,
            subject=f"host:{host}",
            at=now,
            summary=summary,
            severity=Severity.WARNING,
            evidence=detail,
        )
    )
    store.append_audit(
        at=now,
        actor="vigil",
        action="replicas.left_on_host",
        target=f"host:{host}",
        reason="a standby on another host took over: the local backend adopts its own host's",
        result="not adopted: new copies started here",
        detail=detail,
    )


def came_home(incidents: IncidentBook, clock: Callable[[], float], here: str) -> None:
    """A controller leads from ``here``: what an earlier leader reported left on this host is
    adopted or swept by now (:func:`~vigil.daemon._replica_setup.build_runners`)."""
    incidents.recovered(f"host:{here}", clock(), "a controller leads from this host again")

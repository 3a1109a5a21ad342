"""Warnings about nodes declared without an address, for ``vigil check-config``.

Pure: a :class:`~vigil.settings.Settings` in, ``field.path: warning`` strings out (the CLI
places each at its line with :func:`vigil.settings.place_problems`). A node without an address is
valid (its agent's heartbeats tell where it is: :mod:`vigil.daemon._nodes`), but two uses need
it before any heartbeat: a service balanced on it (``vigil balance`` refuses the service: it
cannot know where the replicas listen) and placement (the node takes nothing until its agent
reports). check-config said nothing of either, and the first the user heard was a refusal.
"""

from __future__ import annotations

from vigil.settings._models import Settings


def address_warnings(settings: Settings) -> list[str]:
    """One warning per node without an address that a balanced service or placement needs."""
    warnings = []
    for j, node in enumerate(settings.nodes):
        if node.address is not None:
            continue
        balanced = [
            f"services[{i}] ({svc.name})"
            for i, svc in enumerate(settings.services)
            if svc.node == node.name and svc.balancer is not None
        ]
        if balanced:
            warnings.append(
                f"nodes[{j}].address: node {node.name!r} has no address, and "
                f"{', '.join(balanced)} is balanced on it: `vigil balance` refuses it (it must "
                "know where the replicas listen), `vigil up` learns it from the node's agent; "
                "set the address (127.0.0.1 for this host)"
            )
            continue
        offers = [
            f"{field}: {value}"
            for field, value in (
                ("gpus", node.gpus),
                ("gpu_memory_mb", node.gpu_memory_mb),
                ("memory_mb", node.memory_mb),
            )
            if value
        ]
        if offers:
            warnings.append(
                f"nodes[{j}].address: node {node.name!r} has no address: it offers "
                f"{', '.join(offers)} for placement but takes none until its agent's heartbeats "
                f"say where it is; run `vigil agent --name {node.name}` there, or set the address "
                "(127.0.0.1 for this host)"
            )
    return warnings

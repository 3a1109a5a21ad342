"""Turn a configured service into concrete replica plans: argv, env, port, log file.

Pure apart from :func:`vigil.backends.free_port` (finds an unused port). Called by the daemon
when it builds supervisors from settings, and by tests.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vigil.backends import ProcessSpec, free_port
from vigil.errors import ConfigError
from vigil.model import ReplicaId, replica_id
from vigil.settings import Service


@dataclass(frozen=True, slots=True)
class ReplicaPlan:
    """Everything the supervisor needs to run replica ``index`` of ``service``."""

    id: ReplicaId
    service: Service
    index: int
    port: int
    node: str
    spec: ProcessSpec
    extra_env: Mapping[str, str] = field(default_factory=dict)
    config_index: int | None = None
    """The service's place in the config's ``services`` list (None: not from a config), so a
    message can name ``services[i].command``."""

    @property
    def config_path(self) -> str:
        """Where the service is configured, as a message names it: ``services[2]``."""
        if self.config_index is None:
            return f"service {self.service.name!r}"
        return f"services[{self.config_index}]"


def render_argv(command: Sequence[str] | str, values: Mapping[str, str | int]) -> list[str]:
    """Split ``command`` like a shell (no shell runs); substitute ``{port}`` etc. in each word."""
    try:
        words = shlex.split(command) if isinstance(command, str) else list(command)
    except ValueError as exc:
        raise ConfigError([f"command {command!r}: {exc} (check the quotes)"]) from exc
    out = []
    for word in words:
        try:
            out.append(word.format_map({k: str(v) for k, v in values.items()}))
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            raise ConfigError(
                [
                    f"command word {word!r}: unknown placeholder {exc}; use {{port}}, {{index}}, "
                    "{replica}, {service}, {python} (write {{ and }} for literal braces)"
                ]
            ) from exc
    return out


def plan_replica(
    service: Service,
    index: int,
    *,
    log_dir: Path,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    config_index: int | None = None,
) -> ReplicaPlan:
    """Plan replica ``index``: ``port`` (if known from an earlier run) wins over base_port."""
    if port is None:
        port = service.base_port + index if service.base_port else free_port()
    rid = replica_id(service.name, index)
    values: dict[str, str | int] = {
        "python": sys.executable,
        "port": port,
        "index": index,
        "replica": rid,
        "service": service.name,
    }
    env = {**service.env, **(extra_env or {}), "PORT": str(port)}
    spec = ProcessSpec(
        replica=rid,
        argv=render_argv(service.command, values),
        env=env,
        cwd=service.cwd,
        log_path=str(log_dir / f"{service.name}-{index}.log"),
        log_max_bytes=service.logs.max_bytes,
        log_keep=service.logs.keep,
    )
    return ReplicaPlan(
        id=rid,
        service=service,
        index=index,
        port=port,
        node=service.node,
        spec=spec,
        extra_env=dict(extra_env or {}),
        config_index=config_index,
    )

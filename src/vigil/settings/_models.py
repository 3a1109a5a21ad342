"""The settings models: one root (``Settings``) made of grouped sections, each field with a
default and a docstring, and the checks that span several fields (``cross_problems``).

Built by :mod:`vigil.settings._loader` from ``vigil.yaml`` (or by ``Settings.model_validate`` in
tests and benchmarks); every other layer receives a ``Settings`` instance.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import string
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from vigil.settings._logs import LogsSettings
from vigil.settings._metrics import MetricsSettings
from vigil.settings._remediation import RemediationSettings, ServiceRemediation
from vigil.settings._rules import MetricRule
from vigil.settings._types import Bytes, Loc, Network, Role, Seconds, _Section, hash_token


class _TokenFields(_Section):
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    """SHA-256 (hex) of the bearer token: `vigil token` prints a new token and its hash."""
    token: str | None = Field(default=None, min_length=16)
    """The token itself (discouraged: prefer `sha256` or `token_env`)."""
    token_env: str | None = None
    """Name of an environment variable that holds the token."""

    def token_hash(self) -> str | None:
        if self.sha256:
            return self.sha256
        if self.token:
            return hash_token(self.token)
        if self.token_env and os.environ.get(self.token_env):
            return hash_token(os.environ[self.token_env])
        return None

    @model_validator(mode="after")
    def _one_source(self) -> _TokenFields:
        given = [n for n in ("sha256", "token", "token_env") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of sha256, token, token_env (got {given or 'none'})"
            )
        return self


class ApiToken(_TokenFields):
    name: str = Field(min_length=1, max_length=255)
    """Who holds the token: recorded as the actor in the audit trail (which holds 255
    characters: PostgreSQL refused a longer actor, after the action was taken)."""
    role: Role = "viewer"
    """viewer reads; operator also acts on replicas; admin may do everything."""


class AgentToken(_TokenFields):
    node: str = Field(min_length=1)
    """The node this token lets an agent report for."""


class HttpProbe(_Section):
    path: str = "/"
    """Path requested with GET on the replica's port."""
    expect_status: list[int] = Field(default_factory=lambda: list(range(200, 400)))
    """Statuses that count as success (default: any 2xx or 3xx)."""
    body_contains: str | None = None
    """If set, the body must contain this text."""
    host: str = "127.0.0.1"


class TcpProbe(_Section):
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    """Port to connect to (default: the replica's port)."""


class ExecProbe(_Section):
    command: list[str] = Field(min_length=1)
    """Argv to run; exit code 0 is success. ``{port}`` is replaced by the replica's port."""


class Probe(_Section):
    http: HttpProbe | None = None
    tcp: TcpProbe | None = None
    exec: ExecProbe | None = None
    interval: Seconds = 1.0
    """Seconds between the start of two probes."""
    timeout: Seconds = 1.0
    """A probe that has not answered after this many seconds fails (and is a hang for liveness)."""
    initial_delay: Seconds = 0.0
    """Seconds after the process starts before the first probe."""
    failure_threshold: int = Field(default=3, ge=1)
    """Consecutive failures before the verdict becomes unhealthy."""
    success_threshold: int = Field(default=1, ge=1)
    """Consecutive successes before the verdict becomes healthy."""

    @model_validator(mode="after")
    def _one_kind(self) -> Probe:
        kinds = [k for k in ("http", "tcp", "exec") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of http, tcp, exec (got {kinds or 'none'})")
        if self.interval <= 0:
            raise ValueError(f"interval must be > 0 (got {self.interval})")
        return self


class CrashLoop(_Section):
    max_restarts: int = Field(default=5, ge=1)
    """This many restarts within `window` seconds is a crash loop: stop restarting, escalate."""
    window: Seconds = 60.0


class RestartPolicy(_Section):
    policy: Literal["always", "on-failure", "never"] = "always"
    """always: restart on any exit; on-failure: only on a non-zero exit or a signal; never."""
    backoff_initial: Seconds = 0.0
    """Delay before the first restart (0: at once, as Kubernetes does)."""
    backoff_base: Seconds = 0.5
    """Delay before the second restart; it doubles for each restart after that."""
    backoff_max: Seconds = 30.0
    backoff_reset: Seconds = 60.0
    """A replica up this long forgets its earlier restarts."""
    crash_loop: CrashLoop = CrashLoop()


class LogSettings(_Section):
    max_bytes: Bytes = 10 * 1024 * 1024
    """Rotate a replica's log file when it grows past this size."""
    keep: int = Field(default=3, ge=0)
    """How many rotated files (``.1`` … ``.N``) to keep."""


BalancePolicy = Literal["round_robin", "weighted", "least_conn", "least_time", "p2c_ewma", "hash"]


class BalancerSettings(_Section):
    """An HTTP load balancer in front of the service's replicas (health-aware, ejecting
    outliers, retrying only where safe)."""

    host: str = "127.0.0.1"
    """Address clients connect to."""
    port: int = Field(default=0, ge=0, le=65535)
    """Port clients connect to (0: any free port; `vigil status` shows it)."""
    policy: BalancePolicy = "p2c_ewma"
    """round_robin, weighted (share W_i / sum W), least_conn, least_time, p2c_ewma (power of
    two choices over peak-EWMA latency and in-flight requests), hash (session affinity)."""
    affinity_header: str | None = None
    """Request header hashed for session affinity (needed by the hash policy)."""
    trusted_proxies: list[Network] = Field(default_factory=list)
    """Addresses or CIDR blocks of proxies in front of the balancer (a TLS terminator, a CDN)
    whose ``X-Forwarded-For``, ``X-Forwarded-Proto``, ``Forwarded``, ``X-Real-IP`` and
    ``X-Forwarded-Host``/``-Port`` are passed on, and whose ``X-Forwarded-For`` names the client
    in the access log. From any other peer these are dropped, ``X-Forwarded-For`` is the peer's
    address alone and ``X-Forwarded-Proto`` the balancer's own: a client cannot claim an
    address (nginx's ``set_real_ip_from``, Traefik's ``forwardedHeaders.trustedIPs``)."""
    answer_half_closed: bool = False
    """Answer a request whose client half-closed (``shutdown(SHUT_WR)``) after sending it whole,
    as HAProxy does. Off (nginx's default): the FIN is taken as the client gone and the request
    is aborted, so a replica does not keep generating for a client that closed; the two look
    the same on the wire. Turn on for clients that half-close on purpose (``nc -N``, some
    scripts)."""
    allow_trace: bool = False
    """Forward ``TRACE`` requests to the replicas. Off (nginx's answer): 405 with ``Allow``; a
    TRACE echoed back reflects the cookies and ``Authorization`` that proxies in front added
    (cross-site tracing)."""
    connect_timeout: Seconds = 2.0
    first_byte_timeout: Seconds = 300.0
    """From request sent to response head; long prompts on a busy GPU are slow."""
    idle_timeout: Seconds = 60.0
    """Longest silence between two chunks of a streaming response."""
    max_retries: int = Field(default=2, ge=0, le=10)
    """Extra attempts on other replicas, only before any response byte and only where safe."""
    retry_ratio: float = Field(default=0.2, ge=0, le=1)
    """Retries allowed as a share of requests (a retry storm cannot double the load)."""
    retry_on_reset: bool = True
    """Retry a POST on another replica when its replica reset the connection before any
    response byte (it never read the whole request: killed with it unread). Turn off if a
    replica resets connections on purpose after handling a request, or acts on a head before
    reading the body."""
    failure_threshold: int = Field(default=5, ge=1)
    """Consecutive failures (5xx, timeouts, refused connections) that eject a replica."""
    eject_base: Seconds = 10.0
    """First ejection time; each further ejection lasts one more of these."""
    eject_max: Seconds = 300.0
    max_ejection_percent: float = Field(default=50.0, ge=0, le=100)
    """Never eject more than this share of the pool (always keep one)."""
    slow_start: Seconds = 30.0
    """Seconds over which a replica that comes back ramps up to its full weight."""
    workers: int = Field(default=1, ge=1, le=64)
    """Processes serving the balancer's port (SO_REUSEPORT). Above 1, each worker judges its own
    traffic (ejections, latency) and takes health and operators' changes from the controller;
    the controller's /metrics then lacks the per-replica proxy metrics."""
    workers_balance: Literal["exact", "kernel"] = "kernel"
    """How workers (above 1) share new connections. ``kernel``: ``SO_REUSEPORT``, the kernel
    hashes each connection onto one worker (60/40 or worse in about half the launches at 50
    connections; a stopped worker strands its share of new ones). ``exact``: one listening
    socket; a worker accepts only while it holds no more connections than every live sibling,
    so 50 connections split 25/25 and a worker silent for 1 s (stopped, dead) no longer counts;
    both workers wake for each new connection (compiled: +0.4 % user-space instructions per
    request with a new connection per request, +1.2 % kept alive, its 10 ms heartbeat;
    docs/benchmarks.md "Exact balance, compiled"), and no req/s gain at 50 kept-alive
    connections could be shown on a loaded 2-core machine (docs/benchmarks.md "How two workers
    share connections"). For long-lived connections (token streams), or to keep a stuck worker
    from stranding connections."""

    @model_validator(mode="after")
    def _hash_needs_key(self) -> BalancerSettings:
        if self.policy == "hash" and not self.affinity_header:
            raise ValueError("policy 'hash' needs affinity_header (e.g. X-Session-Id)")
        return self


class Service(_Section):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    """Lowercase letters, digits, '.', '_' and '-'."""
    command: list[str] | str
    """Argv (list) or a shell-free string split like a shell; ``{port}``, ``{index}``,
    ``{replica}``, ``{service}`` and ``{python}`` (the interpreter running Vigil) are
    substituted."""
    replicas: int = Field(default=1, ge=0, le=1000)
    base_port: int = Field(default=0, ge=0, le=65535)
    """Replica i listens on base_port + i; 0 picks free ports."""
    node: str = "local"
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    stop_grace: Seconds = 5.0
    """Seconds between SIGTERM and SIGKILL when stopping."""
    start_timeout: Seconds = 60.0
    """Seconds a new process may take to pass its first liveness probe (a model loading its
    weights): liveness failures before that do not count, as with Kubernetes' startupProbe.
    Not live by then: it is killed and restarted."""
    liveness: Probe | None = None
    readiness: Probe | None = None
    restart: RestartPolicy = RestartPolicy()
    logs: LogSettings = LogSettings()
    balancer: BalancerSettings | None = None
    """Put an HTTP load balancer in front of the replicas (``vigil up`` and ``vigil balance``)."""
    remediation: ServiceRemediation | None = None
    """This service's own healing guards (each field overrides the global ``remediation``)."""

    @field_validator("command")
    @classmethod
    def _renders(cls, command: list[str] | str) -> list[str] | str:
        """Checked here, at the command's own line (services[0].command), not the service's."""
        if isinstance(command, str) and not command.strip():
            raise ValueError("command is empty")
        _check_placeholders(command)
        return command

    @model_validator(mode="after")
    def _ports_fit(self) -> Service:
        if self.base_port and self.base_port + self.replicas - 1 > 65535:
            raise ValueError(
                f"base_port + replicas exceeds 65535 (got {self.base_port}+{self.replicas})"
            )
        return self


LOCAL_NODE = "local"
"""The default node's name: the controller's own host (127.0.0.1 unless given an address)."""


class NodeSettings(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    address: str | None = None
    """Where the node is: an IP address or a host name. A loopback address or this host's name
    makes it the controller's own host, counted up without an agent. Unset: 127.0.0.1 for the
    node named ``local`` (the default node, the controller's own host), else not known (a node
    elsewhere, whose agent reports for it). Every node named alone used to be 127.0.0.1, so a
    remote one was taken for the controller's own host."""
    labels: dict[str, str] = Field(default_factory=dict)
    gpus: int = Field(default=0, ge=0)
    """GPUs the node offers for placement (an agent's heartbeat may report fewer free)."""
    gpu_memory_mb: int = Field(default=0, ge=0)
    """Memory per GPU, in MiB."""
    memory_mb: int = Field(default=0, ge=0)
    """Host memory offered for placement, in MiB (an agent reports the live free amount)."""

    @model_validator(mode="before")
    @classmethod
    def _local_is_here(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("name") == LOCAL_NODE and "address" not in data:
            return {**data, "address": "127.0.0.1"}
        return data


class HeartbeatSettings(_Section):
    # > 0: a zero interval passed check-config, then 'vigil up' died (the phi detector refuses it)
    interval: Seconds = Field(default=1.0, gt=0)
    """How often agents send a heartbeat (the controller tells agents this value)."""
    phi_suspect: float = Field(default=5.0, gt=0)
    """Phi at which a node becomes Suspect (phi = -log10 P(heartbeat still to come))."""
    phi_down: float = Field(default=10.0, gt=0)
    """Phi at which a node becomes Down."""
    window: int = Field(default=100, ge=2)
    """How many inter-arrival times the detector remembers."""
    min_std: Seconds = 0.0
    """Floor on the standard deviation of inter-arrival times (0: a quarter of the interval)."""
    acceptable_pause: Seconds | None = None
    """Extra pause tolerated before suspicion grows (GC pauses, busy networks). Default: one
    interval, so a single lost heartbeat never raises suspicion (measured: with none, a
    ±50%-jittered stream peaks at phi 4.5, just under the Suspect threshold)."""
    check_every: Seconds = Field(default=0.05, gt=0)
    """How often the controller re-evaluates every node."""

    @model_validator(mode="after")
    def _ordered(self) -> HeartbeatSettings:
        if self.phi_down < self.phi_suspect:
            raise ValueError(
                f"phi_down must be >= phi_suspect (got {self.phi_down} < {self.phi_suspect})"
            )
        return self


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=0, le=65535)
    tokens: list[ApiToken] = Field(default_factory=list)
    """Bearer tokens with roles. With none, the API is open read-only on loopback only."""


_DB_URL = re.compile(
    r"^(?P<name>[\w+]+)://(?:[^:/]*(?::[^@]*)?@)?(?:\[[^/?]+\]|[^/:?]*)?(?::(?P<port>[^/?]*))?"
)
"""The head of a URL as SQLAlchemy's ``make_url`` reads it: backend, userinfo, host, port."""


class StoreSettings(_Section):
    url: str = "sqlite:///{data_dir}/vigil.db"
    """SQLAlchemy URL; ``{data_dir}`` is replaced. SQLite by default; PostgreSQL with
    ``postgresql://user:password@host/db`` (one controller per database, see ``standby``)."""
    standby: bool = False
    """On a PostgreSQL store that another controller leads: wait as its standby and take over
    when it dies (false: refuse to start, naming the leader)."""

    @field_validator("url")
    @classmethod
    def _openable(cls, url: str) -> str:
        """What :func:`vigil.store.parse_url` would refuse, said by ``check-config`` (it passed
        any string, and ``vigil up`` refused it); never quoting the URL, which may hold a
        password."""
        use = "use sqlite:///path or postgresql://user:password@host/db"
        found = _DB_URL.match(url)
        if found is None:
            raise ValueError(f"not a database URL: {use}")
        backend = found["name"].split("+", 1)[0]
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"the database {backend!r} is not supported: {use}")
        if found["port"] and not found["port"].isdigit():
            raise ValueError(f"the port {found['port']!r} is no number")
        return url


class Settings(_Section):
    data_dir: str = "./.vigil"
    """Where the database, replica logs and the pid file live (relative to the config file)."""
    store: StoreSettings = StoreSettings()
    api: ApiSettings = ApiSettings()
    heartbeat: HeartbeatSettings = HeartbeatSettings()
    agents: list[AgentToken] = Field(default_factory=list)
    nodes: list[NodeSettings] = Field(default_factory=lambda: [NodeSettings(name=LOCAL_NODE)])
    """The machines Vigil watches. Without this section: ``local``, the controller's own host."""
    services: list[Service] = Field(default_factory=list)
    rules: list[MetricRule] = Field(default_factory=list)
    """Conditions on metrics that raise findings, e.g. `gpu.temperature_c > 85 for 60s`."""
    logs: LogsSettings = Field(default_factory=lambda: LogsSettings())
    """Log files to follow (on nodes by their agents, or on the controller) and analysis knobs."""
    metrics: MetricsSettings = MetricsSettings()
    remediation: RemediationSettings = RemediationSettings()
    """Guards on automatic healing: blast radius, rate limit, maintenance windows, dry-run,
    escalation of replicas that never become live."""
    on_exit: Literal["stop", "leave"] = "stop"
    """On a clean shutdown: stop every replica (no orphans), or leave them for the next start
    to adopt."""

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Settings:
        if info.context and info.context.get("defer_cross_checks"):
            return self  # parse_settings reports them with their lines
        problems = self.cross_problems()
        if problems:
            raise ValueError("; ".join(f"{_dotted(loc)}: {msg}" for loc, msg in problems))
        return self

    def cross_problems(self) -> list[tuple[Loc, str]]:
        """Problems that involve several fields (names, references), each with its place."""
        problems: list[tuple[Loc, str]] = []
        loopback = {"127.0.0.1", "::1", "localhost"}
        if not self.api.tokens and self.api.host not in loopback:
            problems.append(
                (
                    ("api", "host"),
                    (
                        f"binding {self.api.host!r} without api.tokens would open the API to the "
                        "network: add api.tokens (see `vigil token`) or bind 127.0.0.1"
                    ),
                )
            )
        backend = self.store.url.split(":", 1)[0].split("+", 1)[0]
        if self.store.standby and backend != "postgresql":
            # `vigil up --standby` refused it; this passed, and the "standby" led a store of
            # its own (a SQLite file has no leader to wait for), starting every replica at once
            problems.append(
                (
                    ("store", "standby"),
                    f"a standby waits for a PostgreSQL store, and store.url is {backend}: set "
                    "store.url to postgresql://user:password@host/db, or standby: false",
                )
            )
        problems += _duplicates("nodes", [n.name for n in self.nodes])
        problems += _duplicates("services", [s.name for s in self.services])
        problems += _duplicates(("api", "tokens"), [t.name for t in self.api.tokens])
        problems += self._shared_secrets()
        problems += _duplicates("rules", [r.name for r in self.rules])
        names = {n.name for n in self.nodes}
        problems += _duplicates(("metrics", "scrape"), [t.name for t in self.metrics.scrape])
        for i, target in enumerate(self.metrics.scrape):
            if target.node is not None and target.node not in names:
                problems.append(
                    (
                        ("metrics", "scrape", i, "node"),
                        f"no node named {target.node!r}: add it to nodes or use one of "
                        f"{sorted(names)}",
                    )
                )
        for i, agent in enumerate(self.agents):
            if agent.node not in names:  # its heartbeats would all be refused (404)
                problems.append(
                    (
                        ("agents", i, "node"),
                        f"no node named {agent.node!r}: add it to nodes or use one of "
                        f"{sorted(names)}",
                    )
                )
        for i, svc in enumerate(self.services):
            if svc.node not in names:
                problems.append(
                    (
                        ("services", i, "node"),
                        (
                            f"no node named {svc.node!r}: add it to nodes or use one of "
                            f"{sorted(names)}"
                        ),
                    )
                )
        problems += self.logs.cross_problems(names)
        return problems

    def _shared_secrets(self) -> list[tuple[Loc, str]]:
        """The same secret given to two API tokens, or to an API token and an agent token:
        which name and role it then stands for depends on the order of the tables, so it is
        refused. (One agent token for several nodes is allowed: it may report for each.)"""
        holders: list[tuple[Loc, _TokenFields]] = [
            (("api", "tokens", i), t) for i, t in enumerate(self.api.tokens)
        ]
        holders += [(("agents", i), a) for i, a in enumerate(self.agents)]
        first: dict[str, Loc] = {}
        problems: list[tuple[Loc, str]] = []
        for loc, holder in holders:
            digest = holder.token_hash()
            if digest is None:
                continue
            field = next(n for n in ("sha256", "token", "token_env") if getattr(holder, n))
            if digest in first and first[digest][0] == "api":
                problems.append(
                    (
                        (*loc, field),
                        f"the same token as {_dotted(first[digest])}: give each holder its own "
                        "(`vigil token` makes one)",
                    )
                )
            else:
                first[digest] = loc
        return problems

    def resolved_data_dir(self, base: Path) -> Path:
        path = Path(os.path.expanduser(self.data_dir))
        return path if path.is_absolute() else (base / path).resolve()

    def store_url(self, base: Path) -> str:
        return self.store.url.replace("{data_dir}", str(self.resolved_data_dir(base)))


PLACEHOLDERS = frozenset({"port", "index", "replica", "service", "python"})


def _check_placeholders(command: list[str] | str) -> None:
    """Refuse at load time what :func:`vigil.remediation.render_argv` could not render."""
    try:
        words = shlex.split(command) if isinstance(command, str) else command
        names = {name for w in words for _, name, _, _ in string.Formatter().parse(w) if name}
    except ValueError as exc:
        raise ValueError(f"command cannot be split: {exc} (check quotes and braces)") from exc
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        close = [difflib.get_close_matches(name, PLACEHOLDERS, n=1) for name in unknown]
        hints = [f"{{{c[0]}}}" for c in close if c]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise ValueError(
            f"command uses unknown placeholder(s) {unknown}{hint}: use {sorted(PLACEHOLDERS)}, "
            "and write {{ }} for literal braces"
        )
    # render_argv fills every word with str values: a positional field ('{}'), a conversion
    # ('{port!z}') or a format spec a str does not take ('{port:05d}') fails there, at spawn
    sample = {name: "0" for name in PLACEHOLDERS}
    for word in words:
        try:
            word.format_map(sample)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
            raise ValueError(
                f"command word {word!r} cannot be filled in: {exc}; write placeholders as "
                f"{{port}} etc. (one of {sorted(PLACEHOLDERS)}) and {{{{ }}}} for literal braces"
            ) from exc


def _duplicates(section: str | Loc, names: list[str]) -> list[tuple[Loc, str]]:
    base: Loc = (section,) if isinstance(section, str) else section
    seen: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for i, name in enumerate(names):
        if name in seen:
            problems.append(
                (
                    (*base, i, "name"),
                    (
                        f"duplicate name {name!r} (also {_dotted((*base, seen[name]))}): "
                        "names must be unique"
                    ),
                )
            )
        seen.setdefault(name, i)
    return problems


def _dotted(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"

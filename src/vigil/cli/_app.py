"""The ``vigil`` command line (Typer + Rich): up, agent, status, incidents, guards, check-config,
token, demo. Installed as the ``vigil`` console script (:func:`main`).

Read commands talk to a running controller over the REST API; ``up`` and ``demo`` run the
controller in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group, RenderableType
from rich.logging import RichHandler
from rich.table import Table

from vigil.cli._client import DEFAULT_URL, ApiClient, api_errors, token_problem, url_problem
from vigil.cli._detect import detect
from vigil.cli._guards import guards_table
from vigil.cli._help import untype_flags
from vigil.cli._logs import logs_app
from vigil.cli._logs_api import (
    LOG_KINDS,
    MAX_LOG_INCIDENTS_SHOWN,
    incident_templates,
    logs_findings,
    logs_top,
)
from vigil.cli._numbers import finite
from vigil.cli._risk import fetch_risk, risk_table
from vigil.errors import ConfigError, VigilError
from vigil.model import check_address, is_name
from vigil.render import TOP_SERIES, incidents_table, live, nodes_table, replicas_table, top_table

if TYPE_CHECKING:
    from vigil.settings import Settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Vigil: an operations autopilot for AI infrastructure.",
)
console = Console()
err = Console(stderr=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Path to vigil.yaml.")]
UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help=f"Controller URL (or VIGIL_URL; default {DEFAULT_URL})."),
]
TokenOpt = Annotated[str | None, typer.Option("--token", help="API token (or VIGIL_TOKEN).")]
MAX_PERIOD = 86_400.0
"""The longest period an option takes (a day): a bound also refuses ``inf``, which passed a
lower bound alone and made the agent beat back to back (a due time of NaN), never ship its
logs, and ``vigil top`` raise OverflowError in ``time.sleep``."""


def _advertised(value: str | None) -> str | None:
    """``--advertise-address`` checked before the agent starts (as the controller checks it)."""
    if value is None:
        return None
    try:
        return check_address(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _controller_url(value: str) -> str:
    """``--controller`` checked before the agent starts: without a scheme or a host it could
    never send a heartbeat, and it used to retry that for ever, one warning a second."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.strip("/"):
        raise typer.BadParameter(
            f"must be an http:// or https:// URL with a host, e.g. http://ctl:8700 (got {value!r})"
        )
    from vigil._agent_http import plain_url  # stdlib: the agent no longer imports httpx

    problem = None if plain_url(value) else url_problem(value)  # httpx says what is wrong
    if problem is not None:
        raise typer.BadParameter(problem)
    return value


INCIDENT_STATES = ("open", "remediating", "resolved", "escalated", "active")
"""What ``vigil incidents --state`` takes (the API's ``?state=``)."""


def _incident_state(value: str | None) -> str | None:
    """``--state`` checked here: a typo went to the controller (none reachable: 'cannot reach
    the controller', which said nothing of the typo)."""
    if value is not None and value not in INCIDENT_STATES:
        raise typer.BadParameter(
            f"{value!r} is no incident state: use one of {', '.join(INCIDENT_STATES)}"
        )
    return value


def _node_name(value: str) -> str:
    """``--name`` checked before the agent starts, by the rule of ``nodes[].name`` in vigil.yaml:
    a name no config can hold got only refusals (422 or 404) for ever, and with ``--log`` named
    its state file (``logs-a/../../b.json`` landed outside ``--state-dir``)."""
    # vigil.model's check, not NodeSettings': the settings models (pydantic) cost the agent ~14 MB
    if not is_name(value):
        raise typer.BadParameter(
            f"{value!r} is no node name (nodes[].name in vigil.yaml: a letter or digit, then up "
            "to 62 letters, digits, '_', '.' or '-'): give this node's name as the config has it"
        )
    return value


def _agent_token(value: str | None) -> str | None:
    """``--token`` checked before the agent starts: one that cannot go into a header made
    every heartbeat raise UnicodeEncodeError (a traceback)."""
    problem = None if value is None else token_problem(value)
    if problem is not None:
        raise typer.BadParameter(problem)
    return value


def _load(config: Path) -> Settings:
    # imported here, not at the top: the settings' models take ~0.3 s to build, which every
    # command paid, `vigil logs parse` on each file included
    from vigil.settings import load_settings

    try:
        return load_settings(config)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(problem, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False)],
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations are not news
    # httpx logs every request at INFO: a line per heartbeat for ever from `vigil agent`, and
    # one per scrape from `vigil up`, drowned what is news. Its warnings and errors still show.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


@app.command("check-config")
def check_config(config: ConfigOpt = Path("vigil.yaml")) -> None:
    """Validate vigil.yaml: exit 0 with a summary, or 2 with every problem as file:line."""
    settings = _load(config)
    replicas = sum(s.replicas for s in settings.services)
    console.print(
        f"{config}: ok: {len(settings.nodes)} node(s), {len(settings.services)} "
        f"service(s), {replicas} replica(s), {len(settings.api.tokens)} API token(s), "
        f"{len(settings.agents)} agent token(s)",
        soft_wrap=True,
    )
    # a token_env unset here: counted as a token above, then `vigil up` ignored it (a warning
    # among its start-up lines) and the API refused that token with 401
    unset = [
        (f"{place}[{i}].token_env", holder.token_env)
        for place, holders in (("api.tokens", settings.api.tokens), ("agents", settings.agents))
        for i, holder in enumerate(holders)
        if holder.token_env and holder.token_hash() is None
    ]
    for field, env in unset:
        err.print(
            f"{config}: warning: {field}: ${env} is not set here; `vigil up` ignores this "
            "token unless it is set where it runs",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    from vigil.settings import address_warnings, place_problems

    for warning in place_problems(config, address_warnings(settings)):
        where, _, what = warning.partition(": ")
        err.print(f"{where}: warning: {what}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def up(
    config: ConfigOpt = Path("vigil.yaml"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level.")] = False,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="On a PostgreSQL store another controller leads: wait, and take over when it "
            "dies (store.standby: true for this run).",
        ),
    ] = False,
) -> None:
    """Run the controller: supervise services, judge nodes, serve the API, until Ctrl-C."""
    from vigil.daemon import Controller

    settings = _load(config)
    if standby:
        if not settings.store.url.startswith("postgres"):
            raise typer.BadParameter(
                f"a standby waits for a PostgreSQL store, and {config}'s store.url is "
                f"{settings.store.url.split(':', 1)[0]}: set store.url to "
                "postgresql://user:password@host/db, or leave --standby out",
                param_hint="--standby",
            )
        store = settings.store.model_copy(update={"standby": True})
        settings = settings.model_copy(update={"store": store})
    _logging(verbose)
    # freeze_gc: the process is the controller's own (see vigil.daemon._stalls)
    controller = Controller(settings, base_dir=config.resolve().parent, freeze_gc=True)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, controller.stop)
        task = asyncio.create_task(controller.run())
        await asyncio.wait(
            [task, asyncio.create_task(controller.started.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if controller.started.is_set():
            err.print(
                f"vigil: controller up, API on http://{settings.api.host}:"
                f"{controller.api_port}, data in {controller.data_dir}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            for name, port in controller.balancers.ports.items():
                err.print(f"vigil: balancing {name} on port {port}", markup=False, soft_wrap=True)
        await task

    try:
        # uvloop (it comes with uvicorn[standard]) when present: the API's socket I/O costs about
        # half as much, which counts at fleet scale (bench/ingest.py)
        try:
            import uvloop

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        except ImportError:  # pragma: no cover
            runner = asyncio.Runner()
        with runner:
            runner.run(main())
    except VigilError as exc:
        err.print(f"vigil up: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from exc


@app.command()
def balance(
    config: ConfigOpt = Path("vigil.yaml"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at debug level.")] = False,
) -> None:
    """Run only the load balancers of vigil.yaml, in front of replicas run elsewhere."""
    from vigil.daemon import StandaloneBalancers

    settings = _load(config)
    _logging(verbose)

    async def main() -> None:
        from vigil.balancer._pure import build

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        balancers = StandaloneBalancers(settings, own_process=True)
        ports = await balancers.start()
        for svc in settings.services:
            if svc.balancer is not None:
                err.print(
                    f"vigil: balancing {svc.name} on http://{svc.balancer.host}:{ports[svc.name]} "
                    f"over {svc.replicas} replica(s), policy {svc.balancer.policy}, "
                    f"data plane {build()}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        await stop.wait()
        await balancers.stop()

    try:
        asyncio.run(main())
    except VigilError as exc:
        from vigil.settings import place_problems

        # its config problems (found on start, not on load) named no file or line
        lines = place_problems(config, exc.problems) if isinstance(exc, ConfigError) else [str(exc)]
        for line in lines:
            err.print(f"vigil balance: {line}", markup=False, soft_wrap=True)
        raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from exc


@app.command()
def agent(
    controller: Annotated[
        str,
        typer.Option(help="Controller URL, e.g. http://ctl:8700.", callback=_controller_url),
    ],
    name: Annotated[
        str,
        typer.Option(help="This node's name, as in the controller's config.", callback=_node_name),
    ],
    token: Annotated[
        str | None,
        typer.Option(
            envvar="VIGIL_AGENT_TOKEN",
            help="Agent token (or VIGIL_AGENT_TOKEN).",
            callback=_agent_token,
        ),
    ] = None,
    interval: Annotated[
        float,
        typer.Option(
            parser=finite(min=0.01, max=MAX_PERIOD),
            help="Seconds between heartbeats (0.01 to 86400).",
        ),
    ] = 1.0,
    metrics: Annotated[
        bool, typer.Option(help="Push host and GPU metrics with the heartbeats, every second.")
    ] = True,
    jitter: Annotated[
        float,
        typer.Option(
            parser=finite(min=0.0, max=0.99),
            help="Random delay, a share of the interval, 0 to 0.99 (tests).",
        ),
    ] = 0.0,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="vigil.yaml: follow its logs.sources of this node."),
    ] = None,
    log: Annotated[
        list[str] | None,
        typer.Option("--log", metavar="<file>", help="A log file to follow (repeatable)."),
    ] = None,
    log_format: Annotated[
        str, typer.Option(help="Header format of the --log files (or a preset, or auto).")
    ] = "auto",
    state_dir: Annotated[
        Path, typer.Option(help="Where the log offsets and miners are kept across restarts.")
    ] = Path("~/.vigil/agent"),
    ship_every: Annotated[
        float | None,
        typer.Option(
            parser=finite(min=0.05, max=MAX_PERIOD),
            help="Seconds between log batches, 0.05 to 86400 (default: logs.ship_every).",
        ),
    ] = None,
    advertise_address: Annotated[
        str | None,
        typer.Option(
            "--advertise-address",
            envvar="VIGIL_ADVERTISE_ADDRESS",
            callback=_advertised,
            help="The IP address or host name the controller should reach this node at, for a "
            "node declared without one (behind a NAT or a proxy; default: the local address of "
            "the route to the controller).",
        ),
    ] = None,
) -> None:
    """Run a node agent: send heartbeats to the controller, and ship its logs, until stopped."""
    from vigil.agent import (
        LOG_POLL_EVERY,
        LOG_SHIP_EVERY,
        Agent,
        MetricSource,
        log_edge,
        route_address,
    )

    _logging(False)
    from vigil.collectors import GpuCollector, HostCollector

    # GPUs are reported absent once (gpu.available = 0) where NVML or the driver is missing.
    sources: list[MetricSource] = [HostCollector(node=name), GpuCollector()] if metrics else []
    logs = _load(config).logs if config is not None else None
    try:
        if log or (logs is not None and logs.for_node(name)):  # it will keep a log state
            _writable(state_dir.expanduser())
        edge = log_edge(name, logs, log or [], log_format, state_dir.expanduser())
    except VigilError as exc:
        err.print(f"vigil agent: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    node_agent = Agent(
        controller,
        name,
        token,
        interval=interval,
        jitter=jitter,
        metrics=sources,
        logs=edge,
        log_poll_every=logs.poll_every if logs else LOG_POLL_EVERY,
        log_ship_every=ship_every or (logs.ship_every if logs else LOG_SHIP_EVERY),
        address=advertise_address or route_address(controller),
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(node_agent.run())


def _writable(directory: Path) -> None:
    """VigilError unless the agent can keep its log state in ``directory`` (made if missing).
    Found out later, saving the state failed inside the shipping task, which ended without a
    word: heartbeats went on, and no log batch was ever sent."""
    probe = directory / ".vigil-write-test"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise VigilError(
            f"--state-dir: cannot write in {directory} ({exc.strerror or exc}): give a directory "
            "this user can write (the log offsets are kept there)"
        ) from exc


@app.command()
def status(url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Nodes, replicas and active incidents at a glance."""
    client = ApiClient(url, token)
    with api_errors(client):
        nodes = client.get("/api/v1/nodes")
        replicas = client.get("/api/v1/replicas")
        active = client.get("/api/v1/incidents", state="active", limit=20)
        risk = fetch_risk(client)
        tables: list[RenderableType] = [nodes_table(nodes), *([risk_table(risk)] if risk else [])]
        tables.append(replicas_table(replicas))
        if active["items"]:
            tables.append(incidents_table(active["items"], title="Active incidents"))
    for table in tables:
        console.print(table)
    if not active["items"]:
        console.print("[green]no active incidents[/green]")


@app.command()
def incidents(
    url: UrlOpt = None,
    token: TokenOpt = None,
    state: Annotated[
        str | None,
        typer.Option(
            help="Only incidents in this state: open, remediating, resolved, escalated, or "
            "active (any but resolved). Default: all.",
            callback=_incident_state,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=500, help="How many to show, newest first.")
    ] = 30,
) -> None:
    """Incidents, newest first, with detection, first action and recovery times."""
    client = ApiClient(url, token)
    params: dict[str, object] = {"limit": limit}
    if state:
        params["state"] = state
    with api_errors(client):
        page = client.get("/api/v1/incidents", **params)
        table = incidents_table(page["items"], title=f"Incidents ({page['total']} in all)")
        logs = [i for i in page["items"] if i["kind"] in LOG_KINDS][:MAX_LOG_INCIDENTS_SHOWN]
    console.print(table)
    try:
        for i in logs:
            line = incident_templates(client, int(i["id"]))
            if line:
                console.print(f"#{i['id']} {i['subject']} P(fault): {line}", markup=False)
    except VigilError as exc:  # an older controller without the filter: the table is enough
        err.print(f"log templates not shown: {exc}", markup=False, soft_wrap=True)


@app.command()
def guards(url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Each service's healing guards and what they hold now: slots, rate, never-live counts."""
    client = ApiClient(url, token)
    with api_errors(client):
        rows = client.get("/api/v1/remediation/guards")
    console.print(guards_table(rows, time.time()))


@app.command()
def top(
    url: UrlOpt = None,
    token: TokenOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Print one table and exit.")] = False,
    every: Annotated[
        float,
        typer.Option(
            parser=finite(min=0.5, max=MAX_PERIOD), help="Seconds between refreshes (0.5 to 86400)."
        ),
    ] = 2.0,
) -> None:
    """Live per-node view: CPU, memory, load, fullest disk, network (from agents' metrics)."""
    client = ApiClient(url, token)

    def table() -> Table | Group:
        latest = {
            name: client.get("/api/v1/series/latest", name=name) for name in TOP_SERIES.values()
        }
        risk = fetch_risk(client)
        if risk:
            return Group(top_table(latest, TOP_SERIES), risk_table(risk))
        return top_table(latest, TOP_SERIES)

    with api_errors(client), contextlib.suppress(KeyboardInterrupt):
        if once:
            console.print(table())
            return
        with live(table(), console, refresh_per_second=1) as view:
            while True:
                time.sleep(every)
                view.update(table())


@app.command()
def token() -> None:
    """Make a new random API/agent token and print it with its sha256 for vigil.yaml."""
    from vigil.settings import hash_token

    value = secrets.token_urlsafe(32)
    console.print(f"token:  {value}\nsha256: {hash_token(value)}", highlight=False)


@app.command()
def demo(
    duration: Annotated[
        float,
        typer.Option(
            parser=finite(min=0.0),
            help="Seconds (>= 0) of the fault timeline to play: later faults are not run; those "
            "injected get up to 15 s more to end.",
        ),
    ] = 60.0,
    port: Annotated[int, typer.Option(min=0, max=65535, help="API port (0: any free port).")] = 0,
) -> None:
    """A local fleet of model-server replicas with faults injected, detected and healed live."""
    from vigil.demo import run_demo

    raise typer.Exit(run_demo(console, duration=duration, port=port))


app.add_typer(logs_app, name="logs")
logs_app.command("top")(logs_top)
logs_app.command("findings")(logs_findings)
app.command("detect", help="Score a timestamp,value CSV with the default streaming detector.")(
    detect
)
untype_flags(app)  # --help: no <bool> beside on/off flags (vigil.cli._help)


def main() -> None:
    app()

"""Instructions the proxy spends per new stream, counted by callgrind (no clock, little load noise).

    python bench/stream_setup.py            # rounds 1 and 5 of 200 one-event streams
    python bench/stream_setup.py --quick    # rounds 1 and 2
    python bench/stream_setup.py --keep DIR # and keep the callgrind files (cg.vigil.5 ...)
    python bench/stream_setup.py --uv-server # the proxy accepting through uvloop's create_server
    python bench/stream_setup.py --events 64 --streams 40 --quick   # instructions per event

The backend of ``bench/balance_stream.py`` sends ONE event per stream, so what is counted is a
stream's set-up and end: the accept, the request, the response head, one event, the last chunk
and the close. The proxy (one upstream, round robin, on uvloop, with its collector settled as in
a worker process: ``settle_gc``) runs under ``valgrind --tool=callgrind``; this process's client
(balance_stream.py's) runs R rounds of 200 streams against it. Two runs, R = 1 and R = N: the
difference of their instruction totals over (N - 1) * 200 streams is the figure (start-up, the
first round's upstream connects and exit cancel out). A build without ``settle_gc`` (before
branch sse2) keeps CPython's collector defaults, as its workers did. Also the collections of
each generation the proxy ran in those streams. The baseline, counted the same way in the same
run: nginx (one process, ``master_process off``) with ``proxy_buffering off`` and upstream
keep-alive, as ``balance_stream.py``'s. Compare builds with ``PYTHONPATH=<other tree>/src``.
``--uv-server`` (branch accept4) hands the proxy's listening socket to uvloop's own
``create_server`` instead of its ``Listener`` (one accept per loop iteration, no
``connect_accepted_socket`` coroutine): the other way of accepting, counted the same way.
``--events N`` (branch sse32) has the backend send N events per stream as balance_stream.py's
does, one every 10 ms (``--streams``: per round, 200 by default; 40 keep a proxy under
callgrind from falling behind the events), and the figures are per event: the relay's own
cost with the stream's set-up shared over its events, in a live process (uvloop's reads and
writes, the GIL taken per callback), where ``balance_stream.py --python-only`` counts the
protocols alone on null transports. Counts of one build move by a few hundred per event from
run to run (how many events a loop iteration finds depends on timing); compare functions.
Needs ``valgrind`` and ``nginx``; ends with ONE JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import balance_stream
from balance_overhead import wait_port

from vigil.backends import free_port

# set by --uv-server for the proxy process under callgrind (which inherits it)
UV_SERVER_ENV = "STREAM_SETUP_UV_SERVER"


def backend(port: int, ready: Any, events: int = 1) -> None:
    balance_stream.EVENTS = events
    balance_stream.run_backend(port, ready)


def serve(port: int, backend_port: int, stats: str) -> None:
    """The proxy process (run under callgrind by :func:`count`)."""
    import gc

    import uvloop

    try:  # as a worker process does, where the build has it (older builds: the defaults)
        from vigil.balancer._proxy_workers import settle_gc  # type: ignore[attr-defined]
    except ImportError:
        settle_gc = None

    collections: list[int] = []

    async def main() -> None:
        proxy = balance_stream.stream_proxy(backend_port)
        await proxy.start("127.0.0.1", port)
        if os.environ.get(UV_SERVER_ENV):
            await accept_by_uvloop_server(proxy)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        if settle_gc is not None:
            settle_gc()
        before = [g["collections"] for g in gc.get_stats()]
        print("ready", flush=True)
        await stop.wait()
        after = [g["collections"] for g in gc.get_stats()]
        collections.extend(a - b for a, b in zip(after, before, strict=True))
        await proxy.stop(0.5)

    uvloop.run(main())
    Path(stats).write_text(json.dumps(collections))


async def accept_by_uvloop_server(proxy: Any) -> None:
    """The proxy's listening sockets served by uvloop's ``create_server`` instead of its
    ``Listener`` (whose watch is removed): the protocol factory is the same, without the peer
    address (the connection asks its transport for it)."""
    loop = asyncio.get_running_loop()
    for listener in proxy._listeners:
        loop.remove_reader(listener.sock.fileno())
        await loop.create_server(
            listener.factory, sock=listener.sock, backlog=proxy.settings.backlog
        )


def _callgrind(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", "--dump-instr=no", f"--callgrind-out-file={out}"]


def _nginx_conf(tmp: Path, port: int, backend_port: int) -> Path:
    """One nginx process in the foreground, proxying to the backend as balance_stream's does."""
    conf = tmp / f"nginx-{port}.conf"
    conf.write_text(
        f"""
master_process off;
daemon off;
pid {tmp}/nginx-{port}.pid;
error_log {tmp}/nginx-{port}.error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    upstream sse {{ server 127.0.0.1:{backend_port}; keepalive 256; }}
    server {{ listen 127.0.0.1:{port} backlog=4096; location / {{
        proxy_pass http://sse; proxy_http_version 1.1; proxy_set_header Connection "";
        proxy_buffering off; }} }}
}}
"""
    )
    return conf


def count(
    rounds: int,
    backend_port: int,
    tmp: Path,
    *,
    nginx: bool = False,
    events: int = 1,
    streams: int = 200,
) -> tuple[int, list[int]]:
    """Instructions of the proxy process (or of nginx) over ``rounds`` rounds, and the proxy's
    collections (none for nginx)."""
    import uvloop

    who = "nginx" if nginx else "vigil"
    port, out, stats = free_port(), tmp / f"cg.{who}.{rounds}", tmp / f"gc.{rounds}"
    if nginx:
        conf = _nginx_conf(tmp, port, backend_port)
        command = [*_callgrind(out), "nginx", "-c", str(conf), "-p", str(tmp)]
    else:
        command = [*_callgrind(out), sys.executable, __file__, "--serve"]
        command += [str(port), str(backend_port), str(stats)]
    proxy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proxy.stdout is not None
    if nginx:
        wait_port(port, 60)
    elif proxy.stdout.readline().strip() != b"ready":
        raise RuntimeError("the proxy under callgrind did not start")
    balance_stream.STREAMS = streams
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        for _ in range(rounds):
            _, got = runner.run(balance_stream.round_of_streams(port))
            if got != streams * events:
                raise RuntimeError(f"{got} events of {streams * events} delivered")
    proxy.send_signal(signal.SIGTERM)
    proxy.wait(120)
    totals = re.search(rb"^summary: (\d+)", out.read_bytes(), re.M) or re.search(
        rb"^totals: (\d+)", out.read_bytes(), re.M
    )
    if totals is None:
        raise RuntimeError(f"no totals in {out}")
    return int(totals.group(1)), [] if nginx else json.loads(stats.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="rounds 1 and 2 instead of 1 and 5")
    parser.add_argument(
        "--keep", metavar="DIR", help="keep the callgrind files in DIR (for callgrind_annotate)"
    )
    parser.add_argument(
        "--uv-server",
        action="store_true",
        help="the proxy accepts through uvloop's create_server, not its Listener",
    )
    parser.add_argument(
        "--events", type=int, default=1, help="events per stream (figures per event when > 1)"
    )
    parser.add_argument("--streams", type=int, default=200, help="streams per round")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.uv_server:
        os.environ[UV_SERVER_ENV] = "1"
    if args.serve:
        serve(int(args.serve[0]), int(args.serve[1]), args.serve[2])
        return 0
    missing = [tool for tool in ("valgrind", "nginx") if shutil.which(tool) is None]
    if missing:
        print(f"missing tools; install them with: apt-get install -y {' '.join(missing)}")
        return 2
    last = 2 if args.quick else 5
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}", flush=True)
    ctx = multiprocessing.get_context("spawn")
    backend_port, ready = free_port(), ctx.Event()
    server = ctx.Process(target=backend, args=(backend_port, ready, args.events), daemon=True)
    server.start()
    ready.wait(20)
    try:
        with tempfile.TemporaryDirectory(prefix="vigil-setup-") as tmp:
            shape = {"events": args.events, "streams": args.streams}
            first, gc_first = count(1, backend_port, Path(tmp), **shape)
            many, gc_many = count(last, backend_port, Path(tmp), **shape)
            nginx_first, _ = count(1, backend_port, Path(tmp), nginx=True, **shape)
            nginx_many, _ = count(last, backend_port, Path(tmp), nginx=True, **shape)
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
                for out in Path(tmp).glob("cg.*"):
                    shutil.copy(out, Path(args.keep) / out.name)
    finally:
        server.terminate()
    streams = (last - 1) * args.streams
    units = streams * args.events  # the figures are per event when a stream has several
    unit = "per event" if args.events > 1 else "per stream"
    per_stream = (many - first) / units
    nginx_per_stream = (nginx_many - nginx_first) / units
    collections = [(b - a) for a, b in zip(gc_first, gc_many, strict=True)]
    print(f"{'':<42} {unit:>12}")
    print(f"{'Vigil proxy instructions (callgrind)':<42} {per_stream:>12,.0f}")
    print(f"{'nginx instructions (callgrind, baseline)':<42} {nginx_per_stream:>12,.0f}")
    print(f"{'Vigil / nginx':<42} {per_stream / nginx_per_stream:>12.2f}x")
    print(f"collections by generation over {streams} streams: {collections}")
    print(
        json.dumps(
            {
                "bench": "stream_setup",
                "streams": streams,
                "events_per_stream": args.events,
                "unit": unit,  # of the two counts below (per event when events_per_stream > 1)
                "instructions_per_stream": per_stream,
                "gc_collections": collections,
                "baseline": "nginx proxy_buffering off, one process",
                "baseline_instructions_per_stream": nginx_per_stream,
                "vs_baseline": per_stream / nginx_per_stream,
                "accept": "uvloop create_server" if args.uv_server else "Listener",
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

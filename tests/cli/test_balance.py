"""`vigil balance`: the balancers alone in front of replicas run by something else."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from .conftest import TAG_ENV, VIGIL, Cli, wait_until

LINE = re.compile(r"balancing llm on (http://[0-9.]+:\d+)")


def free_base_port(count: int) -> int:
    """A port p with p .. p+count-1 all free (probed; the OS may still race us)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + count > 65535:
            continue
        try:
            socks = []
            for i in range(count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", base + i))
                socks.append(sock)
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise AssertionError("no run of free ports")


def test_vigil_balance_routes_around_a_dead_replica_it_does_not_supervise(
    cli: Cli, tmp_path: Path
) -> None:
    base = free_base_port(2)
    env = {**os.environ, TAG_ENV: cli.tag}
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigil.demo.model_server",
                "--port",
                str(base + i),
                "--load-time",
                "0",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    cfg = tmp_path / "vigil.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {
                        "name": "llm",
                        "command": "unused",
                        "replicas": 2,
                        "base_port": base,
                        "readiness": {"http": {"path": "/ready"}, "interval": 0.1, "timeout": 0.5},
                        "balancer": {"policy": "round_robin", "slow_start": 0},
                    }
                ]
            }
        )
    )
    log = tmp_path / "balance.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [VIGIL, "balance", "-c", str(cfg)],
            env=env,
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    try:
        match = wait_until(
            lambda: LINE.search(log.read_text()), 20, "balancer up", lambda: log.read_text()
        )
        url = match.group(1)

        def both_ready() -> bool:
            pids = set()
            for _ in range(6):
                try:
                    r = httpx.post(url + "/v1/completions", json={"prompt": "a"}, timeout=5)
                except httpx.HTTPError:
                    return False
                if r.status_code == 200:
                    pids.add(r.json()["pid"])
            return len(pids) == 2

        wait_until(both_ready, 20, "both replicas served")
        servers[0].kill()
        servers[0].wait()
        time.sleep(0.1)
        statuses = [httpx.get(url + "/healthz", timeout=5).status_code for _ in range(20)]
        assert statuses == [200] * 20
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        for server in servers:
            server.kill()
            server.wait()
    assert proc.returncode == 0, log.read_text()


def test_vigil_balance_needs_fixed_ports(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "vigil.yaml").write_text(
        yaml.safe_dump({"services": [{"name": "llm", "command": "x", "balancer": {}}]})
    )
    result = cli("balance", "-c", "vigil.yaml")
    assert result.returncode == 2
    # the line of services[0], which has no base_port (it named no file or line)
    assert result.stderr.startswith(
        "vigil balance: vigil.yaml:2: services[0].base_port: `vigil balance` needs fixed replica "
        "ports"
    ), result.stderr


def test_vigil_balance_refuses_a_service_on_a_node_without_an_address_at_its_line(
    cli: Cli, tmp_path: Path
) -> None:
    # a node named alone was 127.0.0.1: the balancer proxied to this host for a node elsewhere
    (tmp_path / "vigil.yaml").write_text(
        "nodes:\n"
        "  - name: gpu-1\n"
        "services:\n"
        "  - name: llm\n"
        "    command: x\n"
        "    node: gpu-1\n"
        "    base_port: 9000\n"
        "    balancer: {}\n"
    )
    result = cli("balance", "-c", "vigil.yaml")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "vigil balance: vigil.yaml:6: services[0].node: node 'gpu-1' has no address, and "
        "`vigil balance` must know where its replicas listen: set nodes[0].address (127.0.0.1 "
        "for this host)"
    ), result.stderr


def test_vigil_balance_on_a_port_in_use_exits_2_naming_the_service(
    cli: Cli, tmp_path: Path
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        svc = {"name": "llm", "command": "x", "base_port": 9000, "balancer": {"port": port}}
        text = yaml.safe_dump({"services": [svc]})
        (tmp_path / "vigil.yaml").write_text(text)
        line = 1 + next(
            i for i, row in enumerate(text.splitlines()) if row.strip().startswith("port: ")
        )

        result = cli("balance", "-c", "vigil.yaml")

    assert result.returncode == 2
    assert result.stderr.startswith(
        f"vigil balance: vigil.yaml:{line}: services[0].balancer.port: cannot listen on "
        f"127.0.0.1:{port} for llm's balancer: Address already in use;"
    ), result.stderr
    assert "Traceback" not in result.stderr

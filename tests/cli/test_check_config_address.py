"""`vigil check-config` warns, at the node's line, about a node declared without an address
that a balanced service or placement needs (on main it said nothing: `vigil balance` refused
the service, and the node took no placement until its agent reported)."""

from __future__ import annotations

from .conftest import Cli

CONFIG = """\
nodes:
  - name: local
  - name: gpu-1
    gpus: 2
  - name: gpu-2
  - name: gpu-3
  - name: gpu-4
    address: 10.0.0.4
    gpus: 8
services:
  - name: llm
    command: ["sleep", "60"]
    node: gpu-2
    base_port: 9100
    balancer: {policy: round_robin}
"""


def test_check_config_warns_of_nodes_without_an_address_that_are_needed(cli: Cli) -> None:
    (cli.cwd / "vigil.yaml").write_text(CONFIG)

    result = cli("check-config", "-c", "vigil.yaml")

    assert result.returncode == 0, result.stderr  # a warning, not an error: it is valid
    assert result.stdout.startswith("vigil.yaml: ok: 5 node(s), 1 service(s)")
    lines = result.stderr.splitlines()
    assert lines == [
        "vigil.yaml:3: warning: nodes[1].address: node 'gpu-1' has no address: it offers "
        "gpus: 2 for placement but takes none until its agent's heartbeats say where it is; "
        "run `vigil agent --name gpu-1` there, or set the address (127.0.0.1 for this host)",
        "vigil.yaml:5: warning: nodes[2].address: node 'gpu-2' has no address, and services[0] "
        "(llm) is balanced on it: `vigil balance` refuses it (it must know where the replicas "
        "listen), `vigil up` learns it from the node's agent; set the address (127.0.0.1 for "
        "this host)",
    ], result.stderr  # gpu-3 (needed by nothing) and gpu-4 (has one): no warning

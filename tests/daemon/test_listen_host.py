"""An address that cannot be listened on because of its host (a name that does not resolve,
an address of another machine) is refused naming the host setting and its fix, not the port
with 'free it or choose another port' (real sockets)."""

from __future__ import annotations

import socket

import pytest
from prometheus_client import CollectorRegistry

from vigil.daemon._balancing import Balancers
from vigil.daemon._listen import bind_api, start_balancers
from vigil.errors import ConfigError
from vigil.settings import Service

HOSTS = ["256.1.1.1", "no-such-host.invalid", "192.0.2.1"]  # bad, unknown, not this machine's


@pytest.mark.parametrize("host", HOSTS)
def test_an_api_host_that_cannot_be_listened_on_is_named(host: str) -> None:
    with pytest.raises(ConfigError) as caught:
        bind_api(socket.socket(), host, 0)
    [problem] = caught.value.problems
    assert problem.startswith(f"api.host: cannot listen on {host}:0 for the API: "), problem
    assert problem.endswith(
        ": use an address of this machine (127.0.0.1 for local clients only, 0.0.0.0 for all)"
    ), problem


@pytest.mark.parametrize("host", HOSTS)
async def test_a_balancer_host_that_cannot_be_listened_on_is_named(host: str) -> None:
    services = [
        Service.model_validate({"name": "a", "command": "x", "balancer": {"host": host, "port": 0}})
    ]
    balancers = Balancers(services, CollectorRegistry())
    with pytest.raises(ConfigError) as caught:
        await start_balancers(balancers, services)
    [problem] = caught.value.problems
    assert problem.startswith(
        f"services[0].balancer.host: cannot listen on {host}:0 for a's balancer: "
    ), problem
    assert problem.endswith(
        ": use an address of this machine (127.0.0.1 for local clients only, 0.0.0.0 for all)"
    ), problem

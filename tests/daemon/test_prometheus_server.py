"""Against a REAL Prometheus server: it scrapes a real exporter, Vigil runs PromQL on it as a
source, and Vigil scrapes Prometheus' own ``/metrics``; a bad query is reported, the rest works.

Needs the ``prometheus`` binary (Debian's package: ``apt-get install prometheus``; ``.ci/run``
installs it). Without it the tests are skipped, saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from vigil.backends import free_port

from ._support import eventually, tagged_env
from .conftest import StartController

PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="the prometheus binary is absent: `apt-get install prometheus` (.ci/run does)",
)


@pytest.fixture
def exporter() -> Iterator[int]:
    """A real exporter (prometheus_client's HTTP server) with one GPU temperature gauge."""
    registry = CollectorRegistry()
    Gauge("gpu_temp_celsius", "GPU temperature", ["gpu"], registry=registry).labels("0").set(71)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield port
    server.shutdown()
    thread.join()


@pytest.fixture
def prometheus(tmp_path: Path, tag: str, exporter: int) -> Iterator[str]:
    """A Prometheus server scraping the exporter every second; its base URL."""
    assert PROMETHEUS is not None
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: exporter\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{exporter}']\n"
    )
    with (tmp_path / "prometheus.log").open("ab") as log:
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=tagged_env(tag),
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def has_scraped(server: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                server + "/api/v1/query", params={"query": "gpu_temp_celsius"}, timeout=2
            )
        return bool(answer.json()["data"]["result"])
    except (httpx.HTTPError, ValueError, KeyError):
        return False


async def test_promql_on_a_real_prometheus_is_a_source(
    prometheus: str, start_controller: StartController, tmp_path: Path
) -> None:
    await eventually(
        lambda: has_scraped(prometheus),
        60,
        "Prometheus scraping the exporter",
        state=lambda: (tmp_path / "prometheus.log").read_text()[-2000:],
    )
    controller = await start_controller(
        {
            "nodes": [{"name": "local"}, {"name": "gpu-01"}],
            "metrics": {
                "promql": [
                    {"name": "bad", "server": prometheus, "query": "rate(", "interval": 0.2},
                    {
                        "name": "prom.gpu_temp",
                        "server": prometheus,
                        "query": "max by (job, gpu) (gpu_temp_celsius)",
                        "interval": 0.2,
                        "labels": {"node": "gpu-01"},
                    },
                ],
                "scrape": [{"name": "prometheus", "url": prometheus + "/metrics", "interval": 0.2}],
            },
        }
    )
    await eventually(
        lambda: controller.series.match("prom.gpu_temp"), 30, "the PromQL result stored"
    )
    (key,) = controller.series.match("prom.gpu_temp")
    assert dict(key.labels) == {"gpu": "0", "job": "exporter", "node": "gpu-01"}
    assert controller.series.query("prom.gpu_temp")[-1][1] == 71.0
    await eventually(
        lambda: controller.series.match("prometheus_build_info"), 30, "Prometheus scraped"
    )
    (build,) = controller.series.match("prometheus_build_info")
    assert dict(build.labels)["job"] == "prometheus"
    (bad,) = [s for s in controller.sources if s.source.name == "bad"]
    assert bad.failing is not None
    assert bad.failing.startswith("query 'rate(' on http://127.0.0.1:")
    assert "Prometheus answered bad_data" in bad.failing

"""The dashboard at fleet scale in a real browser: 1,000 nodes on a real ``vigil up``.

Heartbeats for 1,000 nodes are posted from a thread of this test (an admin token may post for
any node); 20 of them stop, go Suspect and then Down. Headless chromium (tests/daemon/_browser.py)
must then show those problem nodes first, and the others only as a count, not as rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ._browser import Browser, chromium, render
from ._support import VigilUp, api, wait_until, write_config
from .conftest import ADMIN, API_TOKENS, VIEWER

pytestmark = pytest.mark.slow

StartUp = Callable[[Path], VigilUp]
NODES = 1000
STOPPED = 20
BEAT = 5.0
"""Heartbeat interval (s): 1,000 nodes at 0.2 posts/s each is what this shared machine takes
beside a controller and a browser."""


def beat(url: str, alive: list[bool], stop: threading.Event) -> None:
    """Every node's heartbeat every BEAT s, while ``alive[i]``, until ``stop``."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    seq = 0
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        while not stop.is_set():
            began = time.monotonic()
            for i in range(NODES):
                if alive[i] and not stop.is_set():
                    http.post("/api/v1/heartbeats", json={"node": f"n{i:04d}", "seq": seq})
            seq += 1
            stop.wait(max(0.0, began + BEAT - time.monotonic()))


def counts(url: str) -> dict[str, int]:
    with api(url, VIEWER) as http:
        return dict(http.get("/api/v1/overview").json()["nodes"]["counts"])


def test_at_1000_nodes_the_page_lists_the_problem_nodes_and_counts_the_rest(
    tmp_path: Path, vigil_up: StartUp
) -> None:
    chromium()
    config = write_config(
        tmp_path / "vigil.yaml",
        {
            "data_dir": "data",
            "api": {"host": "127.0.0.1", "port": 0, "tokens": API_TOKENS},
            "heartbeat": {"interval": BEAT, "acceptable_pause": BEAT},
            # remote nodes (10.9.x.y): at the default 127.0.0.1 each would be the controller's
            # own host, listed up before its first heartbeat
            "nodes": [
                {"name": f"n{i:04d}", "address": f"10.9.{i // 250}.{i % 250 + 1}"}
                for i in range(NODES)
            ],
        },
    )
    url = vigil_up(config).wait_up()
    alive = [True] * NODES
    stop = threading.Event()
    beating = threading.Thread(target=beat, args=(url, alive, stop), daemon=True)
    beating.start()
    try:
        wait_until(lambda: counts(url)["up"] == NODES, 120, "every node up", lambda: counts(url))
        stopped = [f"n{i:04d}" for i in range(7, NODES, NODES // STOPPED)]
        for name in stopped:
            alive[int(name[1:])] = False
        wait_until(
            lambda: counts(url)["down"] == STOPPED,
            120,
            "the stopped nodes down",
            lambda: counts(url),
        )

        dom = render(f"{url}/ui/#token={VIEWER}", tmp_path / "profile")
        listed = every_node_listed(url, tmp_path / "profile2")
    finally:
        stop.set()
        beating.join(timeout=60)

    rows = dom.rows["nodes"][1:]  # after the header
    assert sorted(r[0] for r in rows) == stopped, rows  # the problems, and nothing else
    assert {r[1] for r in rows} == {"down"}
    text = " ".join(" ".join(dom.text).split())
    up = NODES - STOPPED
    assert f"{NODES} nodes: {STOPPED} down, 0 suspect, {up} up, 0 unknown" in text, text
    assert f"{up} more not listed (no problem)" in text, text
    assert "nodes-all" not in dom.hidden  # the rest, on demand
    # 'list every node': pages of 100, worst first, then the next page
    first, second = listed
    assert [r[1] for r in first[:STOPPED]] == ["down"] * STOPPED and len(first) == 100
    assert {r[1] for r in first[STOPPED:]} == {"up"}
    assert len(second) == 100 and not {r[0] for r in first} & {r[0] for r in second}


ROWS = (
    "[...document.querySelectorAll('#nodes tbody tr')]"
    ".map(r => [...r.cells].map(c => c.textContent))"
)


def every_node_listed(url: str, profile: Path) -> tuple[list[list[str]], list[list[str]]]:
    """The node rows after 'list every node', then after 'next', in a real chromium."""
    browser = Browser(profile)
    try:
        browser.open(f"{url}/ui/#token={VIEWER}")
        shown = "document.getElementById('nodes-all')?.hidden === false"
        wait_until(lambda: browser.evaluate(shown), 30, "the 'list every node' button")
        browser.evaluate("document.getElementById('nodes-all').click()")
        wait_until(lambda: len(browser.evaluate(ROWS)) == 100, 30, "the first 100 nodes")
        first = browser.evaluate(ROWS)
        browser.evaluate("document.getElementById('nodes-next').click()")
        wait_until(lambda: browser.evaluate(ROWS)[0][0] != first[0][0], 30, "the next page")
        return first, browser.evaluate(ROWS)
    finally:
        browser.close()

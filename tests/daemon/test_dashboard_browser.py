"""The dashboard in a real browser: headless chromium against a real ``vigil up``.

Chromium runs the page's script with virtual time (``--virtual-time-budget``: timers run fast,
fetches complete) and prints the DOM it built, which the tests read with the standard HTML
parser; the paste-a-token form is filled in through the DevTools protocol (tests/daemon/
_browser.py). Skipped with the reason when chromium is absent, failed under CI (``CI=true``),
as the PostgreSQL tests are (tests/_postgres.py).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ._browser import Browser, Dom, chromium, render
from ._support import VigilUp, api, service, tagged_env, wait_until, write_config
from .conftest import API_TOKENS, OPERATOR, VIEWER

pytestmark = pytest.mark.slow

StartUp = Callable[[Path], VigilUp]
AGENT = "agent-local-" + secrets.token_urlsafe(16)
EVIL = '<img src=x onerror="document.title=1">&amp; <b>bold</b>'
"""An operator's reason full of markup: the page must show it as text."""


def row(dom: Dom, table: str, first: str) -> list[str]:
    found = [r for r in dom.rows.get(table, []) if r and r[0] == first]
    assert found, f"no row {first!r} in table {table!r}: {dom.rows.get(table)}"
    return found[0]


def ready_pids(url: str, count: int, token: str | None = VIEWER) -> dict[str, int] | None:
    """``{replica id: pid}`` once ``count`` replicas run and are ready (no token: open API)."""
    if token is None:
        listed = httpx.get(f"{url}/api/v1/replicas", timeout=10).json()
    else:
        with api(url, token) as http:
            listed = http.get("/api/v1/replicas").json()
    ok = {r["id"]: r["pid"] for r in listed if r["state"] == "running" and r["ready"] == "healthy"}
    return ok if len(ok) == count else None


def config(
    tmp_path: Path, tag: str, replicas: int, *, shadow: bool = False, tokens: bool = True
) -> Path:
    """``llm`` behind a balancer, an agent token for node ``local``; with ``shadow``, a
    one-replica service in dry-run too."""
    balancer = {"policy": "round_robin", "slow_start": 0}
    services = [service(tag, replicas=replicas, balancer=balancer)]
    if shadow:
        services.append(service(tag, replicas=1, name="shadow", remediation={"dry_run": True}))
    return write_config(
        tmp_path / "vigil.yaml",
        {
            "data_dir": "data",
            "api": {"host": "127.0.0.1", "port": 0, "tokens": API_TOKENS if tokens else []},
            # a pause of a second on this shared machine must not make the node Suspect
            "heartbeat": {"interval": 0.3, "acceptable_pause": 2.0},
            "agents": [{"node": "local", "token": AGENT}],
            "services": services,
        },
    )


def start_agent(url: str, tag: str, log: Path) -> None:
    """``vigil agent`` for node ``local`` (killed at teardown by its tag)."""
    argv = [sys.executable, "-m", "vigil", "agent", "--controller", url, "--name", "local"]
    with log.open("ab") as out:
        subprocess.Popen(
            [*argv, "--token", AGENT, "--interval", "0.3"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=tagged_env(tag),
            start_new_session=True,
        )


def node_measured(url: str) -> bool:
    with api(url, VIEWER) as http:
        nodes = http.get("/api/v1/nodes").json()
        latest = [
            http.get("/api/v1/series/latest", params={"name": name}).json()
            for name in ("host.cpu.used_pct", "host.mem.used_pct")
        ]
    up = [n for n in nodes if n["name"] == "local" and n["status"] == "up"]
    return bool(up) and all(any(r["labels"].get("node") == "local" for r in rs) for rs in latest)


def actions(url: str) -> list[dict]:
    with api(url, VIEWER) as http:
        return http.get("/api/v1/actions").json()["items"]


def test_the_dashboard_shows_replicas_an_incident_and_reasons_as_text(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    chromium()
    up = vigil_up(config(tmp_path, tag, replicas=2, shadow=True))
    url = up.wait_up()
    start_agent(url, tag, tmp_path / "agent.log")
    pids = wait_until(lambda: ready_pids(url, 3), 30, "the three replicas ready")
    with api(url, OPERATOR) as http:
        answer = http.post("/api/v1/replicas/llm/1/restart", json={"reason": EVIL})
        assert answer.status_code == 202, answer.text
    os.kill(pids["llm/0"], signal.SIGKILL)

    def healed() -> dict[str, int] | None:
        now = ready_pids(url, 3)
        return now if now and now["llm/0"] != pids["llm/0"] else None

    after = wait_until(healed, 30, "llm/0 restarted after kill -9")
    os.kill(pids["shadow/0"], signal.SIGKILL)  # dry-run: the guard records, nothing restarts
    wait_until(
        lambda: [a for a in actions(url) if a["kind"] == "restart.dry_run"],
        30,
        "the dry-run decision recorded",
        lambda: actions(url),
    )
    with api(url, VIEWER) as http:
        incidents = http.get("/api/v1/incidents", params={"subject": "replica:llm/0"}).json()
    assert incidents["items"], "no incident recorded for the kill -9"

    wait_until(lambda: node_measured(url), 30, "node local up with CPU and memory samples")

    dom = render(f"{url}/ui/#token={VIEWER}", tmp_path / "profile")

    assert "main" not in dom.hidden and "login" in dom.hidden, dom.rows
    node = row(dom, "nodes", "local")
    assert node[1] == "up" and node[2].endswith("s ago"), node
    assert 0 <= float(node[3]) <= 100 and 0 < float(node[4]) <= 100, node  # CPU %, memory %
    assert node[5] == "—", node  # no GPU on this machine: shown as unknown, not 0
    replica = row(dom, "replicas", "llm/0")
    assert replica[2:7] == ["running", str(after["llm/0"]), "healthy", "healthy", "1"]
    assert replica[7] == "ready"  # the balancer's state of the replica
    incident = row(dom, "incidents-recent", str(incidents["items"][0]["id"]))
    assert incident[1:3] == ["replica:llm/0", "process_exited"]
    assert row(dom, "replicas", "shadow/0")[2] == "exited"
    assert row(dom, "replicas", "shadow/0")[7] == "—"  # no balancer in front of it
    decisions = {(r[2], r[3]): r[4] for r in dom.rows["actions"][1:]}
    assert decisions[("restart", "replica:llm/0")] == "allowed"
    assert decisions[("restart.dry_run", "replica:shadow/0")] == "dry_run"
    assert decisions[("restart", "replica:llm/1")] == "—"  # an operator's: no guard asked
    reasons = [r[5] for r in dom.rows["actions"][1:]]
    assert EVIL in reasons, reasons  # the markup shown as text...
    assert "img" not in dom.tags and "b" not in dom.tags  # ...never parsed as elements
    assert dom.title == "Vigil"

    # the token was kept: the same browser profile opens the page without it
    again = render(f"{url}/ui/", tmp_path / "profile")
    assert "login" in again.hidden
    assert row(again, "replicas", "llm/1")[2] == "running"


def _one_replica(
    tmp_path: Path, tag: str, vigil_up: StartUp, *, ready: bool = True, tokens: bool = True
) -> str:
    """The URL of a running ``vigil up`` with one replica (Chromium there first); with
    ``ready``, once the replica is ready."""
    chromium()
    url = vigil_up(config(tmp_path, tag, replicas=1, tokens=tokens)).wait_up()
    if ready:
        token = VIEWER if tokens else None
        wait_until(lambda: ready_pids(url, 1, token=token), 30, "the replica ready")
    return url


def _form_text(page: str, tmp_path: Path, *, forget: bool = False) -> str:
    """The text of ``page`` rendered in a fresh profile, which must show the token form (and
    the fleet not); with ``forget``, the 'forget token' button too."""
    dom = render(page, tmp_path / "profile")
    assert "login" not in dom.hidden and "main" in dom.hidden
    if forget:
        assert "forget" not in dom.hidden
    return " ".join(" ".join(dom.text).split())


def test_a_wrong_token_shows_the_paste_a_token_form(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    url = _one_replica(tmp_path, tag, vigil_up, ready=False)

    text = _form_text(f"{url}/ui/#token=not-a-token", tmp_path)
    assert "Paste a token" in text
    assert "The API refused the token kept in this browser: invalid bearer token" in text

    # a link with a good token replaces the refused one kept in the browser
    again = render(f"{url}/ui/#token={VIEWER}", tmp_path / "profile")
    assert "main" not in again.hidden and "login" in again.hidden
    assert row(again, "replicas", "llm/0")[0] == "llm/0"


def test_the_form_takes_a_pasted_token_and_forget_brings_the_form_back(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    url = _one_replica(tmp_path, tag, vigil_up)
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(f"{url}/ui/")
        shown = "document.getElementById('{}')?.hidden === false"  # None before the page loads
        wait_until(lambda: browser.evaluate(shown.format("login")), 30, "the token form shown")
        why = browser.evaluate("document.getElementById('login-why').textContent")
        assert why.startswith("The API needs a token: missing bearer token"), why

        browser.evaluate(
            f"document.getElementById('login-token').value = {VIEWER!r};"
            "document.getElementById('login-form').requestSubmit()"
        )
        first_cell = "document.querySelector('table.replicas td')?.textContent"
        wait_until(lambda: browser.evaluate(first_cell) == "llm/0", 30, "the replicas shown")
        assert browser.evaluate(shown.format("main")) and not browser.evaluate(
            shown.format("login")
        )

        browser.evaluate("document.getElementById('forget').click()")
        wait_until(lambda: browser.evaluate(shown.format("login")), 30, "the form shown again")
        assert browser.evaluate("localStorage.getItem('vigil.token')") is None
    finally:
        browser.close()


def test_with_no_api_tokens_the_page_reads_without_one(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    url = _one_replica(tmp_path, tag, vigil_up, tokens=False)

    dom = render(f"{url}/ui/", tmp_path / "profile")

    assert "main" not in dom.hidden and "login" in dom.hidden
    assert row(dom, "replicas", "llm/0")[2] == "running"
    assert "forget" in dom.hidden  # no token kept, none to forget


def test_a_token_that_cannot_be_sent_shows_the_form_saying_so(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    # a token with a character past U+00FF (an ellipsis or a dash a document put in) cannot go
    # into a header: fetch threw a TypeError, the page said 'cannot read the API (retrying)'
    # every 3 s with nothing shown, neither the form nor 'forget token' to get rid of it
    url = _one_replica(tmp_path, tag, vigil_up, ready=False)

    text = _form_text(f"{url}/ui/#token={VIEWER[:8]}%E2%80%A6", tmp_path, forget=True)
    assert (
        "The token kept in this browser cannot be sent: it holds '\u2026' (character 9); "
        "paste it again" in text
    ), text


def test_a_refresh_keeps_the_rows_whose_data_did_not_change(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    # the page rebuilt every row of every table each 3 s: at 1,000 nodes most of its main
    # thread (bench/dashboard.py); a row is now rebuilt only when its data changed
    url = _one_replica(tmp_path, tag, vigil_up)
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(f"{url}/ui/#token={VIEWER}")
        first = "document.querySelector('table.replicas tbody tr td')?.textContent"
        wait_until(lambda: browser.evaluate(first) == "llm/0", 30, "the replica shown")
        wait_until(
            lambda: (
                browser.evaluate(
                    "document.querySelector('table.replicas tbody tr').children[5].textContent"
                )
                == "healthy"
            ),
            30,
            "the replica shown ready",
        )
        browser.evaluate("window.__row = document.querySelector('table.replicas tbody tr')")
        status = "document.getElementById('status').textContent"
        seen = {browser.evaluate(status)}
        wait_until(lambda: len(seen | {browser.evaluate(status)}) > 1, 30, "a refresh")
        seen.add(browser.evaluate(status))
        wait_until(lambda: len(seen | {browser.evaluate(status)}) > 2, 30, "another refresh")

        assert browser.evaluate(
            "window.__row.isConnected && "
            "document.querySelector('table.replicas tbody tr') === window.__row"
        )
    finally:
        browser.close()


def test_a_time_on_another_day_is_shown_with_its_date(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    # an alert that started three days before it reached Vigil: its incident read "detected
    # 09:00:00" next to "opened 15:35:16", as if both were this morning
    url = _one_replica(tmp_path, tag, vigil_up, ready=False)
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    alert = {
        "status": "firing",
        "labels": {"alertname": "DiskFull"},
        "annotations": {"summary": "disk full"},
        "startsAt": started.isoformat(),
    }
    with api(url, OPERATOR) as http:
        answer = http.post(
            "/api/v1/alerts/alertmanager",
            json={"status": "firing", "receiver": "vigil", "alerts": [alert]},
        )
        assert answer.status_code == 200, answer.text
    incident = answer.json()["results"][0]["incident_id"]
    dom = render(f"{url}/ui/#token={VIEWER}", tmp_path / "profile")
    cells = row(dom, "incidents-active", str(incident))
    local = datetime.fromtimestamp(started.timestamp())  # the browser's zone is this one
    assert cells[6] == local.strftime("%Y-%m-%d %H:%M:%S"), cells  # detected: with its date
    assert len(cells[5]) == 8 and cells[5].count(":") == 2, cells  # opened now: the time alone


def test_an_idle_replica_shows_a_rate_of_zero_after_its_traffic(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    # the page drew rates only from answers that changed: once the fleet was quiet (304s), an
    # idle replica's sparkline kept its last busy reading, and past 40 readings a row was not
    # redrawn at all; the cell had no figure, only the line
    url = _one_replica(tmp_path, tag, vigil_up)
    with api(url, VIEWER) as http:
        address = http.get("/api/v1/services/llm/balancer").json()["address"]
    with httpx.Client(base_url=f"http://{address}", timeout=10) as client:
        for _ in range(30):
            assert client.get("/healthz").status_code == 200
    with api(url, VIEWER) as http:
        [upstream] = http.get("/api/v1/services/llm/balancer").json()["upstreams"]
    assert upstream["requests"] >= 30, upstream
    # 150 s of the page's time: 50 refreshes, past the 40 the sparkline holds
    dom = render(f"{url}/ui/#token={VIEWER}", tmp_path / "profile", budget_ms=150_000)
    rate = row(dom, "replicas", "llm/0")[10]
    assert rate.startswith("0.0requests/s, last 40 readings; now 0.0"), rate


def test_the_controllers_own_host_without_an_agent_shows_up_and_seen(
    tmp_path: Path, tag: str, vigil_up: StartUp
) -> None:
    # The README says the local machine needs no agent, yet with none its node read
    # "unknown / never / —" on the dashboard while its replicas ran (placement counted it up).
    chromium()
    url = vigil_up(config(tmp_path, tag, replicas=1)).wait_up()
    wait_until(lambda: ready_pids(url, 1), 30, "the replica ready")
    dom = render(f"{url}/ui/#token={VIEWER}", tmp_path / "profile")
    node = row(dom, "nodes", "local")
    assert node[1] == "up" and node[2].endswith("s ago"), node

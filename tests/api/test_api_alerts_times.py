"""An Alertmanager ``startsAt`` / ``endsAt`` far from Vigil's clock (year 2, year 2200) is
clamped to a sane time, and the evidence says so. They used to become the incident's
``detected_at`` / ``resolved_at`` as given: 62 billion seconds ago, or centuries ahead (real
app, real SQLite store and incident book, the fake control plane's clock at ``NOW``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from apifakes import NOW
from test_api_alerts import alert, control, incidents, payload, post

from vigil.api._alerts_map import MAX_AGE, MAX_AHEAD, clamp_start

__all__ = ["control"]  # the fixture, used by the ``client`` of this directory's conftest


async def incident_of(client: httpx.AsyncClient, subject: str) -> dict[str, Any]:
    [incident] = await incidents(client, subject)
    return incident


@pytest.mark.parametrize(
    ("starts", "detected", "said"),
    [
        ("0002-01-01T00:00:00Z", NOW - MAX_AGE, "in the past"),
        ("2200-01-01T00:00:00Z", NOW, "ahead of Vigil's clock"),
    ],
)
async def test_a_start_far_from_now_is_clamped_and_the_evidence_says_so(
    client: httpx.AsyncClient, starts: str, detected: float, said: str
) -> None:
    await post(client, payload(alert("Odd", fingerprint="o1", job="web", starts=starts)))
    incident = await incident_of(client, "service:web")
    assert incident["detected_at"] == pytest.approx(detected)
    [finding] = incident["evidence"]["findings"]
    assert said in finding["starts_at_clamped"]
    assert finding["starts_at_reported"] < NOW - MAX_AGE or finding["starts_at_reported"] > NOW

    again = await post(client, payload(alert("Odd", fingerprint="o1", job="web", starts=starts)))
    assert again["repeats"] == 1  # a repeat of the same alert is still one


async def test_a_start_within_the_bounds_is_kept_as_given(client: httpx.AsyncClient) -> None:
    await post(client, payload(alert("Fine", fingerprint="f1", job="web")))
    incident = await incident_of(client, "service:web")
    assert incident["detected_at"] == 1_699_995_600.0  # 2023-11-14T21:00:00Z, as sent
    assert "starts_at_clamped" not in incident["evidence"]["findings"][0]


async def test_an_end_in_the_future_resolves_the_incident_now(client: httpx.AsyncClient) -> None:
    await post(client, payload(alert("Odd", fingerprint="o2", job="web")))
    far = "2200-01-01T00:00:00Z"
    ended = alert("Odd", fingerprint="o2", job="web", status="resolved", ends=far)
    assert (await post(client, payload(ended)))["resolved"] == 1
    incident = await incident_of(client, "service:web")
    assert incident["resolved_at"] == NOW


@pytest.mark.parametrize(
    ("starts_at", "kept"),
    [
        (NOW, NOW),
        (NOW + MAX_AHEAD, NOW + MAX_AHEAD),  # clock skew tolerated
        (NOW + MAX_AHEAD + 1, NOW),
        (NOW - MAX_AGE, NOW - MAX_AGE),
        (NOW - MAX_AGE - 1, NOW - MAX_AGE),
    ],
)
def test_clamp_start_keeps_sane_times_and_bounds_the_others(starts_at: float, kept: float) -> None:
    at, reason = clamp_start(starts_at, NOW)
    assert at == kept
    assert (reason is None) is (at == starts_at)

"""The Alertmanager receiver's subjects fit the store, SQLite and PostgreSQL, through the real app.

An alert about nothing the fleet knows is its own subject, ``alert:<alertname>/<fingerprint>``.
Alertmanager puts no bound on an alert's name, but every ``subject`` column is 255 characters:
on PostgreSQL a longer one failed its whole chunk of alerts (rolled back, the other alerts of
the chunk with it), and Alertmanager's retries failed the same way for ever.
"""

from __future__ import annotations

from test_api_alerts import alert, incidents, payload, post
from test_api_alerts_restart import controller

LONG = "Disk" + "VeryLong" * 60  # 484 characters: Alertmanager takes it as it is


async def test_an_alert_with_a_very_long_name_is_raised_with_the_rest_of_its_chunk(
    db_url: str,
) -> None:
    async with controller(db_url) as http:
        body = payload(alert(LONG, fingerprint="long1"), alert("GpuHot", fingerprint="hot1"))
        answer = await post(http, body)
        assert [r["outcome"] for r in answer["results"]] == ["raised", "raised"]
        subject = answer["results"][0]["subject"]
        assert len(subject) <= 255
        assert subject.startswith("alert:DiskVeryLong") and subject.endswith("/long1")
        [incident] = await incidents(http, subject)
        assert incident["state"] == "open"
        # its repeat is a repeat, and its resolution resolves it (the same subject each time)
        again = await post(http, payload(alert(LONG, fingerprint="long1")))
        assert again["results"][0]["outcome"] == "repeat"
        done = await post(
            http,
            payload(
                alert(LONG, fingerprint="long1", status="resolved", ends="2026-11-30T05:00:00Z")
            ),
        )
        assert done["results"][0]["outcome"] == "resolved"


async def test_two_long_names_that_differ_only_at_their_end_stay_two_subjects(db_url: str) -> None:
    async with controller(db_url) as http:
        body = payload(alert(LONG + "A", fingerprint="fa"), alert(LONG + "B", fingerprint="fb"))
        answer = await post(http, body)
        subjects = {r["subject"] for r in answer["results"]}
        assert len(subjects) == 2

"""An alert that fired before a restart that changed the fleet resolves the incident it opened.

An alert's subject comes from its labels and the fleet of the moment (``instance="node-c:9100"``
is ``node:node-c`` once node-c is configured, ``alert:NodeDown/<fingerprint>`` before). The
receiver keeps each firing alert's subject in the store so that a restart forgets none; but its
resolution was sent to the subject computed from the fleet of the resolution: after a restart
that added (or removed) the node, the incident the alert had opened stayed open for ever.
SQLite and PostgreSQL, through the real app, store and incident book.
"""

from __future__ import annotations

from test_api_alerts import alert, incidents, payload, post
from test_api_alerts_restart import controller

RESOLVED = {"status": "resolved", "ends": "2026-11-30T05:00:00Z"}
DOWN = {"name": "NodeDown", "fingerprint": "fc", "instance": "node-c:9100"}


async def test_a_node_added_while_its_alert_fired_gets_the_alert_resolved(db_url: str) -> None:
    async with controller(db_url, ["node-a"]) as first:
        fired = await post(first, payload(alert(**DOWN)))
        subject = fired["results"][0]["subject"]
        assert subject == "alert:NodeDown/fc"
    async with controller(db_url, ["node-a", "node-c"]) as again:  # node-c configured since
        done = await post(again, payload(alert(**DOWN, **RESOLVED)))
        assert done["results"][0]["outcome"] == "resolved"
        [incident] = await incidents(again, subject)
        assert incident["state"] == "resolved"


async def test_a_node_removed_while_its_alert_fired_gets_the_alert_resolved(db_url: str) -> None:
    async with controller(db_url, ["node-a", "node-c"]) as first:
        fired = await post(first, payload(alert(**DOWN)))
        assert fired["results"][0]["subject"] == "node:node-c"
    async with controller(db_url, ["node-a"]) as again:  # node-c decommissioned
        done = await post(again, payload(alert(**DOWN, **RESOLVED)))
        assert done["results"][0]["outcome"] == "resolved"
        [incident] = await incidents(again, "node:node-c")
        assert incident["state"] == "resolved"


async def test_a_repeat_after_the_fleet_changed_moves_the_alert_to_its_new_subject(
    db_url: str,
) -> None:
    async with controller(db_url, ["node-a"]) as first:
        assert (await post(first, payload(alert(**DOWN))))["raised"] == 1
    async with controller(db_url, ["node-a", "node-c"]) as again:
        repeat = await post(again, payload(alert(**DOWN)))  # its repeat_interval
        assert repeat["results"][0]["subject"] == "node:node-c"
        # the incident it opened before is not left open with nothing firing on it
        [old] = await incidents(again, "alert:NodeDown/fc")
        assert old["state"] == "resolved"
        done = await post(again, payload(alert(**DOWN, **RESOLVED)))
        assert done["results"][0]["outcome"] == "resolved"
        [new] = await incidents(again, "node:node-c")
        assert new["state"] == "resolved"

"""An event bus that delivers as the real one does and keeps every event published, in order.

Used by tests/daemon/test_log_incidents_batch.py and tests/remediation/test_incident_batch.py.
"""

from __future__ import annotations

from vigil.bus import EventBus
from vigil.model import Event


class Recording(EventBus):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        super().publish(event)
        self.events.append(event)

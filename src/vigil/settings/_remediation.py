"""The ``remediation:`` section of the settings: the guards in front of Vigil's automatic healing
(blast radius, rate limit, maintenance windows, dry-run, escalation of replicas that never become
live), globally and per service (``services[i].remediation``, whose fields override the global
ones and whose windows add to them).

Part of the root :class:`vigil.settings._models.Settings` and of
:class:`vigil.settings._models.Service`; read by :mod:`vigil.remediation._gate`, which resolves a
service's effective guards with :func:`effective_remediation`. Operator commands are never held
back by these guards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from pydantic import Field, field_validator, model_validator

from vigil.settings._types import Seconds, _Section

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
CRON_PROBE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
"""A fixed moment to ask a cron expression for its next date (validation reads no clock)."""


def _check_unavailable(value: int | str) -> int | str:
    if isinstance(value, int):
        if value < 1:
            raise ValueError(
                f"must be a count >= 1 or a percentage in (0%, 100%] like '25%' (got {value})"
            )
        return value
    match = _PERCENT.match(value)
    if not match or not 0 < Fraction(match.group(1)) <= 100:
        raise ValueError(
            f"must be a count >= 1 or a percentage in (0%, 100%] like '25%' (got {value!r})"
        )
    return value


class MaintenanceWindow(_Section):
    """A time when automatic actions are recorded as suppressed instead of done: a recurring one
    (``cron`` + ``duration``, in ``timezone``) or a single one (``start`` + ``end``)."""

    name: str = ""
    """Shown in the reason of every action the window suppressed."""
    cron: str | None = None
    """When a window opens, as a five-field cron expression (``0 2 * * 6``: Saturdays 02:00)."""
    duration: Seconds | None = None
    """How long a window opened by ``cron`` lasts (``2h``)."""
    timezone: str = "UTC"
    """The IANA time zone the cron expression is read in (``Europe/Berlin``)."""
    start: datetime | None = None
    """A single window's start (ISO 8601; without an offset it is read in ``timezone``)."""
    end: datetime | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name like 'UTC' or 'Europe/Berlin'"
            ) from exc
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str | None) -> str | None:
        """Checked here, at the cron's own line (windows[0].cron), not the window's."""
        if cron is None:
            return cron
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ValueError(
                f"cron {cron!r} is not a five-field cron expression "
                "(minute hour day-of-month month day-of-week, e.g. '0 2 * * 6')"
            )
        try:  # valid but never due (February 30) fails only when asked for a date
            croniter(cron, CRON_PROBE_FROM).get_next(datetime)
        except CroniterError as exc:
            raise ValueError(
                f"cron {cron!r} never matches a date (like February 30): fix the "
                "day and month fields"
            ) from exc
        return cron

    @field_validator("duration")
    @classmethod
    def _positive(cls, duration: float | None) -> float | None:
        if duration is not None and duration <= 0:
            raise ValueError("duration must be > 0")
        return duration

    @model_validator(mode="after")
    def _one_shape(self) -> MaintenanceWindow:
        recurring = self.cron is not None or self.duration is not None
        single = self.start is not None or self.end is not None
        if recurring == single:
            raise ValueError(
                "give either cron and duration (a recurring window) or start and end (one window)"
            )
        if recurring:
            if self.cron is None or self.duration is None:
                raise ValueError("a recurring window needs both cron and duration")
        else:
            if self.start is None or self.end is None:
                raise ValueError("a single window needs both start and end")
            if self.start_at() >= self.end_at():
                raise ValueError(f"end must be after start (got {self.start} .. {self.end})")
        return self

    def start_at(self) -> float:
        assert self.start is not None
        return _epoch(self.start, self.timezone)

    def end_at(self) -> float:
        assert self.end is not None
        return _epoch(self.end, self.timezone)


def _epoch(moment: datetime, zone: str) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.timestamp()


class RateLimit(_Section):
    actions: int = Field(default=30, ge=1)
    """At most this many automatic actions per service within ``window``; later ones wait."""
    window: Seconds = Field(default=600.0, gt=0)


class RemediationSettings(_Section):
    """The global guards (``remediation:``); every service gets them unless it overrides them."""

    dry_run: bool = False
    """Decide and record what would be done (audited with ``dry_run``), but do nothing."""
    max_unavailable: int | str = "25%"
    """Per service, at most this many replicas (a count, or a percentage of the replicas rounded
    up, at least 1) may be down at once because of Vigil's own restarts; the rest wait."""
    rate_limit: RateLimit = RateLimit()
    escalate_after: int = Field(default=3, ge=1)
    """A replica that never became live after this many restarts is escalated (a critical
    ``never_live`` finding) and not restarted again until an operator acts or the config
    changes."""
    windows: list[MaintenanceWindow] = Field(default_factory=list)
    """Maintenance windows for every service."""

    @field_validator("max_unavailable")
    @classmethod
    def _unavailable(cls, value: int | str) -> int | str:
        return _check_unavailable(value)


class ServiceRemediation(_Section):
    """A service's own guards (``services[i].remediation``): a field left out takes the global
    value; ``windows`` add to the global windows."""

    dry_run: bool | None = None
    max_unavailable: int | str | None = None
    rate_limit: RateLimit | None = None
    """Its ``actions`` or ``window`` (or both); one left out is the global one."""
    escalate_after: int | None = Field(default=None, ge=1)
    windows: list[MaintenanceWindow] = Field(default_factory=list)

    @field_validator("max_unavailable")
    @classmethod
    def _unavailable(cls, value: int | str | None) -> int | str | None:
        return None if value is None else _check_unavailable(value)


@dataclass(frozen=True)
class EffectiveRemediation:
    """The guards in force for one service: the global section with the service's overrides."""

    dry_run: bool
    max_unavailable: int | str
    rate_actions: int
    rate_window: float
    escalate_after: int
    windows: tuple[MaintenanceWindow, ...]


def effective_remediation(
    glob: RemediationSettings, own: ServiceRemediation | None
) -> EffectiveRemediation:
    own = own or ServiceRemediation()
    rate = glob.rate_limit
    if own.rate_limit is not None:  # the fields it gives; one left out is the global one's
        given = own.rate_limit.model_fields_set
        rate = rate.model_copy(update={k: getattr(own.rate_limit, k) for k in given})
    return EffectiveRemediation(
        dry_run=glob.dry_run if own.dry_run is None else own.dry_run,
        max_unavailable=(
            glob.max_unavailable if own.max_unavailable is None else own.max_unavailable
        ),
        rate_actions=rate.actions,
        rate_window=rate.window,
        escalate_after=glob.escalate_after if own.escalate_after is None else own.escalate_after,
        windows=(*glob.windows, *own.windows),
    )

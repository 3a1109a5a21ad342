"""The one error hierarchy of Vigil.

Every error Vigil raises on purpose is a :class:`VigilError`. Adapters translate library errors at
the edge (``raise BackendError(...) from exc``) so callers never see a third-party exception type.
Retry semantics are types: a :class:`TransientActionError` may be retried after ``delay`` seconds,
a :class:`PermanentActionError` must not be.

::

    VigilError
    ├── ConfigError                 bad vigil.yaml / settings: carries file, line, field
    ├── StoreError                  the database failed or holds something unexpected
    │   ├── StoreBusy               refused for now (locked, a conflict): the call may succeed later
    │   ├── NotLeaderError          a fenced write of a controller that no longer leads the store
    │   └── NotFoundError           (also a LookupError) no such node/service/replica/incident
    ├── BackendError                a backend (local processes, ssh, k8s...) failed
    ├── ActionError                 a remediation action failed
    │   ├── TransientActionError    retry after ``delay`` seconds
    │   └── PermanentActionError    do not retry
    ├── GuardRefused                a guard (cooldown, crash-loop...) refused an action
    ├── AuthError                   missing/invalid token (401)
    │   └── ForbiddenError          valid token, role too low (403)
    └── InputError                  bad user input other than config (CSV, CLI args, payloads)
"""

from __future__ import annotations


class VigilError(Exception):
    """Base of every error Vigil raises on purpose."""


class ConfigError(VigilError):
    """A configuration problem, reported as one line ``file:line: field: problem``.

    ``problems`` holds every problem found, so ``vigil check-config`` can print them all at once.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class StoreError(VigilError):
    """The store failed or holds data it cannot read."""


class StoreBusy(StoreError):
    """The database refused a write for now: locked by another writer past the busy timeout
    (SQLite) or a serialization failure or lock timeout (PostgreSQL). The same call may succeed
    in a moment; the API answers 503 with ``Retry-After``."""


class NotLeaderError(StoreError):
    """A write of a controller that no longer leads its PostgreSQL store (another controller took
    the claim and raised the leadership epoch): refused and rolled back whole, for good. The
    controller stops acting; the message says who leads now."""


class NotFoundError(StoreError, LookupError):
    """No object with that name or id exists."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"no {kind} named {name!r}")


class BackendError(VigilError):
    """A backend (local processes, ssh, kubernetes...) failed to do what was asked."""


class ActionError(VigilError):
    """A remediation action failed."""


class TransientActionError(ActionError):
    """The action may succeed if retried after ``delay`` seconds."""

    def __init__(self, message: str, delay: float = 1.0) -> None:
        self.delay = delay
        super().__init__(message)


class PermanentActionError(ActionError):
    """The action cannot succeed; do not retry."""


class GuardRefused(VigilError):
    """A guard refused an action; ``reason`` says which guard and why."""

    def __init__(self, guard: str, reason: str) -> None:
        self.guard = guard
        self.reason = reason
        super().__init__(f"{guard}: {reason}")


class AuthError(VigilError):
    """No valid credentials were presented (HTTP 401)."""


class ForbiddenError(AuthError):
    """The credentials are valid but the role is too low (HTTP 403)."""


class InputError(VigilError):
    """Bad user input (CSV rows, CLI arguments, API payloads) with the place and the fix."""

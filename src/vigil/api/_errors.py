"""Exception handlers: every error the API returns is JSON ``{"detail": "<one line>"}``.

Installed by :func:`vigil.api.create_app`. Vigil's own errors map to statuses here, so routers just
raise them: NotFoundError 404, AuthError 401 (with ``WWW-Authenticate: Bearer``), ForbiddenError
403, GuardRefused 409, InputError 422, TransientActionError and StoreBusy 503 (with
``Retry-After``), NotLeaderError 503 (this controller is stepping down: ask the new leader), any
other VigilError 500. Request validation errors (bad query values, bodies,
malformed JSON) are 422 with one line per problem, each naming the field: ``query.limit: input
should be less than or equal to 500 (got '1000')``; several problems are joined with ``"; "``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from vigil.errors import (
    AuthError,
    ForbiddenError,
    GuardRefused,
    InputError,
    NotFoundError,
    NotLeaderError,
    StoreBusy,
    TransientActionError,
    VigilError,
)

_log = logging.getLogger(__name__)


def error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _got(value: Any) -> str:
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 80:
        return f" (got {value!r})"
    return ""


def describe_validation(errors: Sequence[Any]) -> str:
    """One line naming each bad field: ``body.seq: input should be ... (got -1)``."""
    parts: list[str] = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "cannot parse")
            at = f" at character {loc[1]}" if len(loc) > 1 else ""
            parts.append(
                f"body: malformed JSON{at}: {reason}; send a JSON object with "
                "'Content-Type: application/json'"
            )
            continue
        if loc == ["body"] and isinstance(err.get("input"), bytes):
            parts.append("body: expected a JSON object sent with 'Content-Type: application/json'")
            continue
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        msg = msg[:1].lower() + msg[1:]
        if err.get("type") != "missing" and "input" in err:
            msg += _got(err["input"])
        parts.append(f"{'.'.join(loc) or 'request'}: {msg}")
    return "; ".join(parts) or "invalid request"


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error(422, describe_validation(exc.errors()))


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return error(404, str(exc))


async def _unauthorized(_: Request, exc: Exception) -> JSONResponse:
    return error(401, str(exc), {"WWW-Authenticate": "Bearer"})


async def _forbidden(_: Request, exc: Exception) -> JSONResponse:
    return error(403, str(exc))


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GuardRefused)
    return error(409, f"refused by {exc.guard}: {exc.reason}")


async def _bad_input(_: Request, exc: Exception) -> JSONResponse:
    return error(422, str(exc))


async def _transient(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TransientActionError)
    retry = str(max(1, math.ceil(exc.delay)))
    return error(503, f"{exc}; retry in {retry}s", {"Retry-After": retry})


async def _store_busy(request: Request, exc: Exception) -> JSONResponse:
    _log.warning("%s %s: %s", request.method, request.url.path, exc)
    return error(
        503, f"the database is busy, nothing was changed: retry ({exc})", {"Retry-After": "1"}
    )


async def _not_leader(request: Request, exc: Exception) -> JSONResponse:
    _log.error("%s %s: %s", request.method, request.url.path, exc)
    return error(503, f"{exc}: nothing was changed; send it to the new leader")


async def _vigil(request: Request, exc: Exception) -> JSONResponse:
    _log.error("%s %s failed: %s", request.method, request.url.path, exc)
    return error(500, f"{type(exc).__name__}: {exc}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return error(500, "internal error: the vigil daemon's log has the traceback")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; Starlette picks the most specific class in the exception's MRO."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(AuthError, _unauthorized)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(GuardRefused, _conflict)
    app.add_exception_handler(InputError, _bad_input)
    app.add_exception_handler(TransientActionError, _transient)
    app.add_exception_handler(StoreBusy, _store_busy)
    app.add_exception_handler(NotLeaderError, _not_leader)
    app.add_exception_handler(VigilError, _vigil)
    app.add_exception_handler(Exception, _unexpected)

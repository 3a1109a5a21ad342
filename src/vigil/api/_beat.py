"""The lean path for ``POST /api/v1/heartbeats``: a pure ASGI wrapper in front of the FastAPI app.

The daemon serves ``with_lean_heartbeats(create_app(...))`` (:mod:`vigil.daemon._server`). At
fleet scale the controller answers a heartbeat (with ~50 samples) per node per second; through
FastAPI's middlewares, routing, dependency injection and request/response models a heartbeat
cost ~1.5 ms of HTTP stack before any work, most of one core at 1,000 nodes. Outside the app,
even its outer middlewares (and their wrappers around every ``send``) are skipped. This does the
same steps by hand, once each: read the body, inflate gzip (:func:`vigil.api._gzip.inflate`),
validate it straight from the bytes (one pass, no ``json.loads`` first) against :data:`BEAT`,
plain typed dicts with exactly the constraints of :class:`~vigil.api._schemas.HeartbeatIn` (no
model instance per sample: half the cost; a test holds the two to the same JSON schema), put
the samples in one :class:`~vigil.collectors.SampleBatch` (columns: no object per sample), check
the bearer token with the same function as the dependency (:func:`vigil.api._auth.reporter_for`),
then call the control plane as :func:`vigil.api._agents.post_heartbeat` does, and count the
request in the API metrics.

Anything out of the ordinary (no or non-Bearer ``Authorization``, an encoding other than gzip, a
body that does not inflate, is not JSON or fails validation, a non-JSON ``Content-Type``) is
handed, body untouched, to the regular stack, so every error keeps FastAPI's exact status, one-
line detail and order of checks; the route declared in :mod:`vigil.api._agents` still documents
the endpoint in the OpenAPI schema. Errors raised once the request is known good (401/403 for the
token, 403 for another node, 404 for an unknown node) are answered here as the app's exception
handlers answer them.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Sequence
from typing import Annotated, Any, NotRequired, cast

from fastapi import FastAPI
from pydantic import Field, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from vigil.api._auth import reporter_for
from vigil.api._context import ApiContext
from vigil.api._gzip import MAX_INFLATED, inflate, read_capped, replay, too_long
from vigil.api._metrics import ApiMetrics
from vigil.api._schemas import MAX_BATCH, Address, Info
from vigil.api._series import ERRORS_SHOWN
from vigil.api._surrogates import lone_surrogate
from vigil.collectors import Labels, SampleBatch, freeze_labels
from vigil.errors import AuthError, ForbiddenError, InputError, NotFoundError, VigilError

_log = logging.getLogger(__name__)

PATH = "/api/v1/heartbeats"


class SampleDict(TypedDict):
    """:class:`~vigil.api._schemas.SampleIn` as a plain dict (same fields, same constraints)."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_.:]*$")]
    labels: NotRequired[Annotated[dict[str, str], Field(max_length=20)]]
    value: float
    at: Annotated[float, Field(gt=0)]


class BeatDict(TypedDict):
    """:class:`~vigil.api._schemas.HeartbeatIn` as a plain dict (same fields, same constraints)."""

    node: Annotated[str, Field(min_length=1, max_length=63)]
    seq: Annotated[int, Field(ge=0)]
    info: NotRequired[Info]
    samples: NotRequired[Annotated[list[SampleDict], Field(max_length=MAX_BATCH)]]
    address: NotRequired[Annotated[Address | None, Field(default=None)]]


BEAT: TypeAdapter[BeatDict] = TypeAdapter(BeatDict)
"""Validates a heartbeat body from JSON bytes into plain dicts."""
_JSON_HEADERS = [(b"content-type", b"application/json")]


def with_lean_heartbeats(app: FastAPI) -> HeartbeatFastPath:
    """``app`` (from :func:`vigil.api.create_app`) behind the lean heartbeat path."""
    return HeartbeatFastPath(
        app, context=cast(ApiContext, app.state.vigil), metrics=app.state.api_metrics
    )


class HeartbeatFastPath:
    """Answers well-formed heartbeats itself; passes everything else to ``app`` unchanged."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        context: ApiContext,
        metrics: ApiMetrics,
        max_inflated: int = MAX_INFLATED,
    ) -> None:
        self.app = app
        self.context = context
        self.metrics = metrics
        self.max_inflated = max_inflated
        self._latency = metrics.latency.labels("POST", PATH)
        self._counts: dict[int, Any] = {}
        self._ok: dict[tuple[float, str], tuple[Message, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if too_long(dict(scope["headers"]), self.max_inflated):
            await self.app(scope, receive, send)  # the app refuses it (413) without reading it
            return
        raw = await read_capped(receive, self.max_inflated)
        if raw is None:  # a body without a length, past the bound: read no further
            start, body = _encoded(413, {"detail": f"body: more than {self.max_inflated} bytes"})
            await send(start)
            await send({"type": "http.response.body", "body": body})
            self._count(413).inc()
            return
        beat, token = self._accept(scope, raw)
        if beat is None:
            await self.app(scope, replay(raw, receive), send)
            return
        client = scope.get("client")
        status, payload, headers = self._answer(beat, token, client[0] if client else None)
        if status == 200 and not payload["samples_rejected"]:
            # the usual answer is one of a handful: encoded once, headers included
            key = (payload["interval"], payload["node_status"])
            start, body = self._ok.get(key) or self._ok.setdefault(key, _encoded(200, payload))
        else:
            start, body = _encoded(status, payload, headers)
        await send(start)
        await send({"type": "http.response.body", "body": body})
        self._count(status).inc()
        self._latency.observe(time.perf_counter() - started)

    def _accept(self, scope: Scope, raw: bytes) -> tuple[BeatDict | None, str]:
        """The validated heartbeat and bearer token, or (None, "") to let the app answer."""
        authorization = encoding = content_type = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-encoding":
                encoding = value
            elif name == b"content-type":
                content_type = value
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, ""
        if not content_type.lower().startswith(b"application/json"):  # FastAPI: 422 if absent
            return None, ""
        encoding = encoding.strip().lower()
        body = raw
        if encoding == b"gzip":
            try:
                body = inflate(raw, self.max_inflated)
            except (zlib.error, OverflowError):
                return None, ""
        elif encoding not in (b"", b"identity"):
            return None, ""
        if not body or (b"\\u" in body and lone_surrogate(body) is not None):
            return None, ""  # the app refuses a lone surrogate (vigil.api._surrogates)
        try:
            return BEAT.validate_json(body), token
        except (ValidationError, ValueError, RecursionError):  # the app says what is wrong
            return None, ""

    def _answer(
        self, beat: BeatDict, token: str, peer: str | None
    ) -> tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]:
        """Do what the FastAPI route does; errors as the app's exception handlers render them."""
        control = self.context.control
        node = beat["node"]
        try:
            reporter_for(self.context.tokens, token).check(node)
            ack = control.heartbeat(
                node, beat["seq"], beat.get("info", {}), peer=peer, address=beat.get("address")
            )
            errors: list[str] = []
            if beat.get("samples"):
                samples = node_samples(node, beat["samples"])
                errors = control.ingest_samples(node, samples)
        except ForbiddenError as exc:  # before AuthError: it is one
            return 403, {"detail": str(exc)}, []
        except AuthError as exc:
            return 401, {"detail": str(exc)}, [(b"www-authenticate", b"Bearer")]
        except NotFoundError as exc:
            return 404, {"detail": str(exc)}, []
        except InputError as exc:
            return 422, {"detail": str(exc)}, []
        except VigilError as exc:
            _log.error("POST %s failed: %s", PATH, exc)
            return 500, {"detail": f"{type(exc).__name__}: {exc}"}, []
        except Exception:
            _log.exception("POST %s crashed", PATH)
            return 500, {"detail": "internal error: the vigil daemon's log has the traceback"}, []
        answer: dict[str, Any] = {
            "interval": ack.interval,
            "node_status": str(ack.node_status),
            "samples_rejected": len(errors),
        }
        if errors:
            answer["sample_errors"] = errors[:ERRORS_SHOWN]
        return 200, answer, []

    def _count(self, status: int) -> Any:
        child = self._counts.get(status)
        if child is None:
            child = self._counts[status] = self.metrics.requests.labels("POST", PATH, str(status))
        return child


def node_samples(node: str, samples: list[SampleDict]) -> SampleBatch:
    """The samples labelled ``node=<node>``, as :func:`vigil.api._series.node_samples` makes
    them, in columns (no :class:`~vigil.collectors.Sample` each); the label tuple is built
    once per distinct label set (usually one: none) and shared."""
    bare = freeze_labels({"node": node})
    frozen: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
    names: list[str] = []
    labels_of: list[Labels] = []
    for s in samples:
        names.append(s["name"])
        extra = s.get("labels")
        if not extra:
            labels_of.append(bare)
            continue
        raw = tuple(extra.items())
        found = frozen.get(raw)
        if found is None:
            found = frozen[raw] = freeze_labels({**extra, "node": node})
        labels_of.append(found)
    return SampleBatch(names, labels_of, [s["value"] for s in samples], [s["at"] for s in samples])


def _encoded(
    status: int, payload: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[Message, bytes]:
    """The ``http.response.start`` message and the body of a JSON answer."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode()), *headers],
    }
    return start, body

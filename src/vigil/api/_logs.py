"""Log endpoints: pushes from shippers, batches from agents, templates and findings to read.

- ``POST /api/v1/logs`` (an agent token for its node, or an operator token): raw lines from any
  shipper, as JSON ``{"node", "source", "lines": [...]}`` or as ``text/plain`` with ``?node=&
  source=``; at most ``logs.push_max_bytes`` (413 beyond, and beyond :data:`MAX_PUSH_LINES`
  lines); bad bytes are repaired and counted, never refused. A text/plain body is read in
  the ``charset`` it declares (UTF-8 without one; 415 for one unknown here).
- ``POST /api/v1/logs/batches`` (agent token): templates + counts mined by ``vigil agent``.
- ``GET /api/v1/logs/templates`` (viewer): controller-wide templates with counts, first/last seen,
  an example, family and ``P(fault | template)``; sortable, paged.
- ``GET /api/v1/logs/findings`` (viewer): novelty, burst and association findings, newest first,
  by kind, since a time or of one incident, each with its template's ``P(fault | template)``.

Served by the app of :func:`vigil.api.create_app`; the work is done by the controller's
:class:`~vigil.api.LogService` (``ControlPlane.log_service()``).
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from vigil.api._auth import Agent, Credentials, Reporter, Viewer, reporter_for
from vigil.api._context import Ctx
from vigil.api._errors import describe_validation
from vigil.api._logs_service import TemplateSort
from vigil.api._schemas import BODY_RESPONSES, ERROR_RESPONSES, STORE_RESPONSES, ErrorOut, Paged
from vigil.collectors import MAX_LEVEL_CHARS, MAX_TEMPLATE_CHARS
from vigil.errors import InputError, NotFoundError

router = APIRouter(prefix="/api/v1", tags=["logs"], responses=ERROR_RESPONSES)

LABEL = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
MAX_PUSH_LINES = 100_000
"""Lines per push: a megabyte of short lines; more is a shipper that should batch smaller."""
TOO_MANY_LINES = f"more than {MAX_PUSH_LINES} lines: push smaller batches"
MAX_BATCH_TEMPLATES = 10_000
"""Templates per agent batch (``logs.batch_templates`` is at most this)."""
MAX_TEMPLATE_COUNT = 10**12
"""Lines of one template in one batch: a trillion is years of the busiest log, and keeps every
count the analyses sum as floats exact (below 2**53); a larger one is a broken shipper."""
PUSH_HOW = (
    "push with 'Authorization: Bearer <token>': a node's agent token, or an API token with the "
    "operator role"
)


class PushIn(BaseModel):
    node: str = Field(default="push", pattern=LABEL, description="Where the lines come from")
    source: str = Field(pattern=LABEL, description="Which log: a file, a service, a unit")
    lines: list[str] = Field(max_length=MAX_PUSH_LINES)


class IngestOut(BaseModel):
    lines: int = Field(description="Lines counted (repaired ones included)")
    templates: int = Field(description="Distinct templates they fell into")
    findings: int = Field(description="Findings raised by them")
    duplicate: bool = Field(default=False, description="A batch already counted (ignored)")


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Control characters but tab, as :class:`vigil.logs.LineSplitter` repairs pushed lines."""


def _spaced(text: str) -> str:
    """Control characters as spaces, as in a pushed line: an agent's miner never sends them,
    but a NUL that came anyway failed the write of its finding's incident on PostgreSQL
    (500 for the batch, and again on every retry)."""
    return text if text.isprintable() else _CONTROL.sub(" ", text)


LogText = Annotated[str, AfterValidator(_spaced)]


Time = Annotated[float, Field(allow_inf_nan=False)]
"""A time of an agent's clock (Unix seconds). JSON has no NaN or Infinity, but the parser takes
them: a batch with one was counted with an endless or NaN backlog span (its lines in no bucket)."""


class TemplateCountIn(BaseModel):
    source: str = Field(pattern=LABEL)
    template: LogText = Field(max_length=MAX_TEMPLATE_CHARS)
    count: int = Field(ge=1, le=MAX_TEMPLATE_COUNT)
    first_at: Time
    last_at: Time
    level: LogText = Field(default="", max_length=MAX_LEVEL_CHARS)
    samples: list[LogText] = Field(default_factory=list, max_length=20)


class RemapIn(BaseModel):
    old: LogText = Field(max_length=MAX_TEMPLATE_CHARS, description="A template sent before")
    new: LogText = Field(max_length=MAX_TEMPLATE_CHARS, description="What the miner made of it")


SourceName = Annotated[str, Field(pattern=LABEL)]
StatName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
StatCount = Annotated[int, Field(ge=0, le=MAX_TEMPLATE_COUNT)]
SourceStats = Annotated[dict[StatName, StatCount], Field(max_length=32)]
"""An agent sends seven (lines, empty, invalid_utf8, control_chars, truncated, crlf, overflow)."""
MAX_BATCH_SOURCES = 1000
"""Sources with stats in one batch: an agent follows a handful of files."""


class BatchIn(BaseModel):
    node: str = Field(min_length=1, max_length=63)
    agent_id: str = Field(
        min_length=1, max_length=64, description="Random, kept in the agent's state"
    )
    boot: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Random per start of the agent: batches are deduplicated per "
        "(agent_id, boot), so an agent whose state was restored from a backup is a new instance",
    )
    seq: int = Field(ge=1, description="Batch number; a repeated one is ignored")
    sent_at: Time = Field(description="The agent's clock when it sent the batch")
    templates: list[TemplateCountIn] = Field(max_length=MAX_BATCH_TEMPLATES)
    remaps: list[RemapIn] = Field(
        default_factory=list,
        max_length=MAX_BATCH_TEMPLATES,
        description="Templates sent before that the agent's miner widened or merged since: "
        "the controller folds the old text into the new one",
    )
    stats: dict[SourceName, SourceStats] = Field(
        default_factory=dict,
        max_length=MAX_BATCH_SOURCES,
        description="Per source, since the last batch: lines, empty, invalid_utf8...",
    )


class TemplateOut(BaseModel):
    id: int
    template: str
    count: int
    first_seen: float
    last_seen: float
    example: str
    level: str = Field(description="The most severe level seen")
    sources: dict[str, int] = Field(description="Lines per node/source")
    family: int = Field(description="Id of the family's oldest template")
    p_fault: float = Field(description="P(fault | template) from the incident history")


class FindingOut(BaseModel):
    id: int
    kind: Literal["log_novelty", "log_burst", "log_association"]
    at: float
    severity: str
    score: float
    summary: str
    subject: str
    source: str
    template_id: int
    template: str
    incident_id: int | None
    p_fault: float = Field(description="P(fault | template) of its template, now")
    evidence: dict[str, Any]


class TemplatePage(Paged[TemplateOut]):
    pass


class FindingPage(Paged[FindingOut]):
    pass


async def require_shipper(ctx: Ctx, credentials: Credentials) -> Reporter:
    """A node's agent token (that node only), or an API token with the operator role."""
    token = None if credentials is None else credentials.credentials
    return reporter_for(ctx.tokens, token, role="operator", how=PUSH_HOW, what="log pushes")


_PUSH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": PushIn.model_json_schema()},
            "text/plain": {"schema": {"type": "string", "description": "Lines (?node=&source=)"}},
        },
    }
}


@router.post(
    "/logs",
    summary="Push raw log lines (JSON or text/plain) from any shipper",
    openapi_extra=_PUSH_BODY,
    responses={
        **BODY_RESPONSES,
        413: {"model": ErrorOut, "description": "Body over logs.push_max_bytes or too many lines"},
        415: {
            "model": ErrorOut,
            "description": "A Content-Type other than JSON or text/plain (or a charset that is "
            "no text encoding known here), or a Content-Encoding other than gzip",
        },
        **STORE_RESPONSES,
    },
)
async def push_logs(
    request: Request,
    ctx: Ctx,
    credentials: Credentials,
    node: Annotated[str | None, Query(pattern=LABEL, description="text/plain only")] = None,
    source: Annotated[str | None, Query(pattern=LABEL, description="text/plain only")] = None,
) -> IngestOut:
    shipper = await require_shipper(ctx, credentials)
    service = ctx.control.log_service()
    body = await _read_limited(request, service.max_push_bytes)
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if kind == "text/plain":
        if source is None:
            raise InputError("query.source: required with a text/plain body (e.g. ?source=app)")
        at = node or "push"
        shipper.check(at, "log lines")
        body = _as_utf8(body, content_type)
        if body.count(b"\n") > MAX_PUSH_LINES:
            raise HTTPException(413, TOO_MANY_LINES)
        result = await service.ingest_lines(at, source, body)
    elif kind in ("application/json", ""):
        try:
            data = _json(body)
            lines = data.get("lines") if isinstance(data, dict) else None
            if isinstance(lines, list) and len(lines) > MAX_PUSH_LINES:
                # as for text/plain (a 422 here said the same limit another way)
                raise HTTPException(413, TOO_MANY_LINES)
            push = PushIn.model_validate(data)
        except ValueError as exc:
            detail = (
                # located under body, as FastAPI locates a body model's errors
                describe_validation([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()])
                if isinstance(exc, ValidationError)
                else f'body: not JSON ({exc}); send {{"source": ..., "lines": [...]}}'
            )
            raise InputError(detail) from exc
        shipper.check(push.node, "log lines")
        result = await service.ingest_lines(push.node, push.source, push.lines)
    else:
        raise HTTPException(415, f"content-type {kind!r}: send application/json or text/plain")
    return IngestOut.model_validate(result, from_attributes=True)


def _as_utf8(body: bytes, content_type: str) -> bytes:
    """A text/plain body in the charset it declares, as UTF-8 (what the line splitter reads):
    a ``charset=latin-1`` push was read as UTF-8, and every accented letter became a counted
    invalid byte. An unknown charset is a 415 naming it; bytes invalid in a known one are
    replaced (U+FFFD), as invalid UTF-8 is."""
    charset = ""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if not charset or charset in ("utf-8", "utf8", "us-ascii", "ascii"):
        return body
    try:
        name = codecs.lookup(charset).name
        if name in ("utf-8", "ascii"):
            return body
        # LookupError too for a codec that is no text encoding ('hex', 'rot13', 'base64')
        text = body.decode(name, errors="replace")
    except LookupError:
        raise HTTPException(
            415, f"content-type charset {charset!r}: not a text encoding known here; send UTF-8"
        ) from None
    return text.encode("utf-8", errors="surrogatepass")


def _json(body: bytes) -> Any:
    """The parsed body; ValueError also for nesting too deep for the parser (RecursionError)."""
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise ValueError("nested too deep") from exc


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = f"body over logs.push_max_bytes ({limit} bytes): push smaller batches"
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, too_big)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, too_big)
    return bytes(body)


@router.post(
    "/logs/batches",
    summary="Store a node agent's batch of templates + counts",
    responses={**BODY_RESPONSES, **STORE_RESPONSES},
)
async def post_batch(body: BatchIn, ctx: Ctx, agent: Agent) -> IngestOut:
    agent.check(body.node, "log batches")
    # as for its heartbeats and samples: an admin token could file batches under a node that
    # is not in the config (a typo kept them apart from the node's own for ever)
    if all(n.name != body.node for n in ctx.control.nodes()):
        raise NotFoundError("node", body.node)
    result = await ctx.control.log_service().receive_batch(body.node, body.model_dump())
    return IngestOut.model_validate(result, from_attributes=True)


@router.get("/logs/templates", summary="Log templates across the fleet, with P(fault | template)")
async def get_templates(
    ctx: Ctx,
    _: Viewer,
    sort: Annotated[TemplateSort, Query(description="Sort key")] = "count",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
    source: Annotated[str | None, Query(description="Only this node/source")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TemplatePage:
    page = ctx.control.log_service().templates(
        sort=sort, descending=order == "desc", offset=offset, limit=limit, source=source
    )
    return TemplatePage.of(page)


@router.get("/logs/findings", summary="Log findings (novelty, bursts, association), newest first")
async def get_findings(
    ctx: Ctx,
    _: Viewer,
    kind: Annotated[Literal["log_novelty", "log_burst", "log_association"] | None, Query()] = None,
    since: Annotated[float | None, Query(description="Only findings at or after (epoch s)")] = None,
    incident: Annotated[int | None, Query(description="Only the findings of this incident")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> FindingPage:
    if since is not None and not math.isfinite(since):  # NaN matched nothing: an empty page
        raise InputError(f"query.since: {since} is not a time (Unix seconds)")
    page = ctx.control.log_service().findings(
        kind=kind, since=since, offset=offset, limit=limit, incident=incident
    )
    return FindingPage.of(page)

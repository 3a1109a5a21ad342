"""``vigil logs``: mine templates from log lines (``parse``) and summarise them (``templates``).

Mounted on the main ``vigil`` app by :mod:`vigil.cli._app`; all the mining is in
:mod:`vigil.logs`, this module only reads bytes, writes lines and draws the table.

``parse`` is a stable interface (docs/DESIGN.md): one JSON object per input line, in order,
``{"template": ..., "cluster": ...}``, streamed: output is flushed whenever the input has
nothing more ready. Each line's answer is held back for ``--hold`` lines (4 by default,
:mod:`vigil.logs._holdback`): its cluster as of that many lines later, so that a merge those
lines bring (the miner's sibling rule merges a slot's values at the third value) is in it; an
older line keeps the id merged away. Held answers are let out as soon as the input has been
idle for :data:`IDLE_RELEASE_SECONDS` (a live tail sees each answer then) and at its end.
``parse --final`` (opt-in) reads to the end of input first, then prints every line with its
cluster's final id (merged ids followed to their survivor) and final template, in order; it
holds one record per line (:func:`_finals`).
"""

from __future__ import annotations

import json
import os
import select
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from vigil.logs import (
    Cluster,
    LineSplitter,
    LogFormat,
    LogFormatError,
    StateError,
    TemplateMiner,
    dumps,
    loads,
)
from vigil.logs._holdback import HOLD_LINES, Answer, Holdback
from vigil.logs._parser import LineParser

CHUNK_BYTES = 1 << 16
"""Bytes per read: large enough to amortise the system call, small enough to stream."""

RENDERED_MAX = 100_000
"""Output lines kept for reuse, keyed by cluster and masked header; dropped when full."""

IDLE_RELEASE_SECONDS = 0.2
"""Input idle this long lets the held answers out (``--hold``): a live tail sees a line's answer
within this time of the line, while a file or a pipe whose writer keeps up (a shell pipeline,
an evaluator writing its input) is never idle that long, and its output does not depend on
how its input was cut into reads."""

PROGRESS_MIN_BYTES = 8 << 20
"""Files smaller than this are done before a progress bar would be worth drawing."""

logs_app = typer.Typer(
    help="Mine log templates: one configuration for every log type.",
    no_args_is_help=True,
    add_completion=False,
)
_err = Console(stderr=True)

FileArg = Annotated[
    Path | None, typer.Argument(help="Log file to read (standard input when omitted).")
]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--log-format",
        help="Header format: '<Date> <Time> <Level> <Component>: <Content>', a preset "
        "(syslog, journald-json, k8s-json, cri) or auto (detect).",
    ),
]
StateOpt = Annotated[
    Path | None,
    typer.Option("--state", help="JSON state file: loaded if present, saved at the end."),
]
FinalOpt = Annotated[
    bool,
    typer.Option(
        "--final",
        help="Read to the end of input, then print every line with its cluster's final id and "
        "template (a cluster merged into another by a later line: the survivor's), in order. "
        "Not streamed; memory: one record per input line (about 70 bytes, plus its header "
        "when that holds digits).",
    ),
]


HoldOpt = Annotated[
    int,
    typer.Option(
        "--hold",
        min=0,
        help="Print each line's answer once this many more lines are in (or the input is "
        "idle), so that a merge of its cluster made by those lines is in it. 0: each line "
        "as of itself.",
    ),
]


def _fail(message: str) -> typer.Exit:
    _err.print(f"vigil logs: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _open(file: Path | None) -> BinaryIO:
    if file is None:
        return sys.stdin.buffer
    try:
        return file.open("rb")
    except OSError as exc:
        raise _fail(f"{file}: cannot read ({exc.strerror or exc})") from exc


def _setup(log_format: str, state: Path | None) -> LineParser:
    try:
        fmt = LogFormat(log_format)
    except LogFormatError as exc:
        raise _fail(str(exc)) from exc
    miner = TemplateMiner()
    if state is not None and state.exists():
        try:
            miner = loads(state.read_bytes())
        except OSError as exc:
            raise _fail(f"{state}: cannot read ({exc.strerror or exc})") from exc
        except StateError as exc:  # the file is left as it is: nothing is saved over it
            raise _fail(
                f"{state}: {exc}; move it aside to start afresh (cluster ids restart at 1)"
            ) from exc
    return LineParser(fmt, miner)


def _chunks(stream: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """(bytes, more input ready right now) until end of input."""
    fd = stream.fileno()
    while True:
        data = os.read(fd, CHUNK_BYTES)
        if not data:
            return
        ready = bool(select.select([fd], [], [], 0)[0])
        yield data, ready


def _idle_ends(stream: BinaryIO) -> bool:
    """Whether input comes within :data:`IDLE_RELEASE_SECONDS` (end of input counts)."""
    return bool(select.select([stream.fileno()], [], [], IDLE_RELEASE_SECONDS)[0])


def _save(parser: LineParser, state: Path | None) -> None:
    """Write the miner's state beside ``state`` and rename it over: a write that fails part
    way (disk full, a file size limit, Ctrl-C) leaves the previous state whole. Written in
    place, it left a truncated file that every later run refused as "not JSON"."""
    if state is None:
        return
    tmp = state.with_name(f".{state.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(dumps(parser.miner), encoding="utf-8")
        os.replace(tmp, state)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _fail(f"{state}: cannot write ({exc.strerror or exc})") from exc
        raise


def _finals(parser: LineParser, records: list[tuple[Cluster, str]]) -> Iterator[bytes]:
    """The output lines of ``parse --final``: each record (a line's cluster as of that line,
    its masked header) with the id its cluster resolves to now and that cluster's template. A
    cluster evicted since (past the miner's cap) keeps the id and template it had last."""
    miner = parser.miner
    alive = miner.clusters
    rendered: dict[tuple[int, str], bytes] = {}
    for cluster, prefix in records:
        key = (cluster.id, prefix)
        line = rendered.get(key)
        if line is None:
            final = alive.get(miner.resolve(cluster.id), cluster)
            text = json.dumps({"template": prefix + final.template, "cluster": final.id})
            line = rendered[key] = text.encode() + b"\n"
        yield line


@logs_app.command("parse")
def parse(
    file: FileArg = None,
    log_format: FormatOpt = "auto",
    state: StateOpt = None,
    final: FinalOpt = False,
    hold: HoldOpt = HOLD_LINES,
) -> None:
    """Print one JSON object per input line, in order: {"template": ..., "cluster": ...}."""
    parser = _setup(log_format, state)
    holdback = Holdback(parser.miner, hold)
    if final:  # every line is answered at the end: nothing to hold, no merges to keep
        parser.miner.folds = None
    stream = _open(file)
    out = sys.stdout.buffer
    splitter = LineSplitter()
    rendered: dict[tuple[int, str], tuple[str, bytes]] = {}  # (id, header) -> template, line
    records: list[tuple[Cluster, str]] = []  # --final: each line's cluster and header

    def render(lines: Iterator[str]) -> bytes:
        if final:
            records.extend((c, prefix) for c, prefix, _ in parser.parse_many(lines))
            return b""
        return dump(holdback.push(parser.parse_many(lines)))  # template as of its line

    def dump(answers: list[Answer]) -> bytes:
        buf: list[bytes] = []
        append = buf.append
        for cluster, prefix, template in answers:
            key = (cluster.id, prefix)
            cached = rendered.get(key)
            if cached is None or cached[0] is not template:
                if len(rendered) >= RENDERED_MAX:
                    rendered.clear()
                text = json.dumps({"template": prefix + template, "cluster": cluster.id})
                cached = rendered[key] = (template, text.encode() + b"\n")
            append(cached[1])
        return b"".join(buf)

    try:
        with stream:
            for data, ready in _chunks(stream):
                out.write(render(splitter.feed(data)))
                if not ready:
                    if holdback.held and not _idle_ends(stream):
                        out.write(dump(holdback.release()))
                    out.flush()
            out.write(render(splitter.close()))
            out.write(dump(holdback.release()))
            if final:
                batch: list[bytes] = []
                for line in _finals(parser, records):
                    batch.append(line)
                    if len(batch) >= 4096:
                        out.write(b"".join(batch))
                        batch.clear()
                out.write(b"".join(batch))
            out.flush()
    except BrokenPipeError:  # the reader went away (| head): not an error
        sys.stderr.close()
        return
    except OSError as exc:
        raise _fail(f"{file or 'stdin'}: read failed ({exc.strerror or exc})") from exc
    _save(parser, state)


@logs_app.command("templates")
def templates(
    file: FileArg = None,
    log_format: FormatOpt = "auto",
    state: StateOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Rows to show.")] = 50,
) -> None:
    """Show the templates of a log: count, first and last line seen, an example.

    With --state, counts and line numbers include the saved runs; the title gives the lines
    of every run and those this run read."""
    parser = _setup(log_format, state)
    stream = _open(file)
    splitter = LineSplitter()
    size = file.stat().st_size if file is not None else 0
    console = Console()
    progress = Progress(
        TextColumn("mining"),
        BarColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=size < PROGRESS_MIN_BYTES,
    )
    try:
        with stream, progress:
            task = progress.add_task("mine", total=size or None)
            for data, _ in _chunks(stream):
                for line in splitter.feed(data):
                    parser.parse(line)
                progress.advance(task, len(data))
            for line in splitter.close():
                parser.parse(line)
    except OSError as exc:
        raise _fail(f"{file or 'stdin'}: read failed ({exc.strerror or exc})") from exc
    _save(parser, state)
    stats = splitter.stats
    clusters = parser.miner.templates()
    total = parser.miner.lines  # a restored state's lines and this run's (as the counts)
    title = f"{len(clusters)} templates in {total} lines"
    if total != stats.lines:
        title += f" ({stats.lines} read by this run)"
    table = Table(title=title)
    for name in ("id", "count", "first", "last", "template", "example"):
        table.add_column(
            name, justify="right" if name in ("id", "count", "first", "last") else "left"
        )
    for c in clusters[:limit]:
        table.add_row(  # log text as written: its brackets are no Rich markup
            str(c.id),
            str(c.count),
            str(c.first_line),
            str(c.last_line),
            Text(c.template),
            Text(c.example),
        )
    console.print(table)
    repaired = {
        "empty": stats.empty,
        "invalid UTF-8": stats.invalid_utf8,
        "control characters": stats.control_chars,
        "truncated": stats.truncated,
    }
    notes = ", ".join(f"{n} {what}" for what, n in repaired.items() if n)
    if notes:
        console.print(f"input repaired: {notes}", markup=False, highlight=False)

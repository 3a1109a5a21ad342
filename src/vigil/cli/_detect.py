"""``vigil detect FILE.csv``: stream a ``timestamp,value`` CSV through the default detector.

The default is :class:`~vigil.detectors.RecordEnsemble`; ``--detector ensemble`` runs the
previous default (:class:`~vigil.detectors.EnsembleDetector`), kept for comparison
(``bench/nab.py`` scores both in the same run).

Who calls it: the ``vigil`` CLI (registered as the ``detect`` command) and ``bench/nab.py``,
which scores it with the NAB protocol. The contract (docs: DESIGN.md) is stable: a header
``timestamp,value,anomaly_score``, then one row per data row, in order, with the timestamp and
value echoed as given (quoted only when one holds a comma, a quote or a line break) and the
score in [0, 1] at full precision (``repr``). Causal: each row is
written before the next is read, so the score of row i depends only on rows 1..i.

Bad input never crashes the run and never yields a NaN score. Every data row still gets exactly
one output row; the problem is reported on stderr as ``FILE:LINE: ...`` (the first
``MAX_WARNINGS`` of each kind, then a count at the end):

- value missing, not a number, NaN or infinite: score 0, the row is not learned from;
- timestamp missing or unreadable: score 0, the row is not learned from;
- a control character (NUL, ESC, ...) in the timestamp or value cell: score 0, the row is not
  learned from, the warning names the line and the column, and the cell is echoed without it
  (``datetime.fromisoformat`` read ``2020-01-01 00:00:00\x00`` and the NUL went to the output);
- timestamp earlier than the previous one: scored, on the detector's clock held at the latest
  time seen (the detector's clock never goes back);
- duplicate timestamp: scored as a second sample at that time;
- gap (a step over ``GAP_FACTOR`` times the usual one): scored, reported;
- far ahead (a step over ``FAR_FACTOR`` times the usual one: a typo in the year, month or day):
  scored on the clock as it was, which stays there unless the next row follows on from it
  (:class:`~vigil.detectors.StreamClock`): one typo no longer stalls the day / week views;
- one of the first two rows dated ahead of the rows after it (a typo where no usual step is
  known yet): once two rows follow on from each other before it, the detector restarts at the
  second of them, and the typo's line is named; without that the whole file was scored at the
  typo's time (:attr:`~vigil.detectors.Kind.RESTART`);
- blank lines are skipped (they are not rows), as NAB's reader does.

Fatal (exit status 2, nothing scored): the file cannot be read, or its first line is not a
header naming ``timestamp`` and ``value`` columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import math
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated

import typer

from vigil.detectors import (
    FAR_FACTOR,
    GAP_FACTOR,
    START_ROWS,
    Detector,
    EnsembleDetector,
    Kind,
    RecordEnsemble,
    StreamClock,
)

MAX_WARNINGS = 5  # per kind of problem: enough to find the rows, not a flood of stderr
_EPOCH = dt.datetime(1970, 1, 1)
DETECTORS: dict[str, Callable[[], Detector]] = {
    "records": RecordEnsemble,  # the default
    "ensemble": EnsembleDetector,  # the previous default: calibrated z-scores + context novelty
}


def _seconds(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 timestamp (naive means UTC) or a plain number."""
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    if stamp.tzinfo is None:
        return (stamp - _EPOCH).total_seconds()
    return stamp.timestamp()


class _Warnings:
    def __init__(self, name: str) -> None:
        self._name = name
        self._counts: dict[str, int] = {}

    def add(self, line: int, kind: str, detail: str) -> None:
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        if n <= MAX_WARNINGS:
            sys.stderr.write(f"{self._name}:{line}: {detail}\n")

    def summary(self) -> None:
        for kind, n in self._counts.items():
            if n > MAX_WARNINGS:
                sys.stderr.write(f"{self._name}: {n} rows with {kind} ({MAX_WARNINGS} shown)\n")


SHOWN_CHARS = 60  # of a bad cell in a warning: enough to find it, not a 100 kB stderr line


def _shown(cell: str) -> str:
    """``cell`` quoted for a warning, cut to :data:`SHOWN_CHARS` with its length said."""
    if len(cell) <= SHOWN_CHARS:
        return repr(cell)
    return f"{cell[:SHOWN_CHARS]!r}... ({len(cell):,} characters)"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""Unicode's control characters (category Cc): no timestamp or number holds one."""


def _control(cell: str) -> int | None:
    """The index of the first control character in ``cell`` (None: there is none)."""
    found = _CONTROL.search(cell)
    return None if found is None else found.start()


_MOVED = frozenset((Kind.IN_ORDER, Kind.GAP, Kind.RESTART))  # the rows that set the clock


def _cell(text: str) -> str:
    """``text`` as one CSV field: as given, quoted (RFC 4180) only when it holds a comma, a
    quote or a line break. Echoed bare, a quoted ``"Jan 1, 2020"`` made its output row four
    fields long, and a CSV reader (pandas) refused the whole output."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(2)


def _columns(name: str, header: str, line_no: int) -> tuple[int, int]:
    cells = [c.strip().lower() for c in next(csv.reader([header]), [])]
    if "timestamp" not in cells or "value" not in cells:
        raise _fail(
            f"{name}:{line_no}: expected a header naming the columns 'timestamp' and 'value' "
            f"(e.g. 'timestamp,value'), got {header.strip()[:80]!r}{_header_hint(cells)}"
        )
    return cells.index("timestamp"), cells.index("value")


def _header_hint(cells: list[str]) -> str:
    """What is most likely wrong with a refused header: a typo of a column's name, no header
    at all (the first line is a data row), or another separator than the comma."""
    if len(cells) == 1 and any(sep in cells[0] for sep in ";\t|"):
        return "; separate the columns with commas"
    if len(cells) >= 2 and _seconds(cells[0]) is not None:
        return "; this looks like a data row: add the line 'timestamp,value' above it"
    hints = []
    for wanted in ("timestamp", "value"):
        if wanted not in cells:
            close = difflib.get_close_matches(wanted, cells, n=1, cutoff=0.6)
            if close:
                hints.append(f"{close[0]!r} to {wanted!r}")
    return f"; rename {' and '.join(hints)}" if hints else ""


def detect(
    file: Annotated[Path, typer.Argument(help="CSV with a 'timestamp,value' header.")],
    detector: Annotated[
        str,
        typer.Option(
            help="Detector: 'records' (the default) or 'ensemble' (the default before it, "
            "kept for comparison)."
        ),
    ] = "records",
) -> None:
    """Score each row of FILE with the default anomaly detector; print
    'timestamp,value,anomaly_score' (one row per input row, score in [0, 1])."""
    name = str(file)
    make = DETECTORS.get(detector)
    if make is None:
        raise _fail(f"--detector {detector!r} unknown; choose one of: {', '.join(DETECTORS)}")
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte order mark, which made the
        # header read '\ufefftimestamp' and the file refused as having none
        handle = file.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise _fail(f"{name}: cannot read ({exc.strerror or exc})") from exc
    with handle:
        header, line_no = handle.readline(), 1
        while header and not header.strip():
            header, line_no = handle.readline(), line_no + 1
        if not header:
            raise _fail(f"{name}: empty file; expected a header 'timestamp,value' and rows")
        t_col, v_col = _columns(name, header, line_no)
        _stream(name, handle, t_col, v_col, make, first_line=line_no + 1)


def _stream(
    name: str,
    lines: Iterable[str],
    t_col: int,
    v_col: int,
    make: Callable[[], Detector],
    *,
    first_line: int = 2,
) -> None:
    warn = _Warnings(name)
    write = sys.stdout.write
    write("timestamp,value,anomaly_score\n")
    width = max(t_col, v_col) + 1
    clock = StreamClock(GAP_FACTOR)  # the detector's clock: the latest timestamp fed to it
    detector = make()  # a restart starts a fresh one
    early: list[tuple[int, str, float]] = []  # the rows that moved the clock first: typos?
    for line_no, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        cells = line.rstrip("\r\n").split(",") if '"' not in line else next(csv.reader([line]))
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        stamp, text = cells[t_col].strip(), cells[v_col].strip()
        score = 0.0
        bad = [
            (col, cell, at)
            for col, cell in ((t_col, stamp), (v_col, text))
            if (at := _control(cell)) is not None
        ]
        t = _seconds(stamp)
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if bad:
            for col, cell, at in bad:
                name = "timestamp" if col == t_col else "value"
                warn.add(
                    line_no,
                    "control characters",
                    f"column {col + 1} ({name}): {_shown(cell)} holds a control character "
                    f"({cell[at]!r} at position {at + 1}); remove it: score 0, row not learned",
                )
            stamp, text = _CONTROL.sub("", stamp), _CONTROL.sub("", text)
        elif t is None:
            what = f"timestamp {_shown(stamp)} unreadable: score 0"
            warn.add(line_no, "unreadable timestamps", what)
        elif not math.isfinite(x):
            what = "missing" if not text else f"{_shown(text)} is not a finite number"
            warn.add(line_no, "unusable values", f"value {what}: score 0, row not learned")
        else:
            place = clock.place(t)
            if place.kind is Kind.BEFORE:
                warn.add(
                    line_no,
                    "out-of-order timestamps",
                    f"{stamp} is before the previous row: scored at the latest time seen",
                )
            elif place.kind is Kind.DUPLICATE:
                warn.add(line_no, "duplicate timestamps", f"duplicate timestamp {stamp}")
            elif place.kind is Kind.GAP:
                warn.add(
                    line_no,
                    "gaps",
                    f"gap of {place.jump:g}s before {stamp} (usual step {place.step:g}s)",
                )
            elif place.kind is Kind.RESTART:
                typos = [f"{line} ({when})" for line, when, at in early if at > t]
                warn.add(
                    line_no,
                    "restarts",
                    f"line(s) {', '.join(typos)} dated after the rows that follow them (a typo?): "
                    f"the detector restarts at {stamp}",
                )
                detector, early = make(), []
            elif place.kind is Kind.FAR:
                warn.add(
                    line_no,
                    "timestamps far ahead",
                    f"gap of {place.jump:g}s before {stamp} (usual step {place.step:g}s), over "
                    f"{FAR_FACTOR:g} steps: a typo? scored at the latest time seen; the clock "
                    "moves there only if the next row follows on",
                )
            if place.kind in _MOVED and len(early) <= START_ROWS:
                early.append((line_no, stamp, t))
            score = detector.update(place.at, x).value
        write(f"{_cell(stamp)},{_cell(text)},{score!r}\n")
    sys.stdout.flush()
    warn.summary()

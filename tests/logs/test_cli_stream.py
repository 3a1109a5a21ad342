"""``vigil logs parse`` answers each line as of that line, however its input arrives.

The same input must give the same output whether it comes in one read (a file, a fast pipe)
or line by line (a pipe whose writer pauses): a line's template is its cluster's template
when the line was mined, not after the lines that happened to share its read widened it.
"""

from __future__ import annotations

import json
import subprocess
import sys

CMD = [sys.executable, "-c", "from vigil.cli._logs import logs_app; logs_app()", "parse"]

LINES = [
    b"Connection closed by authenticating user alice 10.0.0.1 port 22 [preauth]",
    b"Connection closed by authenticating user bob 10.0.0.2 port 22 [preauth]",
    b"Connection closed by authenticating user carol 10.0.0.3 port 22 [preauth]",
    b"session opened for user alice",
]


def _at_once() -> list[bytes]:
    out = subprocess.run(CMD, input=b"\n".join(LINES) + b"\n", capture_output=True, check=True)
    return out.stdout.splitlines()


def _one_by_one() -> list[bytes]:
    """Each line written only once the answer to the one before it came out."""
    proc = subprocess.Popen(CMD, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    rows = []
    for line in LINES:
        proc.stdin.write(line + b"\n")
        proc.stdin.flush()
        rows.append(proc.stdout.readline().rstrip(b"\n"))
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    return rows


def test_a_line_is_printed_with_the_template_of_its_time_not_of_its_read() -> None:
    rows = [json.loads(row) for row in _at_once()]
    # a user name no context names as one (branch meaning16 masks "for alice from" at once)
    closed = "Connection closed by authenticating user {} <*> port <*> [preauth]"
    assert rows[0]["template"] == closed.format("alice")
    assert rows[1]["template"] == closed.format("<*>")
    assert rows[0]["cluster"] == rows[1]["cluster"] == rows[2]["cluster"]


def test_the_same_input_gives_the_same_output_in_one_read_or_line_by_line() -> None:
    assert _at_once() == _one_by_one()

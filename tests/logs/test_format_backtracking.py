"""A line that does not fit a ``--log-format`` costs one pass, not a search without end.

Each header field is a lazy ``.*?``: a line that fits no way made the regular expression try
every way of cutting it into fields, a number of ways that grows as a power of the line's
length (a 100-word line under the HDFS format took seconds, a 2,000-word one would not end).
Lines that fit must split exactly as before (LogPAI's reading of a format).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.logs import LineSplitter, LogFormat, LogFormatError

_HERE = Path(__file__).resolve().parent
LOGHUB = next(
    (
        p
        for p in (_HERE.parents[1].parent / "shared/data/loghub", Path("/work/shared/data/loghub"))
        if p.is_dir()
    ),
    None,
)
SETS = sorted(p.name for p in LOGHUB.iterdir() if p.is_dir()) if LOGHUB is not None else []

FORMATS = [
    "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>",
    "syslog",
    "\\[<Time>\\] <Program> - <Content>",
    "<Time>\\|<Component>\\|<Pid>\\|<Content>",
]

SPLIT = """
import sys
from vigil.logs import LogFormat
fmt = LogFormat(sys.argv[1])
for words in (400, 2000):
    line = " ".join(["ab"] * words) + " [x"
    assert fmt.split(line).content == line
print("ok")
"""


@pytest.mark.parametrize("spec", FORMATS)
def test_a_long_line_that_fits_no_way_is_all_content_at_once(spec: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SPLIT, spec], capture_output=True, timeout=120, check=False
    )
    assert out.stdout == b"ok\n", out.stderr.decode()[-500:]


def _logpai(spec: str) -> re.Pattern[str]:
    """The regular expression LogPAI's logparser builds from a format, as it builds it."""
    regex = ""
    for k, part in enumerate(re.split(r"(<[^<>]+>)", spec)):
        regex += re.sub(" +", "\\\\s+", part) if k % 2 == 0 else f"(?P<{part.strip('<>')}>.*?)"
    return re.compile("^" + regex + "$")


@pytest.mark.skipif(LOGHUB is None, reason="the shared Loghub data is not here")
@pytest.mark.parametrize("name", SETS)
def test_lines_that_fit_split_as_logpai_splits_them(name: str) -> None:
    assert LOGHUB is not None
    settings = json.loads((LOGHUB / name / "settings.json").read_text(encoding="utf-8"))
    spec = settings.get("log_format") or settings["format"]
    (path,) = (LOGHUB / name).glob("*_2k.log")
    splitter = LineSplitter()
    lines = [*splitter.feed(path.read_bytes()), *splitter.close()]
    fmt, reference = LogFormat(spec), _logpai(spec)
    matched = 0
    for line in lines:
        match = reference.match(line.strip())
        split = fmt.split(line)
        if match is None:
            assert split.content == line, line
            continue
        matched += 1
        assert split.content == match.group("Content"), line
        fields = {k: v or "" for k, v in match.groupdict().items() if k != "Content"}
        assert dict(split.fields) == fields, line
    assert matched > len(lines) // 2


def test_a_field_in_a_bracket_set_is_refused_not_lost() -> None:
    """``[<Time>]`` made ``[(?P<Time>.*?)]``, a set of characters: the format compiled without
    its field, and the first line that fitted raised IndexError (no such group)."""
    with pytest.raises(LogFormatError, match=r"<Time> is inside a \[\.\.\.\] set"):
        LogFormat("[<Time>] <Program> - <Content>")

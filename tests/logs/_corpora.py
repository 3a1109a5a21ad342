"""The log corpora the miner's property tests run over: the labelled fixtures in
tests/logs/fixtures (``*.tsv``: label, tab, raw line) and the six Loghub 2k sets of
/work/shared/data/loghub when they are present.

Used by tests/logs/test_one_template_one_id.py and tests/logs/test_remaps.py.
"""

from __future__ import annotations

from pathlib import Path

from vigil.logs import LineSplitter, LogFormat

_HERE = Path(__file__).resolve().parent
FIXTURES = _HERE / "fixtures"
LOGHUB = next(
    (
        p
        for p in (_HERE.parents[1].parent / "shared/data/loghub", Path("/work/shared/data/loghub"))
        if p.is_dir()
    ),
    None,
)
"""The Loghub sets beside the repository, else the shared copy; None where neither is."""
TSV = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.tsv"))
SETS = sorted(p.name for p in LOGHUB.iterdir() if p.is_dir()) if LOGHUB is not None else []


def fixture_contents(name: str) -> list[str]:
    """The message content of every row of fixture ``name`` (a path relative to FIXTURES)."""
    rows = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    fmt = LogFormat()
    return [fmt.split(row.split("\t", 1)[1]).content for row in rows if "\t" in row]


def loghub_contents(name: str) -> list[str]:
    """The message content of every line of Loghub set ``name``'s 2k sample."""
    assert LOGHUB is not None
    (path,) = (LOGHUB / name).glob("*_2k.log")
    splitter, fmt = LineSplitter(), LogFormat()
    lines = [*splitter.feed(path.read_bytes()), *splitter.close()]
    return [fmt.split(line).content for line in lines]

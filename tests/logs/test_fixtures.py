"""Accuracy on small samples of log types the Loghub-2k data here does not cover.

The samples are in ``tests/logs/fixtures/*.tsv`` (see its README): the right template, a tab,
the raw line. Raw lines go through automatic header detection and the miner, as ``vigil logs
parse`` does with no ``--log-format``; GA and PAn are computed as in the shared evaluator
(``logparse_eval.py``; its Loghub-2.0 template normalisation when it is found beside the
repository, plain whitespace normalisation otherwise).

Files in ``fixtures/holdout/`` .. ``holdout14/`` were labelled like the others but kept out
of the tuning of the miner: the test checks only that they are well formed, and their scores
are printed on demand (``--holdout`` .. ``--holdout15``) as the figure
for log types the miner was not tuned on.

``--stream`` scores the ids and templates ``vigil logs parse`` prints as lines arrive (each
line's answer held back ``--hold N`` lines, :mod:`vigil.logs._holdback`; the template of an id
is the last one printed with it, as the shared evaluator takes it) instead of those resolved at
the end of input.

Run as a script to print the table: ``python tests/logs/test_fixtures.py [--holdout |
--holdout2 | --holdout3 |
--holdout4 | --holdout5 | --holdout6 | --holdout7 | --holdout8 | --holdout9 | --holdout10 |
--holdout11 | --holdout12 | --holdout13 | --holdout14 | --holdout15]
[--content]
[--stream [--hold N]] [--diff]``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.logs import LogFormat, TemplateMiner
from vigil.logs._holdback import HOLD_LINES, Holdback

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HOLDOUT = FIXTURES / "holdout"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.tsv"))
HELD_OUT = sorted(f"holdout/{p.stem}" for p in HOLDOUT.glob("*.tsv"))
HELD_OUT2 = sorted(f"holdout2/{p.stem}" for p in (FIXTURES / "holdout2").glob("*.tsv"))
HELD_OUT3 = sorted(f"holdout3/{p.stem}" for p in (FIXTURES / "holdout3").glob("*.tsv"))
HELD_OUT4 = sorted(f"holdout4/{p.stem}" for p in (FIXTURES / "holdout4").glob("*.tsv"))
HELD_OUT5 = sorted(f"holdout5/{p.stem}" for p in (FIXTURES / "holdout5").glob("*.tsv"))
HELD_OUT6 = sorted(f"holdout6/{p.stem}" for p in (FIXTURES / "holdout6").glob("*.tsv"))
HELD_OUT7 = sorted(f"holdout7/{p.stem}" for p in (FIXTURES / "holdout7").glob("*.tsv"))
HELD_OUT8 = sorted(f"holdout8/{p.stem}" for p in (FIXTURES / "holdout8").glob("*.tsv"))
HELD_OUT9 = sorted(f"holdout9/{p.stem}" for p in (FIXTURES / "holdout9").glob("*.tsv"))
HELD_OUT10 = sorted(f"holdout10/{p.stem}" for p in (FIXTURES / "holdout10").glob("*.tsv"))
HELD_OUT11 = sorted(f"holdout11/{p.stem}" for p in (FIXTURES / "holdout11").glob("*.tsv"))
HELD_OUT12 = sorted(f"holdout12/{p.stem}" for p in (FIXTURES / "holdout12").glob("*.tsv"))
HELD_OUT13 = sorted(f"holdout13/{p.stem}" for p in (FIXTURES / "holdout13").glob("*.tsv"))
HELD_OUT14 = sorted(f"holdout14/{p.stem}" for p in (FIXTURES / "holdout14").glob("*.tsv"))
HELD_OUT15 = sorted(f"holdout15/{p.stem}" for p in (FIXTURES / "holdout15").glob("*.tsv"))
ALL = (
    NAMES
    + HELD_OUT
    + HELD_OUT2
    + HELD_OUT3
    + HELD_OUT4
    + HELD_OUT5
    + HELD_OUT6
    + HELD_OUT7
    + HELD_OUT8
    + HELD_OUT9
    + HELD_OUT10
    + HELD_OUT11
    + HELD_OUT12
    + HELD_OUT13
    + HELD_OUT14
    + HELD_OUT15
)
_SHARED = [Path(__file__).resolve().parents[3] / "shared/bench", Path("/work/shared/bench")]


def _normaliser() -> Callable[[str], str]:
    for folder in _SHARED:
        if (folder / "logparse_eval.py").exists():
            sys.path.insert(0, str(folder))
            from logparse_eval import lh2_correct  # type: ignore[import-not-found]

            return lh2_correct  # type: ignore[no-any-return]
    return lambda t: " ".join(t.split())


def load(name: str) -> tuple[list[str], list[str]]:
    """(right templates, raw lines) of one fixture file."""
    truth, raw = [], []
    for n, row in enumerate((FIXTURES / f"{name}.tsv").read_text("utf-8").splitlines(), 1):
        template, sep, line = row.partition("\t")
        if not sep:
            raise ValueError(f"{name}.tsv:{n}: expected 'template<TAB>raw line'")
        truth.append(template)
        raw.append(line)
    return truth, raw


def _template_regex(template: str) -> re.Pattern[str]:
    """The template as a regex over the end of a line: ``<*>`` any text, spaces any spaces."""
    parts = [
        r".*?" if p == "<*>" else r"\s+" if p.isspace() else re.escape(p)
        for p in re.split(r"(<\*>|\s+)", template.strip())
        if p
    ]
    return re.compile("".join(parts) + r"\s*$")


def content_of(template: str, line: str) -> str:
    """The message of ``line`` with the header removed, derived from its right template.

    The header ends at a token start from which the rest of the line matches the template: the
    leftmost one when the template opens with a word, the rightmost when its first word holds a
    value (which would otherwise swallow the header); any position when no token start fits (a
    JSON line's ``"msg"`` key follows a comma). Content mode scores the miner on these messages, as
    an evaluator that is given each line's message does."""
    rx = _template_regex(template)
    starts = [0] + [m.end() for m in re.finditer(r"\s+", line)]
    if "<*>" in template.split()[0]:  # "<*>:<*> - ...", "[<*>] creating index"
        starts.reverse()
    for start in [*starts, *range(len(line))]:
        if rx.match(line, start):
            return line[start:]
    raise ValueError(f"template {template!r} does not match the end of line {line!r}")


def mined(name: str, feed: str = "raw") -> tuple[list[str], list[str], list[int], TemplateMiner]:
    """(right templates, lines fed, cluster ids, miner) of one fixture; ``feed`` is ``raw``
    (header detection, no format) or ``content`` (the header already removed)."""
    truth, raw = load(name)
    fmt, miner = LogFormat(), TemplateMiner()
    if feed == "content":
        fed = [content_of(t, line) for t, line in zip(truth, raw, strict=True)]
        ids = [miner.cluster_of(line).id for line in fed]
    else:
        fed = raw
        ids = [miner.cluster_of(fmt.split(line).content).id for line in raw]
    return truth, fed, [miner.resolve(i) for i in ids], miner


def streamed(name: str, feed: str = "raw", hold: int = HOLD_LINES) -> tuple[list[int], list[str]]:
    """(ids, templates) of one fixture as ``vigil logs parse --hold hold`` prints them: each
    line's answer as of ``hold`` lines later, the template of an id the last printed with it."""
    truth, raw = load(name)
    fmt, miner = LogFormat(), TemplateMiner()
    holdback = Holdback(miner, hold)
    fed = (
        [content_of(t, line) for t, line in zip(truth, raw, strict=True)]
        if feed == "content"
        else [fmt.split(line).content for line in raw]
    )
    printed = []
    for line in fed:
        cluster = miner.cluster_of(line)
        printed += holdback.push([(cluster, "", cluster.template)])
    printed += holdback.release()
    ids = [c.id for c, _, _ in printed]
    last = {cid: template for cid, (_, _, template) in zip(ids, printed, strict=True)}
    return ids, [last[cid] for cid in ids]


def grouping_accuracy(truth: list[str], ids: list[int]) -> float:
    """GA: the share of lines whose right template's lines are exactly one cluster's lines."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(truth):
        groups[t].append(i)
    size = Counter(ids)
    ok = sum(
        len(idx)
        for idx in groups.values()
        if len({ids[i] for i in idx}) == 1 and size[ids[idx[0]]] == len(idx)
    )
    return ok / len(truth)


def score(name: str, feed: str = "raw", hold: int | None = None) -> tuple[float, float]:
    """(GA, PAn) of the miner on one fixture, fed raw lines with no format (or content); with
    ``hold``, of the answers printed as lines arrive (:func:`streamed`), not resolved ones."""
    norm = _normaliser()
    if hold is not None:
        truth = load(name)[0]
        ids, final = streamed(name, feed, hold)
    else:
        truth, _, ids, miner = mined(name, feed)
        final = [miner.clusters[i].template for i in ids]
    pa = sum(norm(a) == norm(b) for a, b in zip(truth, final, strict=True))
    return grouping_accuracy(truth, ids), pa / len(truth)


@pytest.mark.parametrize("name", ALL)
def test_every_fixture_line_has_a_template_and_a_raw_line(name: str) -> None:
    truth, raw = load(name)
    assert len(truth) == len(raw) >= 10
    assert all(t.strip() and r.strip() for t, r in zip(truth, raw, strict=True))


def test_grouping_and_templates_on_other_log_types_stay_above_their_floor() -> None:
    scores = {name: score(name) for name in NAMES}
    ga = sum(s[0] for s in scores.values()) / len(scores)
    pan = sum(s[1] for s in scores.values()) / len(scores)
    assert ga >= 0.90, scores  # 0.793 / 0.456 before the general rules of this branch
    assert pan >= 0.78, scores  # 0.911 / 0.787 after


def test_content_of_cuts_the_header_where_the_template_starts() -> None:
    assert content_of("Accepted <*> for <*>", "10:00 host sshd[1]: Accepted key for bob") == (
        "Accepted key for bob"
    )
    # a template opening with a value: that value is one token, not the header before it
    assert content_of('<*>:<*> - "GET <*>" <*>', 'INFO:  10.0.0.1:5 - "GET /a HTTP/1.1" 200') == (
        '10.0.0.1:5 - "GET /a HTTP/1.1" 200'
    )
    with pytest.raises(ValueError, match="does not match"):
        content_of("Accepted <*>", "10:00 Rejected key")


def test_every_fixture_template_finds_its_message_in_its_line() -> None:
    for name in ALL:
        truth, raw = load(name)
        for template, line in zip(truth, raw, strict=True):
            assert content_of(template, line).strip(), (name, line)


def _diff(name: str, feed: str) -> None:
    """Print each right template next to the miner's, where they differ (``--diff``)."""
    truth, fed, ids, miner = mined(name, feed)
    norm = _normaliser()
    for want, line, i in zip(truth, fed, ids, strict=True):
        got = miner.clusters[i].template
        if norm(want) != norm(got):
            print(f"  want {want}\n  got  {got}\n  line {line}")


if __name__ == "__main__":
    args = sys.argv[1:]
    sets = {
        "--holdout": HELD_OUT,
        "--holdout2": HELD_OUT2,
        "--holdout3": HELD_OUT3,
        "--holdout4": HELD_OUT4,
        "--holdout5": HELD_OUT5,
        "--holdout6": HELD_OUT6,
        "--holdout7": HELD_OUT7,
        "--holdout8": HELD_OUT8,
        "--holdout9": HELD_OUT9,
        "--holdout10": HELD_OUT10,
        "--holdout11": HELD_OUT11,
        "--holdout12": HELD_OUT12,
        "--holdout13": HELD_OUT13,
        "--holdout14": HELD_OUT14,
        "--holdout15": HELD_OUT15,
    }
    hold_ = None
    if "--stream" in args:
        hold_ = HOLD_LINES
        if "--hold" in args:
            hold_ = int(args.pop(args.index("--hold") + 1))
    chosen = next((v for k, v in sets.items() if k in args), NAMES)
    chosen = [a for a in args if not a.startswith("-")] or chosen
    feed_ = "content" if "--content" in args else "raw"
    total = [0.0, 0.0]
    how = "resolved" if hold_ is None else f"streamed, hold {hold_}"
    print(f"{'fixture':26} {'lines':>5} {'GA':>6} {'PAn':>6}   ({feed_}, {how})")
    for fixture in chosen:
        ga_, pan_ = score(fixture, feed_, hold_)
        total[0] += ga_
        total[1] += pan_
        print(f"{fixture:26} {len(load(fixture)[0]):5} {ga_:6.3f} {pan_:6.3f}")
        if "--diff" in args:
            _diff(fixture, feed_)
    print(f"{'average':26} {'':5} {total[0] / len(chosen):6.3f} {total[1] / len(chosen):6.3f}")

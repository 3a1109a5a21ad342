"""Accuracy on small samples of log types the Loghub-2k data here does not cover.

The samples are in ``tests/logs/fixtures/*.tsv`` (see its README): the right template, a tab,
the raw line. Raw lines go through automatic header detection and the miner, as ``vigil logs
parse`` does with no ``--log-format``; GA and PAn are computed as in the shared evaluator
(``logparse_eval.py``; its Loghub-2.0 template normalisation when it is found beside the
repository, plain whitespace normalisation otherwise).

Files in ``fixtures/holdout/`` .. ``holdout32/`` were labelled like the others but kept out
of the tuning of the miner: the test checks only that they are well formed, and their scores
are printed on demand (``--holdout`` .. ``--holdout32``) as the figure
for log types the miner was not tuned on.

``--stream`` scores the ids and templates ``vigil logs parse`` prints as lines arrive (each
line's answer held back ``--hold N`` lines, :mod:`vigil.logs._holdback`; the template of an id
is the last one printed with it, as the shared evaluator takes it) instead of those resolved at
the end of input.

Run as a script to print the table: ``python tests/logs/test_fixtures.py [--holdout |
--holdout2 | --holdout3 |
--holdout4 | --holdout5 | --holdout6 | --holdout7 | --holdout8 | --holdout9 | --holdout10 |
--holdout11 | --holdout12 | --holdout13 | --holdout14 | --holdout15 | --holdout16 |
--holdout17 | --holdout18 | --holdout19 | --holdout20 | --holdout21 |
--holdout22 | --holdout23 | --holdout24 | --holdout25 | --holdout26 | --holdout27 |
--holdout28 | --holdout29 | --holdout30 | --holdout31 |
--holdout32]
[--content | --printed] [--cli | --stream [--hold N]] [--diff]``. ``--printed`` scores raw
lines as the shared evaluator's ``--feed raw`` does: the printed template (masked header and
template) is cut where the right template starts. ``--cli`` runs ``vigil logs parse`` itself
and scores its streaming output as the judges do (ids as printed, each id's last template; raw
lines as ``--printed``).
"""

from __future__ import annotations

import json
import re
import subprocess
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
HELD_OUT16 = sorted(f"holdout16/{p.stem}" for p in (FIXTURES / "holdout16").glob("*.tsv"))
HELD_OUT17 = sorted(f"holdout17/{p.stem}" for p in (FIXTURES / "holdout17").glob("*.tsv"))
HELD_OUT18 = sorted(f"holdout18/{p.stem}" for p in (FIXTURES / "holdout18").glob("*.tsv"))
HELD_OUT19 = sorted(f"holdout19/{p.stem}" for p in (FIXTURES / "holdout19").glob("*.tsv"))
HELD_OUT20 = sorted(f"holdout20/{p.stem}" for p in (FIXTURES / "holdout20").glob("*.tsv"))
HELD_OUT21 = sorted(f"holdout21/{p.stem}" for p in (FIXTURES / "holdout21").glob("*.tsv"))
HELD_OUT22 = sorted(f"holdout22/{p.stem}" for p in (FIXTURES / "holdout22").glob("*.tsv"))
HELD_OUT23 = sorted(f"holdout23/{p.stem}" for p in (FIXTURES / "holdout23").glob("*.tsv"))
HELD_OUT24 = sorted(f"holdout24/{p.stem}" for p in (FIXTURES / "holdout24").glob("*.tsv"))
HELD_OUT25 = sorted(f"holdout25/{p.stem}" for p in (FIXTURES / "holdout25").glob("*.tsv"))
HELD_OUT26 = sorted(f"holdout26/{p.stem}" for p in (FIXTURES / "holdout26").glob("*.tsv"))
HELD_OUT27 = sorted(f"holdout27/{p.stem}" for p in (FIXTURES / "holdout27").glob("*.tsv"))
HELD_OUT28 = sorted(f"holdout28/{p.stem}" for p in (FIXTURES / "holdout28").glob("*.tsv"))
HELD_OUT29 = sorted(f"holdout29/{p.stem}" for p in (FIXTURES / "holdout29").glob("*.tsv"))
HELD_OUT30 = sorted(f"holdout30/{p.stem}" for p in (FIXTURES / "holdout30").glob("*.tsv"))
HELD_OUT31 = sorted(f"holdout31/{p.stem}" for p in (FIXTURES / "holdout31").glob("*.tsv"))
HELD_OUT32 = sorted(f"holdout32/{p.stem}" for p in (FIXTURES / "holdout32").glob("*.tsv"))
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
    + HELD_OUT16
    + HELD_OUT17
    + HELD_OUT18
    + HELD_OUT19
    + HELD_OUT20
    + HELD_OUT21
    + HELD_OUT22
    + HELD_OUT23
    + HELD_OUT24
    + HELD_OUT25
    + HELD_OUT26
    + HELD_OUT27
    + HELD_OUT28
    + HELD_OUT29
    + HELD_OUT30
    + HELD_OUT31
    + HELD_OUT32
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


def mined(
    name: str, feed: str = "raw"
) -> tuple[list[str], list[str], list[int], TemplateMiner, list[str]]:
    """(right templates, lines fed, cluster ids, miner, masked headers) of one fixture; ``feed``
    is ``raw`` or ``printed`` (header detection, no format) or ``content`` (the header already
    removed, no masked headers)."""
    truth, raw = load(name)
    fmt, miner = LogFormat(), TemplateMiner()
    prefixes: list[str] = []
    if feed == "content":
        fed = [content_of(t, line) for t, line in zip(truth, raw, strict=True)]
        ids = [miner.cluster_of(line).id for line in fed]
    else:
        fed, ids = raw, []
        for line in raw:
            split = fmt.split(line)
            prefixes.append(split.prefix)
            ids.append(miner.cluster_of(split.content).id)
    return truth, fed, [miner.resolve(i) for i in ids], miner, prefixes


def printed_matches(want: str, printed: str, norm: Callable[[str], str]) -> bool:
    """PA of one raw line as the shared evaluator scores ``--feed raw``: it cuts the printed
    template (the masked header, then the template) with the data set's log format and compares
    the content part. The fixtures have no format, so the right template must be the printed
    one's end, after a separator: header tokens the detection left in the message are cut as
    the format would cut them; a message word taken into the (masked) header is still a miss.
    On the six Loghub sets this agrees with the evaluator's cut on every line (branch unseen16)."""
    got, right = norm(printed), norm(want)
    return got == right or (got.endswith(right) and not got[-len(right) - 1].isalnum())


def held(name: str, feed: str = "raw", hold: int = HOLD_LINES) -> tuple[list[int], list[str]]:
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
    """(GA, PAn) of the miner on one fixture, fed raw lines with no format (or content).

    ``raw`` compares the template of the detected message alone (a header token left in the
    message is a miss); ``printed`` scores the same run as the evaluator does on raw lines
    (:func:`printed_matches`). With ``hold``, of the answers printed as lines arrive
    (:func:`held`), not resolved ones (raw or content only)."""
    norm = _normaliser()
    if hold is not None:
        truth = load(name)[0]
        ids, final = held(name, "content" if feed == "content" else "raw", hold)
        pa = sum(norm(a) == norm(b) for a, b in zip(truth, final, strict=True))
        return grouping_accuracy(truth, ids), pa / len(truth)
    truth, _, ids, miner, prefixes = mined(name, feed)
    final = [miner.clusters[i].template for i in ids]
    if feed == "printed":
        pa = sum(
            printed_matches(a, p + b, norm) for a, p, b in zip(truth, prefixes, final, strict=True)
        )
    else:
        pa = sum(norm(a) == norm(b) for a, b in zip(truth, final, strict=True))
    return grouping_accuracy(truth, ids), pa / len(truth)


def streamed(name: str, feed: str = "raw") -> tuple[list[str], list[object], list[str]]:
    """(right templates, cluster ids, templates) as the judges score ``vigil logs parse``: the
    command run on the fixture's raw lines (or messages, ``content``), its streaming output read
    back, each line's id as printed on that line and its template the last one printed for that
    id (the shared evaluator's default ``--template-mode last``)."""
    truth, raw = load(name)
    fed = (
        [content_of(t, line) for t, line in zip(truth, raw, strict=True)]
        if feed == "content"
        else raw
    )
    out = subprocess.run(
        [sys.executable, "-m", "vigil", "logs", "parse"],
        input="\n".join(fed) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(row) for row in out.splitlines()]
    last = {row["cluster"]: row["template"] for row in rows}
    ids = [row["cluster"] for row in rows]
    return truth, ids, [last[i] for i in ids]


def score_streamed(name: str, feed: str = "raw") -> tuple[float, float]:
    """(GA, PAn) of :func:`streamed`; raw lines' templates compared by :func:`printed_matches`."""
    truth, ids, templates = streamed(name, feed)
    norm = _normaliser()
    if feed == "content":
        pa = sum(norm(a) == norm(b) for a, b in zip(truth, templates, strict=True))
    else:
        pa = sum(printed_matches(a, b, norm) for a, b in zip(truth, templates, strict=True))
    return grouping_accuracy(truth, ids), pa / len(truth)  # type: ignore[arg-type]


def test_streamed_output_prints_the_masked_header_before_each_template() -> None:
    truth, ids, templates = streamed("holdout15/corosync")
    assert len(ids) == len(templates) == len(truth)
    assert all(t.startswith("Nov <*> <*>:<*>:<*>") for t in templates)
    _, content_ids, content_templates = streamed("holdout15/corosync", "content")
    assert not any(t.startswith("Nov") for t in content_templates)
    # The same clusters, headers apart: one raw cluster per content cluster and the other way
    # round. The header words the detection leaves in a raw corosync message ("node1 corosync
    # notice [SERV ]") no longer count in a several-word value's share (vigil.logs._share), so
    # the two "Service engine loaded: <text> [<*>]" lines are one cluster on both feeds.
    pairs = set(zip(content_ids, ids, strict=True))
    assert len(pairs) == len(set(ids)) == len(set(content_ids))


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


def test_printed_matches_cuts_the_header_as_a_log_format_would() -> None:
    norm = _normaliser()
    want = "Corosync Cluster Engine <*> starting up"
    # header tokens the detection left in the message are cut off, as the evaluator's format cuts
    printed = "<*> <*> <*>:<*>:<*> [<*>] node<*> corosync notice [MAIN ] " + want
    assert printed_matches(want, printed, norm)
    assert printed_matches(want, "<*> " + want, norm)
    # glued headers (JSON keys, "time:LEVEL:logger:") end with a separator too
    assert printed_matches(
        '"msg":"<*> started"}', '{"level":"info",' + '"msg":"<*> started"}', norm
    )
    # a message word taken into the masked header is a miss, and so is a part of a word
    assert not printed_matches(
        "NCCL INFO Bootstrap : Using <*>", "<*> <*> Bootstrap : Using <*>", norm
    )
    assert not printed_matches("started", "<*> restarted", norm)
    # the template the miner gave is still compared whole
    assert not printed_matches(want, "<*> Corosync Cluster Engine <*> <*> up", norm)


def test_printed_matches_agrees_with_the_evaluators_cut_on_a_loghub_set() -> None:
    """On raw OpenSSH lines, the evaluator's own header cut (its ``log_format`` over the printed
    template) and :func:`printed_matches` say the same for every line."""
    folder = next((f for f in _SHARED if (f / "logparse_eval.py").exists()), None)
    data = folder.parent / "data/loghub" if folder else None
    if data is None or not (data / "OpenSSH").is_dir():
        pytest.skip("the shared evaluator and its Loghub data are not beside the repository")
    norm = _normaliser()  # puts the evaluator's folder on sys.path
    from logparse_eval import Dataset  # type: ignore[import-not-found]

    ds = Dataset(str(data), "OpenSSH")
    fmt, miner = LogFormat(), TemplateMiner()
    rows = []
    for line in ds.raw:
        split = fmt.split(line)
        rows.append((miner.cluster_of(split.content).id, split.prefix))
    printed = [p + miner.clusters[miner.resolve(i)].template for i, p in rows]
    theirs = [
        norm(ds.strip_header(p)) == norm(t) for p, t in zip(printed, ds.gt_template, strict=True)
    ]
    ours = [printed_matches(t, p, norm) for p, t in zip(printed, ds.gt_template, strict=True)]
    assert ours == theirs
    assert sum(ours) > 0.9 * len(ours)


def _diff_streamed(name: str, feed: str) -> None:
    """Print each right template next to the one ``vigil logs parse`` printed, where
    :func:`score_streamed` counts a miss (``--cli --diff``)."""
    truth, _, templates = streamed(name, feed)
    norm = _normaliser()
    for want, got, line in zip(truth, templates, load(name)[1], strict=True):
        ok = norm(want) == norm(got) if feed == "content" else printed_matches(want, got, norm)
        if not ok:
            print(f"  want {want}\n  got  {got}\n  line {line}")


def _diff(name: str, feed: str) -> None:
    """Print each right template next to the miner's, where they differ (``--diff``)."""
    truth, fed, ids, miner, prefixes = mined(name, feed)
    norm = _normaliser()
    for n, (want, line, i) in enumerate(zip(truth, fed, ids, strict=True)):
        got = miner.clusters[i].template
        if feed == "printed":
            got = prefixes[n] + got
            ok = printed_matches(want, got, norm)
        else:
            ok = norm(want) == norm(got)
        if not ok:
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
        "--holdout16": HELD_OUT16,
        "--holdout17": HELD_OUT17,
        "--holdout18": HELD_OUT18,
        "--holdout19": HELD_OUT19,
        "--holdout20": HELD_OUT20,
        "--holdout21": HELD_OUT21,
        "--holdout22": HELD_OUT22,
        "--holdout23": HELD_OUT23,
        "--holdout24": HELD_OUT24,
        "--holdout25": HELD_OUT25,
        "--holdout26": HELD_OUT26,
        "--holdout27": HELD_OUT27,
        "--holdout28": HELD_OUT28,
        "--holdout29": HELD_OUT29,
        "--holdout30": HELD_OUT30,
        "--holdout31": HELD_OUT31,
        "--holdout32": HELD_OUT32,
    }
    hold_ = None
    if "--stream" in args:
        hold_ = HOLD_LINES
        if "--hold" in args:
            hold_ = int(args.pop(args.index("--hold") + 1))
    chosen = next((v for k, v in sets.items() if k in args), NAMES)
    chosen = [a for a in args if not a.startswith("-")] or chosen
    feed_ = "content" if "--content" in args else "printed" if "--printed" in args else "raw"
    scorer = score_streamed if "--cli" in args else score
    feed_ = "raw" if "--cli" in args and feed_ == "printed" else feed_
    total = [0.0, 0.0]
    how = feed_ + (", cli" if scorer is score_streamed else "")
    how += "" if hold_ is None or scorer is score_streamed else f", streamed, hold {hold_}"
    print(f"{'fixture':26} {'lines':>5} {'GA':>6} {'PAn':>6}   ({how})")
    for fixture in chosen:
        if scorer is score_streamed:
            ga_, pan_ = scorer(fixture, feed_)
        else:
            ga_, pan_ = score(fixture, feed_, hold_)
        total[0] += ga_
        total[1] += pan_
        print(f"{fixture:26} {len(load(fixture)[0]):5} {ga_:6.3f} {pan_:6.3f}")
        if "--diff" in args:  # the misses the line above counts: the CLI's under --cli
            (_diff_streamed if scorer is score_streamed else _diff)(fixture, feed_)
    print(f"{'average':26} {'':5} {total[0] / len(chosen):6.3f} {total[1] / len(chosen):6.3f}")

"""Automatic header detection: holdout19's layouts (branch unseen19). Each rule has lines of its
layout and near misses that keep their header as before."""

from __future__ import annotations

from vigil.logs import LogFormat, TemplateMiner


def content(line: str) -> str:
    return LogFormat().split(line).content


def test_an_arrow_right_after_the_time_ends_the_header() -> None:
    # ClamAV's clamd.log and freshclam.log: a ctime and "->"
    assert content("Sun Nov 29 10:00:01 2026 -> Loaded 8704291 signatures.") == (
        "Loaded 8704291 signatures."
    )
    # a "word:" after the arrow is the message's own prefix, not a program or logger
    line = "Sun Nov 29 10:00:21 2026 -> Limits: Global time limit set to 120000 milliseconds."
    assert content(line) == "Limits: Global time limit set to 120000 milliseconds."
    line = "Sun Nov 29 10:14:02 2026 -> /srv/uploads/inv_4821.pdf: Win.Trojan.Agent-1 FOUND"
    assert content(line) == "/srv/uploads/inv_4821.pdf: Win.Trojan.Agent-1 FOUND"


def test_an_arrow_after_an_id_stays_the_messages() -> None:
    # Exim's delivery line: the arrow follows the message id, as before
    line = "2026-11-29 10:00:01 1tGx4M-000DkJ-3q => bob@lab.internal R=local T=smtp"
    assert content(line) == "1tGx4M-000DkJ-3q => bob@lab.internal R=local T=smtp"
    # an arrow after a bracketed field closes the header, as before
    line = "2026-11-29 10:00:01 770112 [58EF115D] 0x02 -> open session"
    assert content(line) == "open session"


def test_path_lines_and_stream_lines_of_clamd_group_by_their_form() -> None:
    fmt, miner = LogFormat(), TemplateMiner()
    lines = [
        "Sun Nov 29 10:14:02 2026 -> /srv/uploads/inv_4821.pdf: Win.Trojan.Agent-1234567 FOUND",
        "Sun Nov 29 10:14:02 2026 -> /srv/uploads/eicar.com: Eicar-Test-Signature FOUND",
        "Sun Nov 29 10:20:11 2026 -> instream(127.0.0.1@51234): Eicar-Test-Signature FOUND",
        "Sun Nov 29 10:22:40 2026 -> instream(10.1.0.57@40988): Win.Malware.Emotet-99 FOUND",
    ]
    ids = [miner.resolve(miner.cluster_of(fmt.split(line).content).id) for line in lines]
    # on main the path and the stream were cut into the header: lines grouped by signature
    assert ids[0] == ids[1]
    assert ids[2] != ids[0] and ids[3] != ids[0]

"""A size's unit met by the miner (branch masks22): a unit written apart before a comma or a
semicolon stays in the template while every line of the cluster has it, and folds into the
value once another unit shows up, as a unit ending a phrase already did."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def test_a_unit_before_a_comma_stays_while_every_line_has_it() -> None:
    # Redis (holdout), cuFile (holdout21), Squid (holdout11), HBase's "filesize=1 MB;"
    ids, templates = _run(
        [
            "Fork CoW for RDB: current 2 MB, peak 2 MB, average 1 MB",
            "Fork CoW for RDB: current 14 MB, peak 14 MB, average 8 MB",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == "Fork CoW for RDB: current <*> MB, peak <*> MB, average <*> MB"
    ids, templates = _run(
        [
            "Rolled WAL /hbase/a.1 with entries=12, filesize=1 MB; new WAL /hbase/a.2",
            "Rolled WAL /hbase/a.2 with entries=40, filesize=3 MB; new WAL /hbase/a.3",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == "Rolled WAL <*> with entries=<*>, filesize=<*> MB; new WAL <*>"


def test_a_unit_before_a_comma_folds_once_another_unit_shows_up() -> None:
    # Spark's block sizes (Loghub: "estimated size <*>, free <*>"): the units vary, one value
    ids, templates = _run(
        [
            "Block b1 stored as bytes in memory (estimated size 5.2 KB, free 14.0 KB)",
            "Block b2 stored as bytes in memory (estimated size 96 B, free 14.1 KB)",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == "Block <*> stored as bytes in memory (estimated size <*>, free <*>)"

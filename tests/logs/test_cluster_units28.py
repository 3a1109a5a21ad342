"""A size's unit before a closing bracket, and a bracketed ``[key=value]`` field (branch units28).

A unit before ``)`` was folded into its value from the first line (``18.21 MB)`` -> ``<*>)``),
while 24 of the 27 such labels across the directories keep it (``<*> MB)``: VictoriaMetrics,
Proxifier, CockroachDB, Proxmox, JuiceFS, LMCache); it now stays while every line has it, as
before a comma, and folds once a size of the template shows another unit (Spark's
``(estimated size <*>, free <*>)``, ``free`` printed in KB in every line of Loghub's 2k).
A ``[ServerName=querynode]`` field was widened whole (``[<*>]``) as a bracketed name: its key
is a constant, its value alone varies (Milvus, TiDB, SSSD)."""

from __future__ import annotations

from vigil.logs import TemplateMiner


def _run(lines: list[str]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    ids = [miner.resolve(miner.cluster_of(line).id) for line in lines]
    return ids, [miner.clusters[i].template for i in ids]


def test_a_unit_before_a_closing_bracket_stays_while_every_line_has_it() -> None:
    ids, templates = _run(
        [
            "merged (12 parts, 1844123 rows, 31823 blocks, 18.21 MB) into (1 part, 1844123 rows)",
            "merged (8 parts, 912004 rows, 15870 blocks, 9.88 MB) into (1 part, 912004 rows)",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == (
        "merged (<*> parts, <*> rows, <*> blocks, <*> MB) into (<*> part, <*> rows)"
    )
    ids, templates = _run(
        [
            "chrome.exe - proxy.example.org:5070 close, 1190 bytes (1.16 KB) sent, lifetime 00:02",
            "chrome.exe - proxy.example.org:5070 close, 5060 bytes (4.94 KB) sent, lifetime 00:04",
        ]
    )
    assert ids[0] == ids[1]
    assert "bytes (<*> KB) sent" in templates[-1]


def test_once_a_size_shows_another_unit_its_sizes_closing_a_bracket_fold() -> None:
    # Spark's Loghub labels: "free" is printed in KB in every line, yet written "<*>)"
    ids, templates = _run(
        [
            "Block b1 stored as values in memory (estimated size 384.0 B, free 317.5 KB)",
            "Block b2 stored as values in memory (estimated size 2.1 KB, free 315.2 KB)",
            "Block b3 stored as values in memory (estimated size 384.0 B, free 310.5 KB)",
        ]
    )
    assert ids[0] == ids[1] == ids[2]
    assert templates[-1] == "Block <*> stored as values in memory (estimated size <*>, free <*>)"


def test_a_bracketed_key_value_field_varies_in_its_value_alone() -> None:
    ids, templates = _run(
        [
            '["Session Register Begin"] [ServerName=querynode] [ServerID=12]',
            '["Session Register Begin"] [ServerName=datanode] [ServerID=14]',
            '["Session Register Begin"] [ServerName=proxy] [ServerID=9]',
        ]
    )
    assert ids[0] == ids[1] == ids[2]
    assert templates[-1] == '["Session Register Begin"] [ServerName=<*>] [ServerID=<*>]'


def test_a_bracketed_name_after_a_plain_word_still_varies_whole() -> None:
    ids, templates = _run(
        [
            "reloading application [api] from the new release directory",
            "reloading application [admin] from the new release directory",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == "reloading application [<*>] from the new release directory"


def test_a_size_ending_a_phrase_keeps_its_unit_beside_one_whose_units_varied() -> None:
    # PyTorch's OOM message as vLLM prints it (vllm.tsv): "of which <*> is free", the rest GiB
    ids, templates = _run(
        [
            "CUDA out of memory. Tried to allocate 2.50 GiB. GPU 3 has a total capacity of"
            " 79.15 GiB of which 1.21 GiB is free.",
            "CUDA out of memory. Tried to allocate 1.75 GiB. GPU 5 has a total capacity of"
            " 79.15 GiB of which 812.44 MiB is free.",
        ]
    )
    assert ids[0] == ids[1]
    assert templates[-1] == (
        "CUDA out of memory. Tried to allocate <*> GiB. GPU <*> has a total capacity of"
        " <*> GiB of which <*> is free."
    )

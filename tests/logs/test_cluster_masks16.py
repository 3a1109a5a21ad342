"""Grouping rules of the values-of-different-shapes round (branch masks16): lines of one
template kept apart because the masking gave one value two shapes."""

from __future__ import annotations

from vigil.logs import TemplateMiner
from vigil.logs._slots import mask_reach


def _printed(lines: list[str]) -> list[int]:
    """The ids as ``vigil logs parse`` prints them: each line's id as of that line."""
    miner = TemplateMiner()
    return [miner.cluster_of(line).id for line in lines]


def test_a_compound_value_masked_whole_in_one_line_and_in_part_in_another_is_one_slot() -> None:
    # an HBase region name: "table,startkey,id.hash", the start key empty in the second one
    ids = _printed(
        [
            "Opened usertable,user4500,1764400012345.0b1f2c3d4e5f6a7b8c9d0e1f2a3b4c5d.",
            "Opened events,,1764391100021.4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b.",
        ]
    )
    assert ids[0] == ids[1]  # decided at the second line: the id printed for it is the first's


def test_a_list_of_one_value_and_a_list_of_two_are_one_slot() -> None:
    ids = _printed(
        [
            'Executing [100@internal:1] Dial("PJSIP/1002-00000033", "PJSIP/1001,30,tT") in new'
            " stack",
            'Executing [s@from-trunk:3] Dial("PJSIP/trunk-00000035", "PJSIP/1002&PJSIP/1003,25")'
            " in new stack",
        ]
    )
    assert ids[0] == ids[1]


def test_a_sign_beside_a_mask_still_tells_two_kinds_of_frame_apart() -> None:
    # a frame with no function, "(+0x..)", and one with a function and its offset
    ids = _printed(
        [
            "[ 0] /lib64/libpthread.so.0(+0x12cf0)[0x7f3a51e6acf0]",
            "[ 1] /opt/app/lib/libsolver.so(assemble_matrix+0x1a4)[0x7f3a4f2b11d4]",
        ]
    )
    assert ids[0] != ids[1]


def test_mask_reach_needs_a_difference_beside_a_mask_inside_shared_text() -> None:
    assert mask_reach("<*>ms", "<*>s")  # a duration in two units
    assert mask_reach("'<*>'", "'<*>/NS/IN'")  # a query masked whole, then in part
    assert mask_reach('<*>"}', '*<*>.Pod"}')
    assert not mask_reach("(<*>)", "[<*>]")  # other brackets: the masks are the same
    assert not mask_reach("(<*>)]}", "status=<*>")  # nothing shared
    assert not mask_reach("(+<*>)", "(<*>)")  # a sign, not a value's text
    assert not mask_reach("user=<*>", "user=root")  # one side holds no mask: not this rule

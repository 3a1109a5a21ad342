"""The XID catalog (action class per code) and the kernel-log XID line parser."""

from __future__ import annotations

import pytest

from vigil.collectors import XID_CATALOG, XidAction, XidLine, parse_xid_line, xid_info


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (13, XidAction.RESTART_APP),
        (31, XidAction.RESTART_APP),
        (43, XidAction.RESTART_APP),
        (45, XidAction.IGNORE),
        (48, XidAction.RESET_GPU),
        (63, XidAction.RESET_GPU),
        (64, XidAction.HARDWARE_TICKET),
        (74, XidAction.RESET_GPU),
        (79, XidAction.REBOOT_NODE),
        (92, XidAction.IGNORE),
        (94, XidAction.RESTART_APP),
        (95, XidAction.RESET_GPU),
        (119, XidAction.RESET_GPU),
    ],
)
def test_common_codes_map_to_their_action_class(code: int, action: XidAction) -> None:
    assert xid_info(code).action is action


def test_every_catalog_entry_has_a_one_line_description_and_its_own_code() -> None:
    for code, info in XID_CATALOG.items():
        assert info.code == code
        assert info.description and "\n" not in info.description
    requested = {13, 31, 32, 43, 45, 48, 61, 62, 63, 64, 68, 69, 74, 79, 92, 94, 95, 119, 120}
    assert requested <= set(XID_CATALOG)


def test_an_unknown_code_asks_for_a_human() -> None:
    info = xid_info(4242)
    assert info.action is XidAction.HARDWARE_TICKET
    assert "4242" in info.description


def test_action_classes_have_the_names_the_remediation_engine_uses() -> None:
    assert {a.value for a in XidAction} == {
        "restart_app",
        "reset_gpu",
        "reboot_node",
        "hardware_ticket",
        "ignore",
    }


def test_a_kernel_xid_line_gives_the_pci_address_code_and_message() -> None:
    line = "NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus."
    assert parse_xid_line(line) == XidLine("0000:3b:00", 79, "GPU has fallen off the bus.")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "May 18 19:02:39 host kernel: NVRM: Xid (PCI:0000:2B:00): 79, GPU has fallen off the "
            "bus.",
            XidLine("0000:2b:00", 79, "GPU has fallen off the bus."),
        ),
        (
            "[ 1936.5] NVRM: Xid (PCI:0000:10:1c): 63, pid=1896, Row Remapper: New row marked "
            "for remapping, reset gpu to activate.",
            XidLine(
                "0000:10:1c",
                63,
                "Row Remapper: New row marked for remapping, reset gpu to activate.",
            ),
        ),
        (
            "NVRM: Xid (PCI:0000:65:00): 13, pid='<unknown>', name=<unknown>, Graphics Exception",
            XidLine("0000:65:00", 13, "Graphics Exception"),
        ),
        (
            "NVRM: Xid (PCI:0000:08:00): 31, pid=77, name=python3, Ch 0000003b, intr 10000000. "
            "MMU Fault: ENGINE GRAPHICS",
            XidLine("0000:08:00", 31, "Ch 0000003b, intr 10000000. MMU Fault: ENGINE GRAPHICS"),
        ),
        (
            "NVRM: Xid (0000:3b:00.0): 48, DBE (double bit error)\n",
            XidLine("0000:3b:00.0", 48, "DBE (double bit error)"),
        ),
    ],
)
def test_xid_lines_from_dmesg_and_the_journal_parse(line: str, expected: XidLine) -> None:
    assert parse_xid_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "NVRM: GPU at PCI:0000:2b:00: GPU-0b11d014-1685-04bd-26ed-5fc0bc1c44ae",
        "nvidia-nvswitch1: SXid (PCI:0000:aa:00.0): 24007, Severity 1 Engine instance 12",
        "NVRM: Xid (PCI:0000:3b:00): not-a-code, something",
        "",
    ],
)
def test_other_lines_are_not_xids(line: str) -> None:
    assert parse_xid_line(line) is None

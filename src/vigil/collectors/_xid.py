"""NVIDIA XID codes: what each common one means and what to do about it; the kernel-log parser.

Pure: no I/O. :class:`GpuCollector` labels NVML XID events with :func:`xid_info`; the kernel-log
collector (later) feeds ``dmesg``/journal lines to :func:`parse_xid_line`, and the remediation
engine maps the action class to its playbook (restart the replica, reset the GPU, drain and
reboot the node, or open a hardware ticket).

The action classes follow the "Resolution Bucket (Immediate Action)" column of NVIDIA's Xid
catalog (docs.nvidia.com/deploy/xid-errors, RESTART_APP / RESET_GPU / RESTART_BM /
CONTACT_SUPPORT / IGNORE), checked there for 8, 11 and 13; the other codes use the well-known
meanings from the same catalog, the dynamic page retirement and the GPU debug guidelines.
Where the catalog says "reset the GPU or reboot" we choose ``reset_gpu``, the smaller action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class XidAction(StrEnum):
    """What an XID asks of the operator, from the smallest to the largest step."""

    IGNORE = "ignore"
    """Informational or a consequence of another event; nothing to do."""
    RESTART_APP = "restart_app"
    """The application (or its CUDA context) failed; restart it, the GPU is fine."""
    RESET_GPU = "reset_gpu"
    """The GPU needs a reset (``nvidia-smi -r``) before it can be trusted again."""
    REBOOT_NODE = "reboot_node"
    """The GPU is unreachable until the node is power-cycled."""
    HARDWARE_TICKET = "hardware_ticket"
    """Likely a hardware fault: drain, and have a human (or the vendor) look at it."""


@dataclass(frozen=True, slots=True)
class XidInfo:
    """One catalog entry: the code, its action class and a one-line description."""

    code: int
    action: XidAction
    description: str


_A = XidAction
_ENTRIES: tuple[tuple[int, XidAction, str], ...] = (
    (8, _A.RESTART_APP, "GPU stopped processing (channel idle timeout)"),
    (11, _A.RESTART_APP, "invalid or corrupted push buffer stream"),
    (13, _A.RESTART_APP, "graphics engine exception (often an out-of-bounds access in a kernel)"),
    (31, _A.RESTART_APP, "GPU memory page fault (MMU fault; usually an application bug)"),
    (32, _A.RESTART_APP, "invalid or corrupted push buffer stream (PBDMA)"),
    (38, _A.RESTART_APP, "driver firmware error"),
    (43, _A.RESTART_APP, "GPU stopped processing: the application hit a software-induced fault"),
    (45, _A.IGNORE, "preemptive cleanup after the application was stopped or hit another Xid"),
    (48, _A.RESET_GPU, "double-bit (uncorrectable) ECC error in GPU memory"),
    (56, _A.RESTART_APP, "display engine error"),
    (57, _A.RESET_GPU, "error programming video memory interface"),
    (61, _A.RESET_GPU, "internal micro-controller breakpoint/warning (PMU)"),
    (62, _A.RESET_GPU, "internal micro-controller halt"),
    (63, _A.RESET_GPU, "page retirement or row remapping recorded; a reset activates it"),
    (64, _A.HARDWARE_TICKET, "page retirement or row remapping failed"),
    (68, _A.RESTART_APP, "video decoder (NVDEC) exception"),
    (69, _A.RESTART_APP, "graphics engine class error"),
    (74, _A.RESET_GPU, "NVLink error"),
    (79, _A.REBOOT_NODE, "GPU has fallen off the bus"),
    (92, _A.IGNORE, "high single-bit ECC error rate (corrected; watch the trend)"),
    (94, _A.RESTART_APP, "contained uncorrectable ECC error; only the affected app must restart"),
    (95, _A.RESET_GPU, "uncontained uncorrectable ECC error; every app on the GPU is affected"),
    (109, _A.RESTART_APP, "context switch timeout"),
    (119, _A.RESET_GPU, "GSP RPC timeout (GPU System Processor not answering)"),
    (120, _A.RESET_GPU, "GSP error"),
    (121, _A.IGNORE, "corrected C2C link error"),
    (140, _A.RESET_GPU, "unrecovered ECC error"),
)

XID_CATALOG: dict[int, XidInfo] = {code: XidInfo(code, a, d) for code, a, d in _ENTRIES}
"""The XID codes Vigil knows, by code."""


def xid_info(code: int) -> XidInfo:
    """The catalog entry for ``code``; an unknown code asks for a human (``hardware_ticket``)."""
    known = XID_CATALOG.get(code)
    if known is not None:
        return known
    return XidInfo(code, XidAction.HARDWARE_TICKET, f"Xid {code} is not in Vigil's catalog")


class XidLine(NamedTuple):
    """An XID line of the kernel log: which GPU (PCI address), which code, the driver's text."""

    pci: str
    code: int
    message: str


_XID_LINE = re.compile(
    r"NVRM: Xid \((?:PCI:)?(?P<pci>[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}(?:\.\d)?)\): "
    r"(?P<code>\d+),\s*(?P<rest>.*)$"
)
# The driver prefixes the message with the process: "pid=1896, name=python, " or "pid='<unknown>', "
_PROCESS_FIELDS = re.compile(r"^(?:(?:pid|name)=(?:'[^']*'|[^,]*),\s*)+")


def parse_xid_line(line: str) -> XidLine | None:
    """The XID in a kernel log line, or None for any other line.

    ``kernel: NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus.`` gives
    ``XidLine(pci="0000:3b:00", code=79, message="GPU has fallen off the bus.")``: the PCI address
    is lower-cased, and the ``pid=`` and ``name=`` fields are dropped from the message.
    """
    match = _XID_LINE.search(line.rstrip())
    if match is None:
        return None
    message = _PROCESS_FIELDS.sub("", match["rest"]).strip()
    return XidLine(match["pci"].lower(), int(match["code"]), message)

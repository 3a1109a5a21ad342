"""Compound identifiers: two names a program composes of lower-case parts joined by dashes, or
qualified by a namespace before a slash, are two values of one slot however few values it takes.

Called by :func:`vigil.logs._cluster._cost` on the miner's slow path, when two words at one
place differ and none of the other rules (a key, quotes, an introducing word) named them values,
and by :func:`vigil.logs._widening.widen` (``whole_name``), which then masks the name whole.
Without this, a plain word of two to four values stays a constant, one template each: what the
Loghub ground truth wants for state words (``RUNNING``, ``Up``, ``active``), but not for names.

The construct is kebab-case or a ``namespace/name`` path of such parts: CrowdSec's scenarios
(``crowdsecurity/ssh-bf``), Kubernetes' ``namespace/name`` and resource names
(``kafka-logs/logs-hot``), Docker and Harbor repositories (``library/nginx``,
``ml/triton-server``), Jenkins job and Helm release names (``build-images``), Pacemaker resource
ids (``db-replica``), Open vSwitch bridges (``br-int``), NATS consumers (``audit-sink``), the
Cilium agent's and any Go or Rust CLI's option names (``bpf-ct-global-tcp-max``). Prose and
states are not written so: a state is one word (``RUNNING``), and the hyphenated English words
that do occur (``up-to-date``, ``deep-scrub``) meet a one-word value at their place, or differ
in one part (``link-up``/``link-down``, ``fs-freeze``/``fs-thaw``, ``read-only``/``read-write``:
two ends of one change, which this leaves constants). No state, no I/O.
"""

from __future__ import annotations

import re

from vigil.logs._slots import kinds_differ
from vigil.logs._tokens import WILDCARD

_PIECE = r"[a-z][a-z0-9]*(?:[-_.][a-z][a-z0-9]*)*"
"""Lower-case parts, each opening with a letter, joined by ``-``, ``_`` or ``.``: a part that is
a number alone (``gpu-edge-01``) is left to the masks of numbers."""

_COMPOUND = re.compile(
    rf"^(?P<open>[\"'(\[]?)(?P<name>{_PIECE}(?:/{_PIECE})?)(?P<close>[\"')\]]?[,;:]?)$"
)
"""A whole word that is such a name, a quote or bracket around it and a comma or colon after
it allowed (``'crowdsecurity/ssh-bf'``, ``ml/triton-server,``, ``br-int:``)."""


def _compound(word: str) -> tuple[str, str, str] | None:
    """(text before, name, text after) of a compound identifier, or None when ``word`` is
    not one: a ``namespace/name`` or a name of two parts or more joined by a dash."""
    m = _COMPOUND.match(word)
    if m is None:
        return None
    name = m.group("name")
    if "/" not in name and "-" not in name:
        return None  # "gemm_plugin", "scrub_start": snake_case names events as often as things
    return m.group("open"), name, m.group("close")


_PART_BREAK = re.compile(r"[-_./]")


def _pair(a: str, b: str) -> tuple[str, str, str] | None:
    """``a``'s parts (:func:`_compound`) when ``a`` and ``b`` are two compound names
    (:func:`compound_names`), else None."""
    ca = _compound(a)
    if ca is None:
        return None
    cb = _compound(b)
    if cb is None or (ca[0], ca[2]) != (cb[0], cb[2]):
        return None
    pa, pb = _PART_BREAK.split(ca[1]), _PART_BREAK.split(cb[1])
    if len(pa) == len(pb) and sum(x != y for x, y in zip(pa, pb, strict=True)) == 1:
        return None
    return None if kinds_differ(a, b) else ca


def compound_names(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two compound identifiers (:data:`_COMPOUND`) in the same
    punctuation that differ in more than one part, or have different numbers of parts, and not
    in a key naming a kind (``crowdsecurity/ssh-bf`` / ``crowdsecurity/http-probing``,
    ``build-images`` / ``deploy-prod``): two names of one slot, so a value. One part changed
    alone (``link-up`` / ``link-down``) is one word of a state changed: left a constant."""
    return _pair(a, b) is not None


def whole_name(a: str, b: str) -> str | None:
    """The pattern for two compound names (:func:`compound_names`): the name masked whole, its
    punctuation kept (``'<*>'``), not a namespace both share (``crowdsecurity/<*>``); None for
    other words."""
    parts = _pair(a, b)
    return None if parts is None else parts[0] + WILDCARD + parts[2]

"""Command-line options printed one per line: ``--name=value`` words whose name is a value.

Called by :func:`vigil.logs._cluster._cost` (may a cluster take a line whose word differs in
an option's name), :func:`vigil.logs._cluster._bucket_key` (a line opened by an option) and
:func:`vigil.logs._widening.widen` (the pattern of two such words), on the miner's slow path.
Pure string functions, no state.

Many daemons dump their whole configuration at start, one option a line, in the form their
command line takes: kubelet and every program built on Go's ``pflag`` print ``FLAG:
--cluster-dns="[10.96.0.10]"``, Cilium's agent ``  --enable-wireguard='true'``, Go's ``flag``
users (VictoriaMetrics, Prometheus exporters) ``-retentionPeriod="90d"``. The option's name
changes from line to line as much as its value does: the dump is one statement printed once
per option, so the name is a value too (``--<*>="<*>"``), while the dashes, the ``=`` and the
quotes around the value are the statement's form and stay. An option written inside a
sentence (``according to -memory.allowedPercent=60``) keeps its name: there the same name
comes back in every line, and only two *different* names make this pair.
"""

from __future__ import annotations

import re

from vigil.logs._compare import generalise
from vigil.logs._marks import WILDCARD

_OPTION = re.compile(r"^(-{1,2})([A-Za-z][\w.\-]*|<\*>)=(.*)$")
"""An option word: one or two dashes, a name (letters, digits, ``_``, ``.`` and ``-``;
``--bpf-ct-global-tcp-max``, ``-promscrape.config``, ``--log_output_level``), ``=`` and its
value as printed, quoted or not, possibly masked already (``--grpcAddr=":<*>"``); a template's
name is ``<*>`` once two names met."""


def option_dashes(word: str) -> str:
    """The dashes of an option word (``-`` or ``--``), or ``""`` when ``word`` is none: the
    miner files a line opened by an option under its dashes, not its name, so that a dump of
    one option a line and nothing else (Go's ``flag``: ``-retentionPeriod="90d"``) meets."""
    match = _OPTION.match(word)
    return match.group(1) if match is not None else ""


def option_pair(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two options of one dump: both ``-name=value`` words with
    the same dashes and two different names (``--domain="<*>"`` / ``--grpcAddr=":<*>"``)."""
    ma, mb = _OPTION.match(a), _OPTION.match(b)
    return (
        ma is not None
        and mb is not None
        and ma.group(1) == mb.group(1)
        and ma.group(2) != mb.group(2)
    )


def option_pattern(a: str, b: str) -> str:
    """The pattern of two options of one dump (:func:`option_pair`): the dashes, a value for
    the name, ``=`` and the two values' pattern, which keeps the quotes both share
    (``--clusterID="Kubernetes"`` / ``--domain="<*>"`` -> ``--<*>="<*>"``)."""
    ma, mb = _OPTION.match(a), _OPTION.match(b)
    if ma is None or mb is None:
        return generalise(a, b)
    va, vb = ma.group(3), mb.group(3)
    value = _slot(va) if va == vb else generalise(va, vb) if va and vb else WILDCARD
    return ma.group(1) + WILDCARD + "=" + value


def _slot(value: str) -> str:
    """One value that two options share (``'true'`` under ``--enable-wireguard`` and
    ``--kube-proxy-replacement``) as a slot in its quotes: under a name that varies, the value
    is the option's setting, not a constant of the dump (``'<*>'``). An empty value stays."""
    inner = value.strip("\"'),;")
    if not inner or inner == WILDCARD:
        return value
    start = value.index(inner)
    return value[:start] + WILDCARD + value[start + len(inner) :]

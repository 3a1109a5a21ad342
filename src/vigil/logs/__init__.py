"""Log analysis, the pure core: a template miner, header formats and bad-input repair.

One line at a time, :class:`TemplateMiner` turns a message into a stable cluster id and a
template with ``<*>`` for its variable parts, with one configuration for every log type.
:class:`LogFormat` cuts the header off a raw line (format strings, presets, automatic
detection); :class:`LineSplitter` turns raw bytes into clean lines; :func:`dumps` and
:func:`loads` save and restore a miner so ids survive restarts.

No I/O here: the ``vigil logs`` CLI (:mod:`vigil.cli._logs`) and the collectors do it.

>>> miner = TemplateMiner()
>>> fmt = LogFormat("<Date> <Time> <Level>: <Content>")
>>> line = fmt.split("2024-05-01 12:00:00 INFO: worker 7 started in 35 ms")
>>> miner.add(line.content).template
'worker <*> started in <*> ms'
"""

from __future__ import annotations

from vigil.logs._cluster import Cluster
from vigil.logs._headers import PRESETS, LogFormat, LogFormatError, Split, compile_format
from vigil.logs._input import DEFAULT_MAX_LINE_BYTES, TRUNCATED_MARKER, InputStats, LineSplitter
from vigil.logs._miner import Match, TemplateMiner
from vigil.logs._state import StateError, dumps, loads, miner_from_dict, miner_to_dict
from vigil.logs._tokens import WILDCARD, mask

__all__ = [
    "DEFAULT_MAX_LINE_BYTES",
    "PRESETS",
    "TRUNCATED_MARKER",
    "WILDCARD",
    "Cluster",
    "InputStats",
    "LineSplitter",
    "LogFormat",
    "LogFormatError",
    "Match",
    "Split",
    "StateError",
    "TemplateMiner",
    "compile_format",
    "dumps",
    "loads",
    "mask",
    "miner_from_dict",
    "miner_to_dict",
]

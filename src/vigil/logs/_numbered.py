"""Numbered names: ``osd17`` is a value once the log has shown ``osd`` with another number.

Called by :meth:`vigil.logs._miner.TemplateMiner` on every line it looks up word by word (a line
shape or weak word not seen before), with the line's weak words and the cluster it took. Pure:
it remembers which numbers each name came with; no I/O, no clock.

A word made of a lower-case name and a number of one or two digits glued to it (``osd17``,
``mds0``, ``eth1``, ``node2``, ``md0``, ``nsd07``) is a weak word (:mod:`vigil.logs._tokens`):
the miner keeps it literal until a second value shows up in its template's place, so a template
seen once keeps it (``libceph: osd17 down``). Most such words are numbered instances, members
of a set the program counts: Ceph's daemons (``osd17``, ``mon1``, ``mds0``), network interfaces
(``eth0``, ``bond0``, ``ib1``: masked before, by :mod:`vigil.logs._ifnames`, since 2 Dec), md
arrays and disk partitions (``md0``, ``sdb1``: mdadm, the kernel), cluster nodes (``node1``:
Pacemaker, Corosync), GPFS disks (``nsd01``), Galera's ``db01``, pgBackRest's ``repo1``,
Fluentd's ``worker0``. Others are constants of the message, an algorithm, a format or a
protocol version (``ssh2``, ``crc32``, ``bf16``, ``dhcp4``, ``sqlite3``, ``amd64``; Loghub-2k
keeps OpenSSH's ``ssh2``, Linux's ``tty2`` and ``imps2:``). The word alone cannot tell them
apart; the log can: a name it shows with two different numbers, anywhere, counts instances
(``osd17`` and ``osd9``, ``mds0`` and ``mds1``), a constant comes with its one number. In the
labelled fixtures (every directory, 2 Dec; ``docs/benchmarks.md``, "Numbered names") 191 such
words: of the 63 whose name the log had shown with another number by that line, all 63 are
labelled values; of the 128 others, 32 are kept. So once a name has come with two numbers, a
template place that keeps one of its numbered words is made a value, as a second value there
would make it, also in a template of one line.

The cluster's place is loosened (``<*>``, ``(<*>):``), not the line's word masked before the
comparison: a masked word beside another value would fold into one run with it and the line
would no longer meet the cluster its earlier lines made (GPFS's ``Connecting to <ip> nsd01``
then ``... nsd02``). The labels write ``osd<*>`` (the fixtures' README), which the evaluators'
Loghub-2.0 normalisation scores as ``<*>``.

Not capitals (``VI_1``, ``CUDA0``, BGL's ``R02-M1-N0``: a code or a kind), not a one-letter name
(BGL's ``C1`` and ``L3``, ptp4l's ``s2``: too short to say what they count), not three digits or
more (a strong value already, :mod:`vigil.logs._tokens`), not after a key (``id=``: the slots
decide those), not the first word (it files the cluster in its bucket).
"""

from __future__ import annotations

import re

from vigil.logs._cluster import LITERAL, LOOSE, Cluster
from vigil.logs._compare import loose

_NUMBERED = re.compile(r"^([(\[{\"']*)([a-z]{2,}?)(\d{1,2})([)\]}\"',:;.]*)$")
"""A lower-case name of two letters or more and its number, in brackets or quotes or before a
clause's punctuation (``(md0):``, ``'scsi0'``, ``nsd07.``); the number is the last digits."""
_GENERATED = re.compile(
    r"^[(\[{\"']*[a-z][a-z0-9]*(?:-[a-z0-9]+)*-[bcdfghjklmnpqrstvwxz2456789]{5}[)\]}\"',:;.]*$"
)
"""A name with a generated suffix of five characters from Kubernetes' random alphabet (its
``rand.String``: no vowels, no ``0``, ``1``, ``3``), the ``generateName`` of a Job's or a
ReplicaSet's pods and of Prefect's Kubernetes jobs, Syncthing's folder ids (``ruby-okapi-xk2lp``,
``vllm-7d9f8c6b5-x2kqp``, ``documents-x7k2p``): a value from its first line. Only as a weak
word, so with a digit (one in about five such suffixes has none, a plain word then)."""
MAX_NAMES = 4096
"""Names remembered with their numbers; a full table is dropped and refills from the stream
(a log's numbered names are few: daemons, interfaces, nodes)."""


class NumberedNames:
    """The numbers each glued name came with; its words are values once there are two."""

    def __init__(self, limit: int = MAX_NAMES) -> None:
        self.limit = limit
        self.numbers: dict[str, str | None] = {}
        """Name -> its one number so far (leading zeros dropped), or None once it came with a
        second one."""

    def clear(self) -> None:
        """Forget every name (a miner restored from saved state starts afresh)."""
        self.numbers.clear()

    def value(self, word: str) -> bool:
        """Whether ``word`` is a numbered name whose name has come with another number, in
        this word or before (``osd9`` after ``osd17``); remembers the word's number."""
        m = _NUMBERED.match(word)
        if m is None:
            return _GENERATED.match(word) is not None
        name, number = m.group(2), m.group(3).lstrip("0") or "0"
        numbers = self.numbers
        seen = numbers.get(name, number)
        if seen == number:
            if name not in numbers:
                if len(numbers) >= self.limit:
                    numbers.clear()
                numbers[name] = number
            return False
        numbers[name] = None
        return True

    def widen(self, cluster: Cluster, words: list[str], weak: tuple[int, ...]) -> bool:
        """Make a value of each place of ``cluster`` that keeps a weak word of the line
        ``words`` (positions ``weak``) found a numbered name's value, as a second value there
        would (:func:`vigil.logs._widening.widen`: the word loosened, ``(md0):`` ->
        ``(<*>):``); True if a place changed (the caller files the cluster again). Not the
        first word, which files the cluster in its bucket."""
        changed = False
        for i in weak:
            word = words[i]
            if not self.value(word):
                continue
            template = cluster.words
            for j in range(1, len(template)):
                if template[j] == word and cluster.levels[j] == LITERAL:
                    template[j], cluster.levels[j] = loose(word), LOOSE
                    cluster._template = None
                    changed = True
        return changed

"""A structured value printed inline in a message: one word, one value (branch ``structured30``).

Called by :func:`vigil.logs._texts.split_words` (:func:`join_structured`, through its
``_clauses``, on a line holding one of the openings below). Pure string functions, no state.

A program that prints a whole data structure with one format verb prints as many inner words
as the structure has; word by word, two lines with other contents are two templates, and keys
and constants inside are kept as if they were the message's. Three constructs, each bounded by
a balanced bracket scan (:data:`MAX_CHARS`, :data:`MAX_DEPTH`) that gives up, leaving the words
as they are, when the brackets do not close (a line cut short never loses its tail):

- **a Go map**, ``map[k:v k2:v2]`` (``fmt``'s ``%v`` of a map: the NVIDIA device plugin's
  ``map[13:true 31:true]``, kubelet's and the scheduler's label and resource maps, containerd's
  annotations, logrus fields holding a map): ``map[<*>]``. An empty ``map[]`` stays.
- **a JSON array of objects**, ``[{"k":v,...},...]`` (a list of records: Kueue's
  ``"assignments":[...]``, a CNI result's ``"interfaces":[...]`` and ``"ips":[...]``, Docker's
  and Ceph's JSON dumps, Elasticsearch's shard lists): ``[<*>]``; and a compact JSON object
  printed after the message's words that holds one (Multus' ``Add: ... {"cniVersion":...,
  "interfaces":[...]}``, ``json.dumps`` of a result) is ``{<*>}``: a dump of a structure, not a
  structured logger's fields (those are flat, and stay: TorchServe's ``{"name":...}``, zap
  console's ``{"kind": ...}``).
- **an argument string of ``KEY=value`` pairs joined by ``;``**, no space in it
  (``IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=x``: ``CNI_ARGS`` as every CNI plugin,
  Multus, containerd and CRI-O print it; ADO.NET and ODBC connection strings,
  ``Server=x;Database=y``): ``<*>``, its quotes kept. ``key=v; key2=v2`` with spaces
  (Nextflow's ``maxForks=1; fair=false``) is a message's fields, and stays.

Not touched: a JSON message itself (a content that opens with ``{`` or ``[``: its members are
the event's, the JSON paths' concern), a spaced JSON member's object (``"data": {...}``), a
word in brackets (``[INFO]``, ``[thread]``), a placeholder ``{}``, a Go ``%+v`` struct
``{Name:x Size:3}`` (the labels keep its keys: nsqd, etcd, CockroachDB), a list of literals
(:mod:`vigil.logs._literals`).
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

MAX_CHARS = 4096
"""A structure longer than this is left as words: the scan's cost is bounded per opening."""
MAX_DEPTH = 16
"""Deeper nesting is left as words."""
MAX_TRIES = 8
"""Openings of a line scanned at most: a line of many brackets that never close (a cut dump)
costs a few scans, not one per opening."""

_OPEN = {"[": "]", "{": "}"}
_PAIRS = re.compile(r"(?<![\w.\-])[A-Za-z_][\w.\-]*=[^\s;\"'=]*(?:;[A-Za-z_][\w.\-]*=[^\s;\"'=]*)+")
"""Two or more ``KEY=value`` pairs joined by ``;`` with no space: one argument string."""


_PAIR_HINT = re.compile(r"=[^\s;\"'=]*;[A-Za-z_][\w.\-]*=")


def may_hold(content: str) -> bool:
    """A cheap test: ``content`` may hold one of the constructs."""
    if "map[" in content or '[{"' in content:
        return True
    return ";" in content and "=" in content and _PAIR_HINT.search(content) is not None


def _close(text: str, i: int, quotes: bool) -> int:
    """The end (past the closing bracket) of the bracketed value opening at ``text[i]``, or -1
    when it does not close within :data:`MAX_CHARS` or nests deeper than :data:`MAX_DEPTH`.
    ``quotes``: brackets inside double-quoted strings do not count (JSON)."""
    stack: list[str] = []
    j, n = i, min(len(text), i + MAX_CHARS)
    while j < n:
        ch = text[j]
        if quotes and ch == '"':
            j += 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
        elif ch in _OPEN:
            if len(stack) >= MAX_DEPTH:
                return -1
            stack.append(_OPEN[ch])
        elif ch in "]}":
            if not stack or stack.pop() != ch:
                return -1
            if not stack:
                return j + 1
        j += 1
    return -1


def _go_map(text: str, i: int) -> int:
    """The end of the Go map whose ``map[`` opens at ``text[i]``, or -1 (empty, unclosed, no
    ``key:value`` in it)."""
    start = i + 3
    if text[start + 1 : start + 2] in ("]", ""):
        return -1
    end = _close(text, start, quotes=False)
    return end if end > 0 and ":" in text[start:end] else -1


def _json_array(text: str, i: int) -> int:
    """The end of the JSON array of objects opening at ``text[i]`` (``[{"``), or -1."""
    return _close(text, i, quotes=True)


def join_structured(words: list[str], content: str) -> list[str]:
    """``words`` with each structured value of the module's kinds replaced by its mask (a Go
    map or a JSON array spanning several words joined into the one word that holds it)."""
    json_message = content.lstrip()[:1] in ("[", "{")
    out: list[str] = []
    i, n, tries = 0, len(words), MAX_TRIES
    while i < n:
        word = words[i]
        if ("map[" in word or '[{"' in word) and tries > 0:
            i, word, tries = _masked(words, i, json_message, tries)
        if ";" in word and "=" in word:
            word = _PAIRS.sub(WILDCARD, word)
        out.append(word)
        i += 1
    return out


def _masked(words: list[str], i: int, json_message: bool, tries: int) -> tuple[int, str, int]:
    """(the index of the last word it takes, the masked word, the line's scans left) for the
    structures opening in ``words[i]``; ``(i, words[i], ...)`` when none closes. ``tries``: the
    line's scans left, one taken by each opening scanned."""
    text = " ".join(words[i : i + 64])
    pos, k, last, pieces = 0, 0, i, []
    word_end = len(words[i])
    while True:
        at_map = text.find("map[", k, word_end)
        at_json = -1 if json_message else text.find('[{"', k, word_end)
        at = min(a for a in (at_map, at_json, word_end) if a >= 0)
        if at == word_end or tries <= 0:
            break
        tries -= 1
        if at == at_map:
            glued = at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_")
            end = -1 if glued else _go_map(text, at)
            mask = "map[" + WILDCARD + "]"
        else:
            end, mask = _json_array(text, at), "[" + WILDCARD + "]"
        if end < 0:
            k = at + 1
            continue
        pieces.append(text[pos:at] + mask)
        pos = k = end
        last = i + text.count(" ", 0, end)
        space = text.find(" ", end)
        word_end = space if space >= 0 else len(text)
    if not pieces:
        return i, words[i], tries
    word = "".join(pieces) + text[pos:word_end]
    member = i > 0 and words[i - 1].endswith('":')  # a spaced JSON member's object
    if not json_message and i > 0 and not member and word.startswith('{"'):
        whole = _close(word, 0, quotes=True)
        if whole > 0 and "[" + WILDCARD + "]" in word[:whole]:  # a dumped structure
            word = "{" + WILDCARD + "}" + word[whole:]
    return last, word, tries

"""A list of ``host:port`` addresses joined by commas is one value, whatever its length.

Called by :func:`vigil.logs._commands.fold_masks` on every line the miner masks word by word.
Pure: plain words in, plain words out.

Why: a client given several servers prints them as one word, ``tikv://10.1.0.31:2379,
10.1.0.32:2379,10.1.0.33:2379`` (TiDB), ``client=zk1:2181,zk2:2181,zk3:2181/solr`` (Solr's
ZooKeeper string). The word masks cut it at each colon and comma, so a list of three servers
masked ``<*>,<*>:<*>,<*>:<*>`` and one of two another way: one template per length. The labels
of both directories that have one (holdout13, holdout19) write the list, with the path after
it, as one ``<*>``, and keep the key, the scheme and the brackets around it:
``[path=tikv://<*>]``, ``client=<*>``.
"""

from __future__ import annotations

import re

from vigil.logs._tokens import WILDCARD

_HOST_PORT = r"[A-Za-z0-9][\w.-]*:\d+"
_LIST = re.compile(
    r"(?P<head>[\[({\"']*(?:[A-Za-z_][\w.-]*=)?(?:[A-Za-z][\w+.-]*://)?)"
    rf"{_HOST_PORT}(?:,{_HOST_PORT})+(?:/[^\s\])}}\"',;]*)?"
    r"(?P<tail>[\])}\"']*[,;.]?)"
)

HOST_LIST_HINT = re.compile(r"\d,[A-Za-z0-9][\w.-]*:\d")
"""What every list of addresses holds, a port, a comma, a host and a colon: a cheap test of
the whole line before its words are looked at."""


def fold_host_lists(words: list[str], masks: list[str]) -> list[str]:
    """``masks`` with each word that is a comma list of two or more ``host:port`` addresses
    masked ``<*>`` between what frames it (a key, a scheme, brackets); ``masks`` itself when
    there is none."""
    out = masks
    for i, word in enumerate(words):
        if "," not in word or ":" not in word:
            continue
        m = _LIST.fullmatch(word)
        if m is None:
            continue
        if out is masks:
            out = list(masks)
        out[i] = m.group("head") + WILDCARD + m.group("tail")
    return out

"""A Python or JSON container of literals printed as a value: one word, ``[<*>]`` / ``{<*>}``.

Called by :func:`vigil.logs._texts.split_words` (:func:`join_literals`, on a line holding a
bracket and a quote) and by :func:`vigil.logs._tokens.mask` (:func:`mask_literals`, on a word
holding a quoted list or a joined one). Pure string functions, no state.

- **A list, set or dict of literals** (quoted strings, numbers, ``True``/``False``/``None``,
  ``null``/``true``/``false``, nested containers) is one value: ``[<*>]``, ``{<*>}``. Python
  programs print ``repr()`` of their containers in messages constantly (Dagster's ``Steps
  failed: ['train_model']``, cloud-init's ``data source in: ['OpenStack', 'None']``, LMCache's
  ``config: {'chunk_size': 256, ...}``, Ray Serve's ``{"CPU": 8.0, "GPU": 1.0}``, W&B's
  ``config_cb`` dicts), and so do programs that print JSON or Ruby values
  (Vector's ``exclude_paths=["**/*.gz", "**/*.tmp"]``, Logstash's ``:hosts=>[...]``). Word by
  word, a list of another length is a template of its own; joined into one word (its spaces
  kept as :data:`~vigil.logs._marks.SPACE`) and masked as one value, it is one slot.
  A list must hold only quoted strings (a list or tuple of numbers is a coordinate or a rank
  whose places the labels mask one by one: ``(<*>, <*>)``, ``[[<*>,<*>],<*>]``) and two or
  more of them, or one in single quotes (Python's ``repr``): a one-item list in double quotes
  is a quoted name in brackets (Tomcat's ``["http-nio-8080"]``, kubelet's ``pods=["..."]``,
  TiDB's bracketed ``["Welcome to TiDB."]``), kept as its quotes frame it.
- **Not** a line's own JSON structure: a container that opens the line (a JSON line), one that
  is a JSON member's value (``"protocols":["h1","h2"]``, ``"user": {...}``), and a JSON object
  (double-quoted keys) that ends the line, no full stop after it, which is a structured
  logger's fields (zap console's and the OpenTelemetry Collector's ``msg {"kind": ...}``,
  Ansible's ``=> {"changed": false, ...}``, Harbor's ``Job incoming: {...}``): their members
  are the event's and stay as the word masks leave them. A placeholder ``{}``, a word in brackets
  (``[INFO]``, ``[pool www]``) and a tuple hold no literal list and are untouched.

Not joined (tried, branch ``values27``): a content type with its parameters
(``text/event-stream; charset=utf-8``). Joined, BentoML's GET and POST access records had one
word count and the miner merged them on their method, inside a compound word (holdout23
bentoml ``--cli`` GA 0.655 -> 0.586); it needs the method kept first.
"""

from __future__ import annotations

import re

from vigil.logs._marks import SPACE, WILDCARD

MAX_WORDS = 64
"""Longer containers are left as words: a printed config dict is a few dozen words at most."""

_ATOM = re.compile(
    r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"""
    r"|True|False|None|null|true|false"
)
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_CLOSE = {"[": "]", "{": "}"}
_GAP = f"[ {SPACE}]?"
_SEPARATOR = re.compile(f",{_GAP}")
_COLON = re.compile(f":{_GAP}")


def _value(s: str, i: int, depth: int) -> int:
    """The end of the literal at ``s[i]`` (a nested container up to four deep), or -1."""
    if s[i : i + 1] in _CLOSE:
        return _container(s, i, depth + 1)[0] if depth < 4 else -1
    found = _ATOM.match(s, i)
    return found.end() if found else -1


def _container(s: str, i: int, depth: int = 0) -> tuple[int, bool, bool, int]:
    """(end, is a dict, every item a quoted string, how many items) of the list, set or dict
    opening at ``s[i]``; end -1 when it is not one (empty, unquoted words, a missing
    separator)."""
    close = _CLOSE[s[i]]
    j, is_dict, strings, items = i + 1, False, True, 0
    if s[j : j + 1] == close:
        return -1, False, False, 0
    while True:
        k = _value(s, j, depth)
        if k < 0:
            return -1, False, False, 0
        items += 1
        strings = strings and s[j] in "'\""
        colon = _COLON.match(s, k) if s[i] == "{" and s[j] in "'\"" else None
        if colon is not None:
            is_dict = True
            k = _value(s, colon.end(), depth)
            if k < 0:
                return -1, False, False, 0
        if s[k : k + 1] == close:
            return k + 1, is_dict, strings and not is_dict, items
        sep = _SEPARATOR.match(s, k)
        if sep is None:
            return -1, False, False, 0
        j = sep.end()


def _one_value(s: str, i: int) -> int:
    """The end of the container at ``s[i]`` when it is one value by the rules above (its place
    in the line aside), else -1."""
    end, is_dict, strings, items = _container(s, i)
    if end < 0 or is_dict:
        return end
    return end if strings and (items > 1 or s[i + 1] == "'") else -1


def _opening(word: str) -> int:
    """Where a container may open in ``word``: its start, or after ``key=``, ``key=>``,
    ``key:`` or ``(``; -1 when the word opens none."""
    for i, ch in enumerate(word):
        if ch in "[{":
            before = word[:i]
            if not before or before[-1] in "=>(" or (before[-1] == ":" and before[-2:] != '":'):
                return i
            return -1
        if not (ch.isalnum() or ch in "_-.:=>(") or i > 64:
            return -1
    return -1


def may_hold(content: str) -> bool:
    """A cheap test: ``content`` may hold a container of literals."""
    return ("[" in content or "{" in content) and ("'" in content or '"' in content)


def join_literals(words: list[str], content: str) -> list[str]:
    """``words`` with each container that is one value joined into one word (its spaces kept
    as :data:`SPACE`)."""
    json_line = content.lstrip()[:1] in ("[", "{")
    out: list[str] = []
    i, n = 0, len(words)
    while i < n:
        last = _joined_to(words, i, json_line, out[-1] if out else "")
        out.append(SPACE.join(words[i : last + 1]) if last > i else words[i])
        i = last + 1
    return out


def _joined_to(words: list[str], i: int, json_line: bool, before: str) -> int:
    """The index of the last word of the container that opens in ``words[i]`` and is one
    value, or ``i`` (none, or it ends in its first word)."""
    word = words[i]
    start = _opening(word) if ("[" in word or "{" in word) else -1
    if start < 0 or (i == 0 and start == 0 and json_line) or before.endswith('":'):
        return i
    text = " ".join(words[i : i + MAX_WORDS])
    end = _one_value(text, start)
    if end < 0:
        return i
    last = i + text.count(" ", 0, end)
    if text[start : start + 2] == '{"' and last == len(words) - 1 and not text[end:].strip():
        return i  # a JSON object ending the line: a structured logger's fields
    return last


def mask_literals(word: str) -> str:
    """``word`` with the container it holds masked as one value (``[<*>]``, ``{<*>}``): a
    container :func:`join_literals` joined (:data:`SPACE` between its items) or a one-word
    list or set in single quotes (``['train_model']``, Python's ``repr``); a double-quoted
    one-word container is JSON whose place :func:`join_literals` did not see (a compact JSON
    line, its spaces inside its strings), and stays."""
    start = _opening(word)
    if start < 0:
        return word
    end = _one_value(word, start)
    if end < 0:
        return word
    if word[start + 1] != "'" and SPACE not in _QUOTED.sub("", word[start:end]):
        return word  # compact JSON, spaces inside its strings only: no container joined here
    rest = word[end:]
    if rest.strip(".,;:)]}"):
        return word
    return word[:start] + word[start] + WILDCARD + word[end - 1] + rest

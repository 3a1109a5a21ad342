"""A Kubernetes resource's API group is a type name, not a host: kept as written.

Called by :func:`vigil.logs._tokens.mask` on a word (or a line) that holds a dot and a quote
or a ``group`` key, around the word masks of :data:`vigil.logs._tokens._STRONG` (whose host
rule would mask a dotted name ending in a top-level domain). Pure string rewriting (branch
``leftovers30``).

An API group is written as a DNS name (``kubeflow.org``, ``cert-manager.io``,
``kueue.x-k8s.io``, ``snapshot.storage.k8s.io``), but it names a kind of object, constant for
a message, not a host the message talks to; the labels of every directory keep it. Two places
name one whatever the program:

- **client-go's errors**: apimachinery's ``StatusError`` prints the resource qualified by its
  group, then the object's name in quotes (``Operation cannot be fulfilled on
  pytorchjobs.kubeflow.org "llama-sft-7": the object has been modified``, ``... "x" not
  found``, ``... "x" already exists``): every controller and operator built on client-go prints
  it (Kubeflow's training operator, Flyte's propeller, Kueue, cert-manager, Volcano, Argo,
  Velero), often inside a quoted error with its quotes escaped (``\\"name\\"``). A plural
  resource name (lower-case letters and digits), a dot, a group, a space and a quote.
- **a key naming the group**: controller-runtime's ``"controllerGroup":"kueue.x-k8s.io"`` on
  every reconciler's line (Kubebuilder and Operator SDK operators: Karpenter, Kueue, Kubeflow),
  Gatekeeper's ``"constraint_group"``, an audit record's ``"apiGroup"``, a ``group=`` field: a
  key ending in ``group`` (``Group``) followed by ``":"``, ``=`` or ``="``.

A host before a quote (``resolving example.com "a"``) would be kept too: no log of the
development directories or of Loghub-2k prints one (every dotted name before a quoted word there
is a qualified resource).
"""

from __future__ import annotations

import re

from vigil.logs._marks import SPACE

_NAME = r"[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,}"
"""A DNS-shaped group of two or more lower-case labels, the last a top-level domain's letters
(``kubeflow.org``, ``x-k8s.io``; not a version, ``v1.27.12``)."""
_RESOURCE = rf"[a-z][a-z0-9]*\.{_NAME}"
"""A plural resource qualified by its group: ``pytorchjobs.kubeflow.org``."""

_TYPE_NAME = re.compile(
    # client-go's "<resource>.<group> \"<name>\"": the quote may be escaped, the space a
    # literal's joined space (a quoted error kept as one word)
    rf"(?<![\w.\-/:@]){_RESOURCE}(?=[ {SPACE}]\\?\")"
    # a key naming the group: "controllerGroup":"x", group=x, apiGroup="x", constraint_group
    rf"|(?:(?<=roup\":\")|(?<=roup\": \")|(?<=roup=)|(?<=roup=\")|(?<=roup=\\\"))"
    rf"{_NAME}(?![\w.\-/:@])"
)

HOLD = "\ue011"
"""What stands for a kept name while the word masks run: a private-use character, no word
character, so no mask takes it in or reads it as part of a neighbour."""


def hold_type_names(content: str) -> tuple[str, list[str]]:
    """``content`` with each API group name (and its resource) replaced by :data:`HOLD`, and
    the names replaced, in order; ``(content, [])`` when it names none."""
    names = _TYPE_NAME.findall(content)
    if not names:
        return content, names
    return _TYPE_NAME.sub(HOLD, content), names


def give_back(masked: str, names: list[str]) -> str:
    """``masked`` with each :data:`HOLD` replaced by the name it stood for, in order."""
    for name in names:
        masked = masked.replace(HOLD, name, 1)
    return masked


_WORD = re.compile(_RESOURCE)
_KEYED_WORD = re.compile(rf"(\"?){_NAME}\"?,?")
_KEY_WORD = re.compile(r"\"?\w*(?:roup)\"?:")


def keep_type_names(words: list[str], masks: list[str]) -> list[int]:
    """The places of the words a line's other words show to be API groups, each mask there set
    back to the word: a ``resource.group`` word the next word's quote follows (client-go's
    error cut into words, ``on flyteworkflows.flyte.lyft.com \\"a8f2\\":``), a group the word
    before keys (zap's console JSON, ``"controllerGroup": "kubeflow.org",``). Called by
    :class:`vigil.logs._wordmasks.WordMasks` on a line whose words hold a dot and a quote."""
    kept = []
    for i, word in enumerate(words):
        if "." not in word or masks[i] == word:
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        quoted = after[:1] == '"' or after[:2] == '\\"'
        if (quoted and _WORD.fullmatch(word) is not None) or (
            i and _KEY_WORD.fullmatch(words[i - 1]) and _KEYED_WORD.fullmatch(word)
        ):
            masks[i] = word
            kept.append(i)
    return kept

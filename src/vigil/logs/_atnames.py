"""A bare name joined by ``@`` to a value: the name kept, the value masked.

Called by :func:`vigil.logs._tokens.mask` on every line that holds ``@``, before the mailbox
rule (:data:`vigil.logs._tokens._MAILBOX`, which masks ``user@host`` whole) and the word masks
of :data:`vigil.logs._tokens._STRONG` (whose Java identity rule masks ``Name@1a2b3c4d`` whole).
Pure string rewriting (branch ``objrefs33``).

Two shapes put a constant before ``@`` and a value after it:

- **an object's identity**: Java's ``Object.toString()`` prints the simple class name and the
  identity hash (Jetty's ``ServerConnector@5a7e1f3b{HTTP/1.1}``, ``Server@2c9f9fb0{STARTING}``),
  and daemons print a service at its port (FRR's ``vty@2601``). The part after ``@`` is hex
  digits (four or more, at least one a digit); the name is one word without dots. A name
  qualified by its package (``org.apache.nifi.controller.FlowController@6a2b1f0c``,
  HealthApp's ``com.huawei.health.g.c@8a2a501`` in Loghub) stays one value, as the labels
  have it;
- **a user or a daemon at a numbered host**: PBS's ``carol@login01``, SGE's
  ``admin@node12``. The host is one word that holds a digit and has no dot: a node's name, not
  a mail domain (``bob@example.org``, ``alice@cluster.local`` stay one value), not a provider
  (Traefik's ``grafana@docker``, no digit). Both parts are values (``<*>@<*>``, as the labels
  write a user at a host: PBS, SGE, MySQL's ``repl@<host>``), kept apart to the end of
  :func:`vigil.logs._tokens.mask` as an address at a port is (:data:`vigil.logs._wholes.AT_PORT`).
  Not inside quotes: a quoted ``name@host`` is one value, an Erlang node's name
  (RabbitMQ's ``'rabbit@mq-2'``, Couchbase's ``'ns_1@cb-node-01'``). A constant name before
  it (PBS's ``Scheduler@pbs01``) cannot be told from a user by its shape and is masked too.

Neither is a word glued to what comes before (``main:QuorumPeer@1802``: a logger header's class
and line; ``all.q@node01``: a dotted name), nor one followed by a port, a dot and a word or a
slash (``user@host01:22``, ``a@b1.c``, ``trainer@sha256:...``).
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD
from vigil.logs._wholes import AT_PORT

_END = r"(?![\w\-@/]|[.:]\w)"
_AT_NAME = re.compile(
    r"(?<![\w.$@/:+%~\-])([A-Za-z_][\w\-]*@)(?=[a-fA-F]*\d)[0-9a-fA-F]{4,}" + _END
)
"""A bare name at an identity hash or a port: the name kept."""
_AT_HOST = re.compile(
    r"(?<![\w.$@/:+%~\-'\"])[A-Za-z_][\w\-]*@(?=[A-Za-z][\w\-]*\d)[A-Za-z][\w\-]*" + _END
)
"""A bare name at a numbered host without a dot: both values."""


def mask_at_names(content: str) -> str:
    """``content`` with the hash or port after each bare ``name@`` masked
    (``ServerConnector@<*>``) and each ``user@host01`` made :data:`AT_PORT` (``<*>@<*>`` in the
    end). Callers test for ``@`` first."""
    return _AT_HOST.sub(AT_PORT, _AT_NAME.sub(r"\1" + WILDCARD, content))

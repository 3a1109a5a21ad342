"""Values the word masks would split or leave in parts: a bracketed IPv6 address, the unspecified
IPv6 address before its port, a WAL position, a relative path that holds a value, an address at
a port, a reverse-DNS name, a version with its build, the Go toolchain's version.

Called by :func:`vigil.logs._tokens.mask` before the word masks of
:data:`vigil.logs._tokens._STRONG`, each on a line that can hold its shape (a cheap test first).
Pure string rewriting. The labels these rules follow (``docs/benchmarks.md``, branch
``mask20``):

- **An IPv6 address in square brackets** (``[::]:8201``, ``[2001:db8::1]:443``, Squid's
  ``remote=[::]``) is one value and its port another: ``<*>:<*>``, as an IPv4 address with its
  port is. The brackets are how RFC 3986 writes an IPv6 host before a port, not punctuation of
  the message: the labels of four directories write ``<*>:<*>`` (Vault, Loki, Mattermost,
  Squid); the word masks made it ``[<*>]:<*>``. A bracketed clock (``[10:00:01]``) has no
  ``::`` and not seven colons, and stays. Not on a line that also brackets an IPv4 address:
  there the brackets are the program's way to write any address (Exim's ``[0.0.0.0]:25
  [::]:25``, ``[<*>]:<*> [<*>]:<*>`` in holdout10's labels).
- **The unspecified IPv6 address before its port, without brackets** (``:::9999``): the
  address ``::`` and the port, ``<*>:<*>``, as ``0.0.0.0:9999`` is (branch ``masks23``). A
  program that joins a host and a port with a colon prints it so for a socket bound to every
  IPv6 address: pgpool-II's ``Setting up socket for :::9999`` beside ``0.0.0.0:9999``
  (holdout22), a Node.js server's ``listening on :::3000`` (``address().address`` is ``::``),
  netstat's and ss's ``:::22``. The IPv6 mask took the three colons and the port for one
  address, so the two sockets of one message were two templates. Only three colons opening a
  word (or after a bracket) and a port ending it: not a C++ scope glued to a name
  (``std:::``), not ``:::*`` (netstat's any port), and not another IPv6 address before a port
  with no brackets (``::1:8080``), which cannot be told from an address and stays one value.
- **A WAL position** (PostgreSQL's log sequence number, ``A/42000028``, ``0/4000148``): two
  hexadecimal words, ``<*>/<*>``, as the labels write it (pgBackRest, Patroni). The word masks
  already mask a part that starts with a digit (``1F``); a high part of hex letters only
  (``A``) was left as a constant. Only upper-case hex letters before the slash and four to
  eight hex digits after it (``%X/%X`` past the first segments): not a grade or a ratio of
  words (``A/B``, ``CPU/GPU``).
- **A relative path of three or more parts that holds a number** (CouchDB's shard
  ``shards/00000000-7fffffff/orders.1796032801``, ``output/step_500/model.safetensors``, a W&B
  run ``alice/llm-sft/3kq9x2vb``, an object key ``imagenet/train/shard-00412.tar``): one value,
  as a rooted path is (the labels of five directories). Not two parts (``web/web1``, a name
  pair: the labels disagree), not a path with no digit (``kv/kvserver/replica.go``: a source
  file, constant), not one whose first part is in capitals (NCCL's ``NET/IB/0``, Asterisk's
  ``IPV4/UDP/...``: a transport named by its layers, whose labels keep the names), not a source
  location (``reflector.go:160``) nor anything glued to ``/``, ``@``, ``:`` or a dot, and not a
  path under a dotted first part (``api.example.com/v1/models``, ``k8s.io/client-go/...``: a
  host's or a module's path, masked as before). A part an earlier mask made ``<*>`` counts as
  a number (Proxmox Backup Server's snapshot ``vm/101/2026-11-29T02:00:02Z``, whose ISO time
  is masked first; branch ``mask21``).
- **An IP address at a port** (Knot DNS's ``10.6.0.3@53``, ``2001:db8::2@53``; ClamAV's
  ``instream(127.0.0.1@51234)``; the ``address@port`` that NSD's, Unbound's and Knot's
  configuration files write too, and that their tools echo):
  an address and a port, ``<*>@<*>``, as ``10.6.0.3:53`` is ``<*>:<*>`` (branch ``mask21``:
  the labels of holdout19 and holdout20). The joining of values around ``@`` that follows the
  word masks (a sequence number at a time, ``00000001@2016/9/28:16:03:58.446``; a version at a
  build, ntpd's ``4.2.8p15@1.3728-o``) would make it one ``<*>``: the address is written as
  :data:`AT_PORT` until that is done. Only a dotted IPv4 address or an IPv6 address with
  ``::`` or seven colons, and a port of one to five digits ending the value: not a user, a
  host name or a network at an address (``svc@login02``, ``10.0.0.5@o2ib``), which are one
  value as before.
- **A reverse-DNS name** (``0.6.10.in-addr.arpa.``, ``1.0.0.0...8.b.d.0.1.0.0.2.ip6.arpa``):
  an address written backwards under ``in-addr.arpa`` or ``ip6.arpa``, one value as the
  address is, with its root dot (``[0.6.10.in-addr.arpa.]``, Knot's zone, labelled ``[<*>]``
  beside ``[example.com.]`` in one template). Every DNS server and resolver prints them for a
  reverse zone or a PTR query (BIND, Unbound, dnsmasq, CoreDNS, PowerDNS, Knot, NSD,
  systemd-resolved); the word masks made the numbers one ``<*>`` and kept
  ``.in-addr.arpa.``, so a reverse zone was a template of its own beside the forward zones.
  Not the bare suffix (``in-addr.arpa``, a constant) nor a name with a word among the labels
  (``foo.in-addr.arpa``).
- **A version with its build or packaging suffix after ``+``** (libvirt's and QEMU's Debian
  package ``9.0.0-4+deb12u1``, ``1:7.2+dfsg-7+deb12u5``; JuiceFS's ``1.2.1+2024-08-30.cd871d1``,
  SemVer's build metadata): one value, as the version alone is (branch ``masks22``). dpkg, apt,
  rpm, every Debian and Ubuntu package and every program that prints its SemVer build (Go
  modules, Rust crates, Node packages) write it; the word masks cut it at the ``+`` into
  ``<*>+<*>``. Only a dotted number (with an epoch, a revision after ``-`` or ``~``) before the
  ``+`` and a suffix that holds a letter after it: not a sum or a time zone (``1.5+2.5``,
  ``10:00:01.5+00:00``), not a number in scientific notation (``2.4E+00``), not a frame's
  offset (``(+0x12cf0)``).
- **The Go toolchain's version glued to what precedes it** (``built w/go1.21.6``,
  ``(go=go1.21.6,``): one value, as it is alone (``(go1.22.8 linux-amd64)``; branch
  ``masks23``). Every Go program that prints its build prints ``runtime.Version()``, ``go`` and
  a version of two or three parts, a release candidate's suffix after them (``go1.22rc1``):
  nsqd (holdout22), Prometheus and its exporters' build context (``go=go1.21.6``), Gitea, MinIO,
  CockroachDB, Syncthing, TiDB, Mattermost (the labels of all eight in the development
  directories write ``<*>``). Glued after ``w/`` or
  ``=`` the word masks kept ``go1.`` and masked the rest. Not inside a path (``/usr/local/go1.21``,
  the path's own value) nor glued to a longer name (``algo1.5``).
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

_BRACKETED_IPV6 = re.compile(
    r"(?<![\w\]])\[(?=[0-9a-fA-F:.]*::|(?:[0-9a-fA-F]{0,4}:){7})"
    r"(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F.]*(?:%[\w.\-]+)?\](?![\w\[])"
)
_BRACKETED_IPV4 = re.compile(r"\[\d{1,3}(?:\.\d{1,3}){3}\]")
"""An IPv4 address in brackets: a program that brackets every address (Exim's ``[0.0.0.0]:25
[::]:25``) writes them as its punctuation, and its labels keep the brackets (holdout10)."""
_UNSPECIFIED_PORT = re.compile(r"(?<![\w:.\[\]])::(?=:\d{1,5}(?![\w:]|\.\w))")
_GO_VERSION = re.compile(
    r"(?<![\w.\-])(?<![\w.\-]{2}/)go\d+\.\d+(?:\.\d+)?(?:(?:rc|beta)\d+)?(?![\w\-]|\.\w)"
)
_LSN = re.compile(r"(?<![\w/.:\-])[A-F]{1,8}/(?=[0-9A-F]*\d)[0-9A-F]{4,8}(?![\w/:\-]|\.\w)")
_LSN_HINT = re.compile(r"[A-F]/[0-9A-F]")
_RELATIVE = re.compile(
    r"(?<![\w/.:@%~$*<>\-])(?=[\w\-]*[a-z])[A-Za-z_][\w\-]*(?:/(?:[\w.\-]+|<\*>)){2,}"
    r"(?![\w/:@\-<]|\.\w)"
)
_RELATIVE_HINT = re.compile(r"[\w\-]/[\w.\-]+/")
_DIGIT = re.compile(r"\d")
_REVERSE_NAME = re.compile(
    r"(?<![\w.\-])(?:(?:\d{1,3}\.){1,4}in-addr|(?:[0-9a-fA-F]\.){1,32}ip6)\.arpa\.?"
    r"(?![\w\-]|\.\w)",
    re.IGNORECASE,
)
_BUILD_VERSION = re.compile(
    r"(?<![\w.+:\-])(?:\d{1,2}:)?\d+(?:\.\d+)+(?:[\-~][\w.~]+)?"
    r"\+(?=[\w.~+\-]*[A-Za-z])[\w.~+\-]*\w(?![\w+\-])"
)
AT_PORT = "\ue001"
"""Stands for ``<*>@<*>``, an address at a port, from :func:`mask_addresses_at_port` until
:func:`vigil.logs._tokens.mask` has joined the other values around ``@``: a private-use
character, which no word mask takes for part of a value."""
_AT_PORT = re.compile(
    r"(?<![\w.:@\-])(?:\d{1,3}(?:\.\d{1,3}){3}"
    r"|(?=[0-9a-fA-F:]*::|(?:[0-9a-fA-F]{1,4}:){7})"
    r"(?:[0-9a-fA-F]{1,4}|:)(?::[0-9a-fA-F]{0,4}){1,7})"
    r"@\d{1,5}(?![\w@:/\-]|\.\w)"
)


def mask_bracketed_ipv6(content: str, *, beside_ipv4: bool = False) -> str:
    """``content`` with each IPv6 address in square brackets replaced by ``<*>`` (its port, if
    any, is masked after it as a number). Callers test for ``::`` or seven colons first.
    ``beside_ipv4``: ``content`` is one word of a line that brackets an IPv4 address (see
    :func:`ipv6_beside_ipv4`), whose brackets are kept as the line's own would be."""
    if beside_ipv4 or "[" not in content or _BRACKETED_IPV4.search(content) is not None:
        return content
    return _BRACKETED_IPV6.sub(WILDCARD, content)


def ipv6_beside_ipv4(words: list[str]) -> list[int]:
    """The places of ``words`` holding an IPv6 address in brackets when another word of the
    line brackets an IPv4 address (Exim's ``listening for SMTP on [0.0.0.0]:25 [::]:25``):
    the exception of :func:`mask_bracketed_ipv6`, which sees a whole line, for the word masks
    (:meth:`vigil.logs._wordmasks.WordMasks.mask_list`), which mask one word at a time and so
    never showed it the other word. Callers test the line for ``[`` and ``::`` first."""
    places = [i for i, word in enumerate(words) if _BRACKETED_IPV6.search(word) is not None]
    if places and any(_BRACKETED_IPV4.search(word) is not None for word in words):
        return places
    return []


def mask_unspecified_ports(content: str) -> str:
    """``content`` with the unspecified IPv6 address written before its port without brackets
    (``:::9999``) replaced by ``<*>`` (the port is masked after it as a number). Callers test
    for ``::`` first."""
    if ":::" not in content:
        return content
    return _UNSPECIFIED_PORT.sub(WILDCARD, content)


def mask_wal_positions(content: str) -> str:
    """``content`` with each WAL position whose high part is hex letters only written
    ``<*>/<*>``."""
    if _LSN_HINT.search(content) is None:
        return content
    return _LSN.sub(WILDCARD + "/" + WILDCARD, content)


def _relative(found: re.Match[str]) -> str:
    path = found.group(0)
    return WILDCARD if _DIGIT.search(path) is not None or WILDCARD in path else path


def mask_relative_paths(content: str) -> str:
    """``content`` with each relative path of three or more parts holding a digit replaced by
    ``<*>``."""
    if _RELATIVE_HINT.search(content) is None:
        return content
    return _RELATIVE.sub(_relative, content)


def mask_addresses_at_port(content: str) -> str:
    """``content`` with each IP address written at its port (``10.6.0.3@53``) replaced by
    :data:`AT_PORT`. Callers test for ``@`` first."""
    return _AT_PORT.sub(AT_PORT, content)


def mask_reverse_names(content: str) -> str:
    """``content`` with each reverse-DNS name (``0.6.10.in-addr.arpa.``) replaced by ``<*>``.
    Callers test for ``arpa`` first."""
    return _REVERSE_NAME.sub(WILDCARD, content)


def mask_build_versions(content: str) -> str:
    """``content`` with each version that carries a build or packaging suffix after ``+``
    (``9.0.0-4+deb12u1``) replaced by ``<*>``. Callers test for ``+`` first."""
    return _BUILD_VERSION.sub(WILDCARD, content)


def mask_go_versions(content: str) -> str:
    """``content`` with each Go toolchain version (``go1.21.6``) replaced by ``<*>``. Callers
    test for ``go1.`` first."""
    return _GO_VERSION.sub(WILDCARD, content)

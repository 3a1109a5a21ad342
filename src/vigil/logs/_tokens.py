"""Token classification and masking for the template miner.

Called by :mod:`vigil.logs._miner` for every line (``mask``, through
:mod:`vigil.logs._wordmasks`), and by :mod:`vigil.logs._commands` for the date folds
(``fold_dates``). The word-level comparisons of the slow path (``loose``, ``plain_difference``,
``generalise``) are :mod:`vigil.logs._compare`; whether two words are values of one slot is
:mod:`vigil.logs._slots`.

Two strengths of "variable":

- **strong**: masked before grouping, always shown as ``<*>``: numbers (signed, decimal, dotted as
  in IPs and versions), anything that starts with a digit (``0x1f``, ``4096KB``, UUIDs), a word
  that holds a run of three or more digits (``blk_-1608``, ``job_1445_0020``; not an upper-case
  code, ``ISPN000094``, ``ED25519``, which is weak: message codes and algorithm names are
  constants more often than values), long hex strings, a number in scientific notation
  (``2.412331E+00``, ``1e+06``), rooted paths (``/a/b``, ``/healthz``, with a custom method
  ``/v1/models/m:predict``), the part of a URL after ``scheme://``, host names with their port
  (``db.internal:5432``, ``msra-sa-41:9000``, ``pg-db02:5432``, ``localhost:2019``; an IP keeps
  ``<*>:<*>`` as in the Loghub templates),
  durations without seconds (``01:32``), values joined by ``@`` (a mailbox, ``bob@example.org``, is
  one value, and so is an address at a named network, ``10.0.0.5@o2ib``; a user at a numbered host
  is two, ``svc@login02`` -> ``<*>@<*>``, and a bare name at a hash or port keeps its name,
  ``ServerConnector@<*>``: :mod:`vigil.logs._atnames`), a network interface by slot and port
  (``GigabitEthernet1/0/14``), a function with its offset in a backtrace frame
  (``assemble_matrix+0x1a4``), a bare product token with its version (``curl/8.5.0``, a user agent
  written with ``+``), PCI addresses (``0000:3b:00.0``), a MAC in Cisco's dotted form and a PTP
  clock identity (``0c42.a13b.9e12``, ``0c42a1.fffe.3b9e12``), access-log times
  (``29/Nov/2026:10:00:01``), numbers with thousands
  separators (``27,225``), an IPv6 address in brackets (``[::]:8201`` -> ``<*>:<*>``, and the
  unspecified one before its port without them, ``:::9999``), a WAL
  position (``A/42000028`` -> ``<*>/<*>``), a relative path of three or more parts holding a
  number (``shards/00000000-7fffffff/orders.1796032801``), an IP address at a port
  (``10.6.0.3@53`` -> ``<*>@<*>``), a reverse-DNS name (``0.6.10.in-addr.arpa.``) and the Go
  toolchain's version glued to a word (``w/go1.21.6``; these seven in
  :mod:`vigil.logs._wholes`), a Kubernetes pod's ``namespace/name`` with or without its port
  (``inference/vllm-0:8000``, :mod:`vigil.logs._objrefs`), a Linux network interface's name
  (``wg0:``, ``(eth0):``, ``ens1f0``, ``lo``; :mod:`vigil.logs._ifnames`) and a block
  device's (``sdb1:``, ``(md0):``, ``nvme0n1``; :mod:`vigil.logs._blockdevs`).
- **weak**: a word with one or two digits that does not start with one (``ssh2``, ``tty1``,
  ``L3``, ``r24``). Weak words stay literal while they are constant within a cluster and become
  ``<*>`` when a second value shows up: the miner decides, not a rule.

Grouping never depends on masking alone: the miner also compares words, so a variable that no
rule recognises (a user name) still groups (see :mod:`vigil.logs._miner`).
"""

from __future__ import annotations

import re

from vigil.logs._apigroups import give_back, hold_type_names
from vigil.logs._atnames import mask_at_names
from vigil.logs._devices import mask_devices
from vigil.logs._hashed import mask_hashed
from vigil.logs._leaders import mask_leaders
from vigil.logs._literals import mask_literals
from vigil.logs._marks import WILDCARD as WILDCARD  # re-exported: the package imports it from here
from vigil.logs._models import keep_models
from vigil.logs._objrefs import mask_object_refs
from vigil.logs._quotedfiles import mask_quoted_files
from vigil.logs._refs import mask_images
from vigil.logs._texts import SPACE
from vigil.logs._wholes import (
    AT_PORT,
    mask_addresses_at_port,
    mask_bracketed_ipv6,
    mask_build_versions,
    mask_go_versions,
    mask_relative_paths,
    mask_reverse_names,
    mask_unspecified_ports,
    mask_wal_positions,
)

# Top-level domains that end host names in logs; a dotted name ending in one is a host
# ("ns1.example.com"), while Java packages start with one ("com.example.Main") and stay.
_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|io|co|local|lan|internal|arpa|"
    "uk|de|fr|nl|jp|cn|ru|br|au|ca|it|es|se|no|fi|dk|pl|ch|at|be|cz|kr|in|us|eu|tw|hk|mx|om|"
    "ar|il|tr|za|ro|hu|gr|pt|ie|sg|my|th|vn|ua"
)
# A DNS name followed by "/" and one lower-case name ending the word is a Kubernetes qualified
# name, a constant (``nvidia.com/gpu``, ``karpenter.sh/disrupted``, ``node.kubernetes.io/
# unreachable``, ``topology.kubernetes.io/zone``): an extended resource, a label, annotation or
# taint key, whose prefix is its owner's domain, not a host the line talks to. The host and the
# program-file rules stop before one. A second segment (an image, ``nvcr.io/nvidia/pytorch``), a
# port or tag (``:443``, ``:1.4``), a file (``example.com/index.html``) or an upper-case record
# type (``www.example.org/ANY``) is not.
_QUALIFIED_NAME_AFTER = r"(?!/[a-z][a-z0-9_\-]*[a-z0-9](?![\w\-/@]|[.:]\w))"
_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
MONTHS = frozenset(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
)
"""Month names: a variable when a number follows (the miner folds "Jul <*>" into "<*>")."""
UNITS = frozenset(["B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB"])
"""Size units: folded into the value before them ("5.2 KB" -> "<*>")."""

# A "piece" is a run of word characters and dashes; '.' ':' '/' '=' and brackets separate
# pieces, so "uid=0" keeps its key and "core.2275" keeps "core". Order matters: the first
# alternatives are the specific shapes.
_STRONG = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID
    # a MAC, hex bytes; three with a letter and a digit are an OUI, a MAC's vendor part (lldpd's
    # "unknown org tlv [00:1b:21]"; a clock, 10:00:01, has no letter)
    r"|(?<![\w:-])(?:(?:[0-9A-Fa-f]{2}[:-]){3,}[0-9A-Fa-f]{2}|(?=[0-9A-Fa-f]{2}[:-])"
    r"(?=[\d:-]*[a-fA-F])(?=[a-fA-F:-]*\d)[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}\1[0-9A-Fa-f]{2})"
    r"(?![\w:-])"
    # a MAC in Cisco's dotted form (0c42.a13b.9e12) and a PTP clock identity (linuxptp's
    # 0c42a1.fffe.3b9e12, a MAC with fffe inside; "-1" its port): one value (masks22)
    r"|(?<![\w.:-])(?=[0-9a-fA-F.]*\d)(?:[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}"
    r"|[0-9a-fA-F]{6}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{6}(?:-\d{1,5})?)(?![\w.:-])"
    r"|(?<![\w.])[0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\.[0-7])?(?![\w]|:\w)"  # PCI
    r"|(?<![\w/])\d\d/[A-Z][a-z]{2}/\d{4}(?::\d\d){3}(?:[.,]\d+)?(?![\w:])"  # 29/Nov/2026:10:00:01
    r"|(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\w,]|\.\d)"  # thousands separated: 27,225
    r"|(?<![\w.$-])[A-Za-z_$][\w$]*(?:\.[\w$]+)*@[0-9a-fA-F]{4,}(?![\w-])"  # Java obj@hash
    # a path (+ query); after a file's extension a full stop or an ellipsis ends the sentence,
    # not the path ("Serializing engine to /e/rank0.engine...": TensorRT, Spark, kube's
    # leader election print the ellipsis; the labels keep it out of the value, masks22); a
    # segment may hold "=": Lightning's checkpoint names (epoch=1-step=2502.ckpt, NeMo too),
    # and Hive-style partition directories under a root (/warehouse/t/dt=2026-12-01/: Spark,
    # Hive, Trino, Iceberg, Delta, Kafka Connect's HDFS sink) are one path, one value (unseen25)
    r"|/(?<![\w./]/)(?:[\w.\-@%+~$*=]+/)+"
    r"(?:[\w.\-@%+~$*=]*\.[A-Za-z]\w{0,7}(?=\.(?:\.\.)?(?:\s|$))|[\w.\-@%+~$*=]*)"
    # a custom method after the last segment (Google's API style: "/v1/models/m:predict",
    # TF Serving, KServe, Vertex AI, Gemini's ":generateContent") or a route's parameter
    # ("/api/dashboards/uid/:uid", Express, Grafana): part of the path (bugs27); a volume's
    # mount options are not (Docker's, Podman's, Compose's "-v /data:/data:ro", ":rw", ":z",
    # ":rshared"): an access mode is a state, kept as written ("<*>:ro", the labels' states)
    r"(?::(?!(?:ro|rw|z|Z|r?shared|r?slave|r?private|cached|delegated|consistent|nocopy)"
    r"(?![\w\-]))[A-Za-z][\w\-]*(?![\w:/@.\-]))?(?:\?[\w.\-@%+~$*=&]*)?"
    r"|(?<![\w./])\.\.?/[\w.\-@%+~$*/]*"  # relative path: ./run, ../lib/x.so
    r"|/(?<![\w./<>*]/)[A-Za-z_][\w.\-]*(?:\?[\w.\-@%+~$*=&]*)?(?![\w/<])"  # a path of one segment
    r"|(?<![\w])[A-Za-z]:\\[^\s\\]*(?:\\[^\s\\]*)*"  # Windows path: C:\Windows\x.dll
    r"|(?<![\w.-])[vV]\d+(?:\.\d+)+[\w-]*"  # version: v1.0.0, v2.6-rc1
    # a program's file (train.py, run.sh); a Python file with a line number after it is a source
    # location whose file is kept and line masked (cache_engine.py:221, as engine.go:221), where
    # a name in .sh with a number is a host and its port (CONNECT transfer.sh:443; unseen23)
    r"|(?<![\w.-])[\w-]+\.(?:exe|dll|sys|so|jar|war|apk|py|sh|bat|ps1|bin)"
    rf"{_QUALIFIED_NAME_AFTER}(?![\w.-]|(?<=py):\d)"
    # host name[:port], with the root's dot of a DNS name (``kubernetes.default.svc.local.``);
    # a Kubernetes service's short name ends in ".svc", the form of ".svc.cluster.local" that
    # in-cluster clients print (qdrant.vec.svc:6333, kubernetes.default.svc): a host too
    rf"|(?<![\w.\-])(?:[\w\-]+\.)+(?:(?:{_TLDS}){_QUALIFIED_NAME_AFTER}|svc)"
    r"(?::\d+)?(?:\.(?=[\s,;]|$))?(?![\w.\-])"
    r"|(?<![\w./\-])[A-Za-z][\w\-]*-\d+(?:/\d+(?:\.\d+){3})?:\d{2,5}(?![\w:\-]|\.\w)"  # n-41:90
    # a hyphenated host name holding a digit, dotted or not, with its port: a StatefulSet's pod
    # or a service in its namespace (pg-db02:5432, redis-0.redis-headless:6379,
    # nsqlookupd-0.nsqlookupd:4160, kafka-1.kafka.svc:9092): Kafka, Redis, NATS, etcd, NSQ and
    # PgBouncer clients print them; the Loghub convention (Proxifier, Hadoop) makes a host name
    # with its port one value. Without a hyphen or a digit before the colon it stays a word and
    # its number (max-retries:10, eth0:1, TCPPort:4160)
    r"|(?<![\w./\-])(?=[A-Za-z][\w.]*-)(?=[A-Za-z][\w.\-]*\d[\w.\-]*:\d)"
    r"[A-Za-z][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)+:\d{2,5}(?![\w:\-]|\.\w)"
    r"|(?<![\w.\-])localhost:\d{1,5}(?![\w:\-]|\.\w)"  # the loopback host with its port
    r"|\d(?<![\w:.]\d)\d?:\d\d(?![\w:.])"  # duration or time without seconds: 01:32
    rf"|\b(?:{_DAYS})\b"  # day names
    # A value does not end with a hyphen: one after it is punctuation glued to the value (the
    # arrow of "131->0", "3901M->3539M", "10.0.0.1:53412->10.0.0.9:53"), not part of it.
    # starts with a digit, signed or not ("+" only before a decimal: "(+0x12cf0)" keeps it);
    # a positive exponent is the number's: "2.412331E+00", "1e+06" (C's %e, Go's %g, Python)
    r"|(?<![\w-])(?:-|(?<![\w+])\+(?=[\d.]+(?![\w.])))?\d(?:[\w-]*\w)?"
    r"(?:(?<=\d[eE])\+\d+(?!\w|\.\d))?"
    r"|(?<![\w-])(?![A-Z][A-Z\-]*\d+(?![\w-]))[\w-]*?\d{3}(?:[\w-]*\w)?"  # a run of 3+ digits
    r"|(?<![\w-])[\w-]*?\d(?:[^\W\d]|-)+\d[\w-]*"  # two numbered parts: R25-M1-N2, x86_64
    r"|(?<![\w-])(?=[a-fA-F]*\d)[0-9a-fA-F]{8,}(?![\w-])"  # long hex
    r"|(?<![\w-])(?:[a-f]{8,}|[A-F]{8,})(?![\w-])"  # long hex of letters only: ffffffff
)
_URL_REST = r"[^\s\]\)\}'\",;<>\\]*[^\s\]\)\}'\",;<>\\.:]"
_URL = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*://)"
    rf"(?:\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[\w.\-]+)?\](?:{_URL_REST})?|{_URL_REST})"
)
"""A URL up to a space, a closing bracket, a quote or a backslash (an escaped quote closing
it inside a quoted value: ``err="Post \\"http://h:9093/api\\": ..."``), and not its last
character when that is a full stop or a colon: sentence punctuation (``Listening on:
http://0.0.0.0:8080.``). An IPv6 host in brackets (``http://[::]:9273/metrics``) is the
URL's, its closing bracket too: ``http://<*>`` as any web URL (branch ``mask20``)."""
_SOCKET_URL = re.compile(
    r"(?<![\w.+\-])((?:tcp|udp)://)\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}(?![\w:/@\-]|\.[\w.])"
)
"""A socket address written as a ``tcp://`` or ``udp://`` URL with an IPv4 address and a port
and nothing after them (Dask's ``tcp://10.1.0.57:40213``, Galera's ``tcp://0.0.0.0:4567``,
Longhorn's replica ``tcp://10.42.1.17:10000``): ``tcp://<*>:<*>``, an IP with its port as
everywhere else (:data:`_URL` would make it ``tcp://<*>``). Not a web URL (``http://0.0.0.0:3000``
is ``http://<*>`` in the labels of eight directories), not a scheme ending in ``.tcp``
(``akka.tcp://flink@host:6123``), not a URL with a path."""
_MAILBOX = re.compile(r"(?<![\w.+\-@/:])[A-Za-z][\w.+\-]*@[A-Za-z][\w\-]*(?:\.[\w\-]+)*(?![\w@\-])")
"""A mailbox or a user at a host (``bob@example.org``, ``svc@host``): one value; applied
only to a line holding ``@``."""
_PRODUCT = re.compile(r"(?<![\w./\-\"])[A-Za-z][\w.\-]*[a-z][\w.\-]*/\d+\.\d+[^\s\"']*")
"""A bare product token with its version (``curl/8.5.0``, ``Mozilla/5.0+(X11;+Linux)...``, a
user agent field written with ``+`` for spaces): one value. Not inside quotes (a quoted user
agent is a quoted value the miner groups by its words) nor in capitals (``HTTP/1.1``). A
closing bracket the token did not open is the message's, and so is what follows it
(:func:`_product`)."""


_KEYED_AGENT = re.compile(
    r'(?:(?<=":")|(?<==")|(?<=\[")|(?<=\(")|(?<=: "))'
    r'[A-Za-z][\w.\-]*[a-z][\w.\-]*/\d+\.\d+[^"\s\ue000]*\ue000[^"]*(?=")'
)
"""A key's quoted text of several words (joined by :func:`vigil.logs._texts.split_words`)
that opens with a product token and its version: a user agent (``"user_agent":"Mozilla/5.0
(X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"``, ``ua="curl/8.5.0 (x86_64)"``)
or a server banner (``"server":"nginx/1.25.3 (Ubuntu)"``): one value, however many words
and products it lists; each browser writes a shape of its own, which word by word would make a
template of each. Printed by authentik and Nextcloud (``"userAgent"``), nginx, Envoy, Traefik
and Kong JSON access logs, Caddy, Gitea and Grafana. A text that opens with a word
(``error="failed to dial"``) is left to the miner."""


def _product(found: re.Match[str]) -> str:
    """:data:`_PRODUCT`'s replacement: ``<*>`` for the token up to the first closing bracket it
    did not open (``(lighttpd/1.4.76)`` -> ``(<*>)``, ``curl/8.5.0),`` -> ``<*>),``: the
    bracket and the comma are the message's punctuation), the rest given back as written;
    brackets the token opens (a user agent's ``+(X11;+Linux)``) stay inside it."""
    word = found.group(0)
    depth = 0
    for i, c in enumerate(word):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return WILDCARD + word[i:]
    return WILDCARD


_ISO_TIME = re.compile(
    r"(?<![\w.\-])(?<![^A-Za-z_]:)\d{4}-\d\d-\d\d(?:T\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+\-]\d\d:?\d\d)?"
    r"| \d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+\-]\d\d:?\d\d))(?![\w:])"
)
"""A full ISO 8601 date-time inside a message (``since back 2026-11-29T10:43:00.858+0000``,
``on 2026-11-29 10:07:11+00:00``): one value, ``<*>``. Only the ``T`` form or a time with its
zone: a date and a bare clock (``2026-11-29 10:00:01``) are two values as before, and a clock
alone keeps its colons (``<*>:<*>:<*>``) as the Loghub templates have it. After a key and a
colon too (``time:2026-11-29T10:04:12.118Z``, ``session_start:...``: a ``key:value`` field with
no space, as Teleport's text log writes its audit events and a Go ``%+v`` of a struct holding
an RFC 3339 string does; branch ``masks22``), where the masks split it by its colons; not after
a digit and a colon (a value's own part)."""
_INDEXED = re.compile(r"(?<![\w.\-\[\]<>*])[A-Za-z_][\w.\-]*\[\d[\d,\-]*\](?![\w\[.])")
"""A name with a numeric index, range or list in square brackets (``aws_instance.gpu[2]``,
``gpu-node-[01-04]``, ``cn[1,3,5-7]``): one element, or a set, of a collection (a Terraform
resource address, a Slurm or PBS host list, a connection, ``site-b[1]``): one value, as a
host name is. Only where the name is dotted or hyphenated, or the index is a range or list
(:func:`_indexed`): an identifier with one number (``idx[3]``, ``Members[2]``, ``stable[42]``,
``Error[0]``, ``fence_ipmilan[48377]``) keeps its name and the number alone is a value, as the
labels of six directories write it (branch ``mask19``). A program with its pid
(``sshd[30290]:``) opens a syslog line's header, which is cut before masking; applied only to a
line holding ``[``."""


def _indexed(found: re.Match[str]) -> str:
    """:data:`_INDEXED`'s replacement: ``<*>`` for a host list or a resource address, the word
    as it is (its number masked later) for an array's plain name and one index."""
    word = found.group(0)
    name, _, index = word[:-1].partition("[")
    if "." in name or "-" in name or not index.isdigit():
        return WILDCARD
    return word


_PRODUCT_HINT = re.compile(r"[a-z]/\d")
_SLOT_HINT = re.compile(r"[A-Za-z\-]\d+/\d")
_SLOT_PORT = re.compile(r"(?<![\w./\-])[A-Za-z][A-Za-z\-]*\d+(?:/\d+)+(?:[.:]\d+)?(?![\w/.\-])")
"""A name glued to a number and slash-separated numbers (``GigabitEthernet1/0/14``, ``Eth1/49``,
``ge-0/0/1``, ``xe-1/2/0.100``): a network interface by its slot and port, one value as an
interface name with one number (``eth0``) is. Applied only to a line holding a letter or a
hyphen, a number, a slash and a digit."""
_SYMBOL_OFFSET = re.compile(r"(?<![\w.$~])[A-Za-z_][\w.$~:]*\+0x[0-9a-fA-F]+(?:/0x[0-9a-fA-F]+)?")
"""A function with its offset in a backtrace frame (``(assemble_matrix+0x1a4)``, the kernel's
``__schedule+0x2a4/0x7d0``): which function a frame is in is a value, as its address is; the
function and its offset are one (a frame with no function, ``(+0x12cf0)``, keeps its ``+``, so
the two kinds of frame stay apart). Applied only to a line holding ``+0x``."""
_NETWORK_ID = re.compile(r"(?<![\w.@])\d{1,3}(?:\.\d{1,3}){3}@[A-Za-z][\w\-]*(?![\w@.\-])")
"""An IPv4 address at a named network (``10.10.0.23@o2ib``, ``192.168.1.5@tcp1``: an HPC fabric's
node id): one value, as ``user@host`` is; applied only to a line holding ``@``."""
_VERSION_HINT = re.compile(r"v\d+\.\d")
_GLUED_VERSION = re.compile(r"(?<![\w.-])[A-Za-z]+v\d+(?:\.\d+)+[\w-]*")
"""A protocol or product name glued to its dotted version (``TLSv1.3``, ``SSLv3.0``): one value,
as ``v1.2.3`` is. Applied only to a line holding ``v`` and a digit, a dot and a digit after it
(a pattern that opens with a letter class would be tried at every letter of every line)."""
_IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9a-fA-F:]*::|(?:[0-9a-fA-F]{1,4}:){7})(?=[0-9a-fA-F:]*\d)"
    r"(?:[0-9a-fA-F]{1,4}|:)(?::[0-9a-fA-F]{0,4}){1,7}(?![\w:])"
    r"|(?<=\[)::(?=\])"  # "[::]:25": the unspecified address in brackets
    r"|(?<![\w:.\[\]])::(?=[.#]\d| port \d)"  # "on :: port 22", "udp ::.88": alone
)
"""An IPv6 address, compressed (``2001:db8::53``, ``fe80::1``, ``::1``) or in full: one value,
as an IPv4 address is; the unspecified address ``::`` too, in brackets or alone as a word
before its port (after a dot, ``#`` or `` port ``: OpenSSH's ``Server listening on :: port
22.``, MIT krb5kdc's ``udp ::.88`` beside ``udp 0.0.0.0.88``, BIND's ``::#53``; branch
``mask21``). Applied only to a line holding ``::`` or seven colons; a C++ or Rust path
(``std::string``) is not hexadecimal, an address has a digit, and a clock has no ``::``."""
_PROTOCOL = re.compile(r"(?<![\w/.\-\"])([A-Z]{3,6})/(\d(?:\.\d)?)(?![\w/.\-\"])")
"""A protocol name of three to six capitals with its version, not in quotes (``(HTTP/1.1 200)``,
``SIP/2.0``; a two-letter name with a number is a device or port, ``PS/2``, a value):
a constant of the message, kept as written (a quoted request line, ``"GET /a HTTP/1.1"``, is
one value the miner groups by its words, as the Loghub ground truth has it)."""
_API_VERSION = re.compile(
    rf"(?<![\w.\-/])((?:[a-z0-9][a-z0-9\-]*\.)+(?:{_TLDS}))/(v\d+(?:(?:alpha|beta)\d+)?)"
    r"(?![\w\-/@]|[.:]\w)"
)
"""A Kubernetes API group with its version (``longhorn.io/v1beta2``, ``kubeflow.org/v1``,
``snapshot.storage.k8s.io/v1alpha1``): the ``apiVersion`` of a custom resource, which client-go
event recorders (``APIVersion:"..."`` in an ``ObjectReference``), controller-runtime and every
operator (Longhorn, Kubeflow's training operator, cert-manager, Argo, Velero) print, and JSON
logs of an object carry (``"apiVersion":"kubeflow.org/v1"``): a constant, as the qualified name
(:data:`_QUALIFIED_NAME_AFTER`) it is, kept as written where the two-numbered-parts rule would
mask ``v1beta2``. Only after a DNS name ending in a top-level domain and as the last segment: a
URL's or a path's ``/v1beta2/...`` stays part of its path (branch ``apiver28``)."""
_DOTTED = WILDCARD + "." + WILDCARD
_AT_PORT_MASK = WILDCARD + "@" + WILDCARD
_JOINED = WILDCARD + WILDCARD
_NUMBERED_NAME = re.compile(
    r"^([(\[{\"']*)[a-z][a-z0-9]*(?:[-_][a-z][a-z0-9]*)*-\d{1,2}([)\]}\"',:;.]*)$"
)
"""A lower-case name with a hyphen and a number of one or two digits ending it, alone as a word
or in brackets or quotes (``sensor-17``, ``consul-client-12``, ``(nsd-3)``): a numbered
instance, a host or a member, which one is a value as ``es-node-117`` (three digits) already
is. Not after a key (``task-0`` in ``[sink|task-0]``, ``id=sink-0``) nor in capitals
(``Interconnect-1``, ``S-1``): there the name says which kind the number counts."""


def mask(content: str, *, header: bool = False, beside_ipv4: bool = False) -> str:
    """Replace the strong variables of ``content`` with ``<*>`` (whitespace is kept as is).

    ``header``: ``content`` is a line's header (masked for its prefix), whose ``program[pid]``
    keeps its name: the indexed-name rule is a message's only. ``beside_ipv4``: ``content`` is
    a word of a line that brackets an IPv4 address, so a bracketed IPv6 address keeps its
    brackets (:func:`vigil.logs._wholes.ipv6_beside_ipv4`)."""
    line = content
    if "...." in content:  # "staging.stg_orders ........ [RUN]": a dot leader pads to a column
        content = mask_leaders(content)
    if " " not in content and ("['" in content or "{'" in content or SPACE in content):
        content = mask_literals(content)
    if "." in content and ("'" in content or '"' in content):  # 'dvc.yaml', "a/b.parquet"
        content = mask_quoted_files(content)
    if "/" in content or ":" in content or "-" in content:  # "meta-llama/Llama-3.1-8B": kept
        kept = keep_models(content, lambda part: mask(part, header=header))
        if kept is not None:
            return full_stop(line, kept) if " " in line else kept
    if SPACE in content and "/" in content:
        content = _KEYED_AGENT.sub(WILDCARD, content)
    if "://" in content:
        if "tcp://" in content or "udp://" in content:
            content = _SOCKET_URL.sub(r"\1<*>:<*>", content)
        content = _URL.sub(r"\1<*>", content)
    if "/" in content and (":" in content or "@" in content):
        content = mask_images(content)
    if "arpa" in content:
        content = mask_reverse_names(content)
    if "@" in content:  # "ServerConnector@5a7e1f3b", "Scheduler@pbs01": the name kept
        content = mask_addresses_at_port(mask_at_names(content))
        content = _NETWORK_ID.sub(WILDCARD, _MAILBOX.sub(WILDCARD, content))
    if "-" in content and ":" in content:
        content = _ISO_TIME.sub(WILDCARD, content)
    if "+" in content:
        content = mask_build_versions(content)
    if "go1." in content:
        content = mask_go_versions(content)
    if ":" in content and ("::" in content or content.count(":") >= 7):
        content = mask_unspecified_ports(mask_bracketed_ipv6(content, beside_ipv4=beside_ipv4))
        content = _IPV6.sub(WILDCARD, content)
    if "/" in content:
        content = mask_relative_paths(mask_wal_positions(mask_object_refs(content)))
    if "[" in content and not header:
        content = _INDEXED.sub(_indexed, content)
    if "v" in content and _VERSION_HINT.search(content) is not None:
        content = _GLUED_VERSION.sub(WILDCARD, content)
    if "/" in content and _PRODUCT_HINT.search(content) is not None:
        content = _PRODUCT.sub(_product, content)
    if "+0x" in content:
        content = _SYMBOL_OFFSET.sub(WILDCARD, content)
    if "/" in content and _SLOT_HINT.search(content) is not None:
        content = _SLOT_PORT.sub(WILDCARD, content)
    if "#" in content:  # "CPU_SrcID#0_MC#1_Chan#0_DIMM#0", "port#1_rx": numbered names
        content = mask_hashed(content)
    if not header:  # "wg0:", "(eth0):", "sdb1:": an interface or a disk, a value
        content = mask_devices(content)
    protocols = _PROTOCOL.findall(content) if "/" in content else None
    apis = _API_VERSION.findall(content) if "/v" in content else None
    hidden, held = content, list[str]()
    if "." in content and ('"' in content or "roup" in content):  # kubeflow.org "x", *Group
        hidden, held = hold_type_names(content)
    masked = _STRONG.sub(WILDCARD, hidden)
    if held:  # "pytorchjobs.kubeflow.org", "kueue.x-k8s.io": API groups, type names kept
        masked = give_back(masked, held)
    if apis:
        for group, version in apis:  # "longhorn.io/<*>" back to "longhorn.io/v1beta2"
            masked = masked.replace(f"{group}/{WILDCARD}", f"{group}/{version}", 1)
    if _DOTTED in masked:  # 10.0.0.1 -> <*>.<*>.<*>.<*> -> <*>
        while _DOTTED in masked:
            masked = masked.replace(_DOTTED, WILDCARD)
    if _JOINED in masked:
        while _JOINED in masked:
            masked = masked.replace(_JOINED, WILDCARD)
    if "<*>@<*>" in masked:  # "00000001@2016/9/28:16:03:58.446": a sequence number and time
        masked = _COMPOUND.sub(WILDCARD, masked)
    if ",<*>" in masked:  # "ISR from 1,2,3", "[0,1,2,3]": a list, one value
        masked = _VALUE_LIST.sub(r"\1<*>\2", masked)
    if "/<*>" in masked:  # "velero/<*>", "curl/<*>": the name says whose value it is
        masked = _NAMED_VALUE.sub(WILDCARD, masked)
    if ".<*>" in masked or "<*>." in masked:  # "node017.cluster", "naa.6005...": one value
        masked = _dotted_values(content, masked)
    if protocols:
        for name, version in protocols:  # "HTTP/<*>" back to "HTTP/1.1"
            masked = masked.replace(f"{name}/{WILDCARD}", f"{name}/{version}", 1)
    if AT_PORT in masked:  # "10.6.0.3@53": an address and its port, kept apart to the end
        masked = masked.replace(AT_PORT, _AT_PORT_MASK)
    if " " in line:  # a line, not one word
        return full_stop(line, masked)
    if not header and "-" in line and line[-1:] != "-":
        named = _NUMBERED_NAME.match(line)
        if named is not None:
            return named.group(1) + WILDCARD + named.group(2)
    return masked


def full_stop(text: str, masked: str) -> str:
    """``masked`` with the full stop ending ``text``, a line of several words, given back when
    its last value took it (a DNS name's root dot, ``db1.example.com.``): at the end of a line
    it ends the sentence, as Loghub's labels have it (``... on port <*>.``). The miner calls
    it on a line's last word; a word alone cannot tell a root dot from a full stop. An
    ellipsis after a file's path (``loading /a/x.conf...``) is kept out of the value by the
    path's own pattern (:data:`_STRONG`), and so is not the value's here."""
    if masked.endswith(WILDCARD) and text.endswith(".") and not text.endswith(".."):
        return masked + "."
    return masked


_COMPOUND = re.compile(r"<\*>@<\*>(?:[/:.\-]<\*>)*")
_DOTTED_VALUE = re.compile(
    r"^((?:[A-Za-z_][\w\-]*=)?[\"'(\[]?)"
    r"(?:<\*>(?:\.[A-Za-z][\w-]*)+|[A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)*\.<\*>)([\"')\],;:]?)$"
)
_KEY = re.compile(r"^[A-Za-z_][\w\-]*=")
"""A ``key=`` opening a word: cut before the numbered-instance test of :func:`_dotted_values`."""
_NAME_AND_NUMBER = re.compile(r"^[\"'(\[]?[A-Za-z]\w*[-.]\d+(?:\.[A-Za-z][\w-]*)*[\"')\],;:]?$")


def _dotted_values(content: str, masked: str) -> str:
    """``masked`` with each dotted word that holds a masked part and name parts made one value
    (``node017.cluster`` -> ``<*>``, not ``<*>.cluster``; ``naa.600508b1...``, ``go1.21.5``,
    ``27.0.0.Final``): a host, a device id or a version, whose parts are one value as an IP's
    are. Not a name and a bare number (Ceph's ``osd.12``, BGL's ``core.2275``, systemd's
    ``session-4123.scope``: a numbered instance, whose name the labels keep). After a ``key=``
    too, as alone (``HandleID="k8s-pod-network.<*>"`` -> ``HandleID="<*>"``, Calico's IPAM
    handle; ``host=node017.cluster`` in logfmt; branch ``masks22``). Word by word; a line whose
    masks joined words (a date and its clock) is left as it is."""
    words, masks = content.split(" "), masked.split(" ")
    if len(words) != len(masks):
        return masked
    for i, word in enumerate(masks):
        raw = _KEY.sub("", words[i]) if "=" in word else words[i]
        if "." in word and WILDCARD in word and _NAME_AND_NUMBER.match(raw) is None:
            found = _DOTTED_VALUE.match(word)
            if found is not None:
                masks[i] = found.group(1) + WILDCARD + found.group(2)
    return " ".join(masks)


_VALUE_LIST = re.compile(r"(?<![\w,\[\]\"'(<>*=:.])(\[?)<\*>(?:,<\*>)+(\]?)(?![\w,\[\]\"'<:]|\.\w)")
"""Values joined by commas with no space, alone as a word or in one pair of square brackets
(Kafka's ``Shrinking ISR from 1,2,3 to 1,2``, ``CUDA_VISIBLE_DEVICES: [0,1,2,3]``): a list, one
value (the README's "a list is one ``<*>``"; ``<*>,<*>`` against ``<*>,<*>,<*>`` would also keep
two lines of one event apart). Not nested (Open MPI's ``[[1234,1],0]``, a job and a rank, as its
labels keep them), not in parentheses (coordinates), not after a key or a quote, and not a list
that holds a word (``fork,spawn``: names, left to the miner)."""
_NAMED_VALUE = re.compile(
    r"(?:(?<==)|(?<==\")|(?<=\":\")|(?<==')|(?<=\": \"))"
    r"(?=[\w.\-]*[g-z])[A-Za-z][\w.\-]*/<\*>(?![\w/<.:\-])"
)
"""A keyed value made of a name, a slash and a value the masks found (``backup=velero/<*>`` from
``velero/daily-20261129``, ``"userAgent":"python-requests/<*>"``, ``pod="inference/<*>"``): one
value, as the key says, and as a bare product token with its version already is (``_PRODUCT``).
Only after ``key=`` or a JSON key: a quoted value alone (an access log's ``"curl/8.4.0"``) is
grouped by its words, as ``_PRODUCT`` has it. Not a name in capitals or of hex letters only
(``TCP_MISS/<*>``, a task hash ``[3f/8a1b2c]``), nor a file (``x/<*>.tar``)."""


_DAY_NAMES = frozenset(_DAYS.split("|"))
_CLOCK = re.compile(r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?")
CLOCK = "<*>:<*>:<*>"


def fold_dates(words: list[str], masks: list[str]) -> list[str]:
    """``masks`` with each written-out date-time (``Sat Jun 18 02:23:10 [2005]``, the C
    ``ctime`` form that syslog, ftpd, kernels and JVMs print) shown as one clock ``<*>:<*>:<*>``.

    A date-time is one value however it is spelled; keeping the clock's colons follows the
    Loghub templates, which keep them for every time they contain.
    """
    if ZONED_CLOCK in masks:
        masks = _fold_zoned(words, masks)
    if len(words) < 4 or not _DAY_NAMES.intersection(words):
        return masks
    out: list[str] = []
    i, n = 0, len(words)
    while i < n:
        if (
            words[i] in _DAY_NAMES
            and i + 3 < n
            and words[i + 1] in MONTHS
            and words[i + 2].isdigit()
            and _CLOCK.fullmatch(words[i + 3])
        ):
            out.append(CLOCK)
            i += 4
            if i < n and len(words[i]) == 4 and words[i].isdigit():
                i += 1  # the year
            continue
        out.append(masks[i])
        i += 1
    return out


ZONED_CLOCK = "<*>:<*>:<*>+<*>"
"""How a clock with a numeric zone is masked word by word (``10:07:11+00:00``)."""
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def _fold_zoned(words: list[str], masks: list[str]) -> list[str]:
    """``masks`` with an ISO date followed by a clock with its zone (``2026-11-29
    10:07:11+00:00``, Python's ``str(datetime)`` of an aware time) as one value: the rule
    :data:`_ISO_TIME` states for a whole line, kept when the miner masks word by word."""
    out: list[str] = []
    for i, m in enumerate(masks):
        if m == ZONED_CLOCK and out and out[-1] == WILDCARD and _DATE.fullmatch(words[i - 1]):
            continue
        out.append(m)
    return out

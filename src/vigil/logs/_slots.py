"""Word-pair judgements: are two different words at one place of a message two values of one
slot, or do they tell two events apart?

Called by :mod:`vigil.logs._cluster` on the miner's slow path only (a line that matched no
cluster as it is): ``keyed`` (a value named by its key or quotes), ``introduced`` (a value after
a label or an introducing word), ``look_alike``, ``process_name``, ``kinds_differ`` (a key that
names a kind: ``type=``, ``op=``), ``unset`` (an absent value against a set one),
``short_names`` (two program-written names ending a short message), ``key_label`` and
``key_against_value`` (the key of a ``Key: value`` line; also asked by
:mod:`vigil.logs._siblings`), ``mask_reach`` (one value masked whole in one line and in part
in another), ``status_text`` (an HTTP reason phrase after its code), ``signals`` (two signal
names), ``dns_values`` (record types and response codes), ``record_fields`` (``a;b;c``
fields) and ``event_words`` (HTTP methods and the states a transition leaves: constants even
after a label; also asked by :mod:`vigil.logs._siblings`).
Split from :mod:`vigil.logs._tokens`, which masks and splits the words these compare.
"""

from __future__ import annotations

import re

from vigil.logs._compare import KEY_END, KEY_START, qualified
from vigil.logs._texts import SPACE, common_prefix, inside_one_text
from vigil.logs._tokens import WILDCARD

_SEGMENT_BREAK = re.compile(r"[-.|/\\:]+")
"""What joins the parts of a compound name: ``site-b``, ``com.example.maps``, ``a|task-0``."""
_NAME_PART = re.compile(r"^(?!.*<\*>)[^\W\d_]")
"""A part of a name that is a word (a letter first, no mask): the fixed part two sibling names
share."""
_CONSTANT_PART = re.compile(r"^[A-Z][A-Z0-9_]+$")
"""A part written as a constant's name (``SCREEN_ON``, ``TIME_TICK``): ``action.SCREEN_ON`` and
``action.TIME_TICK`` are two kinds of event, as ``SCREEN_ON`` / ``SCREEN_OFF`` are."""


def sibling_names(a: str, b: str) -> bool:
    """True when two words are two names of one family: both are made of the same number of
    parts joined by ``-``, ``.``, ``|``, ``/``, ``\\`` or ``:``, and they share some parts and
    differ in others, whole parts each (``site-b``/``site-c``, ``scratch-client``/
    ``home-client``, ``com.example.weather``/``com.example.maps``), a shared part being a word,
    not a mask, and no differing part a constant's name (``intent.action.SCREEN_ON`` /
    ``intent.action.TIME_TICK`` are two kinds of event). A program composes such
    names from a fixed part and a variable one, so two of them in one place are two values,
    even though they look alike. Not a word holding a call or a frame (``(``, ``$``:
    ``Client.call(Client.java:<*>)`` / ``Client$Connection.setup(...)``): code locations are
    the event's, as a stack frame keeps its class and method."""
    if "(" in a or "(" in b or "$" in a or "$" in b:
        return False
    pa, pb = _SEGMENT_BREAK.split(a), _SEGMENT_BREAK.split(b)
    if len(pa) < 2 or len(pa) != len(pb) or not all(pa) or not all(pb):
        return False
    same = [x == y for x, y in zip(pa, pb, strict=True)]
    if all(same) or not any(x == y and _NAME_PART.search(x) for x, y in zip(pa, pb, strict=True)):
        return False  # nothing shared but a mask: "dcbf...<*>" / "icbi...<*>"
    return not any(
        _CONSTANT_PART.match(x) or _CONSTANT_PART.match(y)
        for x, y in zip(pa, pb, strict=True)
        if x != y
    )


def look_alike(a: str, b: str) -> bool:
    """True when two different words look like variants of one constant, not two values.

    A shared key (``user=`` in ``user=root``/``user=git``) is removed first. Then the values
    look alike when one is a single character (``x+``/``y+``) or they share a prefix or suffix
    of half the shorter one or more. Variable values (user names, hosts) rarely look alike;
    constants that tell two events apart often do (``failure;``/``failures;``,
    ``SCREEN_ON``/``SCREEN_OFF``, ``z-``/``z+``). Compound names that differ in whole parts
    (:func:`sibling_names`) do not look alike: they are two names.
    """
    prefix = common_prefix(a, b)
    key = KEY_END.match(prefix)
    if key is not None:
        a, b = a[key.end() :], b[key.end() :]
    # "site-b"/"site-c" look alike but are two names: asked only of words that look alike
    # (the names' split is then paid on those pairs alone, not on every pair compared)
    return _look_alike(a, b) and not sibling_names(a, b)


def _look_alike(a: str, b: str) -> bool:
    suffix = common_prefix(a[::-1], b[::-1])[::-1]
    tail = KEY_START.search(suffix)
    if tail is not None:
        cut = len(suffix) - tail.start()
        a, b = a[: len(a) - cut], b[: len(b) - cut]
    shortest = min(len(a), len(b))
    if shortest <= 1:
        return True
    need = max(1, (shortest + 1) // 2)
    if len(common_prefix(a, b)) >= need:
        return True
    return len(common_prefix(a[::-1], b[::-1])) >= need


INTRODUCERS = frozenset(
    ["user", "users", "username", "for", "from", "by", "host", "hostname", "account", "login"]
)
"""Words after which a plain word names who or where (``Invalid user bob``, ``password for
root from``, ``closed by alice``): in every kind of log an unmasked variable (a user, a host
without digits) is the object of one of these, while other words that alternate in one
position are constants that tell two events apart (``stored as bytes``/``values``,
``driver usbfs``/``hub``, ``(usable)``/``(reserved)``)."""


NAMED_KINDS = frozenset(
    [
        "domain",
        "integration",
        "field",
        "attribute",
        "platform",
        "plugin",
        "module",
        "component",
        "device",
        "interface",
        "table",
        "database",
        "index",
        "pool",
        "bucket",
        "topic",
        "channel",
        "volume",
        "repository",
        "tenant",
        "realm",
        "customer",
        "certificate",
        "engine",
        "proxy",
        "backend",
    ]
)
"""Nouns naming a kind of named thing (``domain http``, ``undefined field prise``, ``custom
integration hacs``): a plain word right after one is that thing's name, a value, as a word after
``user`` is."""


def named_by_kind(first: str, a: str, b: str) -> bool:
    """True when ``first``, a message's first word, is a noun naming a kind of named thing
    (:data:`NAMED_KINDS`) and ``a`` and ``b``, the word after it, are two names of that thing
    that do not look alike (``Module glx:`` / ``Module modesetting:``): the message is about
    a module, which one is a value, even where a message's second word is otherwise its
    subject."""
    return first.lower() in NAMED_KINDS and not kinds_differ(a, b) and not look_alike(a, b)


_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]+$")


def introduced(before: str, a: str, b: str) -> bool:
    """True when two values at one position may be one variable: the word before them is an
    :data:`INTRODUCERS` word or a label (``to:``, ``=``), both are the values of one key
    (``user=root``/``user=git``), or both are qualified names (``org.a.B``/``com.c/.D``); never
    two kinds of record (:func:`kinds_differ`)."""
    if kinds_differ(a, b):
        return False
    lower = before.lower()
    if lower in INTRODUCERS and _ACRONYM.match(a) and _ACRONYM.match(b):
        return False  # "for RDMA connections" / "for TCP connections": kinds, not names
    if lower in INTRODUCERS or lower in NAMED_KINDS or before.endswith((":", "=")):
        return True
    if qualified(a) and qualified(b):
        return True  # two class, package or component names: names are values
    if _IDENTIFIER.match(a) and _IDENTIFIER.match(b):
        return True  # "in spawn_worker"/"in init_process", "group billing-service"/"search-..."
    cut = max(common_prefix(a, b).rfind(c) for c in "([{") + 1
    if (
        cut
        and _IDENTIFIER.match(a[cut:].rstrip(".,:;"))
        and _IDENTIFIER.match(b[cut:].rstrip(".,:;"))
    ):
        return True  # "token(cleanup-image)."/"token(get-packages).": the same, in brackets
    key = KEY_END.match(common_prefix(a, b))
    return key is not None and key.group(0).endswith(("=", ":"))


_PROCESS_NAME = re.compile(r"^\([^\s()]+\)[.,;:]?$")


def process_name(before: str, at: str, a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are the names of a process after its id: ``Killed process
    <*> (mpirun).`` / ``(lmp_linux).``, ``pid <*> (python3)``, ``client pid: <*> (Safari)``. A
    program names the process it killed, reaped, traced or served by its pid and then its command
    name: a value, as the pid is."""
    return (
        at == WILDCARD
        and before.lower().rstrip(":") in ("process", "pid", "task")
        and _PROCESS_NAME.match(a) is not None
        and _PROCESS_NAME.match(b) is not None
    )


_IDENTIFIER = re.compile(r"^[(\[{'\"]?[A-Za-z]\w*(?:[_\-][A-Za-z0-9]+)+[)\]}'\".,:;]?$")
"""A snake_case or kebab-case name (``init_process``, ``billing-service``): written by a program,
not prose, so two of them in one position are two values of one variable."""


_CAMEL_CASE = re.compile(r"^[(\[{'\"]?[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+[)\]}'\".,:;]?$")
"""A CamelCase name of two humps or more (``MapOutputTracker``, ``BlockManagerMaster``): a
class or component name, written by a program, not prose."""

_NAME_BREAK = re.compile(r"[_\-]")
_CONSTANT_NAME = re.compile(r"^\W*[A-Z][A-Z0-9]*(?:[_\-][A-Z0-9]+)+\W*$")
_FRAME = re.compile(r"^(\W*)[\w\-]*?(\W*)$")


def short_names(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two names of one kind that may end a message of two or
    three words as its value (``Activating controller_server`` / ``planner_server``, ``Lustre:
    Mounted home-client`` / ``scratch-client``, ``Registering MapOutputTracker`` /
    ``BlockManagerMaster``): both snake- or kebab-case (:data:`_IDENTIFIER`) or both
    CamelCase (:data:`_CAMEL_CASE`), in one frame of punctuation, and either unlike each other
    or two of one family: the same parts between ``_`` / ``-`` but the first, an instance's
    name before its kind (as :func:`sibling_names` has it for dots and dashes). A program
    writes such names for the thing it acts on; prose and event words are not written so. A
    state or mode varies at the end (``link_up`` / ``link_down``, ``read-only`` /
    ``read-write``): kept apart, and so is a family with its fixed part first (``mod_ssl`` /
    ``mod_rewrite``), which the form cannot tell from a state. A snake name against a
    CamelCase one (``nats-server`` / ``JetStream``) is two kinds of thing, and a constant's
    name in capitals (``SCREEN_ON`` / ``TIME_TICK``, as in :data:`_CONSTANT_PART`) the kind of
    an event: both kept apart too."""
    if not (
        (_IDENTIFIER.match(a) and _IDENTIFIER.match(b))
        or (_CAMEL_CASE.match(a) and _CAMEL_CASE.match(b))
    ):
        return False
    if _CONSTANT_NAME.search(a) or _CONSTANT_NAME.search(b):
        return False  # "SCREEN_ON" / "TIME_TICK": a constant's name is the event's kind
    fa, fb = _FRAME.match(a), _FRAME.match(b)
    if fa is None or fb is None or fa.groups() != fb.groups():
        return False
    pa, pb = _NAME_BREAK.split(a), _NAME_BREAK.split(b)
    if len(pa) == len(pb) and len(pa) > 1 and any(x == y for x, y in zip(pa, pb, strict=True)):
        # one family: the instance first, its kind last ("planner_server" / "controller_server")
        return pa[1:] == pb[1:] and not look_alike(pa[0], pb[0])
    return not look_alike(a, b)


_KEY_EQ = re.compile(r"^[\w.\-\[(\"']*=")
_COLON_KEY = re.compile(r"^[a-z][a-z0-9_.]*:(?![/:])")
"""A lower-case key glued to its value by a colon (``user:alice``, ``login:root``,
``server_hostname:gpu-node-07``): Teleport's audit records, Istio's pilot (``node:<*>
resources:<*>``), Go structs printed with ``%v`` keys. Not a URL's scheme (``http://``) and
not ``a::b``."""
_COLON_KIND = re.compile(r"^(?:type|class|kind|event|op|action|code):")
"""The keys whose value names the kind of record (see :func:`names_kind`; an audit ``code:``
too), written with a colon."""


HTTP_METHODS = frozenset(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
)
"""The request methods of HTTP (RFC 9110 and RFC 5789's ``PATCH``), as servers, proxies and
clients print them before a request's target."""

_STATE_NAME = re.compile(r"^[A-Z][A-Z_]*[A-Z]$")
"""A state's name written as a constant (``INITIALIZING``, ``LISTENING``, ``NEEDS_RESYNC``)."""

_TARGET_START = ("/", "<", "http")
"""How a request's target opens: a path, a masked value (a URL, a host), ``http(s)://``."""


def event_words(words: list[str], i: int, a: str, b: str) -> bool:
    """True when ``a`` and ``b``, two words at place ``i`` of ``words``, are constants that name
    two events, not two values, although the word before them would introduce a value:

    - two HTTP methods before a request's target, outside quotes or opening a quoted request
      line (nginx's error log: ``request: "GET <path> HTTP/1.1"`` / ``"POST <path> ..."``;
      ``slow request: GET <path>`` /
      ``PUT <path>``, JuiceFS; ``Request (file descriptor 12): CONNECT <host> HTTP/1.1``,
      Tinyproxy; ``request: GET /health`` / ``POST /completion``, llama.cpp's server): what the
      request does, as an access log's ``"GET <*>"`` keeps it (the Loghub OpenStack precedent);
      gin, Gitea, winston and Express print methods so as well;
    - two states in capitals that a transition starts from, its end a state too
      (``INITIALIZING to LISTENING`` / ``FAULTY to LISTENING``, linuxptp's port states): a
      transition written with both ends names an event (the Loghub YARN precedent, ``from NEW
      to ALLOCATED``; BeeGFS, Flink, Hadoop print them so).

    A key's method (``method=GET``) is left alone: the labels of logfmt access lines disagree on
    it. A word after a transition's ``to`` alone stays a value (:func:`_new_state`)."""
    n = len(words)
    after = words[i + 1] if i + 1 < n else ""
    if a[:1] == b[:1] == '"':  # a quoted request line's method: '"GET <path> HTTP/1.1"'
        a, b = a[1:], b[1:]
    if a in HTTP_METHODS:
        return b in HTTP_METHODS and after.startswith(_TARGET_START)
    return (
        after == "to"
        and i + 2 < n
        and _STATE_NAME.match(a) is not None
        and _STATE_NAME.match(b) is not None
        and _STATE_NAME.match(words[i + 2].rstrip(".,;")) is not None
    )


def keyed(a: str, b: str) -> str:
    """How two different words are two values of one key or two quoted values: ``"="`` for
    ``user=app``/``user=bob`` (any value, masked parts and all: ``key=user:<*>``/``key=<*>``),
    ``":"`` for a lower-case key glued by a colon (``user:alice``/``user:bob``, not a kind's
    key: ``code:``, ``type:``),
    the quote for ``resourceName="memory"``/``"ephemeral-storage"`` or ``'tenant'``/``'user_id'``,
    ``""`` when they are not. Such a value is named by the text around it, so a line may hold
    several."""
    prefix = common_prefix(a, b)
    if "=" in prefix and _KEY_EQ.match(prefix):
        if kinds_differ(a, b, prefix):
            return ""  # "class=scrub_start"/"class=statechange": two kinds of record
        return "="  # "status=<*>/FAILURE"/"status=<*>/n/a": the key is shared
    colon = _COLON_KEY.match(prefix)
    if colon is not None and len(a) > colon.end() and len(b) > colon.end():
        # "user:alice"/"user:bob", "login:<*>"/"login:ubuntu": a record's key:value fields
        return "" if _COLON_KIND.match(prefix) else ":"
    if SPACE in prefix and inside_one_text(a, b, prefix):
        return '"'  # '"error":"Workflow task not found."' / '"...already completed"'
    key = KEY_END.match(prefix)
    if key is None:
        return ""
    head = key.group(0)
    quote = head[-1]
    if quote in "\"'" and quote in a[len(head) :] and quote in b[len(head) :]:
        return quote  # a whole quoted value: "x", ["x"]
    return ""


_KIND_KEY = re.compile(r"(?:^|\W)(?:type|class|kind|event|op|action)=[\w:.\-]*$")


def names_kind(prefix: str) -> bool:
    """True when ``prefix``, the text two words share, ends in the value of a key that names
    the kind of record (``class=``, ``type=``, ``op=PAM:``, ``event=``): that value is a
    constant telling events apart (``class=scrub_start`` / ``class=scrub_finish``, auditd's
    ``op=PAM:accounting`` / ``op=PAM:setcred``), not a value of one event as ``user=`` is.
    (``method=`` is not among them: an HTTP method or an authentication mechanism is a value in
    some logs, an event in others.)"""
    return _KIND_KEY.search(prefix) is not None


def kinds_differ(a: str, b: str, prefix: str | None = None) -> bool:
    """True when ``a`` and ``b`` differ first in the unmasked value of a key that names the kind
    of record (see :func:`names_kind`), inside a quoted run of pairs too
    (``msg='op=PAM:x ...'``)."""
    prefix = common_prefix(a, b) if prefix is None else prefix
    rest = a[len(prefix) :].split(" ", 1)[0] + b[len(prefix) :].split(" ", 1)[0]
    return WILDCARD not in rest and names_kind(prefix)


_KEY_LABEL = re.compile(r"^[A-Z][A-Za-z]*:$")


def key_label(word: str) -> bool:
    """True when ``word`` is a capitalised name and its colon (``AppPath:``, ``Store:``,
    ``Start:``): the key of a ``Key: value`` line (a configuration dump, a banner, a tag's
    field), whose value follows. The key says which setting or field the line reports, so two
    keys in one place tell two events apart, however many of them come with the rest of the
    line equal (Gitea's ``* AppPath:`` / ``* WorkPath:`` / ``* CustomPath:``, varnishlog's
    ``Timestamp Start:`` / ``Req:`` / ``Resp:``), and a value (``resnet18``) is not a key
    (``Model Store: <path>`` against ``Model resnet18 loaded.``). Lower-case names before a
    colon are left out: programs name instances that way (``Enqueuing flush of users:`` /
    ``local:``, ``static_gw:``), as prose never writes a key."""
    return _KEY_LABEL.match(word) is not None


def key_against_value(a: str, b: str) -> bool:
    """True when one of two words is a key (:func:`key_label`) and the other is not: a weak
    value or a mask that would cover the key (``resnet18`` / ``Store:``) is not the key's."""
    return (a[-1:] == ":" or b[-1:] == ":") and key_label(a) != key_label(b)


UNSET = frozenset(["", "null", "none", "nil", "<nil>", "-", "n/a", "undefined", '""', "''"])
"""How programs write a key with no value (``dst=null``, ``referer=``, ``err=<nil>``)."""


def unset(a: str, b: str) -> bool:
    """True when two values of one key differ in that one of them is unset (``perm=null`` /
    ``perm=<*>:supergroup:rw-r--r--``, ``referer=`` / ``referer=https://<*>``): an absent
    value is one more value of the key, even against a masked one. (A plain constant against a
    masked value, ``tty=NODEVssh`` / ``tty=:<*>``, stays apart: that is two kinds of value.)"""
    ka, _, va = a.partition("=")
    kb, _, vb = b.partition("=")
    return ka == kb and (va.rstrip(",;").lower() in UNSET or vb.rstrip(",;").lower() in UNSET)


def mask_reach(a: str, b: str) -> bool:
    """True when two words that both hold a mask differ next to a mask, inside text both keep
    (``usertable,<*>,<*>.`` / ``events,,<*>.``, ``'<*>'`` / ``'<*>/NS/IN'``, ``"<*>"}`` /
    ``"*<*>.Pod"}``, ``<*>ms`` / ``<*>s``): one compound value (a region name, a query, a kind
    of source, a duration) that the masking took whole in one line and in part in the other, or
    a list of one value against several (``"PJSIP/<*>,<*>,tT")`` / ``"PJSIP/<*>&PJSIP/<*>,<*>")``).
    How much of a value the masks covered is its shape, not another event. Two masks in other
    brackets (``(<*>)`` / ``[<*>]``), words that share no text (``(<*>)]}`` / ``status=<*>``) and
    a sign next to a mask (``(+<*>)`` / ``(<*>)``: a frame with no function) stay apart."""
    if WILDCARD not in a or WILDCARD not in b:
        return False
    head = common_prefix(a, b)
    rest_a, rest_b = a[len(head) :], b[len(head) :]
    tail = common_prefix(rest_a[::-1], rest_b[::-1])[::-1]
    da, db = rest_a[: len(rest_a) - len(tail)], rest_b[: len(rest_b) - len(tail)]
    near = head.endswith(WILDCARD) or tail.startswith(WILDCARD)
    near = near or da.startswith(WILDCARD) or da.endswith(WILDCARD)
    near = near or db.startswith(WILDCARD) or db.endswith(WILDCARD)
    if not near or not (head or tail):
        return False
    return _WORD_CHAR.search(da.replace(WILDCARD, "") + db.replace(WILDCARD, "")) is not None


_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")


STATUS_TEXTS = frozenset(
    [
        "OK",
        "Created",
        "Accepted",
        "Found",
        "Unauthorized",
        "Forbidden",
        "Conflict",
        "Gone",
        "Continue",
        "Processing",
    ]
)
"""The one-word reason phrases of HTTP status codes (RFC 9110), written as the standard has them.
After a status code the phrase is a function of the code, a value as the code is."""


def status_text(before: str, a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two reason phrases right after a value (``200 OK`` / ``302
    Found``, ``201 Created``): the status code's text, which varies with the code."""
    return (
        before == WILDCARD and a.rstrip(",;.") in STATUS_TEXTS and b.rstrip(",;.") in STATUS_TEXTS
    )


_SIGNAL = re.compile(r"^([(\[]?)SIG[A-Z]{2,}[0-9]*([)\],.;:!]*)$")


def signals(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two POSIX signal names with the same punctuation around them
    (``(SIGKILL)``/``(SIGBUS)``, ``SIGTERM,``/``SIGINT,``): which signal arrived is a value, named
    by its form as a number is, so a line may hold it besides another word variable, and the
    ``SIG`` the names share does not make them look alike."""
    ma, mb = _SIGNAL.match(a), _SIGNAL.match(b)
    return ma is not None and mb is not None and ma.groups() == mb.groups()


DNS_TYPES = frozenset(
    [
        "A",
        "AAAA",
        "ANY",
        "CAA",
        "CNAME",
        "DS",
        "DNSKEY",
        "HTTPS",
        "MX",
        "NS",
        "PTR",
        "SOA",
        "SRV",
        "SVCB",
        "TXT",
    ]
)
"""DNS record types (RFC 1035 and later): beside the class ``IN`` the type a query asked for."""
DNS_RCODES = frozenset(
    ["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP", "YXDOMAIN", "NOTAUTH"]
)
"""DNS response codes (RFC 1035, 2136), as resolvers print them."""
_BARE = re.compile(r"^([\"'(\[<]*)([A-Z]+)([\"',;:)\]>]*)$")


def dns_values(before: str, after: str, a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two DNS record types beside the class ``IN`` (``A IN`` /
    ``AAAA IN``, ``"IN MX``) or two DNS response codes (``NOERROR`` / ``NXDOMAIN``), with the
    same punctuation around them: which record was asked and what the answer was are values of
    a query, as its name is, named by their form (so the one-letter ``A`` and ``AAAA`` do not
    count as look-alike constants)."""
    ma, mb = _BARE.match(a), _BARE.match(b)
    if ma is None or mb is None or ma.group(1, 3) != mb.group(1, 3):
        return False
    wa, wb = ma.group(2), mb.group(2)
    if wa in DNS_RCODES and wb in DNS_RCODES:
        return True
    beside = before.strip("\"'(<") == "IN" or after.strip("\"')>:,") == "IN"
    return beside and wa in DNS_TYPES and wb in DNS_TYPES


_TRIPLE = re.compile(r"^(\W*<\*>/)([A-Z]+)(/IN\W*)$")
"""A DNS question as BIND writes it, ``'name/TYPE/CLASS'``, its name masked: ``'<*>/NS/IN':``."""


def dns_triple(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two DNS questions written ``'<*>/TYPE/IN'`` that differ in
    their record type only (``'<*>/A/IN'`` / ``'<*>/NS/IN'``): the type asked is a value of the
    query, as it is beside ``IN`` (:func:`dns_values`)."""
    ma, mb = _TRIPLE.match(a), _TRIPLE.match(b)
    return (
        ma is not None
        and mb is not None
        and ma.group(1, 3) == mb.group(1, 3)
        and ma.group(2) != mb.group(2)
        and ma.group(2) in DNS_TYPES
        and mb.group(2) in DNS_TYPES
    )


MIN_RECORD_FIELDS = 3
"""A word made of this many ``;``-separated fields or more is a record, not a phrase."""
_FIELD = re.compile(r"^[\w.\-]+$")


def record_fields(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two records of as many ``;``-separated fields, three or
    more (``lb02;PING;OK;SOFT;<*>;OK`` / ``web01;PING;CRITICAL;SOFT;<*>;CRITICAL``), that differ
    only in fields holding one plain word each (or a value): a record's fields are its values,
    as the columns of a row or the values under keys are, however many differ."""
    fa, fb = a.split(";"), b.split(";")
    if len(fa) < MIN_RECORD_FIELDS or len(fa) != len(fb):
        return False
    for x, y in zip(fa, fb, strict=True):
        if x == y or WILDCARD in (x, y):
            continue
        if _FIELD.match(x) is None or _FIELD.match(y) is None:
            return False
    return True

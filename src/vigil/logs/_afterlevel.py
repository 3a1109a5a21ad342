"""Header detection after the level: threads, loggers, spans and source locations.

Called by :mod:`vigil.logs._leading` and :mod:`vigil.logs._program` once they have found a
line's level (``INFO``, ``[error]``, ``<Debug>``): what follows it up to the message, bracketed
threads, a logger name, a source location, a Rust ``tracing`` span run. Also holds the lazy
token reader they all use.
"""

from __future__ import annotations

import re

from vigil.logs._headerwords import ANGLE_PID, FIELD_TOKEN, SOURCE_LOCATION, TIME_TOKEN

_SOURCE = re.compile(r"^\[?[\w./\-]+\.\w+:\d+\]:?$")
"""A source location closing a header: ``kubelet.go:2414]``, ``[metrics.py:455]``."""
_PID_TID = re.compile(r"^\d+#\d+:$")
_CLASS_LINE = re.compile(r"^[A-Z][\w$]*:\d+$")
"""A class's simple name and a line, ``App:42``: a source location when a dash follows it."""
_PEER = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$")
"""An IPv4 address, with its port or not, after the level: the message's first value (the
client a server logs about), not a time (``[INFO] 10.2.0.7:45961 - 36156 "A IN ..."``)."""
_BRACKET_LOCATION = re.compile(r"^\[[\w./\-]+\.\w+:(?:\d+(?::[\w.<>]+)?|[\w.<>]+\(\):\d+)\]$")
"""A bracketed source location with its function (``[engine.py:96:log_dist]``, Python's
``[%(filename)s:%(funcName)s():%(lineno)s]``, ``[storage.py:download():66]``): the last header
field; brackets after it are the message's own (``[Rank 0] step=...``)."""
_LOCATED_LOGGER = re.compile(r"^[a-z0-9][\w.\-/]*:$")
"""A logger name with its colon after a bracketed source location (``0-management:``,
``0-rpc-transport/rdma:``); lower-case or numbered: a capitalised word opens the message."""
_TOKEN = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]:?|\S+")  # one level of nested brackets
_LOGGER = re.compile(r"^[\w.$\-/\[\]#]+:$")
"""A logger name closed by a colon; ``#`` joins a Java class and its method (``Run#execute:``)."""
_JAVA_LOGGER = re.compile(r"^[a-z]\w*(?:\.[a-z]\w*)+\.[A-Z][\w$]*(?:\.[a-z]\w*)?$")
"""A fully qualified Java class, with its method or not (``org.apache.x.HostConfig.deployWAR``):
java.util.logging writes it with no colon after ``LEVEL [thread]``."""
_COLUMN = re.compile(r"^[\w.$\-/#]*(?:@v\d[\w.\-]*)?[./][\w.$\-/#]*(?::\d+)?$")
"""A logger or caller column of a tab-separated header (``controllers.Job``, ``pkg/x.go:42``,
a Go module path with its version, ``service@v0.112.0/service.go:135``)."""
_PARENTHESISED = re.compile(r"^\([\w.\-]+\)$")
"""A component in parentheses before a source location: ``(raylet) node_manager.cc:42:``."""
_CONTEXT = re.compile(r"^\[[\w.\-:]+\]$")
_NAMED_NUMBER = re.compile(r"^\[[A-Za-z]+ \d+\]$")
_PIPED_CONTEXT = re.compile(r"^\[[\w.\-]+(?:\|[\w.\-]+)+\]$")
"""Names joined by ``|`` in one bracket, ``[mysql-users-source|task-0|offsets]``: Kafka Connect's
connector context, which opens the message (a thread name holds no bar)."""
_PAREN_THREAD = re.compile(r"^\([^()\s]+\)$")
"""A thread in parentheses after a bracketed logger (the JBoss/WildFly/Quarkus layout
``%-5p [%c] (%t) %s``: ``INFO [io.quarkus] (main) msg``)."""
_CLASS_LOGGER = re.compile(r"^(?:[a-z]\w*\.)+(?:[A-Z][\w$]*\.)?[A-Z][\w$]*$")
"""A Java class name, its packages abbreviated or not (``o.a.s.c.SolrConfig``)."""
_THREAD_LOCATION = re.compile(r"[A-Za-z][\w\-.]* *:\d+ +\[[\w./\-]+\.\w+:\w+\(\):\d+\] +(?=\S)")
"""A thread name with the process id and a bracketed ``file:function():line`` after the level
(Python's ``%(threadName)-10s:%(process)d [%(filename)s:%(funcName)s():%(lineno)s]``)."""
_BARE_SPAN = re.compile(r"^[A-Za-z][\w\-]*(?::[A-Za-z][\w\-]*)*:$")
"""``tracing`` spans with no fields, printed by name alone, nested ones joined by colons
(``inbound:``, ``daemon:identity:``)."""
_PAREN_FIELD = re.compile(r"^\([\w.\-]+\):?$")
_RUST_PATH = re.compile(r"^[A-Za-z_]\w*(?:::\w+)+:$")
"""A Rust module path closed by a colon (``tracing``'s target, ``my_crate::server:``)."""
_SPANS = re.compile(
    r"(?:[A-Za-z_][\w\-]*:)*"
    r"(?:[A-Za-z_][\w\-]*\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}:(?:[A-Za-z_][\w\-]*:(?=\w))*)+ +"
)
"""``tracing`` spans before the target, ``generate{id=3 p=Params { n: 5 }}:stream{}: ``: the
context of the event, header like a thread; their fields may hold spaces and braces. A span with
no fields is its name alone, glued to the next (``outbound:proxy{addr=10.0.0.1:80}:``)."""
_THREAD_ID = re.compile(r"ThreadId\(\d+\) +")
"""``tracing-subscriber``'s thread id after the level (``with_thread_ids(true)``: ``INFO
ThreadId(01) my_crate: msg``): header, as a thread is."""
_PACKAGE = re.compile(r"^[a-z][\w.\-/]*:$")
"""A package or logger name with its colon after a level and a bar (``etcdserver:``)."""
_FUNCTION_LOCATION = re.compile(r"^[\w.]+:[\w<>]+:\d+$")
"""``module:function:line`` (``app.main:run:42``, ``__main__:<module>:7``)."""
_CLASS_COLON = re.compile(r"^[A-Z][a-z]+[a-z0-9]*:$")
"""A one-word class name with its colon (``Utils:``): a short logger name (log4j ``%c{1}``)."""
_DOTTED_NAME = re.compile(r"^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)+$")


def is_logger(tok: str, modules: bool = False) -> bool:
    """A logger name after the level: dotted (Java), ``$`` (inner class) or CamelCase; with
    ``modules``, a Rust path or a module name with an underscore too. An upper-case word
    (``FLAG:``, ``ADS:``) is no CamelCase name: a tag of the message (istiod)."""
    if not _LOGGER.match(tok):
        return modules and _RUST_PATH.match(tok) is not None
    if tok[0] == "/":
        return False  # a rooted path ("/Stage[main]/Service[x]/ensure:") is the message's subject
    name = tok[:-1]
    # after a bare level word (``INFO text_generation_launcher: msg``, Rust's ``tracing``), a
    # module name with an underscore is a logger too; after a bracketed one it is the message's
    # own prefix (Apache's ``[error] mod_jk: child ...``, as its Loghub ground truth has it; an
    # angle-bracketed level, ``<INFO> bgp_peer1: State changed to up``, is a bracketed one)
    return (
        "." in name
        or "$" in name
        or (modules and "_" in name)
        or (any(c.isupper() for c in name[1:]) and any(c.islower() for c in name))
    )


def _qualified_logger(toks: Tokens, i: int) -> int:
    """The end of a logger name qualified by one or two parenthesised fields, the last closed by
    a colon (``db.events (3f2a-...) (MergerMutator): msg``, a table's logger with its id and
    role); 0 when token ``i`` does not start one."""
    if not (_DOTTED_NAME.match(toks[i][0]) or FIELD_TOKEN.match(toks[i][0])):
        return 0
    for j in (i + 1, i + 2):
        if not toks.has(j + 1) or not _PAREN_FIELD.match(toks[j][0]):
            return 0
        if toks[j][0].endswith("):"):
            return toks[j][1]
    return 0


class Tokens:
    """The line's leading tokens, split lazily: most lines stop at the first one."""

    def __init__(self, line: str) -> None:
        self._it = _TOKEN.finditer(line, 0, min(len(line), 400))
        self._toks: list[tuple[str, int]] = []
        self._done = False

    def _fill(self, n: int) -> None:
        while not self._done and len(self._toks) < n:
            m = next(self._it, None)
            if m is None:
                self._done = True
            else:
                self._toks.append((m.group(0), m.end()))

    def has(self, i: int) -> bool:
        self._fill(i + 1)
        return i < len(self._toks)

    def __getitem__(self, i: int) -> tuple[str, int]:
        self._fill(i + 1)
        return self._toks[i]


def after_level(line: str, toks: Tokens, i: int, end: int) -> int:
    """The header end after a level: bracketed fields, ``-`` separators, a logger name, a
    component column."""
    level_end = end
    if "|" in line and toks.has(i + 1) and toks[i][0] == "|":
        return _after_bar(line, toks, i + 1, toks[i][1])
    if toks.has(i) and ANGLE_PID.match(toks[i][0]):
        return skip_space(line, toks[i][1])  # "[info] <0.2009.0> accepting AMQP connection"
    traced = _traced(line, toks, i, end)
    if traced:
        return traced
    if (
        line.startswith("]  ", end - 1)
        and toks.has(i + 1)
        and _LOGGER.match(toks[i][0])
        and not toks[i][0][0].isupper()
    ):
        # "[INFO]  agent: msg": a bracketed level padded to the width of the longest one, then
        # a name and a colon (hclog's "[%-5s] name: msg"): the name is the logger; a
        # capitalised one is a key of the message ("[INF]   Version:  2.10.22", a banner)
        return skip_space(line, toks[i][1])
    if line.startswith("\t", end):
        # a tab-separated header (zap's console encoder): "<time>\tINFO\tctrl.Job\tmsg\t{...}";
        # up to two name columns (logger, caller) each closed by a tab are header
        for _ in range(2):
            if toks.has(i) and is_logger(toks[i][0]):
                return skip_space(line, toks[i][1])  # "...\tINFO\thudson.model.Run#execute: msg"
            if toks.has(i) and line.startswith("\t", toks[i][1]) and _COLUMN.match(toks[i][0]):
                i, end = i + 1, toks[i][1]
            elif _name_column(line, toks, i):
                # "<time>\tINFO\tadmin\tadmin endpoint started\t{...}": a one-word logger
                # column; a word followed by the fields' brace is a one-word message instead
                i, end = i + 1, toks[i][1]
        return skip_space(line, end)
    if "():" in line:
        thread = _THREAD_LOCATION.match(line, skip_space(line, end))
        if thread is not None:
            return thread.end()  # "INFO    MainThread:4821 [run.py:_flush():76] msg"
    if (
        toks.has(i + 3)
        and _PAREN_THREAD.match(toks[i][0])
        and toks[i + 1][0][0] == "["
        and _CLASS_LOGGER.match(toks[i + 2][0])
    ):
        # "INFO  (qtp1-23) [c:core x:replica_n1] o.a.s.c.S.Request msg": a thread in
        # parentheses, a context bracket (the MDC, spaced or empty) and a Java class
        return skip_space(line, toks[i + 2][1])
    if toks.has(i + 2) and _PAREN_THREAD.match(toks[i][0]) and _CONTEXT.match(toks[i + 1][0]):
        # "INFO (MainThread) [pkg.module] msg": a thread in parentheses and a logger in brackets
        # after the level (the bracketed logger is header, as after a bracketed thread)
        return skip_space(line, toks[i + 1][1])
    if line.startswith("[", end) and toks.has(i):
        # glued brackets after a bracketed level, "[time][WARN ][o.e.Service] [node-1] msg"
        # (log4j2's "[%d][%p][%c] [%node]", Envoy's): the glued run and one spaced field after
        # it are header; later brackets are the message's ("[gc][young] ...")
        while toks.has(i) and toks[i][0].startswith("[") and toks[i][1] - len(toks[i][0]) == end:
            end = toks[i][1]
            i += 1
        if toks.has(i + 1) and toks[i][0].startswith("[") and " " not in toks[i][0]:
            end = toks[i][1]
        return skip_space(line, end)
    j = i
    while toks.has(j) and TIME_TOKEN.match(toks[j][0].strip("[]")) and not _PEER.match(toks[j][0]):
        j += 1  # "INFO 11-29 10:00:01 metrics.py:455]", "I1129 10:00:01.1  2314 kubelet.go:42]"
    if j > i and toks.has(j) and _SOURCE.match(toks[j][0]):
        return skip_space(line, toks[j][1])
    if j > i and line[end - 1] == "]" and toks.has(j + 1) and toks[j][0] == "-":
        return skip_space(line, toks[j][1])  # "[INFO] 2026-11-29 10:00:01 - msg": time, dash
    located = source_end(line, toks, i)
    if located:
        return located
    if (
        toks.has(i + 1)
        and toks[i][0][-1] == "]"
        and toks[i][0][0] != "["
        and _SOURCE.match(toks[i][0])
    ):
        # "<time>: I tensorflow/core/x/gpu_device.cc:1886] msg": a source location closed by a
        # bracket right after the level (glog's layout with the thread left out) ends the header
        return skip_space(line, toks[i][1])
    if toks.has(i) and _PID_TID.match(toks[i][0]):
        return skip_space(line, toks[i][1])  # nginx: "[error] 1234#1234: *5 open() failed"
    if (
        toks.has(i + 2)
        and toks[i][0][0] == "["
        and toks[i + 1][0].isdigit()
        and toks[i + 2][0] == "---"
    ):
        i += 1  # "ERROR [app,8f2a6c0d,3b47] 4821 --- [main] c.x.C : msg": a trace bracket
    if toks.has(i + 1) and toks[i][0].isdigit() and toks[i + 1][0] == "---":
        # Spring Boot: "INFO 4242 --- [main] o.s.w.DispatcherServlet   : msg", and since 3.2
        # with the application's name first, "INFO 1 --- [app] [   main] o.s.b.Server : msg"
        j = i + 2
        while toks.has(j) and j < i + 6:
            if toks[j][0] == ":":
                return skip_space(line, toks[j][1])
            j += 1
    j, fields_end, spaced = i, end, False
    while toks.has(j) and (toks[j][0].startswith("[") or toks[j][0] == "-"):
        if "|" in toks[j][0] and _PIPED_CONTEXT.match(toks[j][0]):
            break  # "INFO [conn-a|task-0|offsets] msg": a context of the message, no thread
        # "[tid 7981]", "[pid 12]": a named number is a header field, spaced or not
        # "[01-12-2026 10:00:01]": a time in brackets after the level is a header field too
        # (Python's "%(levelname)s [%(asctime)s] %(message)s", Chroma's uvicorn-style lines)
        spaced = spaced or (
            " " in toks[j][0]
            and not _NAMED_NUMBER.match(toks[j][0])
            and not _spaced_time(toks[j][0])
        )
        fields_end = toks[j][1]
        j += 1
        if _BRACKET_LOCATION.match(toks[j - 1][0]):
            if toks.has(j + 1) and toks[j][0] == "-":
                fields_end = toks[j][1]  # "INFO [main] [Worker.java:42] - msg": a dash closes it
            python = "():" in toks[j - 1][0]  # "[x.py:fn():12] requestId: 8f0c": a key
            if toks.has(j + 1) and not python and _LOCATED_LOGGER.match(toks[j][0]):
                # "I [MSGID: 106478] [glusterd.c:1474:init] 0-management: msg": a logger name
                # with its colon right after the location is header too
                return skip_space(line, toks[j][1])
            return skip_space(line, fields_end)  # "[INFO] [engine.py:96:save] [Rank 0] msg"
    if j > i:
        # "LEVEL [thread] <time> File.java:42 - msg" (log4j's "%-5p [%t] %d %F:%L - %m")
        k = j
        while toks.has(k) and TIME_TOKEN.match(toks[k][0]):
            k += 1
        located = source_end(line, toks, k) if k > j else 0
        if located:
            return located
    threaded = j > i
    if j > i and (
        not spaced
        or toks[j - 1][0] == "-"
        or (toks.has(j) and (is_logger(toks[j][0]) or TIME_TOKEN.match(toks[j][0])))
    ):
        # "[main]", "[pool-2-thread-1]", or fields closed by "-" or a logger name: header.
        # A spaced bracket with neither ("[error] [client 1.2.3.4] File does not exist") is
        # the message's own first field.
        i, end = j, fields_end
    if not toks.has(i):
        return skip_space(line, end)
    tok, tok_end = toks[i]
    if threaded and toks.has(i + 2) and toks[i + 1][0] in ("-", "--"):
        between = toks[i - 1][0] == "-" and toks[i - 2][1] == level_end  # "- INFO - name -"
        if (
            (between and FIELD_TOKEN.match(tok))
            or SOURCE_LOCATION.match(tok)
            or _CLASS_LINE.match(tok)
        ):
            # "<date> - INFO - __main__ - msg" (a logger between the level's dash and its
            # own), "INFO  [main] c.x.App:42 - msg" (a logger with its line after the thread),
            # "INFO  [main] App:42 - msg" (log4j's "%c{1}:%L", Strimzi's operators)
            return skip_space(line, toks[i + 1][1])
    if threaded and _PAREN_THREAD.match(tok) and toks.has(i + 1):
        return skip_space(line, tok_end)  # "INFO [io.quarkus] (main) msg"
    if is_logger(tok, modules=line[end - 1] not in "]>"):
        return _after_logger(line, toks, i + 1, tok_end)
    if line[end - 1].isupper() and _CLASS_COLON.match(tok) and toks.has(i + 1) and i > 1:
        # "<date> <time> INFO Utils: msg" (log4j's "%p %c{1}:"): a capitalised class name
        # with its colon right after a bare upper-case level, a time before it, is the logger
        return skip_space(line, tok_end)
    if threaded and _JAVA_LOGGER.match(tok) and toks.has(i + 1):
        if toks[i + 1][0] == "-" and toks.has(i + 2):
            # "WARN [main] o.e.x.s.FileRolesStore - msg" (log4j's "%p [%t] %c - %m"): the dash
            # after the class closes the header too
            return skip_space(line, toks[i + 1][1])
        return skip_space(line, tok_end)  # "INFO [main] org.x.HostConfig.deployWAR msg" (JUL)
    qualified = _qualified_logger(toks, i)
    if qualified:
        return skip_space(line, qualified)
    if _DOTTED_NAME.match(tok) and toks.has(i + 1):
        # "INFO nova.compute.manager [req-1 - -] msg", "INFO com.x.Main - msg": a module or
        # class name with no colon is a logger when a request field or a dash follows it (the
        # Python and logback layouts); only that one field, the message may start with another.
        nxt, nxt_end = toks[i + 1]
        if nxt.startswith("[") and toks.has(i + 3) and toks[i + 2][0] == "-":
            # log4j2's "%c [%X] - %m": the logger, its context bracket (empty or not), a dash
            return skip_space(line, toks[i + 2][1])
        if nxt == "-" or (nxt.startswith("[") and not nxt.endswith(":")):
            return skip_space(line, nxt_end)
    if line.startswith("  ", tok_end) and " " not in tok and tok[-1] != ":":
        if tok.isupper() and toks.has(i + 2) and _CONTEXT.match(toks[i + 1][0]):
            # "<time> I NETWORK  [listener] msg" (MongoDB's legacy layout): an upper-case
            # component padded to its column, then the context (thread) in brackets
            return skip_space(line, toks[i + 1][1])
        return skip_space(line, tok_end)  # a padded column: "Info     CBS    Loaded ..."
    return skip_space(line, end)


def _spaced_time(tok: str) -> bool:
    """``[01-12-2026 10:00:01]``: a bracket holding a date and a clock, nothing else."""
    parts = tok.strip("[]:").split()
    return any(":" in p for p in parts) and all(TIME_TOKEN.match(p) for p in parts)


def _after_bar(line: str, toks: Tokens, i: int, end: int) -> int:
    """After a level and a ``|`` separator: a package name with its colon (capnslog's ``<time>
    W | etcdserver: msg``) or a ``module:function:line`` location and a dash (loguru's ``| INFO
    | app.main:run:42 - msg``) are header too; otherwise the bar is the last header field."""
    tok, tok_end = toks[i]
    if toks.has(i + 1) and _PACKAGE.match(tok):
        return skip_space(line, tok_end)
    if toks.has(i + 2) and _FUNCTION_LOCATION.match(tok) and toks[i + 1][0] == "-":
        return skip_space(line, toks[i + 1][1])
    return skip_space(line, end)


def _traced(line: str, toks: Tokens, i: int, end: int) -> int:
    """The header end of a Rust ``tracing`` line after its level: spans (``name{fields}:``, or
    a bare ``name:`` before the target), the target (``crate::module:``) and a source location
    (``src/server.rs:305:``); 0 when the level is not followed by them."""
    if line[end - 1] in "]>":
        return 0  # tracing writes its level bare
    thread = _THREAD_ID.match(line, skip_space(line, end)) if "ThreadId(" in line else None
    if thread is not None:
        end = thread.end()
        while toks.has(i) and toks[i][1] <= end:
            i += 1
    spans = _SPANS.match(line, skip_space(line, end)) if "{" in line else None
    if spans is not None:
        while toks.has(i) and toks[i][1] <= spans.end():
            i += 1
        if toks.has(i + 1) and is_logger(toks[i][0], modules=True):
            return _after_logger(line, toks, i + 1, toks[i][1])
        return spans.end()
    if toks.has(i + 2) and _BARE_SPAN.match(toks[i][0]) and not is_logger(toks[i][0], True):
        # "INFO shard-manager: text_generation_launcher: msg": a span with no fields, then a
        # target; only when the second name is a module name (with an underscore or a path)
        nxt = toks[i + 1][0]
        if "_" in nxt and is_logger(nxt, modules=True):
            return _after_logger(line, toks, i + 2, toks[i + 1][1])
    if thread is None:
        return 0
    if toks.has(i + 1) and is_logger(toks[i][0], modules=True):
        return _after_logger(line, toks, i + 1, toks[i][1])  # "INFO ThreadId(01) my_crate: msg"
    return end


def _after_logger(line: str, toks: Tokens, i: int, end: int) -> int:
    """After a logger name: a source location closed by a colon is header too
    (``target: src/server.rs:305: msg``)."""
    if toks.has(i + 1) and SOURCE_LOCATION.match(toks[i][0]) and toks[i][0].endswith(":"):
        return skip_space(line, toks[i][1])
    return skip_space(line, end)


def source_end(line: str, toks: Tokens, i: int) -> int:
    """Where the header ends when a source location follows the level: ``worker.py:1636 --``,
    ``Gossiper.java:1318 -``, ``watcher.go:73 >``, ``(raylet) node_manager.cc:42:``; 0 if it
    does not."""
    if toks.has(i) and _PARENTHESISED.match(toks[i][0]) and toks.has(i + 1):
        i += 1
    if not toks.has(i) or not SOURCE_LOCATION.match(toks[i][0]):
        if toks.has(i + 2) and _CLASS_LINE.match(toks[i][0]) and toks[i + 1][0] == "-":
            return skip_space(line, toks[i + 1][1])  # "INFO  App:42 - msg" (log4j "%C{1}:%L")
        return 0
    tok, end = toks[i]
    if tok.endswith(":") and not tok.endswith("]:"):
        return skip_space(line, end)
    if toks.has(i + 1) and toks[i + 1][0] in ("-", "--", ":", ">"):
        # "INF pkg/server/watcher.go:73 > msg": zerolog's console writer closes it with ">"
        return skip_space(line, toks[i + 1][1])
    return 0


def _name_column(line: str, toks: Tokens, i: int) -> bool:
    """True when token ``i`` is a plain name closed by a tab and followed by another column
    that is not the structured fields (``{...}``): the logger column of a tab-separated line."""
    return (
        toks.has(i + 1)
        and line.startswith("\t", toks[i][1])
        and FIELD_TOKEN.match(toks[i][0]) is not None
        and toks[i + 1][0][0] != "{"
    )


def skip_space(line: str, end: int) -> int:
    while end < len(line) and line[end] in " \t":
        end += 1
    return end

"""Clusters and how a line is compared with them: the pure core of the template miner.

Called by :class:`vigil.logs._miner.TemplateMiner` on its slow path (a line whose masked form
it has not seen): the bucket a line belongs to, the cost for a cluster to take it, the
sibling clusters that differ from it in one plain word. The folding of wildcard runs and the
widening of a template are :mod:`vigil.logs._widening`'s. No state of its own, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vigil.logs._compare import NAME_PAIR, NAMED_ID, covers, loose, plain_difference
from vigil.logs._compound import compound_names
from vigil.logs._enclosed import (
    angled,
    enclosed_key,
    enclosed_name,
    has_bracket,
    listed,
    paired,
)
from vigil.logs._fieldrun import field_value
from vigil.logs._msgids import filed_as
from vigil.logs._options import option_dashes, option_pair
from vigil.logs._slots import (
    dns_triple,
    dns_values,
    event_words,
    introduced,
    key_against_value,
    keyed,
    kinds_differ,
    look_alike,
    mask_reach,
    named_by_kind,
    process_name,
    record_fields,
    short_names,
    signals,
    status_text,
    unset,
)
from vigil.logs._texts import SPACE, quoted_span, reason_span
from vigil.logs._tokens import UNITS, WILDCARD
from vigil.logs._unquoted import command_pair, same_key, unquoted_text

FIRST_WORD_VARIABLE_POSITION = 2
"""The first two words of a message are its verb and subject ("Failed password", "Connection
closed"): a plain word there tells events apart, it is not a value (Drain's prefix rule).
Except a name enclosed in brackets (``[pg-orders|task-0]``, ``(id)=(<*>)``): which instance or
key the event is about (:func:`vigil.logs._enclosed.enclosed_name`)."""

MIN_WORDS_FOR_WORD_VARIABLE = 4
"""A plain word may be a variable only in a message of four words or more: in shorter ones
("cupsd startup succeeded", "onReceive action: SCREEN_ON") one word is most of the meaning.
Except a word ending the line after a plain ``label:`` (``Handling signal: term``,
``TRITONBACKEND_Initialize: onnxruntime``): the label names it, a value, unless the two words
look alike (``SCREEN_ON``/``SCREEN_OFF``) or the label is the message's subject."""

# Position levels: how far a template word has been widened.
LITERAL, LOOSE, ANY = 0, 1, 2


@dataclass(slots=True)
class Cluster:
    """One template: its words, how widened each one is, and counts (line numbers are 1-based)."""

    id: int
    words: list[str]
    levels: list[int]
    runs: list[int]
    count: int = 0
    first_line: int = 0
    last_line: int = 0
    example: str = ""
    varied: bool = False
    """Whether a line of another shape (digits aside) than ``example`` reached this cluster:
    False while every line of it was one message repeated."""
    pinned: tuple[int, ...] = ()
    """Positions of ``key=word`` values found to be constants of the event (:func:`settled`)."""
    spans: tuple[int, ...] = ()
    """Positions of values seen with several words (a list, a quoted name): a line with more
    words there still fits (:func:`vigil.logs._spans.span_slot`)."""
    _template: str | None = field(default=None, repr=False)

    @property
    def template(self) -> str:
        if self._template is None:
            text = " ".join(
                " ".join([w] * r) if r > 1 else w
                for w, r in zip(self.words, self.runs, strict=True)
            )
            self._template = text.replace(SPACE, " ") if SPACE in text else text
        return self._template


_SUBJECT = re.compile(
    r"^[\w@\-]+(?:\.[\w@\-]+)+:$|^[a-z][a-z0-9]*(?:[_\-][a-z0-9]+)+:$"
    r"|^\([a-z_][\w.\-]*\)$|^\[[a-z_][\w.\-]*\]$"
)
"""A dotted name before a colon opening a message: ``gunicorn.service: Main process exited``,
``com.apple.cts: ...``; a snake_case or kebab-case name before a colon (``static_gw: State
changed to up``, ``pg-main: ...``: an instance a program names, written as no prose word is);
or a lower-case name in parentheses or brackets opening a message (the user a job runs as,
``(root) CMD (...)``; the instance a line is about, ``[sshd] Ban <ip>``, ``[nginx-auth] Ban
<ip>``). Which unit, component, user or instance says it is a value; the message is the
event."""


_MASKED_SUBJECTS = frozenset(["[<*>]", "(<*>)"])
"""A first word that is a masked value alone in brackets (``[0.6.10.in-addr.arpa.]`` ->
``[<*>]``, a reverse zone among Knot's forward ones): filed as a :data:`_SUBJECT`, so that it
meets the lines whose bracketed name is a plain word (``[example.com.] zone will be loaded``).
So is a bracketed word whose digits alone make it a value once loosened (``[KQXZM9AB]``,
``[AB12]``, ``(VI_1)``): the word masks take a request id with many digits whole
(``[K7QX2M9Z]`` -> ``[<*>]``) and leave one with few as a weak word, and the two must meet, or
one statement opens a cluster in each bucket; the miner's weak-word rule then decides (a
second id with the other words the same: a value; FRR's catalogue ids stay words)."""


_TAGGED_FIRST = re.compile(r"^([A-Za-z]\w*(?:\.[A-Za-z]\w*)*)(?:\[[^\[\]\s]+\]|\([^()\s]+\))$")
"""A first word made of a name and a bracketed or parenthesised part glued to it (``query[A]``,
``DHCPACK(br0)``): the name is the event, the part a value of it (a record type, an interface),
as a program's pid is. The name may be dotted, a call with its argument (LiteLLM's router
``litellm.acompletion(model=azure/gpt-4o) 200 OK``; a Python, Java or Node client's
``module.function(arg)``/``Class.method(arg)``): which call is the event, the argument a value,
whether the masks took it whole (a model's route, ``model=<*>``) or left it a word."""


def _same_tag(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are one name with two parts glued to it (:data:`_TAGGED_FIRST`)."""
    ta, tb = _TAGGED_FIRST.match(a), _TAGGED_FIRST.match(b)
    return ta is not None and tb is not None and ta.group(1) == tb.group(1)


_SIZED = re.compile(r"^<\*>(?: (?:" + "|".join(sorted(UNITS)) + r"))?[,;)\]}]*$")
"""A size as :func:`vigil.logs._widening.collapse` writes it: ``<*> KB,``, or ``<*>,`` once its
units varied."""


_FIELD_FIRST = re.compile(r"^(?!(?:msg|message|event)=)[A-Za-z_][\w.\-]*=(?![\"'])")
"""A record that opens with a ``key=value`` field (``allowed=true ugi=bob cmd=open``, audit
logs): its first word is a field like the others, not the verb of a message, so its value
may vary; a message key (``msg="..."``) still names the event."""


def _bucket_key(words: list[str]) -> tuple[int, str]:
    """Clusters compared with a line: same word count and first word (Drain's prefix rule), a
    subject (:data:`_SUBJECT`) counting as any subject, a ``key=value`` field as its key."""
    if not words:
        return 0, ""
    first = filed_as(words[0])  # a message id kept as a word is filed as its mask was
    # "<*>:" once widened or masked, and a weak name with its colon ("device1:"), which
    # loosens to it: the three must share one bucket, or a masked one never meets the others
    subject = (
        (first[-1] == ":" and loose(first) == "<*>:")
        or first in _MASKED_SUBJECTS
        or _SUBJECT.match(first) is not None
        or (first[0] in "[(" and first[-1] in ")]" and loose(first) in _MASKED_SUBJECTS)
    )
    if not subject and first[-1:] in ")]":
        tagged = _TAGGED_FIRST.match(first)
        if tagged is not None:
            return len(words), tagged.group(1) + "["
    if first[:1] == "-" and (dashes := option_dashes(first)):
        return len(words), dashes + "<*>="  # "-retentionPeriod=..." / "-storageDataPath=..."
    if not subject and "=" in first:
        field = _FIELD_FIRST.match(first)
        if field is not None:
            return len(words), field.group(0)
    if subject:
        return len(words), "<subject>"
    return len(words), loose(enclosed_key(first) if has_bracket(first) else first)


def _cost(cluster: Cluster, words: list[str]) -> tuple[int, int] | None:
    """(word-variable positions, weak positions) needed for ``cluster`` to take ``words``, or
    None when it cannot."""
    hard = soft = 0
    bare = False
    named: tuple[str, str] | None = None  # the word variable's two values, once found
    n = len(words)
    for i, (have, level, new) in enumerate(zip(cluster.words, cluster.levels, words, strict=True)):
        if have == new or level == ANY:
            continue
        lhave, lnew = loose(have), loose(new)
        if (lhave == lnew or covers(lhave, lnew) or covers(lnew, lhave)) and not (
            key_against_value(have, new)  # "Model resnet18 loaded." / "Model Store: <*>"
        ):
            soft += 1
            continue
        if _SIZED.match(have) and _SIZED.match(new):
            soft += 1  # "<*> KB," / "<*> MB," / "<*>,": one size in other units
            continue
        plain = plain_difference(have, new)
        if option_pair(lhave, lnew):
            hard += 1  # "FLAG: --domain=<*>" / "FLAG: --port=<*>": a dump's option (._options)
            continue
        if i > 0 and event_words(words, i, have, new):
            return None  # "slow request: GET <path>" / "PUT <path>": two events, not a value
        if (
            i == 0
            and (n >= 3 or have[0] == "(")  # "(root) CMD (<command line>)": two words
            and not bare
            and _SUBJECT.match(have)
            and _SUBJECT.match(new)
        ):
            bare = True  # "a.service: Deactivated successfully." / "b.service: ..."
            hard += 1
            continue
        if i == 0 and not bare and _same_tag(have, new):
            bare = True  # "query[A] x from y" / "query[AAAA] ...": the tag's value
            hard += 1
            continue
        if i > 0 and reason_span(lhave) and reason_span(lnew):
            hard += 1  # two reasons: "Wake reason: RTC (Alarm)"/"Wake reason: EC.LidOpen (User)"
            continue
        if i > 0 and unquoted_text(have) and unquoted_text(new) and same_key(have, new):
            hard += 1  # two errors after one key: "error=TLS detection timed out" / "error=..."
            continue
        if i > 0 and quoted_span(lhave) and quoted_span(lnew) and not kinds_differ(lhave, lnew):
            hard += 1  # two quoted values of several words: "Mozilla/5.0 (X11; ...)"
            continue
        if i > 0 and _labelled_process(cluster.words[i - 1], lhave, lnew):
            hard += 1  # "Sandbox: QQ(<*>) deny" / "Sandbox: WeChat(<*>) deny": a process and pid
            continue
        if i > 0 and angled(lhave, lnew, cluster.words[i - 1]):
            hard += 1  # "queue <gpu>" / "queue <normal>", "application [api]": a marked value
            continue
        if i == 1 and not bare and plain and paired(cluster.words[0], have, new):
            bare = True  # "[pool www] server reached" / "[pool api] ...": a tag's value
            hard += 1
            continue
        if i > 0 and "SIG" in have and signals(have, new):
            hard += 1  # "(SIGKILL)" / "(SIGBUS)": which signal, a value named by its form
            continue
        if i > 0 and ";" in lhave and record_fields(lhave, lnew):
            hard += 1  # "lb02;PING;OK;SOFT" / "web01;PING;CRITICAL;HARD": a record's fields
            continue
        if (
            i > 0
            and have[:2] != have[:2].lower()  # a capital opens it (quote aside)
            and dns_values(words[i - 1], words[i + 1] if i + 1 < n else "", have, new)
        ):
            hard += 1  # "A IN" / "AAAA IN", "NOERROR" / "NXDOMAIN": a query's type, its answer
            continue
        if i > 0 and "/IN" in have and dns_triple(have, new):
            hard += 1  # "'<*>/A/IN'" / "'<*>/NS/IN'": BIND's name/type/class, the type a value
            continue
        key = keyed(have, new) if i > 0 or _FIELD_FIRST.match(have) else ""
        if key == "=" and level == LITERAL and (i in cluster.pinned or settled(cluster, have, new)):
            return None  # "user=guest" after a burst of "user=root": another event
        if key and (
            plain
            or key != "="
            or (WILDCARD in have and WILDCARD in new)
            or unset(have, new)
            or field_value(words, i, have, new)  # "gggparent=<NA>"/"gggparent=systemd"
            or command_pair(have, new)  # "command=cat /etc/shadow" / "command=less <*>"
        ):
            # "user=app"/"user=bob", '"memory"'/'"disk"', "dst=null"/"dst=<*>": any number
            hard += 1
            continue
        if (
            not bare
            and i >= 1  # "Server web/web1 is DOWN": a pair names a thing, even as the subject
            and (
                (
                    n >= MIN_WORDS_FOR_WORD_VARIABLE
                    and NAME_PAIR.match(lhave)
                    and NAME_PAIR.match(lnew)
                )
                or (n >= 3 and NAMED_ID.match(lhave) and NAMED_ID.match(lnew))  # "Task a.b[<*>] ok"
            )
            and lhave.split("/")[0] != lnew.split("/")[0]
        ):
            bare = True  # "web/web1"/"api/api2": once, where a word variable may be
            hard += 1
            continue
        if i > 0 and mask_reach(lhave, lnew):
            hard += 1  # "[<*>@internal:<*>]" / "[<*>:<*>]": one value, masked whole or in part
            continue
        if not bare and i >= 1 and joined_names(lhave, lnew):
            bare = True  # "<*>: cmd/put.go:<*>:cmd.put()" / "<*>: pkg/log.go:<*>:log.If()"
            hard += 1
            continue
        if not bare and i >= 1 and n >= MIN_WORDS_FOR_SIBLINGS and compound_names(lhave, lnew):
            bare = True  # "performed 'crowdsecurity/ssh-bf'" / "'crowdsecurity/http-probing'"
            hard += 1
            continue
        if (
            not bare
            and i == 1
            and n >= MIN_WORDS_FOR_SIBLINGS
            and plain
            and named_by_kind(cluster.words[0], have, new)
        ):
            bare = True  # "Module glx: vendor=..." / "Module modesetting: ...": the module's name
            hard += 1
            continue
        if (
            not bare
            and i == n - 1
            and cluster.words[i - 1].endswith(":")
            and WILDCARD not in cluster.words[i - 1]
            and _SUBJECT.match(cluster.words[i - 1]) is None  # "static_gw: Starting": the event
            and plain
            and not look_alike(have, new)
            and not kinds_differ(have, new)
        ):
            bare = True  # "Handling signal: term" / "winch": a label's value ends the line
            hard += 1
            continue
        if (
            not bare
            and 1 <= i == n - 1
            and n < MIN_WORDS_FOR_WORD_VARIABLE
            and plain
            and short_names(have, new)
        ):
            bare = True  # "Activating controller_server" / "planner_server": what it acts on
            hard += 1
            continue
        if named is not None and (_core(have), _core(new)) == named:
            hard += 1  # "for alice ... name: alice]" / "for bob ... name: bob]": one value twice
            continue
        if (
            not bare
            and i < FIRST_WORD_VARIABLE_POSITION
            and has_bracket(have)  # (most pairs: one C call, no Python frame)
            and enclosed_name(have, new)
        ):
            bare = True  # "[pg-orders|task-0] Couldn't ..." / "[mysql-users|task-0] ...": whose
            hard += 1
            continue
        if (
            bare
            or i < FIRST_WORD_VARIABLE_POSITION
            or n < MIN_WORDS_FOR_WORD_VARIABLE
            or not plain
            or not (
                introduced(cluster.words[i - 1], have, new)
                or paired(cluster.words[i - 1], have, new)
                or listed(cluster.words[i - 1], have, new)
                or process_name(cluster.words[i - 2], cluster.words[i - 1], have, new)
                or _new_state(cluster.words, i)
                or status_text(cluster.words[i - 1], have, new)
                or _column(cluster.words, i)
            )
            or (look_alike(have, new) and not _column(cluster.words, i))
        ):
            return None
        bare = True
        named = _core(have), _core(new)
        hard += 1
    return hard, soft


def _core(word: str) -> str:
    """A word without the punctuation around it: ``alice]`` -> ``alice``."""
    return word.strip("()[]{}<>'\",;:.")


def _new_state(words: list[str], i: int) -> bool:
    """True when word ``i`` is the state something changed to (``changed state to down``,
    ``State changed to up``): the value of the change, as a word after ``user`` names who. A
    transition written with both ends (``from NEW to ALLOCATED``) names an event and is left
    alone, as the Loghub ground truth has it."""
    return (
        i >= 2
        and words[i - 1] == "to"
        and words[i - 2].lower() in ("state", "changed")
        and "from" not in words[:i]
    )


COLUMN_BAR = "|"


def _column(words: list[str], i: int) -> bool:
    """True when word ``i`` is a whole column of a bar-separated row (``Fan #<*> | Lower
    Critical going low | Asserted``): between two bars, or after the last one at the end of the
    line. The column names the value as a key does, so two words there are two values of it,
    even when they look alike (``Asserted``/``Deasserted``)."""
    return words[i - 1] == COLUMN_BAR and (i == len(words) - 1 or words[i + 1] == COLUMN_BAR)


_PROCESS_PID = re.compile(r"^[A-Za-z_][\w.\-]*\(<\*>\)[:,;]?$")


def _labelled_process(before: str, a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are two process names with their pid in parentheses right after
    a label (``Sandbox: QQ(<*>)`` / ``Sandbox: WeChat(<*>)``): a program names the process it
    acts on by its command name and pid, both values, as ``Killed process <*> (<*>)`` does.
    Not elsewhere: a word with a number in parentheses in the middle of a message is often a
    constant of the event (``deny(<*>)``, ``GC(<*>)``, ``modeset(<*>)``)."""
    return (
        before.endswith(":")
        and _PROCESS_PID.match(a) is not None
        and _PROCESS_PID.match(b) is not None
        and a.split("(")[0] != b.split("(")[0]
    )


MIN_SETTLED_LINES = 8
"""Copies of one message after which a key's word value in it is taken for a constant of the
event when another word shows up under that key (see :func:`settled`)."""

_WORD_VALUE = re.compile(r"^[\w.\-\[(\"']*=[A-Za-z][A-Za-z_\-]*[,;]?$")


def settled(cluster: Cluster, have: str, new: str) -> bool:
    """True when ``have``, a ``key=word`` of ``cluster``, is a constant of the event that
    ``new`` (another word under the same key) is not: ``cluster`` has seen at least
    :data:`MIN_SETTLED_LINES` lines and all of them were one message (one line shape) repeated.

    A key's value is evidence of a variable only once the message around it has varied: a
    program that repeats one line many times over (a retry burst, ``... rhost=<*>
    user=root`` for each attempt) and then prints it with another word under a key (``user=
    guest``) may be naming another event as well as another value, and the Loghub ground
    truth labels such a pair as two events. Once the message varied (other hosts, other
    numbers of another shape) with that word kept, a new word under the key is a value, as
    before (and as the same ground truth labels that case). The evidence is thin either way:
    this is the reading that agrees with both labellings, not a law of logs. A value that is
    masked or holds a digit is a variable whatever its count. The decision is kept: the
    position is pinned in both clusters (``Cluster.pinned``), so that a third word there
    starts a third event and is not taken for a value of either.
    """
    if cluster.varied or cluster.count < MIN_SETTLED_LINES:
        return False
    if _WORD_VALUE.match(have) is None or _WORD_VALUE.match(new) is None:
        return False
    return have.partition("=")[0] == new.partition("=")[0]


def pin_place(cluster: Cluster, words: list[str]) -> int:
    """The position at which ``words`` differ from ``cluster`` in one pinned or settled
    ``key=word`` value and elsewhere in weak values only (``host1``/``host2``, which
    :func:`_cost` would take), or -1: every line refused for its settled key alone counts
    towards the bound on the events told apart there. A widened word is compared loosened on
    both sides, as :func:`_cost` compares it: its key may keep a digit that loosening masks in
    the new word (``a0="<*>"`` against ``a0="ls"`` -> ``<*>="ls"``)."""
    place = -1
    for i, (have, level, new) in enumerate(zip(cluster.words, cluster.levels, words, strict=True)):
        if have == new or level == ANY or (level == LOOSE and covers(loose(have), loose(new))):
            continue
        if level == LITERAL and loose(have) == loose(new):
            continue  # a weak value (digits aside, the same word): no other event for it
        if place >= 0 or level != LITERAL or keyed(have, new) != "=":
            return -1
        if i not in cluster.pinned and not settled(cluster, have, new):
            return -1
        place = i
    return place


MIN_WORDS_FOR_SIBLINGS = 3
"""Three words are enough for that: a pair may merge only with four (a word variable of a
two-word pair is as likely a second event), but three distinct words in one slot of a
three-word message (``Starting provider *file.Provider`` / ``*docker.Provider`` /
``*acme.Challenge``) are values by the same reasoning as in a longer one."""


_NAME = re.compile(r"[\w$*]+(?:(?:[./\-]|\\{1,2})[\w$*]+)*")
"""A name: word characters joined by dots, slashes, backslashes or dashes (``cmd/erasure.go``,
``OCA\\Files\\ScanFiles``, ``com.example.maps``)."""


_JOINED = re.compile(r"[A-Za-z0-9][.\\#@:][A-Za-z0-9*(<]")
"""A join inside a name: a dot, backslash, ``#``, ``@`` or colon between two of its parts
(``view.go``, ``app@<*>``, ``tok:<*>``, ``Orders#show``). Not a slash alone: it also joins two
constants of an event (``link up/down``, ``read/write``)."""


def joined_names(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ in a part of a joined name (:data:`_JOINED` within or
    at the edge of the part that differs), have one :func:`skeleton` and do not look alike: two
    names of one kind (a file and function, a class and method, a user at a database, a cache
    key), a value wherever it stands in the message, even as its second word or in a message
    of two words. Prose words, and the states or verbs that tell events apart, are not written
    with such joins; two names that look alike (``...action.SCREEN_ON`` / ``SCREEN_OFF``) or
    whose key names a kind (``class=a.b`` / ``class=a.c``) still tell events apart."""
    if _JOINED.search(a) is None or _JOINED.search(b) is None:
        return False  # the common case, one regex scan each: no join at all
    head = _common_length(a, b)
    tail = _common_length(a[head:][::-1], b[head:][::-1])
    start = max(0, head - 2)  # the differing part with the joins around it
    return (
        _JOINED.search(a, start, len(a) - tail + 2) is not None
        and _JOINED.search(b, start, len(b) - tail + 2) is not None
        and skeleton(a) == skeleton(b)
        and not look_alike(a, b)
        and not kinds_differ(a, b)
    )


def skeleton(word: str) -> str:
    """``word`` with each name (:data:`_NAME`) written ``n`` and masks kept: its punctuation
    around names (``repo/view.go:<*>(repo.Home)`` -> ``n:<*>(n)``): two names of one kind have
    one skeleton, however many parts each has (:func:`joined_names`)."""
    return _NAME.sub("n", word.replace(WILDCARD, "\0")).replace("\0", WILDCARD)


def _common_length(a: str, b: str) -> int:
    n, limit = 0, min(len(a), len(b))
    while n < limit and a[n] == b[n]:
        n += 1
    return n

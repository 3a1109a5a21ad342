"""Texts of several words that are one value: a key's quoted text, a reason, a command.

Called by :mod:`vigil.logs._miner` (:func:`split_words`, for every line it masks word by
word), by :mod:`vigil.logs._tokens` (:func:`other_text` and ``reason_span`` from
``generalise``) and, on the miner's slow path, by :mod:`vigil.logs._cluster` (``reason_span``,
``quoted_span``) and :mod:`vigil.logs._slots` (``inside_one_text``). Pure string functions, no
state.

A program that prints a text it got from elsewhere (the OS, a library, a peer: an error, a
reason, a query, a user agent) inside its own frame prints as many words as that text has;
the miner compares lines word by word and buckets them by word count, so each text would make
a template of its own. Where the frame says where the text starts and ends, the text is joined
into one word (its spaces kept as :data:`SPACE`) and compared as one value:

- a key's double-quoted value after the message's first word, in logfmt (``error="failed to
  query data: EOF"``, ``ua="Mozilla/5.0 (X11; Linux)"``, go-kit, logrus, Loki, PowerDNS), in a
  bracketed field (``[sql="ALTER TABLE ..."]``: TiDB, TiKV and PD's unified log format) and as a
  JSON object's member (``"error":"Workflow task not found."``: zap, logrus and bunyan JSON,
  Temporal, Mattermost, Nextcloud), except the message's own key (``"msg"``, ``"message"``,
  ``"event"``, ``"log"``, in any case), whose text is the event's words;
- a reason clause (``Wake reason: RTC (Alarm)``, ``(reason: Adding new member x)``) and cron's
  command in parentheses after ``CMD``;
- an error's text after its key with no quotes, up to the next ``key=`` word (Rust
  ``tracing``'s ``error=TLS detection timed out client.addr=...``, :mod:`vigil.logs._unquoted`).

Two such texts of as many words that differ in most of them are two texts, not one text with
values in it: the pattern is one ``<*>`` for the whole text (:func:`other_text`), after a
label inside it that both share. Unquoted texts after a colon are not joined: the Loghub-2.0
ground truth keeps them as the event's words (BGL's ``ciod: Error loading <*>: invalid or
missing program image, Exec format error`` / ``..., Permission denied``, OpenSSH's ``Received
disconnect from <*>: <*>: Bye Bye [preauth]``)."""

from __future__ import annotations

import re
from functools import lru_cache

from vigil.logs._jsonname import named_head
from vigil.logs._literals import join_literals, may_hold
from vigil.logs._marks import SPACE as SPACE  # re-exported
from vigil.logs._marks import WILDCARD
from vigil.logs._shape import SHAPE
from vigil.logs._structured import join_structured
from vigil.logs._structured import may_hold as may_hold_structure
from vigil.logs._unquoted import differing_head, join_unquoted

_QUOTED = re.compile(r'(?<=[\s,\[])[\w.\-]+="(?:[^"\\]|\\.)*"')
"""A key's double-quoted value, logfmt's ``key="a b"`` (or a bracketed field's, ``[k="a b"]``)."""
_MESSAGE_KEYS = frozenset(("msg", "message", "event", "log"))
"""A JSON line's keys of the message's own member, matched case-blind (journald's ``MESSAGE``)."""
_MESSAGE_KEY = "(?i:" + "|".join(sorted(_MESSAGE_KEYS)) + ")"
_MEMBER = re.compile(r'[,{]("(?!' + _MESSAGE_KEY + r'")[\w.\-]+":"[^"\\]*(?:\\.[^"\\]*)*")')
"""A JSON object's member with a string value, ``"key":"a b"``; not the message's own key
(``"msg"``, ``"message"``, ``"event"``, journald's ``"MESSAGE"``, Docker's ``"log"``), whose
text is the event's words."""
_SPAN_WORD = re.compile(r'^\[?[\w.\-]+="[^"]*\ue000.*"[,;:.)\]}]*$')


def split_words(content: str) -> list[str]:
    """:func:`_split_words`; a message opening with a JSON member's key and a name-shaped
    value has the two as its first word (:func:`vigil.logs._jsonname.named_head`)."""
    words = _split_words(content)
    return named_head(words) if content.startswith(('"', '{"')) else words


def _split_words(content: str) -> list[str]:
    """``content.split()``, except that a key's double-quoted value of several words after the
    first word is one word (its spaces kept as :data:`SPACE`): ``error="failed to query data:
    EOF"``, ``ua="Mozilla/5.0 (X11; Linux)"``. A key's quoted value is one value however many
    words it holds; the first word (``msg="shim disconnected"``) names the event and stays as
    it is, and so do quoted strings with no key (a request line, ``"GET /a HTTP/1.1"``, whose
    method tells events apart)."""
    if SPACE in content:
        return content.split()
    keyed = '="' in content
    if not keyed and '":"' not in content:
        words = content.split()
        return _clauses(words, content)
    first = content.lstrip()
    start = len(content) - len(first)
    gap = min((first.find(c) for c in " \t" if c in first), default=-1)
    if gap < 0:
        return content.split()
    start += gap
    field = _first_gap_member(content, start) if '":"' in content else None
    if not keyed and field is None and not _spaced_member(content, start):
        words = content.split()
        return _clauses(words, content)
    spans = [m.span() for m in _QUOTED.finditer(content) if m.start() >= start] if keyed else []
    if field is not None:
        spans.append(field)
    if not keyed or ('":"' in content and _spaced_member(content, start)):
        members = [span for span in _members(content.translate(SHAPE)) if span[0] >= start]
        spans = sorted([*spans, *members])
    elif field is not None:
        spans.sort()
    pieces, pos = [], 0
    for begin, end in spans:
        text = content[begin:end]
        if begin >= pos and (" " in text or "\t" in text):
            pieces.append(content[pos:begin])
            pieces.append(text.replace(" ", SPACE).replace("\t", SPACE))
            pos = end
    if not pieces:
        words = content.split()
    else:
        pieces.append(content[pos:])
        words = "".join(pieces).split()
    return _clauses(words, content)


@lru_cache(maxsize=4096)
def _members(shape: str) -> tuple[tuple[int, int], ...]:
    """Where :data:`_MEMBER` finds a JSON member's string value in a line of this shape (its
    digits made ``0``, :mod:`vigil.logs._shape`): the scan reads quotes, spaces and names, never
    which digit a character is, so every line of one shape has its members where the first had
    them, and a repeated shape costs a dict lookup instead of the scan (about 3 microseconds a
    JSON line)."""
    return tuple(m.span(1) for m in _MEMBER.finditer(shape))


_MESSAGE_MEMBER = re.compile(r'(?:^|[,{])"' + _MESSAGE_KEY + r'":"')
"""The message's own member in a JSON object (:data:`_MEMBER`'s exception)."""


def _first_gap_member(content: str, gap: int) -> tuple[int, int] | None:
    """The span of a JSON member's string value that holds the line's first gap, in a compact
    JSON line (no space between members) whose message member (``"event"``, ``"msg"``, ...)
    is elsewhere in the line, so it is not the text the gap is in: structlog's JSON (authentik's
    ``{"event":"/api/v3/flows/","user_agent":"Mozilla/5.0 (X11; Linux x86_64)"}``), zap,
    logrus, pino and bunyan JSON with a one-word message (``"msg":"request"``) and a user
    agent, an error or a query after it. The message is the event's words, so the first gap
    is not where the event's name ends but inside a field's text, which is one value however
    many words it has. None otherwise (no JSON member there, the message's own member, no
    message member in the line)."""
    opening = content.rfind('"', 0, gap)
    if opening < 2 or content[opening - 2 : opening] != '":':  # not inside a member's value
        return None
    key = content.rfind('"', 0, opening - 2)
    if content[key + 1 : opening - 2].lower() in _MESSAGE_KEYS:
        return None
    if content[:gap].count('"') % 2 == 0 or _MESSAGE_MEMBER.search(content) is None:
        return None
    for begin, end in _members(content.translate(SHAPE)):
        if begin < gap < end:
            return begin, end
        if begin > gap:
            break
    return None


def _spaced_member(content: str, start: int) -> bool:
    """True when a JSON member's value after the first word may hold a space: a space or tab
    after the first quote that follows the first word's gap
    (``start``; the message's own text, which holds the gap, ends there). A cheap test that
    spares most JSON lines, whose only text of several words is the message, the scan of
    :data:`_QUOTED`."""
    after = content.find('"', start)
    return after >= 0 and (content.find(" ", after) >= 0 or content.find("\t", after) >= 0)


_REASON = re.compile(r"^[(\[{]?[Rr]eason:$")
_QUOTE = re.compile(r'(?<!\\)"')
"""A double quote that is not escaped: it opens or closes a quoted value (``msg="..."``)."""
_REASON_WORD = re.compile(r"^(?:[(\[{]?[Rr]eason:|CMD)\ue000")
MAX_REASON_WORDS = 12


_TEXT_KEY_ENDS = ("rr=", "ror=", "md=", "nd=", "ine=", "MD=", "ND=", "INE=")
"""How the keys of :func:`vigil.logs._unquoted.join_unquoted` end (``err=``, ``error=``,
``cmd=``, ``command=``, ``cmdline=``, sudo's ``COMMAND=``): a cheap test before the join."""


def _clauses(words: list[str], content: str) -> list[str]:
    """``words`` with a reason or command clause (:func:`_join_reason`), an error's unquoted
    text after its key (:func:`vigil.logs._unquoted.join_unquoted`) and a container printed as
    a value (:func:`vigil.logs._literals.join_literals`) joined, and a structure printed as one
    value masked (:func:`vigil.logs._structured.join_structured`: a Go map, a JSON array of
    objects, ``K=V;K=V`` arguments), each looked for only when the line holds its label."""
    if "eason:" in content or "CMD (" in content:
        words = _join_reason(words)
    if "=" in content and any(hint in content for hint in _TEXT_KEY_ENDS):
        words = join_unquoted(words)
    if may_hold(content):
        words = join_literals(words, content)
    if may_hold_structure(content):
        words = join_structured(words, content)
    return words


def _join_reason(words: list[str]) -> list[str]:
    """``words`` with a free-text clause joined into one word (its spaces kept as
    :data:`SPACE`): a reason (``Wake reason: RTC (Alarm)``, ``(reason: Adding new member x with
    id None)``) or a command line in parentheses after ``CMD`` (cron's ``(root) CMD (run-parts
    /etc/cron.hourly)``). A program fills these with free text (an error, a trigger, a command
    and its arguments): one value however many words it has. A reason runs to the end of the
    line, to the bracket closing the one it opened in, to a comma (``reason: Layer4 check
    passed, check duration: 5ms``) or, inside a quoted message, to the quote closing it
    (logfmt's ``msg="... reason: 'Attached' Volume v has been attached to w" func=...``:
    client-go's event recorder as Longhorn, Rancher and every logrus program print it); a
    command to its closing parenthesis. An empty reason
    (``reason: message:``) and a clause longer than :data:`MAX_REASON_WORDS` words are left as
    they are."""
    for i, word in enumerate(words[:-1]):
        if word == "CMD" and words[i + 1][:1] == "(":
            depth, first = 0, i + 1  # the command's own parenthesis opens in the next word
        elif _REASON.match(word) and not words[i + 1].endswith(":"):
            depth, first = 0, i + 1
        else:
            continue
        end = len(words)
        quoted = '"' in word or any('"' in w for w in words[:i])
        quoted = quoted and sum(len(_QUOTE.findall(w)) for w in words[: i + 1]) % 2 == 1
        for j in range(first, len(words)):
            w = words[j]
            depth += sum(map(w.count, "([{")) - sum(map(w.count, ")]}"))
            closed = depth <= 0 if word == "CMD" else depth < 0
            if closed or (depth == 0 and w.endswith(",")):
                end = j + 1
                break
            if quoted and '"' in w and _QUOTE.search(w) is not None:
                end = j + 1  # the quote closing the message the reason is in ends it too
                break
        if end - i - 1 > MAX_REASON_WORDS:
            return words
        return [*words[:i], SPACE.join(words[i:end]), *words[end:]]
    return words


def reason_span(word: str) -> bool:
    """True for a word :func:`split_words` joined from a reason or command clause."""
    return _REASON_WORD.match(word) is not None


def quoted_span(word: str) -> bool:
    """True for a word :func:`split_words` joined from a quoted value of several words."""
    return SPACE in word and _SPAN_WORD.match(word) is not None


def other_text(a: str, b: str) -> str | None:
    """The pattern for two words that differ only inside one double-quoted text of several
    words (:func:`split_words` joined it), as many words in both, in most of its words:
    another error or reason, not one value inside the same text. The text is one ``<*>`` after
    the words it opens with up to its last label (a word ending in ``:``) that both share:
    ``"error":"Workflow task not found."`` / ``"Workflow execution already completed"`` ->
    ``"error":"<*>"``. None otherwise, and the text is widened as before: word by word when at
    most half of its words differ (``"<*> is unreachable"``, ``"<*> <*> from hub"``), its
    shared words kept around one ``<*>`` when the counts differ (``error="failed to query
    data: <*>"``)."""
    prefix = common_prefix(a, b)
    opening = prefix.rfind('"') + 1
    if not opening:
        return None
    ends = a.find('"', len(prefix)), b.find('"', len(prefix))
    if min(ends) < 0 or a[ends[0] :] != b[ends[1] :]:
        return None
    ta, tb = a[opening : ends[0]].split(SPACE), b[opening : ends[1]].split(SPACE)
    head = differing_head(ta, tb)
    if head is None:
        return None
    kept = SPACE.join(ta[:head]) + SPACE if head else ""
    return a[:opening] + kept + WILDCARD + a[ends[0] :]


def common_prefix(a: str, b: str) -> str:
    """The longest start ``a`` and ``b`` share; used here and by :mod:`vigil.logs._compare`,
    :mod:`vigil.logs._slots` and :mod:`vigil.logs._siblings` (one definition: this module
    imports no other of the miner's comparisons)."""
    n, limit = 0, min(len(a), len(b))
    while n < limit and a[n] == b[n]:
        n += 1
    return a[:n]


def inside_one_text(a: str, b: str, prefix: str) -> bool:
    """True when ``a`` and ``b`` (sharing ``prefix``) differ only inside one double-quoted
    text of several words that :func:`split_words` joined into them (a key's value,
    ``error="..."``, ``"error":"..."``): the words before its opening quote and after its
    closing quote are the same, so the difference is the text's, however many of its words
    differ (``"websocket: close 1001 (going away)"`` / ``"websocket: close 1006 (abnormal
    closure): unexpected EOF"``)."""
    opening = prefix.rfind('"') + 1
    if not opening or SPACE not in prefix[opening:]:
        return False
    ends = a.find('"', len(prefix)), b.find('"', len(prefix))
    return min(ends) >= 0 and a[ends[0] :] == b[ends[1] :]

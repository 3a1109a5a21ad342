"""The plain-head check (``_http_plain``) against llhttp: every head it takes, llhttp takes whole
with the same method, target and headers as one HTTP/1.1 keep-alive request without a body;
every kind of read it must leave to the parser, it leaves (-1).
"""

from __future__ import annotations

import random

import pytest
from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser

from vigil.balancer._http_plain import MAX_LINES, method_of, plain_request

from ._mutants import mutant

LIMIT = 32 * 1024


class Seen:
    """What llhttp reports of the requests in one read."""

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.begun = 0
        self.complete = 0
        self.body = b""

    def on_message_begin(self) -> None:
        self.begun += 1

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete += 1


def _llhttp(data: bytes) -> tuple[Seen, HttpRequestParser] | None:
    """What llhttp makes of ``data`` (None: an error or an upgrade)."""
    seen = Seen()
    parser = HttpRequestParser(seen)
    try:
        parser.feed_data(data)
    except (HttpParserError, HttpParserUpgrade):
        return None
    return seen, parser


def _assert_llhttp_agrees(data: bytes) -> None:
    end = plain_request(data, LIMIT)
    assert end > 0
    judged = _llhttp(data)
    assert judged is not None, f"llhttp rejects a head the plain path takes: {data!r}"
    seen, parser = judged
    method = method_of(data)
    assert seen.begun == 1 and seen.complete == 1 and seen.body == b""
    assert parser.get_method() == method
    assert seen.url == data[len(method) + 1 : end]
    assert parser.get_http_version() == "1.1" and parser.should_keep_alive()
    lines = data[:-4].split(b"\r\n")[1:]
    assert [(n, v.strip(b" \t")) for n, _, v in (line.partition(b":") for line in lines)] == [
        (n, v.strip(b" \t")) for n, v in seen.headers
    ]


TAKEN = [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n\r\n",
    b"GET / HTTP/1.1\r\nhost:\r\n\r\n",
    b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"DELETE /v1/items/7 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer abc.def\r\n\r\n",
    b"OPTIONS /a/b?c=d&e=%20f HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /a:b@c;d=(e)*+,!$'~._- HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nA:b\r\nC:  d  \r\nE:\r\nF: \t g\t\r\nHOST:a\r\n\r\n",
    b'GET / HTTP/1.1\r\nHost: a\r\nx!#$%&\'*+-.^_`|~98: v\r\nAccept: */*; q=0.9, "x"\r\n\r\n',
    b"GET / HTTP/1.1\r\nHost: a\r\n"
    + b"".join(b"H%d: v\r\n" % i for i in range(MAX_LINES - 1))
    + b"\r\n",
    # a target llhttp passes on as it is (%00, dot segments: the upstream's to judge)
    b"GET /%00/../a/./b//c HTTP/1.1\r\nHost: a\r\n\r\n",
    # names a letter longer or shorter than llhttp's special ones: plain headers to llhttp too
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Lengthx: 5\r\nConnectionx: close\r\nUpgradex: h2c\r\n"
    b"Transfer-Encodingx: chunked\r\nProxy-Connectionx: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nContent-Lengt: 5\r\nConnectio: close\r\nUpgrad: h2c\r\n"
    b"Transfer-Encodin: chunked\r\n\r\n",
]


@pytest.mark.parametrize("data", TAKEN)
def test_a_plain_head_is_taken_and_llhttp_reads_it_the_same(data: bytes) -> None:
    _assert_llhttp_agrees(data)


LEFT = {
    "empty lines before": b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "a second request": b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    "empty lines after": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n",
    "bytes after": b"GET / HTTP/1.1\r\nHost: a\r\n\r\nx",
    "no end": b"GET / HTTP/1.1\r\nHost: a\r\n",
    "HTTP/1.0": b"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
    "HTTP/2.0": b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "two SPs": b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    "two SPs after": b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST": b"POST / HTTP/1.1\r\nHost: a\r\n\r\n",
    "PATCH": b"PATCH / HTTP/1.1\r\nHost: a\r\n\r\n",
    "lower-case method": b"get / HTTP/1.1\r\nHost: a\r\n\r\n",
    "absolute form": b"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "asterisk": b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "fragment": b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
    "quote in target": b'GET /a"b HTTP/1.1\r\nHost: a\r\n\r\n',
    "obs-text in target": b"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
    "Content-Length": b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    "content-length": b"GET / HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
    "Transfer-Encoding": b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "Transfer-Encoding alone": b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "Connection": b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    "Upgrade": b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
    "Expect": b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
    "X-Request-Id": b"GET / HTTP/1.1\r\nX-Request-Id: abc\r\n\r\n",
    "X-Forwarded-For": b"GET / HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    "Proxy-Connection": b"GET / HTTP/1.1\r\nProxy-Connection: close\r\n\r\n",
    "TE": b"GET / HTTP/1.1\r\nTE: trailers\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
    "SP before colon": b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    "no colon": b"GET / HTTP/1.1\r\nHost\r\n\r\n",
    "empty name": b"GET / HTTP/1.1\r\n: a\r\n\r\n",
    "bare LF ending a line": b"GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n",
    "bare LF request line": b"GET / HTTP/1.1\nA: b\r\n\r\n",
    "bare CR in a value": b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
    "NUL in a value": b"GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n",
    "DEL in a value": b"GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n",
    "obs-text in a value": b"GET / HTTP/1.1\r\nA: caf\xc3\xa9\r\n\r\n",
    "no Host line": b"GET / HTTP/1.1\r\nUser-Agent: a\r\n\r\n",
    "no header line": b"GET / HTTP/1.1\r\n\r\n",
    "two Host lines": b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
    "too many lines": b"GET / HTTP/1.1\r\nHost: a\r\n"
    + b"".join(b"H%d: v\r\n" % i for i in range(MAX_LINES + 1))
    + b"\r\n",
}


@pytest.mark.parametrize("data", list(LEFT.values()), ids=list(LEFT))
def test_anything_else_is_left_to_the_parser(data: bytes) -> None:
    assert plain_request(data, LIMIT) == -1


def test_a_head_over_the_limit_is_left_to_the_parser() -> None:
    data = b"GET / HTTP/1.1\r\nHost: " + b"b" * 100 + b"\r\n\r\n"
    assert plain_request(data, len(data)) > 0
    assert plain_request(data, len(data) - 1) == -1


# bytes a mutation puts in: separators, line ends, controls, obs-text, a colon, letters
_MUTANTS = b' \t\r\n:\x00\x01\x7f\x80\xff#"/?%aZ0-'


def test_no_mutation_of_a_head_is_taken_that_llhttp_reads_otherwise() -> None:
    """Single-byte replacements, insertions and deletions of plain heads: whatever the check
    takes, llhttp reads as the same one request (the rest it may take or refuse)."""
    rng = random.Random(3)
    seeds = TAKEN[:8]
    taken = 0
    for _ in range(20000):
        head = mutant(rng, seeds, _MUTANTS)
        if plain_request(head, LIMIT) > 0:
            taken += 1
            _assert_llhttp_agrees(head)
    assert taken > 1000  # the mutations reach the check's accepting paths, not only -1

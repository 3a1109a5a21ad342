"""Whole plain responses (``_http_whole``) against llhttp and the parser's path: every read the
check takes, llhttp reads whole as one response with the same status, body and keep-alive, and
the client gets the same bytes as from ``_http_raw.response_head`` (the parser's path) and the
body; every kind of read it must leave to the parser, it leaves (``end`` -1). A chunked read
taken (a stream's head and whole chunks, maybe its end): llhttp reads the same status, chunks
and keep-alive (the body completed by the last chunk when the read does not end it), and the
head the parser is fed in its place when it must take over frames and keeps alive the same.
"""

from __future__ import annotations

import itertools
import random

import pytest
from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from vigil.balancer._http_raw import response_head
from vigil.balancer._http_whole import (
    CHUNKS,
    CHUNKS_END,
    LENGTH,
    MAX_LINES,
    whole_answer,
    whole_response,
)
from vigil.balancer._proxy_upstream import _CHUNKED_HEAD, _CHUNKED_HEAD_CLOSE

from ._mutants import mutant

NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 09:00:00 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
)
SETTINGS = [
    {"client_keep_alive": keep, "client_http10": http10}
    for keep, http10 in itertools.product((True, False), repeat=2)
]


class Seen:
    """What llhttp reports of the responses in one read."""

    def __init__(self) -> None:
        self.parser: HttpResponseParser | None = None
        self.begun = 0
        self.heads = 0
        self.complete = 0
        self.body = b""
        self.keep_alive = False

    def on_message_begin(self) -> None:
        self.begun += 1

    def on_headers_complete(self) -> None:
        self.heads += 1

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete += 1
        assert self.parser is not None
        self.keep_alive = self.parser.should_keep_alive()  # as the proxy asks it: here


def _llhttp(data: bytes) -> tuple[int, bytes, bool] | None:
    """(status, body, keep-alive) when llhttp reads ``data`` as exactly one whole response and
    nothing else; None otherwise."""
    seen = Seen()
    parser = seen.parser = HttpResponseParser(seen)
    try:
        parser.feed_data(data)
    except (HttpParserError, HttpParserUpgrade):
        return None
    if (seen.begun, seen.heads, seen.complete) != (1, 1, 1):
        return None
    return parser.get_status_code(), seen.body, seen.keep_alive


def _lines(answer: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """The status line, the header lines in any order (names in any case), and the body."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    pairs = [line.partition(b":")[::2] for line in lines[1:]]
    return lines[0], sorted((name.lower(), value.strip(b" \t")) for name, value in pairs), body


def _check_taken(data: bytes, exact: bool = True) -> None:
    """``data`` is taken: llhttp agrees, and the client gets what the parser's path gives it:
    the same bytes (``exact``), or, where response_head takes its full rewrite (a colon in a
    value where a special name's would be), the same lines in another order."""
    end, status, cut, cut_end, has_id, close, size, framing = whole_response(data)
    assert end > 0, data
    if framing == LENGTH:
        assert _llhttp(data) == (status, data[end:], not close), data
        assert size == len(data) - end
    else:  # the stream ended by the last chunk where the read does not end it
        whole = data if framing == CHUNKS_END else data + b"0\r\n\r\n"
        got_status, got_body, keep_alive = _llhttp(whole) or (0, b"", False)
        assert (got_status, keep_alive) == (status, not close), data
        assert len(got_body) == size, data
        # the parser's stand-in head: the same framing and keep-alive from the body on
        stand_in = _CHUNKED_HEAD_CLOSE if close else _CHUNKED_HEAD
        assert _llhttp(stand_in + whole[end:]) == (200, got_body, not close), data
    for kw in SETTINGS:
        if framing != LENGTH and kw["client_http10"]:
            continue  # a chunked body for an HTTP/1.0 client: the parser's way (the exchange)
        meta, keep = response_head(status, data[:end], no_body=False, request_id=b"rid", **kw)
        assert meta.chunked_out == meta.chunks_as_is == (framing != LENGTH), (data, kw)
        assert not meta.close_delimited and meta.retry_after is None and meta.decoder is None
        assert keep == kw["client_keep_alive"]
        got = whole_answer(data, end, cut, cut_end, has_id, keep, kw["client_http10"], b"rid")
        if exact:
            assert got == meta.head + data[end:], (data, kw)
        else:
            assert _lines(got) == _lines(meta.head + data[end:]), (data, kw)


TAKEN = [
    NGINX,
    NGINX.replace(b"keep-alive", b"close"),
    NGINX.replace(b"Connection: keep-alive", b"connection: Keep-Alive"),
    NGINX.replace(b"Connection: keep-alive", b"Connection: Close"),
    NGINX.replace(b"Connection: keep-alive\r\n", b""),  # no Connection line
    NGINX.replace(b"Connection: keep-alive", b"X-Request-Id: up-1"),
    NGINX.replace(b"Connection: keep-alive", b"x-request-id: up-1"),
    NGINX.replace(b"Connection: keep-alive", b"X-Request-ID: up-1"),
    NGINX.replace(b"Content-Length: 2", b"content-length: 2"),
    NGINX.replace(b"Content-Length: 2", b"Content-Length:2"),
    NGINX.replace(b"Content-Length: 2", b"Content-Length:    002"),
    NGINX.replace(b"200 OK", b"404 Not Found"),
    NGINX.replace(b"200 OK", b"503 Service Unavailable"),  # no Retry-After: taken
    NGINX.replace(b"200 OK", b"200 "),  # an empty reason after its SP
    NGINX.replace(b"200 OK", b"299 a\tb ~"),
    NGINX.replace(b"Server: nginx/1.22.1", b"X-Empty:"),
    NGINX.replace(b"Server: nginx/1.22.1", b"X-Tab:\tv\t"),
    NGINX.replace(b"Server: nginx/1.22.1", b"Content-Type-Options: nosniff"),  # c, 20
    NGINX.replace(b"Server: nginx/1.22.1", b"Content-Language: x"),  # c, 16
    NGINX.replace(b"Content-Type", b"Content-Range"),  # c, 13
    NGINX.replace(b"Server: nginx/1.22.1", b"Proxy: x"),  # p, no dash at 5
    NGINX.replace(b"Server: nginx/1.22.1", b"Referrer-Policy: x"),  # r, not 11
    NGINX.replace(b"Server: nginx/1.22.1", b"X-Forwarded-For: x"),  # x, not 12
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
    # the upstream's own id and a Connection line with lines after it (both cut pieces kept)
    b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nX-Request-Id: up-3\r\nContent-Length: 2"
    b"\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nX-Request-Id: up-4\r\nConnection: close\r\nServer: s\r\n"
    b"Content-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\r\n\r\n",  # a body that looks like lines
    b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\nHTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"H%d: v\r\n" % i for i in range(MAX_LINES - 1))
    + b"Content-Length: 1\r\n\r\nx",
]


@pytest.mark.parametrize("data", TAKEN, ids=range(len(TAKEN)))
def test_a_whole_plain_response_is_taken_as_llhttp_and_the_parsers_path_read_it(
    data: bytes,
) -> None:
    _check_taken(data)


STREAM = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
EVENT = b'21\r\ndata: {"token": 1, "text": "a"}\n\n\r\n'
CHUNKED_TAKEN = [
    STREAM,  # the head alone: no chunk yet
    STREAM + EVENT,
    STREAM + EVENT + EVENT,
    STREAM + EVENT + b"0\r\n\r\n",
    STREAM + b"0\r\n\r\n",  # an empty body
    STREAM.replace(b"Transfer-Encoding", b"transfer-encoding") + EVENT,
    STREAM.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + EVENT,
    STREAM.replace(b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n") + EVENT,
    STREAM.replace(b"Cache-Control", b"Connection: close\r\nX-Request-Id: up-5\r\nCache-Control"),
    STREAM.replace(b"200 OK", b"500 Internal Server Error") + b"5\r\noops!\r\n0\r\n\r\n",
    STREAM + b"fff\r\n" + b"x" * 0xFFF + b"\r\n" + b"1\r\n\n\r\n",
]


@pytest.mark.parametrize("data", CHUNKED_TAKEN, ids=range(len(CHUNKED_TAKEN)))
def test_a_chunked_head_with_whole_chunks_is_taken_as_llhttp_and_the_parsers_path_read_it(
    data: bytes,
) -> None:
    _check_taken(data)
    framing = whole_response(data)[-1]
    assert framing == (CHUNKS_END if data.endswith(b"0\r\n\r\n") else CHUNKS)


def test_the_nginx_answer_is_taken_with_its_connection_line_cut() -> None:
    end, status, cut, cut_end, has_id, close, size, framing = whole_response(NGINX)
    assert (end, status, has_id, close, size, framing) == (len(NGINX) - 2, 200, False, False, 2, 0)
    assert NGINX[cut:cut_end] == b"\r\nConnection: keep-alive"
    got = whole_answer(NGINX, end, cut, cut_end, has_id, True, False, b"rid")
    assert got == (
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 09:00:00 GMT\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 2\r\nX-Request-Id: rid\r\n\r\nok"
    )


LEFT = {
    "empty": b"",
    "http/1.0": NGINX.replace(b"HTTP/1.1", b"HTTP/1.0"),
    "http/2.0": NGINX.replace(b"HTTP/1.1", b"HTTP/2.0"),
    "lower-case version": NGINX.replace(b"HTTP/1.1", b"http/1.1"),
    "empty line before": b"\r\n" + NGINX,
    "100": b"HTTP/1.1 100 Continue\r\n\r\n" + NGINX,
    "103": NGINX.replace(b"200 OK", b"103 Early Hints"),
    "101": NGINX.replace(b"200 OK", b"101 Switching Protocols"),
    "204": NGINX.replace(b"200 OK", b"204 No Content")[:-2],
    "204 with its length's bytes": NGINX.replace(b"200 OK", b"204 No Content"),
    "304": NGINX.replace(b"200 OK", b"304 Not Modified"),
    "600": NGINX.replace(b"200 OK", b"600 Odd"),
    "199": NGINX.replace(b"200 OK", b"199 Odd"),
    "two digits": NGINX.replace(b"200 OK", b"20 OK"),
    "four digits": NGINX.replace(b"200 OK", b"2000 OK"),
    "no SP after the status": NGINX.replace(b"200 OK", b"200"),
    "two SPs before the status": NGINX.replace(b"200 OK", b" 200 OK"),
    "obs-text in the reason": NGINX.replace(b"200 OK", b"200 \xe9"),
    "CTL in the reason": NGINX.replace(b"200 OK", b"200 O\x01K"),
    "no Content-Length": NGINX.replace(b"Content-Length: 2\r\n", b""),
    "two Content-Length": NGINX.replace(b"Server: nginx/1.22.1", b"Content-Length: 2"),
    "Content-Length and chunked": NGINX.replace(
        b"Server: nginx/1.22.1", b"Transfer-Encoding: chunked"
    ),
    "chunked, a chunk cut": STREAM + EVENT[:-1],
    "chunked, a size line cut": STREAM + b"2",
    "chunked, upper-case size": STREAM + b"A\r\n0123456789\r\n",
    "chunked, a leading zero": STREAM + b"02\r\nok\r\n",
    "chunked, an extension": STREAM + b"2;x=1\r\nok\r\n",
    "chunked, a trailer": STREAM + b"2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n",
    "chunked, the last chunk cut": STREAM + b"0\r\n\r",
    "chunked, bytes after the end": STREAM + b"0\r\n\r\nHTTP/1.1 200 OK\r\n",
    "chunked, junk after a chunk": STREAM + b"2\r\nokxx",
    "chunked, a bare LF in a size line": STREAM + b"2\nok\r\n",
    "Transfer-Encoding: Chunked": STREAM.replace(b"chunked", b"Chunked") + EVENT,
    "Transfer-Encoding: gzip, chunked": STREAM.replace(b"chunked", b"gzip, chunked") + EVENT,
    "Transfer-Encoding:chunked": STREAM.replace(b": chunked", b":chunked") + EVENT,
    "TRANSFER-ENCODING": STREAM.replace(b"Transfer-Encoding", b"TRANSFER-ENCODING") + EVENT,
    "two chunked lines": STREAM.replace(b"Cache-Control: no-cache", b"Transfer-Encoding: chunked")
    + EVENT,
    "chunked and a length": STREAM.replace(b"Cache-Control: no-cache", b"Content-Length: 2")
    + EVENT,
    "chunked 204": STREAM.replace(b"200 OK", b"204 No Content"),
    "chunked 101": STREAM.replace(b"200 OK", b"101 Switching Protocols"),
    "Content-Digest (a c-name of 14)": NGINX.replace(b"Server: nginx/1.22.1", b"Content-Digest: x"),
    "CONTENT-LENGTH": NGINX.replace(b"Content-Length", b"CONTENT-LENGTH"),
    "content-Length": NGINX.replace(b"Content-Length", b"content-Length"),
    "length +2": NGINX.replace(b"Content-Length: 2", b"Content-Length: +2"),
    "length 2 SP": NGINX.replace(b"Content-Length: 2", b"Content-Length: 2 "),
    "length HTAB 2": NGINX.replace(b"Content-Length: 2", b"Content-Length:\t2"),
    "length empty": NGINX.replace(b"Content-Length: 2", b"Content-Length: "),
    "length 2,2": NGINX.replace(b"Content-Length: 2", b"Content-Length: 2,2"),
    "length of 16 digits": NGINX.replace(b"Length: 2", b"Length: " + b"0" * 15 + b"2"),
    "body short": NGINX[:-1],
    "body long": NGINX + b"!",
    "a second response after": NGINX + NGINX,
    "head alone": NGINX[:-2],
    "head cut short": NGINX[:60],
    "no empty line": NGINX[:-4],
    "Connection close, keep-alive": NGINX.replace(b"keep-alive", b"close, keep-alive"),
    "Connection naming a header": NGINX.replace(b"keep-alive", b"X-Hop"),
    "Connection upgrade": NGINX.replace(b"keep-alive", b"upgrade"),
    "CONNECTION": NGINX.replace(b"Connection", b"CONNECTION"),
    "Connection without SP": NGINX.replace(b"Connection: ", b"Connection:"),
    "Connection with two SPs": NGINX.replace(b"Connection: ", b"Connection:  "),
    "Connection: keep-alive SP": NGINX.replace(b"keep-alive", b"keep-alive "),
    "KEEP-ALIVE value": NGINX.replace(b"keep-alive", b"KEEP-ALIVE"),
    "two Connection lines": NGINX.replace(b"Server: nginx/1.22.1", b"Connection: keep-alive"),
    "Keep-Alive": NGINX.replace(b"Server: nginx/1.22.1", b"Keep-Alive: timeout=5"),
    "Proxy-Connection": NGINX.replace(b"Server: nginx/1.22.1", b"Proxy-Connection: close"),
    "Trailer": NGINX.replace(b"Server: nginx/1.22.1", b"Trailer: X"),
    "TE": NGINX.replace(b"Server: nginx/1.22.1", b"TE: trailers"),
    "Upgrade": NGINX.replace(b"Server: nginx/1.22.1", b"Upgrade: h2c"),
    "Retry-After": NGINX.replace(b"Server: nginx/1.22.1", b"Retry-After: 5"),
    "X-REQUEST-ID": NGINX.replace(b"Server: nginx/1.22.1", b"X-REQUEST-ID: a"),
    "obs-fold": NGINX.replace(b"Server: nginx/1.22.1", b"Server: nginx\r\n 1.22.1"),
    "SP before the colon": NGINX.replace(b"Server:", b"Server :"),
    "no colon": NGINX.replace(b"Server:", b"Server"),
    "empty name": NGINX.replace(b"Server:", b":"),
    "bare LF": NGINX.replace(b"Server: nginx/1.22.1\r\n", b"Server: nginx/1.22.1\n"),
    "bare CR": NGINX.replace(b"Server: nginx", b"Server: ng\rinx"),
    "bare LF in a value": NGINX.replace(b"Server: nginx", b"Server: ng\ninx"),
    "NUL in a value": NGINX.replace(b"Server: nginx", b"Server: ng\x00inx"),
    "DEL in a value": NGINX.replace(b"Server: nginx", b"Server: ng\x7finx"),
    "obs-text in a value": NGINX.replace(b"Server: nginx", b"Server: ng\xe9inx"),
    "a name with a slash": NGINX.replace(b"Server:", b"Ser/ver:"),
    "too many lines": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"H%d: v\r\n" % i for i in range(MAX_LINES))
    + b"Content-Length: 1\r\n\r\nx",
    "bare LF ending the head": NGINX.replace(b"keep-alive\r\n\r\n", b"keep-alive\r\n\n"),
}


@pytest.mark.parametrize("data", list(LEFT.values()), ids=list(LEFT))
def test_every_other_read_is_left_to_the_parser(data: bytes) -> None:
    assert whole_response(data)[0] == -1


def test_mutated_responses_are_taken_only_as_llhttp_and_the_parsers_path_read_them() -> None:
    """20,000 responses mutated by one to three byte replacements, insertions or deletions:
    whatever the check takes, llhttp reads the same and the client gets the same bytes."""
    rng = random.Random(3)
    bases = [
        NGINX,
        NGINX.replace(b"Connection: keep-alive", b"X-Request-Id: up-7"),
        b"HTTP/1.1 503 Busy\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbye",
        STREAM + EVENT,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ]
    alphabet = b"\r\n :\t0123456789aAcCkKxXtT-\x00\x7f\xe9"
    taken = 0
    for _ in range(20_000):
        raw = mutant(rng, bases, alphabet)
        if whole_response(raw)[0] > 0:
            taken += 1
            _check_taken(raw, exact=False)
    assert taken > 1_000  # the fuzzing reaches the taken side, not only the parser's

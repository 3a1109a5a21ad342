"""The response head taken whole (``_http_raw.response_head``) against the header-by-header rule
(``rewrite_response``): for every head llhttp accepts, the same status line, the same header lines
(in any order), the same framing and keep-alive; and the nginx-like head takes the fast path
(its lines kept in place, which the rule does not do)."""

from __future__ import annotations

import itertools
import random

import pytest
from httptools import HttpParserError, HttpResponseParser

from vigil.balancer._http_headers import HOP_BY_HOP
from vigil.balancer._http_raw import head_end, response_head
from vigil.balancer._http_response import ResponseMeta, rewrite_response

NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 29 Nov 2026 09:00:00 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"
)


def _by_rule(status: int, head: bytes, **kw: bool) -> tuple[bytes, bool, bool, object, bool]:
    """What the header-by-header rewrite answers for ``head`` (split by hand here)."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    reason = parts[2] if len(parts) > 2 else b""
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name, value.strip(b" \t")))
    meta, keep = rewrite_response(status, reason, headers, request_id=b"rid", **kw)
    return meta.head, meta.chunked_out, meta.close_delimited, meta.retry_after, keep


def _taken_whole(status: int, head: bytes, **kw: bool) -> tuple[bytes, bool, bool, object, bool]:
    meta, keep = response_head(status, head, request_id=b"rid", **kw)
    return meta.head, meta.chunked_out, meta.close_delimited, meta.retry_after, keep


def _lines(head: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The status line and the header lines in any order, names in any case (the fast path
    forwards a name as the upstream spelled it, the rule writes its own framing names)."""
    assert head.endswith(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    pairs = [line.partition(b":")[::2] for line in lines[1:]]
    return lines[0], sorted((name.lower(), value.strip(b" \t")) for name, value in pairs)


def _accepted(head: bytes) -> bool:
    """Whether llhttp takes ``head`` (only such heads reach the proxy's rewrite)."""
    try:
        HttpResponseParser(object()).feed_data(head)
    except HttpParserError:
        return False
    return True


def _status_of(head: bytes) -> int:
    return int(head.split(b" ", 2)[1][:3])


_NAMES = [
    *HOP_BY_HOP,
    b"content-length",
    b"x-request-id",
    b"retry-after",
    b"content-type",
    b"connection",
    b"cache-control",
    b"x-request-ix",
    b"pragma",
    b"proxy-status",
    b"te",
    b"retry-afteX",
    b"upgrade-insecure",
]
_VALUES = {
    b"content-length": b"5",
    b"retry-after": b"7",
    b"transfer-encoding": b"chunked",
    b"connection": b"keep-alive",
}


def _spellings(name: bytes) -> list[bytes]:
    first = name[:3]
    variants = itertools.product(*[(bytes([c]).lower(), bytes([c]).upper()) for c in first])
    return sorted({b"".join(v) + name[3:] for v in variants} | {name.title(), name.upper()})


def _heads() -> list[bytes]:
    heads = [
        NGINX,
        NGINX.replace(b"HTTP/1.1", b"HTTP/1.0"),
        NGINX.lower().replace(b"http/", b"HTTP/"),
    ]
    for name in _NAMES:
        value = _VALUES.get(name.lower(), b"v")
        for spelling in _spellings(name):
            heads.append(
                b"HTTP/1.1 200 OK\r\n%s: %s\r\nContent-Type: t\r\n\r\n" % (spelling, value)
            )
            heads.append(
                b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n%s: %s\r\n\r\n" % (spelling, value)
            )
    for value in (b"keep-alive", b"close", b"Close", b"KEEP-ALIVE", b"keep-alive, X-Foo", b"x-foo"):
        heads.append(
            b"HTTP/1.1 200 OK\r\nX-Foo: 1\r\nConnection: %s\r\nContent-Length: 2\r\n\r\n" % value
        )
    heads += [
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nconnection: X-A\r\nX-A: 1\r\n\r\n",
        b"HTTP/1.1 204\r\nServer: s\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nETag: x\r\nConnection: keep-alive\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Request-ID: abc\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx-request-id: abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A:  spaced \t\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",
    ]
    return [head for head in heads if _accepted(head)]


@pytest.mark.parametrize("no_body", [False, True])
@pytest.mark.parametrize(("keep_alive", "http10"), [(True, False), (False, False), (True, True)])
def test_a_head_taken_whole_gets_the_rules_answer(
    no_body: bool, keep_alive: bool, http10: bool
) -> None:
    heads = _heads()
    assert len(heads) > 150  # the cases are there, not filtered away
    kw = {"no_body": no_body, "client_keep_alive": keep_alive, "client_http10": http10}
    for head in heads:
        status = _status_of(head)
        ours = _taken_whole(status, head, **kw)
        rule = _by_rule(status, head, **kw)
        assert _lines(ours[0]) == _lines(rule[0]), head
        assert ours[1:] == rule[1:], head
        assert _as_is(response_head, status, head, **kw) == _as_is(_rule, status, head, **kw)


def _rule(status: int, head: bytes, **kw: object) -> tuple[ResponseMeta, bool]:
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    headers = [(n, v.strip(b" \t")) for n, _, v in (line.partition(b":") for line in lines[1:])]
    reason = parts[2] if len(parts) > 2 else b""
    return rewrite_response(status, reason, headers, **kw)  # type: ignore[arg-type]


def _as_is(make: object, status: int, head: bytes, **kw: object) -> bool:
    meta, _ = make(status, head, request_id=b"rid", **kw)  # type: ignore[operator]
    return bool(meta.chunks_as_is)


@pytest.mark.parametrize("make", [response_head, _rule], ids=["taken-whole", "rule"])
def test_only_a_body_chunked_alone_for_an_http11_client_may_pass_as_it_came(make: object) -> None:
    def as_is(codings: bytes, *, no_body: bool = False, http10: bool = False) -> bool:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: t\r\n%s\r\n" % codings
        kw = {"no_body": no_body, "client_keep_alive": True, "client_http10": http10}
        return _as_is(make, 200, head, **kw)

    assert as_is(b"Transfer-Encoding: chunked\r\n")
    assert as_is(b"transfer-encoding: chunked\r\n")
    assert as_is(b"Transfer-Encoding: Chunked\r\nTrailer: X-Usage\r\n")
    assert not as_is(b"Transfer-Encoding: gzip, chunked\r\n")  # other codings: re-chunked
    assert not as_is(b"Transfer-Encoding: chunked\r\n", http10=True)  # decoded, closed
    assert not as_is(b"Transfer-Encoding: chunked\r\n", no_body=True)  # HEAD, 204, 304
    assert not as_is(b"")  # close-delimited: re-chunked
    assert not as_is(b"Content-Length: 2\r\n")


def test_an_nginx_head_is_forwarded_in_place_with_the_proxys_lines_at_its_end() -> None:
    ours, chunked, delimited, retry_after, keep = _taken_whole(
        200, NGINX, no_body=False, client_keep_alive=True, client_http10=False
    )
    assert ours == NGINX.replace(b"Connection: keep-alive\r\n", b"X-Request-Id: rid\r\n")
    assert (chunked, delimited, retry_after, keep) == (False, False, None, True)
    # the rule writes Content-Length after the other lines; the fast path keeps it in place
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\nConnection: keep-alive\r\n\r\n"
    kw = {"no_body": False, "client_keep_alive": True, "client_http10": False}
    whole = _taken_whole(200, head, **kw)[0]
    assert (
        whole == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: s\r\nX-Request-Id: rid\r\n\r\n"
    )
    assert _by_rule(200, head, **kw)[0] != whole


def test_a_head_without_a_length_is_chunked_for_the_client_or_closed_for_an_http10_one() -> None:
    head = b"HTTP/1.1 200 OK\r\nServer: s\r\n\r\n"
    chunked = _taken_whole(200, head, no_body=False, client_keep_alive=True, client_http10=False)
    assert chunked == (
        b"HTTP/1.1 200 OK\r\nServer: s\r\nTransfer-Encoding: chunked\r\nX-Request-Id: rid\r\n\r\n",
        True,
        True,
        None,
        True,
    )
    closed = _taken_whole(200, head, no_body=False, client_keep_alive=True, client_http10=True)
    assert closed[0].endswith(b"Connection: close\r\n\r\n") and closed[1:] == (
        False,
        True,
        None,
        False,
    )


def test_the_head_end_scan_finds_what_bytes_find_finds() -> None:
    """``head_end`` (the upstream's head cut out of its read) against ``bytes.find`` on random
    reads of CR, LF and a letter, from every start: the first CR LF CR LF, or none."""
    rng = random.Random(5)
    for _ in range(3000):
        data = bytes(rng.choice(b"\r\n\r\nab") for _ in range(rng.randrange(0, 24)))
        for start in range(len(data) + 1):
            found = data.find(b"\r\n\r\n", start)
            assert head_end(data, start) == (found + 4 if found >= 0 else -1), (data, start)
    head = b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\n\r\nok\r\n\r\n"
    assert head_end(head, 0) == head.index(b"ok")


@pytest.mark.parametrize("spelling", [b"Transfer-Encoding", b"transfer-encoding"])
def test_a_streams_chunked_head_is_forwarded_in_place(spelling: bytes) -> None:
    """An SSE head (one plain ``Transfer-Encoding: chunked``): its lines kept in place and the
    body re-chunked, where the rule writes the framing line after the others."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n%s: chunked\r\n"
        b"Cache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n" % spelling
    )
    kw = {"no_body": False, "client_keep_alive": True, "client_http10": False}
    whole = _taken_whole(200, head, **kw)
    assert whole == (
        head.replace(b"Connection: keep-alive\r\n", b"X-Request-Id: rid\r\n"),
        True,
        False,
        None,
        True,
    )
    rule = _by_rule(200, head, **kw)
    assert rule[0] != whole[0] and _lines(rule[0]) == _lines(whole[0]) and rule[1:] == whole[1:]
    # closing the client connection after it: the proxy's Connection line at its end
    closed = _taken_whole(200, head, no_body=False, client_keep_alive=False, client_http10=False)
    assert closed[0].endswith(b"X-Request-Id: rid\r\nConnection: close\r\n\r\n")
    assert closed[1:] == (True, False, None, False)

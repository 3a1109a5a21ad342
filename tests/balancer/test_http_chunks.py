"""Chunked bodies followed beside the parser, and reads of whole chunks passed through as they
came (:mod:`vigil.balancer._http_chunks`): the scanner against the framing it follows, then the
proxy's upstream protocol with the short way on against the same protocol with it off (the
parser's path, as before it existed), read for read, on random bodies split at every point or
at random ones, valid and malformed, and the response after each on the same connection.
"""

from __future__ import annotations

import random

import pytest

from vigil.balancer._http_chunks import BROKEN, DONE, START, ChunkScanner

GET = b"GET /v1/stream HTTP/1.1\r\nHost: s\r\nX-Request-Id: r1\r\n\r\n"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
NEXT = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nServer: t\r\n\r\nnext"


def canonical(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def body(rng: random.Random, sizes: list[int], odd: bool) -> tuple[bytes, list[int], bytes]:
    """A chunked body of chunks of ``sizes`` (the wire, the offsets where each size line
    begins, the data); ``odd``: some size lines in upper case, with leading zeros or
    extensions, and trailers at the end."""
    wire = b""
    starts = []
    data = b""
    for size in sizes:
        piece = bytes(rng.randrange(256) for _ in range(min(size, 64))) * (size // 64 + 1)
        piece = piece[:size]
        starts.append(len(wire))
        if odd and rng.random() < 0.5:
            line = rng.choice([b"%X", b"00%x", b"%x;ext", b'%x;a=1;b="q"', b"%x;x=y;z"]) % size
            wire += line + b"\r\n" + piece + b"\r\n"
        else:
            wire += canonical(piece)
        data += piece
    starts.append(len(wire))
    wire += b"0\r\n"
    if odd and rng.random() < 0.5:
        wire += b"X-Checksum: 1234\r\nX-Other: y\r\n"
    wire += b"\r\n"
    return wire, starts, data


# -- the scanner ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(40))
def test_the_scanner_is_at_a_chunks_start_exactly_where_one_starts_for_any_split(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [rng.choice([1, 2, 15, 16, 40, 255, 256, 4095, 4096]) for _ in range(rng.randrange(4))]
    wire, starts, _ = body(rng, sizes, odd=seed % 2 == 1)
    for cut in range(len(wire) + 1):
        scanner = ChunkScanner()
        scanner.reset()
        scanner.feed(wire[:cut], 0)
        assert (scanner.state == START) == (cut in starts), (cut, wire)
        scanner.feed(wire, cut)  # the rest, from an offset
        assert scanner.state == DONE


def test_the_scanner_follows_a_large_body_read_a_byte_at_a_time_and_in_big_pieces() -> None:
    rng = random.Random(7)
    wire, _, _ = body(rng, [70_000, 1, 65_536, 3], odd=True)
    for step in (1, 7, 4096, 50_000):
        scanner = ChunkScanner()
        scanner.reset()
        for at in range(0, len(wire), step):
            scanner.feed(wire[at : at + step], 0)
        assert scanner.state == DONE


def test_whole_takes_runs_of_whole_chunks_as_the_proxy_writes_them_and_nothing_else() -> None:
    scanner = ChunkScanner()
    scanner.reset()
    run = canonical(b"a" * 10) + canonical(b"b" * 4096) + canonical(b"c")
    assert scanner.whole(run) == 4107
    for other in (
        run[:-1],  # the last chunk's CRLF cut
        run[:5],  # inside a size line
        b"A\r\n" + b"a" * 10 + b"\r\n",  # upper case
        b"0a\r\n" + b"a" * 10 + b"\r\n",  # a leading zero
        b"a;x=1\r\n" + b"a" * 10 + b"\r\n",  # an extension
        run + b"0\r\n\r\n",  # the last chunk
        b"a\n" + b"a" * 10 + b"\r\n",  # a bare LF
        b"a\r\n" + b"a" * 10 + b"xx",  # junk after the data
        b"ffffffffffffffffff\r\n",  # past any bound
    ):
        assert scanner.whole(other) == -1, other
    assert scanner.state == START  # whole() changes nothing
    scanner.feed(b"5\r\nhel", 0)
    assert scanner.whole(canonical(b"x")) == -1  # not at a chunk's start


@pytest.mark.parametrize(
    "bad",
    [
        b"g\r\n",  # bad hex
        b"1234567890abcdef0\r\n",  # more digits than the bound
        b"5\r\nhelloXY",  # missing CRLF after the data
        b"5\nhello\r\n",  # LF-only size line
        b"5\r\nhello\n",  # LF-only after the data
        b"5;" + b"e" * 5000 + b"\r\n",  # size line too long
        b"0\r\n\r\nHTTP/1.1",  # bytes after the body
        b"0\r\nX: y\n\r\n",  # a bare LF in the trailers
    ],
)
def test_the_scanner_stops_following_what_it_does_not_know(bad: bytes) -> None:
    scanner = ChunkScanner()
    scanner.reset()
    scanner.feed(bad, 0)
    assert scanner.state == BROKEN
    assert scanner.whole(canonical(b"x")) == -1
    scanner.feed(canonical(b"x"), 0)
    assert scanner.state == BROKEN  # for the rest of the response

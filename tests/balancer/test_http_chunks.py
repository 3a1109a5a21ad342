"""Chunked bodies followed beside the parser, and reads of whole chunks passed through as they
came (:mod:`vigil.balancer._http_chunks`): the scanner against the framing it follows, then the
proxy's upstream protocol with the short way on against the same protocol with it off (the
parser's path, as before it existed), read for read, on random bodies split at every point or
at random ones, valid and malformed, and the response after each on the same connection.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator

import pytest

from vigil.balancer._http_chunks import BROKEN, DONE, START, ChunkScanner, whole_chunks
from vigil.balancer._proxy_client import ClientConnection
from vigil.balancer._proxy_upstream import UpstreamConnection
from vigil.balancer.proxy import Proxy

from ._routers import RoundRobinRouter, dead_port, upstream
from ._upstreams import proxying

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
    assert scanner.whole(run) == (4107, False)
    assert scanner.whole(run + b"0\r\n\r\n") == (4107, True)  # and the last chunk
    assert scanner.whole(b"0\r\n\r\n") == (0, True)
    for other in (
        run[:-1],  # the last chunk's CRLF cut
        run[:5],  # inside a size line
        b"A\r\n" + b"a" * 10 + b"\r\n",  # upper case
        b"0a\r\n" + b"a" * 10 + b"\r\n",  # a leading zero
        b"a;x=1\r\n" + b"a" * 10 + b"\r\n",  # an extension
        run + b"0\r\n\r\n0",  # bytes after the last chunk
        run + b"0\r\n\r\nHTTP/1.1 200 OK\r\n",  # a response after it
        run + b"0\r\n\r",  # the last chunk cut
        run + b"0;x=1\r\n\r\n",  # the last chunk with an extension
        run + b"0\r\nX-Sum: 1\r\n\r\n",  # a trailer
        run + b"00\r\n\r\n",  # the last chunk with a leading zero
        b"0\r\n\r\n" + run,  # chunks after the last one
        b"a\n" + b"a" * 10 + b"\r\n",  # a bare LF
        b"a\r\n" + b"a" * 10 + b"xx",  # junk after the data
        b"ffffffffffffffffff\r\n",  # past any bound
    ):
        assert scanner.whole(other) == (-1, False), other
    assert scanner.state == START  # whole() changes nothing
    scanner.feed(b"5\r\nhel", 0)
    assert scanner.whole(canonical(b"x")) == (-1, False)  # not at a chunk's start


def test_whole_chunks_judges_a_body_from_an_offset_maybe_empty() -> None:
    head = HEAD
    assert whole_chunks(head, len(head)) == (0, False)  # the head alone: no chunk yet
    assert whole_chunks(head + canonical(b"hi"), len(head)) == (2, False)
    assert whole_chunks(head + canonical(b"hi") + b"0\r\n\r\n", len(head)) == (2, True)
    assert whole_chunks(head + canonical(b"hi"), len(head) - 2) == (-1, False)  # the CRLF


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
    assert scanner.whole(canonical(b"x")) == (-1, False)
    scanner.feed(canonical(b"x"), 0)
    assert scanner.state == BROKEN  # for the rest of the response


# -- the upstream protocol, with the short way and without ---------------------------------------
class Rec:
    """A transport that keeps what is written (the objects themselves) and how it was closed."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def writelines(self, parts: list[bytes]) -> None:
        self.out.append(b"".join(parts))

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    async with proxying(RoundRobinRouter([upstream("a", dead_port())])) as (proxy, _):
        yield proxy


def relay(proxy: Proxy, responses: list[list[bytes]], pass_chunks: bool) -> tuple[object, ...]:
    """One client connection's requests answered on one upstream connection by ``responses``
    (each a list of reads; the next request is sent once the last answer ended, if both
    connections are still open): what the client got for each read, which reads went to it as
    the very object read, and how each connection ended."""
    state = proxy.state
    state.pool.pass_chunks = pass_chunks
    router = state.router
    assert isinstance(router, RoundRobinRouter)
    key = (router.upstreams[0].host, router.upstreams[0].port)
    up = Rec()
    conn = UpstreamConnection(state.pool, key)
    conn.connection_made(up)  # type: ignore[arg-type]
    state.pool.put(conn)
    down = Rec()
    client = ClientConnection(state)
    client.connection_made(down)  # type: ignore[arg-type]
    got: list[bytes] = []
    same: list[int] = []
    for reads in responses:
        if up.is_closing() or down.is_closing():
            break
        client.data_received(GET)
        assert conn.exchange is not None
        for read in reads:
            mark = len(down.out)
            conn.data_received(read)
            got.append(b"".join(down.out[mark:]))
            if any(part is read for part in down.out[mark:]):
                same.append(len(got) - 1)
            if up.is_closing():
                break
    outcomes = router.outcomes()
    router.released.clear()
    if conn.exchange is None and not up.is_closing():
        state.pool.forget(conn)
    client.connection_lost(None)
    return got, same, up.aborted, up.closed, down.closed, down.aborted, outcomes


def splits(rng: random.Random, wire: bytes, count: int) -> list[list[bytes]]:
    """``count`` ways to cut ``wire`` into reads: random cuts, and cuts on the chunk starts."""
    ways = []
    for _ in range(count):
        cuts = sorted(rng.sample(range(1, len(wire)), min(len(wire) - 1, rng.randrange(1, 8))))
        ways.append([wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)])
    return ways


def decoded(stream: bytes) -> bytes:
    """The body of the client's response in ``stream`` (its head, then the chunked body)."""
    at = stream.index(b"\r\n\r\n") + 4
    out = b""
    while True:
        end = stream.index(b"\r\n", at)
        size = int(stream[at:end], 16)
        assert stream[at:end] == b"%x" % size  # the proxy's own framing
        if size == 0:
            assert stream[end : end + 4] == b"\r\n\r\n"
            return out
        out += stream[end + 2 : end + 2 + size]
        assert stream[end + 2 + size : end + 4 + size] == b"\r\n"
        at = end + 4 + size


async def test_every_split_of_small_bodies_gives_the_client_what_the_parsers_path_gives(
    proxy: Proxy,
) -> None:
    rng = random.Random(1)
    passed = 0
    for case in range(24):
        sizes = [rng.choice([1, 5, 16, 17, 100]) for _ in range(rng.randrange(0, 4))]
        wire, starts, data = body(rng, sizes, odd=case % 3 == 2)
        whole = HEAD + wire
        last = len(HEAD) + starts[-1]  # where the last chunk begins
        ways = [[whole[:cut], whole[cut:]] for cut in range(1, len(whole))]
        ways += [[whole[:cut], whole[cut:last], whole[last:]] for cut in range(1, last)]
        for reads in ways:
            for more in ([], [[NEXT]]):
                fast = relay(proxy, [reads, *more], True)
                slow = relay(proxy, [reads, *more], False)
                assert fast[0] == slow[0], reads
                assert fast[2:] == slow[2:], reads
                assert decoded(b"".join(fast[0][: len(reads)])) == data, reads
                if more:
                    assert fast[0][-1].endswith(b"\r\n\r\nnext")  # the next answer, parsed
                passed += len(fast[1])
    assert passed > 50  # the short way was taken (78 reads: a cut on a chunk start after the head)


@pytest.mark.parametrize("seed", range(12))
async def test_random_bodies_up_to_70000_bytes_split_at_random_are_relayed_alike(
    proxy: Proxy, seed: int
) -> None:
    rng = random.Random(100 + seed)
    sizes = [
        rng.randrange(1, 70_001) if rng.random() < 0.2 else rng.randrange(1, 300)
        for _ in range(rng.randrange(0, 12))
    ]
    wire, starts, data = body(rng, sizes, odd=seed % 2 == 1)
    # a stream's way too: the head alone, then each chunk in a read of its own
    ways = [*splits(rng, wire, 6), [wire[a:b] for a, b in itertools.pairwise([*starts, len(wire)])]]
    for reads in ways:
        answers = [[HEAD, *reads], [NEXT]]
        fast = relay(proxy, answers, True)
        slow = relay(proxy, answers, False)
        assert fast[0] == slow[0]
        assert fast[2:] == slow[2:]
        assert decoded(b"".join(fast[0][: len(reads) + 1])) == data
        assert fast[0][-1].endswith(b"next")
        assert slow[1] == []  # the parser's path always writes what it framed
    stream = relay(proxy, [[HEAD, *ways[-1][:-1]]], True)
    canonical_reads = [
        i + 1
        for i, read in enumerate(ways[-1][:-1])
        if read == canonical(read[read.index(b"\r\n") + 2 : -2])
    ]
    assert stream[1] == canonical_reads  # each such read went to the client as it came


@pytest.mark.parametrize(
    "bad",
    [
        b"g\r\nhello\r\n",
        b"ffffffffffffffffffff\r\n",
        b"5\r\nhelloXY\r\n",
        b"5\nhello\n",
        b"5\r\nhello  \r\n",
        b"5;" + b"e" * 70_000 + b"\r\nhello\r\n",
        b"0\r\n\r\nHTTP/1.1 200 OK\r\n",
        b"5\r\nhello\r\n0\r\nX: y\n\r\n",
    ],
    ids=[
        "bad-hex",
        "overflow",
        "missing-crlf",
        "lf-only",
        "junk-after-data",
        "line-too-long",
        "bytes-after-body",
        "lf-in-trailer",
    ],
)
async def test_malformed_chunks_end_as_they_did(proxy: Proxy, bad: bytes) -> None:
    rng = random.Random(len(bad))
    wire = canonical(b"first event") + canonical(b"second") + bad
    for cut in [*range(1, len(wire), max(1, len(wire) // 60)), *splits(rng, wire, 5)]:
        reads = [wire[:cut], wire[cut:]] if isinstance(cut, int) else cut
        answers = [[HEAD, *reads], [NEXT]]
        fast = relay(proxy, answers, True)
        slow = relay(proxy, answers, False)
        assert fast[0] == slow[0]
        assert fast[2:] == slow[2:]
    assert not any(b"next" in part for part in fast[0])  # the connection was not reused

"""A compression bomb from an upstream, for an HTTP/1.0 client, on the wire: the proxy undoes a
gzip transfer coding for such a client (:mod:`vigil.balancer._http_codings`) but never past its
bound (100 times the coded size plus 1 MiB): a bomb is cut off and counted as a protocol error,
and the worker's memory does not grow with what the bomb would decode to. A gzip body of several
members (RFC 1952 §2.2) is decoded whole, under the same bound; bytes after a member that do
not begin one, or after a deflate stream, cut the body.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import resource
import zlib

import pytest

from vigil.balancer._http_codings import MAX_RATIO, SLACK
from vigil.balancer._upstream import Outcome

from ._routers import RoundRobinRouter, upstream
from ._upstreams import proxying, read_head, serving
from .test_proxy_http10 import GET10, _answering, _get10

MIB = 1 << 20
TEXT10 = b"hello, world " * 50


@functools.cache
def _bomb(mib: int) -> bytes:
    """``mib`` MiB of zeros, gzipped (about a thousandth of that)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MIB)
    return b"".join(packer.compress(zeros) for _ in range(mib)) + packer.flush()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@pytest.mark.parametrize("chunked", [True, False], ids=["then-chunked", "to-the-close"])
async def test_a_10_mb_gzip_bomb_is_cut_off_for_an_http10_client(chunked: bool) -> None:
    bomb = _bomb(10)
    assert len(bomb) < 20_000  # a real bomb: over 500 to 1
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n" % (
        b"gzip, chunked" if chunked else b"gzip"
    )
    line, _, rest, router = await _get10(_answering(head, bomb, chunked=chunked), GET10)
    assert line.startswith("HTTP/1.1 200")  # the head went out before the body was decoded
    assert len(rest) <= SLACK + MAX_RATIO * len(bomb)  # cut at the bound, not 10 MiB
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


async def test_a_1_gb_gzip_bomb_is_not_decoded_whole() -> None:
    bomb = _bomb(1024)
    before = _peak_rss_mib()
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    line, _, rest, router = await _get10(_answering(head, bomb, chunked=True), GET10)
    grown = _peak_rss_mib() - before
    assert line.startswith("HTTP/1.1 200")
    assert len(rest) <= SLACK + MAX_RATIO * len(bomb)
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]
    assert grown < 200, f"the peak RSS grew by {grown:.0f} MiB decoding a 1 GiB bomb"


async def test_a_body_within_the_bound_is_decoded_whole() -> None:
    text = b"".join(b"%d," % i for i in range(400_000))  # 2.6 MB, past SLACK, ~3 to 1
    packed = zlib.compress(text)  # deflate
    assert len(text) > SLACK
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate, chunked\r\n\r\n"
    line, _, rest, router = await _get10(_answering(head, packed, chunked=True), GET10)
    assert line.startswith("HTTP/1.1 200")
    assert rest == text
    assert router.outcomes() == [("a", Outcome.OK)]


@pytest.mark.parametrize("coding", [b"gzip", b"x-gzip"])
@pytest.mark.parametrize("chunked", [True, False], ids=["then-chunked", "to-the-close"])
async def test_a_gzip_body_of_several_members_is_decoded_whole(
    chunked: bool, coding: bytes
) -> None:
    parts = [b"first member " * 40, b"", b"third member " * 300]
    packed = b"".join(gzip.compress(part) for part in parts)  # RFC 1952 §2.2: members in a row
    framing = coding + b", chunked" if chunked else coding
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n" % framing
    line, _, rest, router = await _get10(_answering(head, packed, chunked=chunked), GET10)
    assert line.startswith("HTTP/1.1 200")
    assert rest == b"".join(parts)
    assert router.outcomes() == [("a", Outcome.OK)]


@pytest.mark.parametrize(
    "tail",
    [b"not a gzip member", gzip.compress(b"cut short " * 100)[:30]],
    ids=["garbage", "cut-member"],
)
async def test_bytes_after_a_gzip_member_that_are_not_one_are_cut(tail: bytes) -> None:
    packed = gzip.compress(TEXT10) + tail
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    line, _, rest, router = await _get10(_answering(head, packed, chunked=True), GET10)
    assert line.startswith("HTTP/1.1 200")
    # a prefix of what the members held, then the cut (what one read decoded before the bad
    # bytes is dropped with it): the client sees a truncated body, never the tail's bytes
    assert (TEXT10 + b"cut short " * 100).startswith(rest) and len(rest) <= len(TEXT10) + 1000
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


async def test_a_bomb_split_in_members_is_still_cut() -> None:
    member = gzip.compress(bytes(4 * MIB))  # 4 MiB of zeros in ~4 kB, several times
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    line, _, rest, router = await _get10(_answering(head, member * 8, chunked=True), GET10)
    assert line.startswith("HTTP/1.1 200")
    assert len(rest) <= SLACK + MAX_RATIO * len(member) * 8
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


async def test_a_deflate_body_with_bytes_after_its_end_is_cut() -> None:
    packed = zlib.compress(TEXT10) + zlib.compress(TEXT10)  # deflate has one stream only
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate, chunked\r\n\r\n"
    line, _, rest, router = await _get10(_answering(head, packed, chunked=True), GET10)
    assert line.startswith("HTTP/1.1 200")
    # a prefix of what the members held, then the cut (what one read decoded before the bad
    # bytes is dropped with it): the client sees a truncated body, never the tail's bytes
    assert (TEXT10 + b"cut short " * 100).startswith(rest) and len(rest) <= len(TEXT10) + 1000
    assert router.outcomes() == [("a", Outcome.PROTOCOL_ERROR)]


@pytest.mark.parametrize("chunked", [True, False], ids=["then-chunked", "to-the-close"])
async def test_zero_bytes_padding_a_gzip_body_are_skipped(chunked: bool) -> None:
    # gzip(1) decodes such a file ("trailing zero bytes ignored"), as Python's gzip does:
    # padding to a block size, and between two members
    packed = gzip.compress(TEXT10) + bytes(700) + gzip.compress(b"second") + bytes(3)
    framing = b"gzip, chunked" if chunked else b"gzip"
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: %s\r\n\r\n" % framing
    line, _, rest, router = await _get10(_answering(head, packed, chunked=chunked), GET10)
    assert line.startswith("HTTP/1.1 200")
    assert rest == TEXT10 + b"second"
    assert router.outcomes() == [("a", Outcome.OK)]


async def test_a_read_decoding_to_megabytes_waits_for_a_slow_client_in_slices() -> None:
    # one upstream read (up to 256 KiB coded) may decode to up to 100 times that: it is
    # written a slice at a time while the client takes it, not built and queued whole.
    # 20 MB that gzip 56 to 1 (within the bound of 100): a 256 KiB read decodes to ~14 MB
    text = b"".join(b"%s %06d\n" % (b"word " * 32, i) for i in range(120_000))
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"
    async with (
        serving(_answering(head, gzip.compress(text), chunked=False)) as (up,),
        proxying(RoundRobinRouter([upstream("a", up.port)])) as (proxy, port),
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 16)
        writer.write(GET10)
        line, _ = await asyncio.wait_for(read_head(reader), 5)
        reader._transport.pause_reading()  # type: ignore[attr-defined]  # a slow client
        await asyncio.sleep(1.0)  # the upstream has sent it all by now
        (client,) = proxy.state.clients
        buffered = client.transport.get_write_buffer_size()  # type: ignore[attr-defined]
        reader._transport.resume_reading()  # type: ignore[attr-defined]
        rest = await asyncio.wait_for(reader.read(), 20)
        writer.close()
    assert line.startswith("HTTP/1.1 200")
    assert rest == text
    # the proxy holds its high-water mark and a slice or so for this client, not the read
    assert buffered < MIB // 2, buffered  # on main: 1.4 MB (and ~14 MB decoded at once)

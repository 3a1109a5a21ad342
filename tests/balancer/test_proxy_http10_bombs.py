"""A compression bomb from an upstream, for an HTTP/1.0 client, on the wire: the proxy undoes a
gzip transfer coding for such a client (:mod:`vigil.balancer._http_codings`) but never past its
bound (100 times the coded size plus 1 MiB): a bomb is cut off and counted as a protocol error,
and the worker's memory does not grow with what the bomb would decode to.
"""

from __future__ import annotations

import functools
import resource
import zlib

import pytest

from vigil.balancer._http_codings import MAX_RATIO, SLACK
from vigil.balancer._upstream import Outcome

from .test_proxy_http10 import GET10, _answering, _get10

MIB = 1 << 20


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
